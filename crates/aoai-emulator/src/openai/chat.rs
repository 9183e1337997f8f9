//! Chat completions: a deterministic "model" and Azure's response and stream shapes (spec §4).
//!
//! What the model answers (so tests can assert it):
//! * The *input text* is the text of the last message whose role is `user` or `tool` (string
//!   content, or the `text` parts of an array joined with a space).
//! * Plain answer: `Echo: <input text>`.
//! * `response_format` `json_object`: `{"echo":"<input text>"}`; `json_schema`: a value of the
//!   schema (objects with all properties, strings = the input text, numbers 0, booleans false,
//!   enums their first value, arrays one item), compact JSON.
//! * Tools: when `tools` is non-empty, the last message is from the user and `tool_choice` is not
//!   `"none"`, the answer is one tool call if `tool_choice` is `"required"` (first tool) or names a
//!   function, or if the input text contains `call <name>` for a tool `<name>`. The arguments are a
//!   value of the function's `parameters` schema (as above), `finish_reason` `tool_calls`.
//! * Tokens: a token is a run of non-space characters with the spaces before it
//!   (`"Echo: hi there"` = `["Echo:", " hi", " there"]`). `completion_tokens` = tokens of the answer
//!   (tool calls: tokens of the arguments text); `prompt_tokens` = Σ(tokens of each message + 3) + 3.
//! * `max_completion_tokens` (or `max_tokens`) cuts the answer to that many tokens,
//!   `finish_reason: "length"`.
//! * A prompt containing the output-filter trigger is answered up to (not including) the first
//!   token that contains the trigger, with `finish_reason: "content_filter"` and `violence`
//!   filtered at `medium`.
//! * Streams: one content delta per token.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::{body::Body, http::StatusCode, response::Response};
use bytes::Bytes;
use futures::StreamExt;
use rand::{Rng, distr::Alphanumeric};
use serde_json::{Map, Value, json};

use crate::{
    config::DeploymentConfig,
    openai::reply::{self, Origin, Reply},
};

/// Fixed `system_fingerprint` of every answer.
pub const SYSTEM_FINGERPRINT: &str = "fp_a7d06e42a7";

/// A parsed, validated chat request (only what the emulator looks at).
#[derive(Debug, Clone)]
pub struct ChatRequest {
    /// Texts of all messages, for filters, estimates and usage.
    pub message_texts: Vec<String>,
    /// The input text the answer echoes.
    pub input: String,
    /// Whether the last message is from the user.
    pub last_is_user: bool,
    /// `max_completion_tokens`, else `max_tokens`.
    pub max_tokens: Option<u64>,
    /// `stream`.
    pub stream: bool,
    /// `stream_options.include_usage`.
    pub include_usage: bool,
    /// `n` (non-streamed answers repeat the choice).
    pub n: u64,
    /// `tools`.
    pub tools: Vec<Value>,
    /// `tool_choice`.
    pub tool_choice: Option<Value>,
    /// `response_format`.
    pub response_format: Option<Value>,
}

/// Why a request body was rejected: message and `param`.
pub type Invalid = (String, Option<&'static str>);

fn text_of(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    }
}

impl ChatRequest {
    /// Parses the JSON body leniently, rejecting what the service rejects.
    pub fn parse(body: &Value) -> Result<Self, Invalid> {
        let Some(obj) = body.as_object() else {
            return Err(("The request body must be a JSON object.".into(), None));
        };
        let messages = match obj.get("messages") {
            Some(Value::Array(m)) if !m.is_empty() => m,
            Some(Value::Array(_)) => {
                return Err(("[] is too short - 'messages'".into(), Some("messages")));
            }
            _ => {
                return Err(("'messages' is a required property".into(), Some("messages")));
            }
        };
        let mut message_texts = Vec::with_capacity(messages.len());
        let mut input = String::new();
        let mut last_is_user = false;
        for m in messages {
            let role = m.get("role").and_then(Value::as_str).ok_or_else(|| {
                (
                    "'role' is a required property - 'messages'".to_owned(),
                    Some("messages"),
                )
            })?;
            let text = m.get("content").map(text_of).unwrap_or_default();
            if role == "user" || role == "tool" {
                input = text.clone();
            }
            last_is_user = role == "user";
            message_texts.push(text);
        }
        let uint = |name: &'static str| -> Result<Option<u64>, Invalid> {
            match obj.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => match v.as_u64() {
                    Some(n) if n >= 1 => Ok(Some(n)),
                    _ => Err((
                        format!("Invalid '{name}': expected a positive integer."),
                        Some(name),
                    )),
                },
            }
        };
        let max_tokens = match uint("max_completion_tokens")? {
            Some(n) => Some(n),
            None => uint("max_tokens")?,
        };
        let n = uint("n")?.unwrap_or(1).min(128);
        let stream = obj.get("stream").and_then(Value::as_bool).unwrap_or(false);
        let include_usage = obj
            .get("stream_options")
            .and_then(|o| o.get("include_usage"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if obj.get("stream_options").is_some_and(|v| !v.is_null()) && !stream {
            return Err((
                "The 'stream_options' parameter is only allowed when 'stream' is enabled.".into(),
                Some("stream_options"),
            ));
        }
        let tools = match obj.get("tools") {
            Some(Value::Array(t)) => t.clone(),
            _ => Vec::new(),
        };
        Ok(Self {
            message_texts,
            input,
            last_is_user,
            max_tokens,
            stream,
            include_usage,
            n,
            tools,
            tool_choice: obj.get("tool_choice").cloned(),
            response_format: obj.get("response_format").cloned(),
        })
    }

    /// Whether any message contains `needle`.
    pub fn prompt_contains(&self, needle: &str) -> bool {
        !needle.is_empty() && self.message_texts.iter().any(|t| t.contains(needle))
    }

    /// `prompt_tokens` (see the module doc).
    pub fn prompt_tokens(&self) -> u64 {
        self.message_texts
            .iter()
            .map(|t| count_tokens(t) + 3)
            .sum::<u64>()
            + 3
    }
}

/// TPM estimate at arrival: prompt characters / 4 (rounded up) + `max_tokens`.
pub fn tpm_estimate(req: &ChatRequest) -> u64 {
    let chars: usize = req.message_texts.iter().map(|t| t.chars().count()).sum();
    (chars as u64).div_ceil(4) + req.max_tokens.unwrap_or(0)
}

/// Splits text into tokens: runs of non-space characters with their leading spaces.
pub fn tokens(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut in_word = false;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            if in_word {
                out.push(&text[start..i]);
                start = i;
                in_word = false;
            }
        } else {
            in_word = true;
        }
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

/// Number of [`tokens`].
pub fn count_tokens(text: &str) -> u64 {
    tokens(text).len() as u64
}

/// A value of a JSON schema, strings being `text` (see the module doc).
pub fn sample_from_schema(schema: &Value, text: &str) -> Value {
    if let Some(first) = schema
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return first.clone();
    }
    if let Some(c) = schema.get("const") {
        return c.clone();
    }
    if let Some(first) = ["anyOf", "oneOf", "allOf"].iter().find_map(|k| {
        schema
            .get(*k)
            .and_then(Value::as_array)
            .and_then(|a| a.first())
    }) {
        return sample_from_schema(first, text);
    }
    let ty = match schema.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null"),
        _ if schema.get("properties").is_some() => "object",
        _ => "string",
    };
    match ty {
        "object" => {
            let mut out = Map::new();
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                for (name, sub) in props {
                    out.insert(name.clone(), sample_from_schema(sub, text));
                }
            }
            Value::Object(out)
        }
        "array" => {
            let item = schema.get("items").cloned().unwrap_or(json!({}));
            Value::Array(vec![sample_from_schema(&item, text)])
        }
        "integer" | "number" => json!(0),
        "boolean" => json!(false),
        "null" => Value::Null,
        _ => Value::String(text.to_owned()),
    }
}

/// What the model decided to say.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// Text, already cut; with its finish reason.
    Text {
        /// The text.
        content: String,
        /// `stop`, `length` or `content_filter`.
        finish_reason: &'static str,
        /// Tokens of `content`.
        completion_tokens: u64,
    },
    /// One tool call.
    ToolCall {
        /// Function name.
        name: String,
        /// Arguments as JSON text.
        arguments: String,
    },
}

fn tool_name(tool: &Value) -> Option<&str> {
    tool.get("function")
        .and_then(|f| f.get("name"))
        .and_then(Value::as_str)
}

fn chosen_tool(req: &ChatRequest) -> Option<&Value> {
    if req.tools.is_empty() || !req.last_is_user {
        return None;
    }
    match &req.tool_choice {
        Some(Value::String(s)) if s == "none" => None,
        Some(Value::String(s)) if s == "required" => req
            .tools
            .iter()
            .find(|t| {
                req.input
                    .contains(&format!("call {}", tool_name(t).unwrap_or("\0")))
            })
            .or_else(|| req.tools.first()),
        Some(Value::Object(o)) => {
            let wanted = o
                .get("function")
                .and_then(|f| f.get("name"))
                .and_then(Value::as_str)?;
            req.tools.iter().find(|t| tool_name(t) == Some(wanted))
        }
        _ => req
            .tools
            .iter()
            .find(|t| tool_name(t).is_some_and(|n| req.input.contains(&format!("call {n}")))),
    }
}

/// Decides the answer (see the module doc).
pub fn answer(req: &ChatRequest, output_filter_trigger: &str) -> Answer {
    if let Some(tool) = chosen_tool(req) {
        let schema = tool
            .get("function")
            .and_then(|f| f.get("parameters"))
            .cloned()
            .unwrap_or(json!({"type": "object"}));
        let args = sample_from_schema(&schema, &req.input);
        return Answer::ToolCall {
            name: tool_name(tool).unwrap_or("").to_owned(),
            arguments: serde_json::to_string(&args).unwrap_or_default(),
        };
    }
    let full = match req
        .response_format
        .as_ref()
        .and_then(|f| f.get("type"))
        .and_then(Value::as_str)
    {
        Some("json_object") => json!({"echo": req.input}).to_string(),
        Some("json_schema") => {
            let schema = req
                .response_format
                .as_ref()
                .and_then(|f| f.get("json_schema"))
                .and_then(|s| s.get("schema"))
                .cloned()
                .unwrap_or(json!({"type": "object"}));
            sample_from_schema(&schema, &req.input).to_string()
        }
        _ => format!("Echo: {}", req.input),
    };
    let toks = tokens(&full);
    let filtered_at = if req.prompt_contains(output_filter_trigger) {
        toks.iter().position(|t| t.contains(output_filter_trigger))
    } else {
        None
    };
    let (keep, finish_reason) = match (filtered_at, req.max_tokens) {
        (Some(i), Some(m)) if (m as usize) < i => (m as usize, "length"),
        (Some(i), _) => (i, "content_filter"),
        (None, Some(m)) if (m as usize) < toks.len() => (m as usize, "length"),
        (None, _) => (toks.len(), "stop"),
    };
    Answer::Text {
        content: toks[..keep].concat(),
        finish_reason,
        completion_tokens: keep as u64,
    }
}

/// `chatcmpl-` and 29 random letters/digits.
pub fn completion_id() -> String {
    let tail: String = rand::rng()
        .sample_iter(&Alphanumeric)
        .take(29)
        .map(char::from)
        .collect();
    format!("chatcmpl-{tail}")
}

fn call_id() -> String {
    let tail: String = rand::rng()
        .sample_iter(&Alphanumeric)
        .take(24)
        .map(char::from)
        .collect();
    format!("call_{tail}")
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn usage(prompt: u64, completion: u64) -> Value {
    json!({
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "completion_tokens_details": {"reasoning_tokens": 0},
        "prompt_tokens_details": {"cached_tokens": 0},
    })
}

/// The non-streamed body (spec §4.2).
pub fn completion_body(req: &ChatRequest, deployment: &DeploymentConfig, ans: &Answer) -> Value {
    let (message, finish_reason, completion_tokens, filtered) = match ans {
        Answer::Text {
            content,
            finish_reason,
            completion_tokens,
        } => (
            json!({"role": "assistant", "content": content, "refusal": null}),
            *finish_reason,
            *completion_tokens,
            *finish_reason == "content_filter",
        ),
        Answer::ToolCall { name, arguments } => (
            json!({"role": "assistant", "content": null, "refusal": null, "tool_calls": [
                {"id": call_id(), "type": "function", "function": {"name": name, "arguments": arguments}}
            ]}),
            "tool_calls",
            count_tokens(arguments),
            false,
        ),
    };
    let choices: Vec<Value> = (0..req.n)
        .map(|i| {
            json!({
                "index": i,
                "finish_reason": finish_reason,
                "logprobs": null,
                "message": message,
                "content_filter_results": reply::choice_filter_results(filtered),
            })
        })
        .collect();
    json!({
        "id": completion_id(),
        "object": "chat.completion",
        "created": now_secs(),
        "model": deployment.model,
        "system_fingerprint": SYSTEM_FINGERPRINT,
        "prompt_filter_results": reply::prompt_filter_results(),
        "choices": choices,
        "usage": usage(req.prompt_tokens(), completion_tokens * req.n),
    })
}

fn stream_filter_results(filtered: bool) -> Value {
    let violence = if filtered {
        json!({"filtered": true, "severity": "medium"})
    } else {
        reply::safe_severity()
    };
    json!({
        "hate": reply::safe_severity(),
        "self_harm": reply::safe_severity(),
        "sexual": reply::safe_severity(),
        "violence": violence,
    })
}

fn event(v: &Value) -> Bytes {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(b"data: ");
    // Serialising a Value cannot fail.
    let _ = serde_json::to_writer(&mut out, v);
    out.extend_from_slice(b"\n\n");
    Bytes::from(out)
}

/// The SSE events of a streamed answer, in Azure's order (spec §4.3), `data: [DONE]` last.
pub fn stream_events(req: &ChatRequest, deployment: &DeploymentConfig, ans: &Answer) -> Vec<Bytes> {
    let id = completion_id();
    let created = now_secs();
    let chunk = |choices: Value, usage: Option<Value>| {
        let mut v = json!({
            "choices": choices,
            "created": created,
            "id": id,
            "model": deployment.model,
            "object": "chat.completion.chunk",
            "system_fingerprint": SYSTEM_FINGERPRINT,
        });
        if let Some(u) = usage {
            v["usage"] = u;
        } else if req.include_usage {
            v["usage"] = Value::Null;
        }
        event(&v)
    };
    let choice = |delta: Value, filter: Value, finish: Value| json!([{"content_filter_results": filter, "delta": delta, "finish_reason": finish, "index": 0, "logprobs": null}]);
    let mut out = Vec::new();
    out.push(event(&json!({
        "choices": [], "created": 0, "id": "", "model": "", "object": "",
        "prompt_filter_results": reply::prompt_filter_results(),
    })));
    out.push(chunk(
        choice(
            json!({"content": "", "refusal": null, "role": "assistant"}),
            json!({}),
            Value::Null,
        ),
        None,
    ));
    let (finish_reason, completion_tokens, filtered) = match ans {
        Answer::Text {
            content,
            finish_reason,
            completion_tokens,
        } => {
            for t in tokens(content) {
                out.push(chunk(
                    choice(
                        json!({"content": t}),
                        stream_filter_results(false),
                        Value::Null,
                    ),
                    None,
                ));
            }
            (
                *finish_reason,
                *completion_tokens,
                *finish_reason == "content_filter",
            )
        }
        Answer::ToolCall { name, arguments } => {
            out.push(chunk(
                choice(
                    json!({"tool_calls": [{"index": 0, "id": call_id(), "type": "function",
                        "function": {"name": name, "arguments": ""}}]}),
                    json!({}),
                    Value::Null,
                ),
                None,
            ));
            for t in tokens(arguments) {
                out.push(chunk(
                    choice(
                        json!({"tool_calls": [{"index": 0, "function": {"arguments": t}}]}),
                        json!({}),
                        Value::Null,
                    ),
                    None,
                ));
            }
            ("tool_calls", count_tokens(arguments), false)
        }
    };
    let finish_filter = if filtered {
        stream_filter_results(true)
    } else {
        json!({})
    };
    out.push(chunk(
        choice(json!({}), finish_filter, json!(finish_reason)),
        None,
    ));
    if req.include_usage {
        out.push(chunk(
            json!([]),
            Some(usage(req.prompt_tokens(), completion_tokens)),
        ));
    }
    out.push(Bytes::from_static(b"data: [DONE]\n\n"));
    out
}

/// A `text/event-stream` reply sending `events` with `delay` between them.
pub fn stream_reply(events: Vec<Bytes>, delay: Duration) -> Reply {
    let body = if delay.is_zero() {
        Body::from_stream(futures::stream::iter(
            events.into_iter().map(Ok::<_, std::io::Error>),
        ))
    } else {
        Body::from_stream(futures::stream::iter(events.into_iter().enumerate()).then(
            move |(i, e)| async move {
                if i > 0 {
                    tokio::time::sleep(delay).await;
                }
                Ok::<_, std::io::Error>(e)
            },
        ))
    };
    Reply::raw(StatusCode::OK, "text/event-stream", body).header("cache-control", "no-cache")
}

/// The 400 of a filtered prompt.
pub fn content_filter_response(region: &str) -> Response {
    Reply::json(StatusCode::BAD_REQUEST, &reply::content_filter_body())
        .finish(Origin::Model, region)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(body: Value) -> ChatRequest {
        ChatRequest::parse(&body).unwrap()
    }

    fn dep() -> DeploymentConfig {
        crate::config::EmulatorConfig::default().deployments[0].clone()
    }

    #[test]
    fn tokens_keep_leading_spaces() {
        assert_eq!(tokens("Echo: hi  there"), vec!["Echo:", " hi", "  there"]);
        assert_eq!(tokens(""), Vec::<&str>::new());
        assert_eq!(tokens(" a"), vec![" a"]);
        assert_eq!(tokens("a "), vec!["a", " "]);
    }

    #[test]
    fn echoes_the_last_user_message_and_counts_usage() {
        let r = req(json!({"messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": [{"type": "text", "text": "hello world"}]}]}));
        let a = answer(&r, "trigger-output-filter");
        assert_eq!(
            a,
            Answer::Text {
                content: "Echo: hello world".into(),
                finish_reason: "stop",
                completion_tokens: 3
            }
        );
        assert_eq!(r.prompt_tokens(), (2 + 3) + (2 + 3) + 3);
        let body = completion_body(&r, &dep(), &a);
        assert_eq!(body["usage"]["total_tokens"], 16);
        assert_eq!(body["model"], "gpt-4o-2024-08-06");
    }

    #[test]
    fn max_tokens_cuts_with_length() {
        let r = req(json!({"messages": [{"role": "user", "content": "a b c d"}], "max_tokens": 2}));
        match answer(&r, "x-never") {
            Answer::Text {
                content,
                finish_reason,
                ..
            } => {
                assert_eq!(content, "Echo: a");
                assert_eq!(finish_reason, "length");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn output_filter_cuts_before_the_trigger() {
        let r = req(
            json!({"messages": [{"role": "user", "content": "say trigger-output-filter now"}]}),
        );
        match answer(&r, "trigger-output-filter") {
            Answer::Text {
                content,
                finish_reason,
                ..
            } => {
                assert_eq!(content, "Echo: say");
                assert_eq!(finish_reason, "content_filter");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn tools_are_called_on_request() {
        let tools = json!([{"type": "function", "function": {"name": "get_weather", "parameters": {
            "type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"},
            "unit": {"type": "string", "enum": ["c", "f"]}}, "required": ["city"]}}}]);
        let r = req(
            json!({"messages": [{"role": "user", "content": "please call get_weather"}], "tools": tools}),
        );
        assert_eq!(
            answer(&r, "x"),
            Answer::ToolCall {
                name: "get_weather".into(),
                arguments: r#"{"city":"please call get_weather","days":0,"unit":"c"}"#.into()
            }
        );
        let r = req(json!({"messages": [{"role": "user", "content": "hi"}], "tools": tools}));
        assert!(matches!(answer(&r, "x"), Answer::Text { .. }));
        let r = req(
            json!({"messages": [{"role": "user", "content": "hi"}], "tools": tools, "tool_choice": "required"}),
        );
        assert!(matches!(answer(&r, "x"), Answer::ToolCall { .. }));
        let r = req(
            json!({"messages": [{"role": "user", "content": "call get_weather"}], "tools": tools, "tool_choice": "none"}),
        );
        assert!(matches!(answer(&r, "x"), Answer::Text { .. }));
    }

    #[test]
    fn json_formats_give_valid_json() {
        let r = req(
            json!({"messages": [{"role": "user", "content": "q"}], "response_format": {"type": "json_object"}}),
        );
        let Answer::Text { content, .. } = answer(&r, "x") else {
            panic!()
        };
        assert_eq!(
            serde_json::from_str::<Value>(&content).unwrap(),
            json!({"echo": "q"})
        );
        let r = req(
            json!({"messages": [{"role": "user", "content": "q"}], "response_format": {"type": "json_schema",
            "json_schema": {"name": "n", "schema": {"type": "object", "properties": {"tags": {"type": "array", "items": {"type": "string"}}, "ok": {"type": "boolean"}}}}}}),
        );
        let Answer::Text { content, .. } = answer(&r, "x") else {
            panic!()
        };
        assert_eq!(
            serde_json::from_str::<Value>(&content).unwrap(),
            json!({"tags": ["q"], "ok": false})
        );
    }

    #[test]
    fn rejects_bad_bodies() {
        assert!(ChatRequest::parse(&json!({})).is_err());
        assert!(ChatRequest::parse(&json!({"messages": []})).is_err());
        assert!(ChatRequest::parse(&json!({"messages": [{"content": "x"}]})).is_err());
        assert!(
            ChatRequest::parse(
                &json!({"messages": [{"role": "user", "content": "x"}], "max_tokens": -1})
            )
            .is_err()
        );
    }

    #[test]
    fn stream_follows_azure_sequence() {
        let r = req(
            json!({"messages": [{"role": "user", "content": "hi"}], "stream": true, "stream_options": {"include_usage": true}}),
        );
        let ev = stream_events(&r, &dep(), &answer(&r, "x"));
        let texts: Vec<String> = ev
            .iter()
            .map(|b| String::from_utf8(b.to_vec()).unwrap())
            .collect();
        assert_eq!(texts.len(), 1 + 1 + 2 + 1 + 1 + 1);
        let parse =
            |s: &str| serde_json::from_str::<Value>(s.trim_start_matches("data: ").trim()).unwrap();
        assert_eq!(parse(&texts[0])["object"], "");
        assert_eq!(parse(&texts[1])["choices"][0]["delta"]["role"], "assistant");
        assert_eq!(parse(&texts[2])["choices"][0]["delta"]["content"], "Echo:");
        assert_eq!(parse(&texts[4])["choices"][0]["finish_reason"], "stop");
        assert_eq!(parse(&texts[5])["usage"]["completion_tokens"], 2);
        assert_eq!(texts[6], "data: [DONE]\n\n");
    }
}
