//! Emulators, clients and helpers shared by the tests.

use std::time::Duration;

use aoai::{AzureOpenAI, AzureOpenAIBuilder, RetryPolicy};
use aoai_emulator::{Emulator, EmulatorConfig, EmulatorHandle, JournalEntry};
use serde_json::{Value, json};

pub const KEY: &str = "emulator-key";
pub const TENANT: &str = "00000000-0000-0000-0000-000000000001";
pub const CLIENT_ID: &str = "emulator-client";
pub const CLIENT_SECRET: &str = "emulator-secret";
pub const CHAT_PATH: &str = "/openai/deployments/gpt-4o/chat/completions";

/// An emulator with the default configuration changed by `f`, on a random loopback port.
pub async fn emulator_with(f: impl FnOnce(&mut EmulatorConfig)) -> EmulatorHandle {
    let mut config = EmulatorConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..Default::default()
    };
    f(&mut config);
    Emulator::start(config).await.expect("emulator starts")
}

pub async fn emulator() -> EmulatorHandle {
    emulator_with(|_| {}).await
}

/// Fast retries so tests do not wait for production backoffs.
pub fn quick_retries(max_retries: u32) -> RetryPolicy {
    RetryPolicy {
        max_retries,
        initial_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(100),
        ..Default::default()
    }
}

/// A key-auth builder for `emu`'s `gpt-4o` deployment.
pub fn builder(emu: &EmulatorHandle) -> AzureOpenAIBuilder {
    AzureOpenAI::builder()
        .endpoint(emu.url())
        .api_key(KEY)
        .deployment("gpt-4o")
        .retry_policy(quick_retries(2))
}

pub fn client(emu: &EmulatorHandle) -> AzureOpenAI {
    builder(emu).build().expect("client builds")
}

/// A token minted by the emulator (`POST /_emulator/tokens`).
pub async fn mint(emu: &EmulatorHandle, options: Value) -> String {
    let v: Value = reqwest::Client::new()
        .post(format!("{}/_emulator/tokens", emu.url()))
        .json(&options)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["access_token"].as_str().unwrap().to_string()
}

/// A token of the default principal with the data-plane role.
pub async fn good_token(emu: &EmulatorHandle) -> String {
    mint(emu, json!({})).await
}

/// Journal entries whose path is `path`.
pub fn requests_to(emu: &EmulatorHandle, path: &str) -> Vec<JournalEntry> {
    emu.journal()
        .into_iter()
        .filter(|e| e.path == path)
        .collect()
}

/// Token requests in the journal.
pub fn token_requests(emu: &EmulatorHandle) -> usize {
    emu.journal()
        .iter()
        .filter(|e| e.path.ends_with("/oauth2/v2.0/token"))
        .count()
}

/// A loopback port nothing listens on.
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Takes every role from the principal `client_id`.
pub fn remove_roles(config: &mut EmulatorConfig, client_id: &str) {
    let p = config
        .entra
        .principals
        .iter_mut()
        .find(|p| p.client_id == client_id)
        .expect("the principal exists");
    p.roles.clear();
}

/// An environment for `DefaultAzureCredential` with the emulator's service principal, and IMDS
/// pointed at a closed loopback port (never the real 169.254.169.254).
pub fn sp_env(emu: &EmulatorHandle) -> aoai_identity::Env {
    aoai_identity::Env::from_map([
        ("AZURE_OPENAI_ENDPOINT", emu.url().to_string()),
        ("AZURE_OPENAI_DEPLOYMENT", "gpt-4o".to_string()),
        ("AZURE_TENANT_ID", TENANT.to_string()),
        ("AZURE_CLIENT_ID", CLIENT_ID.to_string()),
        ("AZURE_CLIENT_SECRET", CLIENT_SECRET.to_string()),
        ("AZURE_AUTHORITY_HOST", emu.url().to_string()),
        (
            "AZURE_POD_IDENTITY_AUTHORITY_HOST",
            format!("http://127.0.0.1:{}", closed_port()),
        ),
    ])
}

pub fn hello() -> aoai::types::ChatCompletionRequest {
    aoai::types::ChatCompletionRequest::new(vec![aoai::types::ChatMessage::user("hello world")])
}
