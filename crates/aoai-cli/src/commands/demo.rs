//! `aoai demo`: the quick start on a fresh machine. Starts the emulator in-process and walks
//! through the seed programs — working, broken with its diagnosis, keyless — then a streamed
//! answer and a doctor report. Nothing is read from or written to the process environment:
//! every environment here is an [`Env`] map.

use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

use aoai::AzureOpenAI;
use aoai::types::{ChatCompletionRequest, ChatMessage};
use aoai_identity::{DefaultAzureCredential, Env, vars};
use futures::StreamExt;
use owo_colors::OwoColorize;

use crate::cli::DemoArgs;
use crate::failure::Failure;

const DEPLOYMENT: &str = "gpt-4o";
// The emulator's documented out-of-the-box tenant and service principal.
const TENANT: &str = "00000000-0000-0000-0000-000000000001";
const CLIENT_ID: &str = "emulator-client";
const CLIENT_SECRET: &str = "emulator-secret";

struct Principal {
    api_key: String,
    tenant: String,
    client_id: String,
    client_secret: String,
}

fn step(n: u32, title: &str) {
    anstream::println!();
    anstream::println!("{} {}", format!("[{n}/5]").cyan().bold(), title.bold());
}

fn show(label: &str, value: impl std::fmt::Display) {
    anstream::println!("      {:<9} {value}", label.dimmed());
}

fn input(message: &str) -> ChatCompletionRequest {
    ChatCompletionRequest::new(vec![ChatMessage::user(message)]).max_tokens(40)
}

/// Runs the demo; exit 0 unless the emulator itself cannot start or a step that must work fails.
pub async fn run(_args: &DemoArgs) -> Result<(), Failure> {
    let t0 = Instant::now();
    let config = aoai_emulator::EmulatorConfig::default();
    let api_key = config.api_keys.first().cloned().unwrap_or_default();
    let handle = aoai_emulator::Emulator::start(config)
        .await
        .map_err(|e| Failure::new("network_error", format!("cannot start the emulator: {e}")))?;
    let url = handle.url().trim_end_matches('/').to_string();
    let emulator = Principal {
        api_key,
        tenant: TENANT.to_string(),
        client_id: CLIENT_ID.to_string(),
        client_secret: CLIENT_SECRET.to_string(),
    };
    anstream::println!(
        "{} {}",
        "aoai demo:".bold(),
        format!("an Azure OpenAI + Microsoft Entra emulator is listening on {url}").dimmed()
    );
    // The environments of the programs below, as maps: nothing inherited, nothing mutated.
    // IMDS points at the emulator too, so no request can leave loopback.
    let base = Env::empty()
        .with(vars::PATH, "")
        .with(vars::AZURE_POD_IDENTITY_AUTHORITY_HOST, url.as_str());
    let key_env = base
        .clone()
        .with("AZURE_OPENAI_ENDPOINT", url.as_str())
        .with("AZURE_OPENAI_API_KEY", emulator.api_key.as_str())
        .with("AZURE_OPENAI_DEPLOYMENT", DEPLOYMENT);

    step(1, "seed 1: API key + endpoint");
    show(
        "env",
        format!(
            "AZURE_OPENAI_ENDPOINT={url} AZURE_OPENAI_API_KEY=*** AZURE_OPENAI_DEPLOYMENT={DEPLOYMENT}"
        ),
    );
    // The seed's AzureOpenAI(api_key=..., azure_endpoint=...), configured from the environment.
    let key_client = AzureOpenAI::builder().env(key_env.clone()).build()?;
    let answer = key_client
        .chat()
        .create(input("Say hello to a new user."))
        .await?;
    show("answer", answer.text().trim().green());

    step(
        2,
        "the broken program: the key is set, AZURE_OPENAI_ENDPOINT is not",
    );
    let broken_env = base
        .clone()
        .with("AZURE_OPENAI_API_KEY", emulator.api_key.as_str())
        .with("AZURE_OPENAI_DEPLOYMENT", DEPLOYMENT);
    match AzureOpenAI::builder()
        .env(broken_env)
        .build()
        .map_err(Failure::from)
    {
        Ok(_) => {
            return Err(Failure::new(
                "config_error",
                "the broken program was not diagnosed (a bug in aoai)",
            ));
        }
        Err(f) => {
            show("error", f.message.red());
            show("kind", f.kind.yellow());
            show("fix", f.fix.as_deref().unwrap_or("-").green());
        }
    }

    step(
        3,
        "seed 2: DefaultAzureCredential (a service principal; Entra is the emulator)",
    );
    let sp_env = base
        .clone()
        .with("AZURE_OPENAI_ENDPOINT", url.as_str())
        .with("AZURE_OPENAI_DEPLOYMENT", DEPLOYMENT)
        .with(vars::AZURE_TENANT_ID, emulator.tenant.as_str())
        .with(vars::AZURE_CLIENT_ID, emulator.client_id.as_str())
        .with(vars::AZURE_CLIENT_SECRET, emulator.client_secret.as_str())
        .with(vars::AZURE_AUTHORITY_HOST, url.as_str());
    show(
        "env",
        format!(
            "AZURE_OPENAI_ENDPOINT={url} AZURE_TENANT_ID={} AZURE_CLIENT_ID={} \
             AZURE_CLIENT_SECRET=*** AZURE_AUTHORITY_HOST={url}",
            emulator.tenant, emulator.client_id
        ),
    );
    // Shown and remembered, not fatal: the remaining steps still run, the exit status says it.
    let mut failed: Option<Failure> = None;
    match seed2(&sp_env).await {
        Ok((used, text)) => {
            show("token", format!("from {used}"));
            show("answer", text.trim().green());
        }
        Err(f) => {
            show("error", format!("{} ({})", f.message, f.kind).red());
            show("fix", f.fix.as_deref().unwrap_or("-").green());
            failed = Some(f);
        }
    }

    step(4, "a streamed answer (tokens printed as they arrive)");
    let mut stream = key_client
        .chat()
        .create_stream(input("Explain in one sentence what streaming is."))
        .await?;
    anstream::print!("      {:<9} ", "answer".dimmed());
    let mut pieces = 0;
    while let Some(chunk) = stream.next().await {
        if let Some(delta) = chunk?.delta_text() {
            pieces += 1;
            anstream::print!("{}", delta.green());
            let _ = std::io::stdout().flush();
        }
    }
    anstream::println!();
    show("pieces", format!("{pieces} chunks"));

    step(5, "aoai doctor, for the setup of seed 1");
    let report = crate::commands::doctor::diagnose(&key_env).await;
    for line in report.render().lines() {
        anstream::println!("    {line}");
    }

    if let Some(f) = failed {
        anstream::println!();
        return Err(f);
    }
    anstream::println!();
    anstream::println!(
        "{} {}",
        "done".green().bold(),
        format!(
            "in {} ms. Next: `aoai emulator` in one shell, then in another: \
             export AZURE_OPENAI_ENDPOINT=http://127.0.0.1:8089 AZURE_OPENAI_API_KEY=emulator-key \
             AZURE_OPENAI_DEPLOYMENT=gpt-4o && aoai chat \"Hello\"",
            t0.elapsed().as_millis()
        )
        .dimmed()
    );
    Ok(())
}

/// Seed 2, `AzureOpenAI(azure_endpoint=..., azure_ad_token_provider=DefaultAzureCredential())`:
/// the library's client with a `DefaultAzureCredential` of the given environment; returns the
/// credential the chain chose and the answer.
async fn seed2(env: &Env) -> Result<(String, String), Failure> {
    let dac = DefaultAzureCredential::with_env(env.clone())?;
    let client = AzureOpenAI::builder()
        .env(env.clone())
        .credential(Arc::new(dac.clone()))
        .build()?;
    let answer = client
        .chat()
        .create(input("Say hello without a key."))
        .await?;
    let used = dac
        .resolution()
        .map(|r| r.credential)
        .unwrap_or_else(|| "?".into());
    Ok((used, answer.text()))
}
