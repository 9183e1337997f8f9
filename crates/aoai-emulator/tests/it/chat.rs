//! Chat completions: body shape, determinism, limits, tools, JSON modes and the stream sequence.

use std::time::Instant;

use serde_json::{Value, json};

use crate::support::*;

/// `data:` payloads of an SSE body, `[DONE]` included as a string.
fn sse(text: &str) -> Vec<String> {
    assert!(
        text.ends_with("data: [DONE]\n\n"),
        "stream ends with [DONE]: {text}"
    );
    text.split("\n\n")
        .filter(|e| !e.is_empty())
        .map(|e| {
            e.strip_prefix("data: ")
                .unwrap_or_else(|| panic!("event is one data line: {e:?}"))
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn answer_has_azure_shape_and_headers() {
    let emu = start().await;
    let res = post_key(&chat_url(&emu, "gpt-4o"), &hello()).await;
    let (status, h, body) = parts(res).await;
    assert_eq!(status, 200);
    assert_common_headers(&h, true);
    assert_eq!(header(&h, "x-ms-deployment-name"), Some("gpt-4o"));
    for name in [
        "x-ratelimit-remaining-requests",
        "x-ratelimit-remaining-tokens",
        "x-ratelimit-limit-requests",
        "x-ratelimit-limit-tokens",
    ] {
        assert!(header(&h, name).is_some(), "{name}");
    }
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["model"], "gpt-4o-2024-08-06");
    assert!(body["id"].as_str().unwrap().starts_with("chatcmpl-"));
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "Echo: hello world"
    );
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    assert_eq!(
        body["prompt_filter_results"][0]["content_filter_results"]["jailbreak"],
        json!({"filtered": false, "detected": false})
    );
    assert_eq!(
        body["choices"][0]["content_filter_results"]["protected_material_code"],
        json!({"filtered": false, "detected": false})
    );
    // "hello world" = 2 tokens + 3 per message + 3; "Echo: hello world" = 3 tokens.
    assert_eq!(body["usage"]["prompt_tokens"], 8);
    assert_eq!(body["usage"]["completion_tokens"], 3);
    assert_eq!(body["usage"]["total_tokens"], 11);
}

#[tokio::test]
async fn max_completion_tokens_truncates_with_length() {
    let emu = start().await;
    let body = json!({"messages": [{"role": "user", "content": "one two three four"}], "max_completion_tokens": 3});
    let (_, _, answer) = parts(post_key(&chat_url(&emu, "gpt-4o"), &body).await).await;
    assert_eq!(answer["choices"][0]["message"]["content"], "Echo: one two");
    assert_eq!(answer["choices"][0]["finish_reason"], "length");
    assert_eq!(answer["usage"]["completion_tokens"], 3);
}

#[tokio::test]
async fn tool_call_when_asked() {
    let emu = start().await;
    let body = json!({
        "messages": [{"role": "user", "content": "call get_weather for Paris"}],
        "tools": [{"type": "function", "function": {"name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]
    });
    let (status, _, answer) = parts(post_key(&chat_url(&emu, "gpt-4o"), &body).await).await;
    assert_eq!(status, 200);
    let choice = &answer["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert_eq!(choice["message"]["content"], Value::Null);
    let call = &choice["message"]["tool_calls"][0];
    assert_eq!(call["type"], "function");
    assert_eq!(call["function"]["name"], "get_weather");
    let args: Value =
        serde_json::from_str(call["function"]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(args, json!({"city": "call get_weather for Paris"}));
}

#[tokio::test]
async fn json_schema_answer_is_valid_json() {
    let emu = start().await;
    let body = json!({
        "messages": [{"role": "user", "content": "x"}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "r", "strict": true,
            "schema": {"type": "object", "properties": {"n": {"type": "integer"}, "s": {"type": "string"}}}}}
    });
    let (_, _, answer) = parts(post_key(&chat_url(&emu, "gpt-4o"), &body).await).await;
    let content: Value =
        serde_json::from_str(answer["choices"][0]["message"]["content"].as_str().unwrap()).unwrap();
    assert_eq!(content, json!({"n": 0, "s": "x"}));
}

#[tokio::test]
async fn stream_follows_azure_sequence_with_usage() {
    let emu = start().await;
    let body = json!({"messages": [{"role": "user", "content": "hi there"}], "stream": true,
        "stream_options": {"include_usage": true}});
    let res = post_key(&chat_url(&emu, "gpt-4o"), &body).await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(
        header(res.headers(), "content-type"),
        Some("text/event-stream")
    );
    assert_common_headers(res.headers(), true);
    let events = sse(&res.text().await.unwrap());
    let json: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str(e).unwrap())
        .collect();
    // 1. prompt annotations
    assert_eq!(json[0]["id"], "");
    assert_eq!(json[0]["object"], "");
    assert_eq!(json[0]["created"], 0);
    assert_eq!(json[0]["choices"], json!([]));
    assert!(json[0]["prompt_filter_results"].is_array());
    // 2. role delta
    assert_eq!(
        json[1]["choices"][0]["delta"],
        json!({"role": "assistant", "content": "", "refusal": null})
    );
    assert_eq!(json[1]["choices"][0]["content_filter_results"], json!({}));
    // 3.. content deltas with filter results
    let text: String = json[2..json.len() - 2]
        .iter()
        .map(|c| {
            assert_eq!(c["object"], "chat.completion.chunk");
            assert!(c["choices"][0]["content_filter_results"]["hate"].is_object());
            c["choices"][0]["delta"]["content"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(text, "Echo: hi there");
    // finish, then usage
    let finish = &json[json.len() - 2];
    assert_eq!(finish["choices"][0]["finish_reason"], "stop");
    assert_eq!(finish["choices"][0]["delta"], json!({}));
    let usage = &json[json.len() - 1];
    assert_eq!(usage["choices"], json!([]));
    assert_eq!(usage["usage"]["completion_tokens"], 3);
    assert_eq!(events.last().unwrap(), "[DONE]");
    // all chunks share one id
    assert!(json[1..].iter().all(|c| c["id"] == json[1]["id"]));
}

#[tokio::test]
async fn stream_without_include_usage_has_no_usage_chunk() {
    let emu = start().await;
    let body = json!({"messages": [{"role": "user", "content": "a"}], "stream": true});
    let events = sse(&post_key(&chat_url(&emu, "gpt-4o"), &body)
        .await
        .text()
        .await
        .unwrap());
    // annotations, role, "Echo:", " a", finish, [DONE]
    assert_eq!(events.len(), 6);
    assert!(events.iter().all(|e| !e.contains("\"usage\"")));
}

#[tokio::test]
async fn stream_tool_call_and_length() {
    let emu = start().await;
    let body = json!({"messages": [{"role": "user", "content": "x"}], "stream": true, "tool_choice": "required",
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {"a": {"type": "boolean"}}}}}]});
    let events = sse(&post_key(&chat_url(&emu, "gpt-4o"), &body)
        .await
        .text()
        .await
        .unwrap());
    let first: Value = serde_json::from_str(&events[2]).unwrap();
    assert_eq!(
        first["choices"][0]["delta"]["tool_calls"][0]["function"]["name"],
        "f"
    );
    let finish: Value = serde_json::from_str(&events[events.len() - 2]).unwrap();
    assert_eq!(finish["choices"][0]["finish_reason"], "tool_calls");

    let body = json!({"messages": [{"role": "user", "content": "a b c"}], "stream": true, "max_tokens": 1});
    let events = sse(&post_key(&chat_url(&emu, "gpt-4o"), &body)
        .await
        .text()
        .await
        .unwrap());
    let finish: Value = serde_json::from_str(&events[events.len() - 2]).unwrap();
    assert_eq!(finish["choices"][0]["finish_reason"], "length");
}

#[tokio::test]
async fn stream_chunk_delay_applies_between_events() {
    let emu = start_toml("stream_chunk_delay_ms = 40").await;
    let body = json!({"messages": [{"role": "user", "content": "a"}], "stream": true});
    let t = Instant::now();
    let events = sse(&post_key(&chat_url(&emu, "gpt-4o"), &body)
        .await
        .text()
        .await
        .unwrap());
    // 6 events, 5 gaps of 40 ms
    assert_eq!(events.len(), 6);
    assert!(t.elapsed().as_millis() >= 200, "{:?}", t.elapsed());
}

#[tokio::test]
async fn v1_route_uses_body_model_and_models_lists_them() {
    let emu = start().await;
    let url = format!(
        "{}/openai/v1/chat/completions?api-version=preview",
        emu.url()
    );
    let body = json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "v1"}]});
    let (status, h, answer) = parts(post_key(&url, &body).await).await;
    assert_eq!(status, 200);
    assert_eq!(answer["choices"][0]["message"]["content"], "Echo: v1");
    assert_eq!(header(&h, "x-ms-deployment-name"), Some("gpt-4o"));
    for path in ["/openai/models?api-version=2024-10-21", "/openai/v1/models"] {
        let res = client()
            .get(format!("{}{path}", emu.url()))
            .header("api-key", KEY)
            .send()
            .await
            .unwrap();
        let (status, _, list) = parts(res).await;
        assert_eq!(status, 200, "{path}");
        let ids: Vec<&str> = list["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["gpt-4o-2024-08-06", "text-embedding-3-small"]);
    }
    let res = client()
        .get(format!("{}/openai/models", emu.url()))
        .header("api-key", KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 404);
}

#[tokio::test]
async fn http2_prior_knowledge_works() {
    let emu = start().await;
    let c = reqwest::Client::builder()
        .no_proxy()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let res = c
        .post(chat_url(&emu, "gpt-4o"))
        .header("api-key", KEY)
        .json(&hello())
        .send()
        .await
        .unwrap();
    assert_eq!(res.version(), reqwest::Version::HTTP_2);
    assert_eq!(res.status().as_u16(), 200);
}

#[tokio::test]
async fn the_old_authoring_api_lists_deployments_on_2022_12_01_only() {
    let emu = start().await;
    let list = |version: &'static str| {
        let url = format!("{}/openai/deployments?api-version={version}", emu.url());
        async move {
            let res = client()
                .get(url)
                .header("api-key", KEY)
                .send()
                .await
                .unwrap();
            parts(res).await
        }
    };
    let (status, _, body) = list("2022-12-01").await;
    assert_eq!(status, 200);
    let names: Vec<&str> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["gpt-4o", "text-embedding-3-small"]);
    assert_eq!(body["data"][0]["model"], "gpt-4o-2024-08-06");
    let (status, _, body) = list("2024-10-21").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["message"], "Resource not found");
}
