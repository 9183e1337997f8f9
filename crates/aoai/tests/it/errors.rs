//! Every error kind, produced by a real answer (or a real failure) of the emulator.

use std::time::Duration;

use aoai::types::{ChatCompletionRequest, ChatMessage};
use aoai::{AzureOpenAI, ErrorKind, RetryPolicy, Timeouts};
use aoai_emulator::Fault;
use futures::StreamExt;
use serde_json::json;

use crate::support::{
    CHAT_PATH, builder, closed_port, emulator, emulator_with, hello, mint, remove_roles,
};

fn no_retries(b: aoai::AzureOpenAIBuilder) -> AzureOpenAI {
    b.retry_policy(RetryPolicy::none()).build().unwrap()
}

/// A client of `emu` sending the static token `token`, without retries.
fn token_client(emu: &aoai_emulator::EmulatorHandle, token: String) -> AzureOpenAI {
    no_retries(
        AzureOpenAI::builder()
            .endpoint(emu.url())
            .ad_token(token)
            .deployment("gpt-4o"),
    )
}

/// The error of one chat completion without retries.
async fn chat_error(b: aoai::AzureOpenAIBuilder, request: ChatCompletionRequest) -> aoai::Error {
    no_retries(b).chat().create(request).await.unwrap_err()
}

fn assert_kind(err: &aoai::Error, kind: ErrorKind, fix_word: &str) {
    assert_eq!(err.kind(), kind, "{err:?}");
    let fix = err.quick_fix().unwrap_or_default();
    assert!(fix.contains(fix_word), "fix of {err:?} lacks {fix_word:?}");
}

#[tokio::test]
async fn a_wrong_key_is_an_authentication_error_with_azure_s_code() {
    let emu = emulator().await;
    let c = no_retries(builder(&emu).api_key("0123456789abcdef"));
    let err = c.chat().create(hello()).await.unwrap_err();
    assert_kind(&err, ErrorKind::Authentication, "AZURE_OPENAI_API_KEY");
    assert_eq!(err.status(), Some(401));
    assert_eq!(err.code(), Some("401"));
    assert!(err.service_message().unwrap().starts_with("Access denied"));
    assert_eq!(err.request_id().map(str::len), Some(36));
}

#[tokio::test]
async fn bad_tokens_are_authentication_errors() {
    let emu = emulator().await;
    for token in [
        "not-a-jwt".to_string(),
        mint(&emu, json!({"expires_in": -120})).await,
        mint(&emu, json!({"audience": "https://management.azure.com"})).await,
    ] {
        let c = token_client(&emu, token);
        let err = c.chat().create(hello()).await.unwrap_err();
        assert_kind(
            &err,
            ErrorKind::Authentication,
            "https://cognitiveservices.azure.com/.default",
        );
        assert_eq!(err.code(), None);
    }
}

#[tokio::test]
async fn a_token_of_another_tenant_names_az_login_tenant() {
    let emu = emulator_with(|c| {
        c.entra
            .extra_tenants
            .push("00000000-0000-0000-0000-0000000000ff".into())
    })
    .await;
    let token = mint(
        &emu,
        json!({"tenant_id": "00000000-0000-0000-0000-0000000000ff"}),
    )
    .await;
    let c = token_client(&emu, token);
    let err = c.chat().create(hello()).await.unwrap_err();
    assert_kind(&err, ErrorKind::Authentication, "az login --tenant");
    assert_eq!(err.status(), Some(400));
}

#[tokio::test]
async fn a_principal_without_role_is_a_permission_error_naming_the_role() {
    let emu = emulator_with(|c| remove_roles(c, "emulator-client")).await;
    let token = mint(&emu, json!({"client_id": "emulator-client", "roles": []})).await;
    let c = token_client(&emu, token);
    let err = c.chat().create(hello()).await.unwrap_err();
    assert_kind(
        &err,
        ErrorKind::Permission,
        "az role assignment create --role \"Cognitive Services OpenAI User\"",
    );
    assert_eq!(err.code(), Some("PermissionDenied"));
}

#[tokio::test]
async fn disabled_key_auth_is_a_permission_error_pointing_to_entra() {
    let emu = emulator_with(|c| c.disable_key_auth = true).await;
    let err = chat_error(builder(&emu), hello()).await;
    assert_kind(&err, ErrorKind::Permission, "Entra");
    assert_eq!(err.status(), Some(403));
}

#[tokio::test]
async fn a_wrong_deployment_is_not_found_naming_it() {
    let emu = emulator().await;
    let err = chat_error(builder(&emu).deployment("gpt-4o-2024-08-06"), hello()).await;
    assert_kind(&err, ErrorKind::NotFound, "\"gpt-4o-2024-08-06\"");
    assert!(
        err.quick_fix()
            .unwrap()
            .contains("these deployments exist: gpt-4o, text-embedding-3-small"),
        "{err:?}"
    );
    assert_eq!(err.code(), Some("DeploymentNotFound"));
}

#[tokio::test]
async fn api_version_problems_are_config_errors_or_not_found() {
    let emu = emulator().await;
    let err = chat_error(builder(&emu).api_version("2019-01-01"), hello()).await;
    assert_kind(&err, ErrorKind::Config, "OPENAI_API_VERSION=2024-10-21");
    let err = chat_error(builder(&emu).api_version("2022-12-01"), hello()).await;
    assert_kind(&err, ErrorKind::NotFound, "OPENAI_API_VERSION");
}

#[tokio::test]
async fn a_blocked_prompt_is_a_content_filter_error() {
    let emu = emulator().await;
    let req = ChatCompletionRequest::new(vec![ChatMessage::user("please trigger-content-filter")]);
    let err = chat_error(builder(&emu), req).await;
    assert_kind(&err, ErrorKind::ContentFilter, "rephrase");
    assert_eq!(err.code(), Some("content_filter"));
}

#[tokio::test]
async fn a_bad_request_keeps_the_service_message() {
    let emu = emulator().await;
    emu.push_fault(Fault::reply(CHAT_PATH, 400).body(json!({"error":{"message":"Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.","type":"invalid_request_error","param":"max_tokens","code":"unsupported_parameter"}})));
    let err = chat_error(builder(&emu), hello()).await;
    assert_kind(&err, ErrorKind::BadRequest, "max_completion_tokens");
    assert!(err.to_string().contains("Unsupported parameter"));
}

#[tokio::test]
async fn a_rate_limit_carries_the_retry_delay() {
    let emu = emulator_with(|c| c.rate_limited = true).await;
    let err = chat_error(builder(&emu), hello()).await;
    assert_kind(&err, ErrorKind::RateLimit, "retry after");
    assert_eq!(err.retry_after(), Some(Duration::from_secs(1)));
    assert!(err.is_retryable());
}

#[tokio::test]
async fn a_server_failure_is_a_server_error() {
    let emu = emulator().await;
    emu.push_fault(Fault::reply(CHAT_PATH, 500).body(json!({"error":{"message":"The server had an error","type":"server_error","param":null,"code":null}})));
    let err = chat_error(builder(&emu), hello()).await;
    assert_kind(&err, ErrorKind::Server, "request id");
}

#[tokio::test]
async fn a_closed_port_is_a_network_error() {
    let url = format!("http://127.0.0.1:{}", closed_port());
    let c = no_retries(
        AzureOpenAI::builder()
            .endpoint(url)
            .api_key("k")
            .deployment("d"),
    );
    let err = c.chat().create(hello()).await.unwrap_err();
    assert_kind(&err, ErrorKind::Network, "aoai doctor");
}

#[tokio::test]
async fn a_stalled_answer_is_a_timeout() {
    let emu = emulator().await;
    emu.push_fault(Fault::stall(CHAT_PATH));
    let timeouts = Timeouts {
        attempt: Duration::from_millis(300),
        ..Default::default()
    };
    let err = chat_error(builder(&emu).timeouts(timeouts), hello()).await;
    assert_kind(&err, ErrorKind::Timeout, "timeout");
}

#[tokio::test]
async fn a_stream_cut_before_done_is_a_stream_error() {
    let emu = emulator().await;
    emu.push_fault(Fault::cut_stream(CHAT_PATH));
    let mut stream = no_retries(builder(&emu))
        .chat()
        .create_stream(hello())
        .await
        .unwrap();
    let mut items = Vec::new();
    while let Some(item) = stream.next().await {
        items.push(item);
    }
    let (last, before) = items.split_last().unwrap();
    assert!(before.iter().all(Result::is_ok));
    assert!(before.len() > 2, "the chunks before the cut arrive");
    let err = last.as_ref().unwrap_err();
    assert_kind(err, ErrorKind::Stream, "retry");
    assert!(err.to_string().contains("[DONE]"));
}

#[tokio::test]
async fn a_silent_stream_hits_the_idle_timeout() {
    let emu = emulator_with(|c| c.stream_chunk_delay_ms = 400).await;
    let timeouts = Timeouts {
        stream_idle: Duration::from_millis(100),
        ..Default::default()
    };
    let mut stream = no_retries(builder(&emu).timeouts(timeouts))
        .chat()
        .create_stream(hello())
        .await
        .unwrap();
    let mut last = None;
    while let Some(item) = stream.next().await {
        last = Some(item);
    }
    assert_eq!(last.unwrap().unwrap_err().kind(), ErrorKind::Timeout);
}

#[tokio::test]
async fn an_error_event_inside_a_stream_is_surfaced() {
    let emu = emulator().await;
    let body = "data: {\"error\":{\"message\":\"That model is currently overloaded\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n";
    emu.push_fault(
        Fault::reply(CHAT_PATH, 200)
            .header("content-type", "text/event-stream")
            .body(body),
    );
    let mut stream = no_retries(builder(&emu))
        .chat()
        .create_stream(hello())
        .await
        .unwrap();
    let err = stream.next().await.unwrap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Stream);
    assert!(err.to_string().contains("overloaded"));
    assert!(stream.next().await.is_none());
}

#[tokio::test]
async fn without_a_deployment_listing_the_fix_names_the_az_command() {
    let emu = emulator().await;
    emu.push_fault(
        Fault::reply("/openai/deployments", 404)
            .body(json!({"error":{"code":"404","message":"Resource not found"}})),
    );
    let err = chat_error(builder(&emu).deployment("nope"), hello()).await;
    assert_kind(
        &err,
        ErrorKind::NotFound,
        "az cognitiveservices account deployment list",
    );
    let listing = aoai::AzureOpenAI::deployments(&builder(&emu).build().unwrap())
        .await
        .unwrap();
    assert_eq!(listing, ["gpt-4o", "text-embedding-3-small"]);
}
