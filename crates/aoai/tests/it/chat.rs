//! Chat completions, whole and streamed, on both route families.

use aoai::Route;
use aoai::types::{ChatCompletionRequest, ChatMessage, JsonSchema, ResponseFormat, Role, Tool};
use futures::StreamExt;
use serde_json::json;

use crate::support::{CHAT_PATH, builder, client, emulator, hello, requests_to};

#[tokio::test]
async fn key_auth_chat_returns_the_typed_answer_with_azure_annotations() {
    let emu = emulator().await;
    let answer = client(&emu).chat().create(hello()).await.unwrap();
    assert_eq!(answer.text(), "Echo: hello world");
    assert_eq!(answer.model, "gpt-4o-2024-08-06");
    assert_eq!(answer.choices[0].finish_reason.as_deref(), Some("stop"));
    assert_eq!(answer.choices[0].message.role, Role::Assistant);
    let usage = answer.usage.as_ref().unwrap();
    assert!(
        usage.prompt_tokens > 0
            && usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    );
    let prompt = &answer.prompt_filter_results.as_ref().unwrap()[0];
    assert_eq!(
        prompt
            .content_filter_results
            .hate
            .as_ref()
            .unwrap()
            .severity
            .as_deref(),
        Some("safe")
    );
    assert!(
        !answer.choices[0]
            .content_filter_results
            .as_ref()
            .unwrap()
            .is_filtered()
    );
    // Fields we do not model are kept.
    assert_eq!(answer.extra["object"], "chat.completion");

    let sent = requests_to(&emu, CHAT_PATH);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].query["api-version"], "2024-10-21");
    assert_eq!(sent[0].body["messages"][0]["content"], "hello world");
    assert!(sent[0].headers.contains_key("api-key"));
    assert!(!sent[0].headers.contains_key("authorization"));
}

#[tokio::test]
async fn the_v1_route_names_the_deployment_in_the_body() {
    let emu = emulator().await;
    let c = builder(&emu).route(Route::V1).build().unwrap();
    let answer = c.chat().create(hello()).await.unwrap();
    assert_eq!(answer.text(), "Echo: hello world");
    let sent = requests_to(&emu, "/openai/v1/chat/completions");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].body["model"], "gpt-4o");
    assert!(sent[0].query.get("api-version").is_none());
}

#[tokio::test]
async fn a_request_model_overrides_the_default_deployment() {
    let emu = emulator().await;
    let c = builder(&emu).deployment("nope").build().unwrap();
    let answer = c.chat().create(hello().model("gpt-4o")).await.unwrap();
    assert_eq!(answer.text(), "Echo: hello world");
}

#[tokio::test]
async fn a_stream_yields_azure_s_chunk_sequence_and_usage() {
    let emu = emulator().await;
    let c = client(&emu);
    let whole = c.chat().create(hello()).await.unwrap().text();
    let mut stream = c.chat().create_stream(hello()).await.unwrap();
    let mut chunks = Vec::new();
    while let Some(chunk) = stream.next().await {
        chunks.push(chunk.unwrap());
    }
    assert!(
        chunks[0].is_annotation(),
        "the prompt annotation comes first"
    );
    assert!(chunks[0].prompt_filter_results.is_some());
    assert_eq!(chunks[1].choices[0].delta.role, Some(Role::Assistant));
    let text: String = chunks.iter().filter_map(|c| c.delta_text()).collect();
    assert_eq!(text, whole);
    let last = chunks.last().unwrap();
    assert!(last.choices.is_empty());
    assert!(last.usage.as_ref().unwrap().completion_tokens > 0);
    let finish = chunks
        .iter()
        .filter_map(|c| c.choices.first()?.finish_reason.clone())
        .collect::<Vec<_>>();
    assert_eq!(finish, ["stop"]);
    let sent = requests_to(&emu, CHAT_PATH);
    assert_eq!(sent[1].body["stream"], true);
    assert_eq!(sent[1].body["stream_options"]["include_usage"], true);
}

#[tokio::test]
async fn tools_and_structured_outputs_round_trip() {
    let emu = emulator().await;
    let c = client(&emu);
    let tool = Tool::function(
        "get_weather",
        "Weather in a city",
        json!({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}),
    );
    let req = ChatCompletionRequest::new(vec![ChatMessage::user("call get_weather for Paris")])
        .tools(vec![tool]);
    let answer = c.chat().create(req).await.unwrap();
    assert_eq!(
        answer.choices[0].finish_reason.as_deref(),
        Some("tool_calls")
    );
    let call = &answer.choices[0].message.tool_calls.as_ref().unwrap()[0];
    assert_eq!(call.function.name, "get_weather");
    let args: serde_json::Value = serde_json::from_str(&call.function.arguments).unwrap();
    assert!(args["city"].is_string());

    let schema = ResponseFormat::JsonSchema {
        json_schema: JsonSchema {
            name: "answer".into(),
            description: None,
            schema: Some(
                json!({"type":"object","properties":{"n":{"type":"integer"}},"required":["n"]}),
            ),
            strict: Some(true),
        },
    };
    let answer = c
        .chat()
        .create(hello().response_format(schema))
        .await
        .unwrap();
    let doc: serde_json::Value = serde_json::from_str(&answer.text()).unwrap();
    assert!(doc["n"].is_i64());
}

#[tokio::test]
async fn an_output_filter_ends_with_content_filter_and_a_filtered_category() {
    let emu = emulator().await;
    let req = ChatCompletionRequest::new(vec![ChatMessage::user("say trigger-output-filter now")]);
    let answer = client(&emu).chat().create(req).await.unwrap();
    assert_eq!(
        answer.choices[0].finish_reason.as_deref(),
        Some("content_filter")
    );
    assert!(
        answer.choices[0]
            .content_filter_results
            .as_ref()
            .unwrap()
            .is_filtered()
    );
}

#[tokio::test]
async fn raw_json_reaches_untyped_endpoints() {
    let emu = emulator().await;
    let models = client(&emu).get_json("models").await.unwrap();
    assert!(
        models["data"].as_array().is_some_and(|d| !d.is_empty()),
        "{models}"
    );
    let raw = client(&emu)
        .post_json(
            "deployments/gpt-4o/chat/completions",
            &json!({"messages":[{"role":"user","content":"x"}]}),
        )
        .await
        .unwrap();
    assert_eq!(raw["choices"][0]["message"]["content"], "Echo: x");
}
