//! The request every contender sends, so bodies are the same for everyone: one user message,
//! `max_completion_tokens`, and for streams `stream_options.include_usage` (our client sets it by
//! default; the others are told to, so every stream carries the same chunks).

use clap::ValueEnum;
use serde_json::json;

/// The Azure OpenAI api-version every contender uses.
pub const API_VERSION: &str = "2024-10-21";
/// The chat deployment of the emulator.
pub const DEPLOYMENT: &str = "gpt-4o";
/// The emulator's default api key.
pub const API_KEY: &str = "emulator-key";

/// Non-streaming or streaming chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Workload {
    /// `POST .../chat/completions`, JSON answer.
    Chat,
    /// The same with `"stream": true` (SSE answer, one chunk per token).
    Stream,
}

impl Workload {
    /// Stable name in the JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Workload::Chat => "chat",
            Workload::Stream => "stream",
        }
    }
}

/// The chat request: one user message, a completion-token cap.
#[derive(Debug, Clone)]
pub struct ChatRequest {
    /// The user message.
    pub prompt: String,
    /// `max_completion_tokens`.
    pub max_tokens: u32,
}

impl ChatRequest {
    /// The request URL on `base` (deployment route, api-version in the query).
    pub fn url(&self, base: &str) -> String {
        format!(
            "{}/openai/deployments/{DEPLOYMENT}/chat/completions?api-version={API_VERSION}",
            base.trim_end_matches('/')
        )
    }

    /// The JSON body, serialised once (the bare loop sends these bytes).
    pub fn body(&self, workload: Workload) -> Vec<u8> {
        let mut v = json!({
            "messages": [{"role": "user", "content": self.prompt}],
            "max_completion_tokens": self.max_tokens,
        });
        if workload == Workload::Stream {
            v["stream"] = json!(true);
            v["stream_options"] = json!({"include_usage": true});
        }
        serde_json::to_vec(&v).unwrap_or_default()
    }
}
