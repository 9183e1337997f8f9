//! Starting emulators and sending requests to them.

use aoai_emulator::{Emulator, EmulatorConfig, EmulatorHandle};
use reqwest::{Client, Response};
use serde_json::{Value, json};

pub const KEY: &str = "emulator-key";
pub const API_VERSION: &str = "2024-10-21";

/// An emulator with the default configuration.
pub async fn start() -> EmulatorHandle {
    start_with(EmulatorConfig::default()).await
}

/// An emulator with `config` (its `listen` forced to a random loopback port).
pub async fn start_with(mut config: EmulatorConfig) -> EmulatorHandle {
    config.listen = "127.0.0.1:0".parse().unwrap();
    Emulator::start(config).await.expect("emulator starts")
}

/// An emulator configured from TOML text.
pub async fn start_toml(text: &str) -> EmulatorHandle {
    start_with(EmulatorConfig::from_toml_str(text).expect("valid config")).await
}

pub fn client() -> Client {
    Client::builder().no_proxy().build().unwrap()
}

pub fn chat_url(emu: &EmulatorHandle, deployment: &str) -> String {
    format!(
        "{}/openai/deployments/{deployment}/chat/completions?api-version={API_VERSION}",
        emu.url()
    )
}

pub fn embeddings_url(emu: &EmulatorHandle, deployment: &str) -> String {
    format!(
        "{}/openai/deployments/{deployment}/embeddings?api-version={API_VERSION}",
        emu.url()
    )
}

pub fn hello() -> Value {
    json!({"messages": [{"role": "user", "content": "hello world"}]})
}

/// POST `body` to `url` with `api-key: KEY`.
pub async fn post_key(url: &str, body: &Value) -> Response {
    client()
        .post(url)
        .header("api-key", KEY)
        .json(body)
        .send()
        .await
        .expect("request sent")
}

/// Status, headers and JSON body of a response.
pub async fn parts(res: Response) -> (u16, reqwest::header::HeaderMap, Value) {
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, headers, body)
}

pub fn header<'a>(h: &'a reqwest::header::HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// Asserts the headers every Azure answer carries, and whether `x-request-id` is present.
pub fn assert_common_headers(h: &reqwest::header::HeaderMap, model_side: bool) {
    let apim = header(h, "apim-request-id").expect("apim-request-id");
    assert_eq!(apim.len(), 36, "apim-request-id is a UUID: {apim}");
    assert_eq!(header(h, "x-ms-region"), Some("East US 2"));
    assert_eq!(
        header(h, "x-request-id").is_some(),
        model_side,
        "x-request-id only on model-side answers"
    );
}
