//! The seed's first program in Rust: a key and an endpoint.
//!
//! Python: `AzureOpenAI(api_key=..., azure_endpoint=..., api_version=...)` then
//! `client.chat.completions.create(model=deployment, messages=[...])`.
//!
//! ```sh
//! AZURE_OPENAI_ENDPOINT=https://<resource>.openai.azure.com AZURE_OPENAI_API_KEY=<key> \
//! AZURE_OPENAI_DEPLOYMENT=<deployment> cargo run -p aoai --example key
//! ```
//! (Against the emulator: `aoai emulator` in another shell, then
//! `AZURE_OPENAI_ENDPOINT=http://127.0.0.1:8089 AZURE_OPENAI_API_KEY=emulator-key AZURE_OPENAI_DEPLOYMENT=gpt-4o`.)

use aoai::types::{ChatCompletionRequest, ChatMessage};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let result = async {
        let client = aoai::AzureOpenAI::from_env()?;
        client
            .chat()
            .create(ChatCompletionRequest::new(vec![ChatMessage::user(
                "Hello!",
            )]))
            .await
    }
    .await;
    match result {
        Ok(answer) => {
            println!("{}", answer.text());
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e} ({})", e.kind());
            if let Some(fix) = e.quick_fix() {
                eprintln!("fix: {fix}");
            }
            std::process::ExitCode::FAILURE
        }
    }
}
