//! The seed's second program in Rust: keyless auth through DefaultAzureCredential.
//!
//! Python: `AzureOpenAI(azure_ad_token_provider=get_bearer_token_provider(DefaultAzureCredential(),
//! "https://cognitiveservices.azure.com/.default"), azure_endpoint=...)`.
//!
//! ```sh
//! az login   # or a service principal / workload identity / managed identity
//! AZURE_OPENAI_ENDPOINT=https://<resource>.openai.azure.com AZURE_OPENAI_DEPLOYMENT=<deployment> \
//! cargo run -p aoai --example keyless
//! ```
//! On failure it prints the credential chain's report: which credential looked at what, and why
//! each was skipped or failed.

use std::sync::Arc;

use aoai::types::{ChatCompletionRequest, ChatMessage};

async fn run() -> Result<String, aoai::Error> {
    let credential = aoai::DefaultAzureCredential::new()?;
    let client = aoai::AzureOpenAI::builder()
        .from_env()
        .credential(Arc::new(credential))
        .build()?;
    let answer = client
        .chat()
        .create(ChatCompletionRequest::new(vec![ChatMessage::user(
            "Hello!",
        )]))
        .await?;
    Ok(answer.text())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(text) => {
            println!("{text}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e} ({})", e.kind());
            if let Some(detail) = e.detail() {
                eprintln!("{detail}");
            }
            if let Some(fix) = e.quick_fix() {
                eprintln!("fix: {fix}");
            }
            std::process::ExitCode::FAILURE
        }
    }
}
