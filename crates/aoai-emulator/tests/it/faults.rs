//! Scripted faults, through the JSON API and the Rust API, one test per kind.

use std::time::{Duration, Instant};

use aoai_emulator::Fault;
use serde_json::json;

use crate::support::*;

const CHAT_PATH: &str = "/openai/deployments/gpt-4o/chat/completions";

async fn push_json(emu: &aoai_emulator::EmulatorHandle, body: serde_json::Value) -> u16 {
    client()
        .post(format!("{}/_emulator/faults", emu.url()))
        .json(&body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn reply_fault_via_json_then_real_answer() {
    let emu = start().await;
    let status = push_json(
        &emu,
        json!({"path": CHAT_PATH, "method": "POST", "status": 503,
               "headers": {"retry-after-ms": "10", "x-should-retry": "true"},
               "body": {"error": {"code": "ServiceUnavailable", "message": "down"}}}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, h, body) = parts(post_key(&chat_url(&emu, "gpt-4o"), &hello()).await).await;
    assert_eq!(status, 503);
    assert_eq!(header(&h, "retry-after-ms"), Some("10"));
    assert_eq!(header(&h, "x-should-retry"), Some("true"));
    assert_eq!(body["error"]["code"], "ServiceUnavailable");
    let res = post_key(&chat_url(&emu, "gpt-4o"), &hello()).await;
    assert_eq!(
        res.status().as_u16(),
        200,
        "fault used up after one request"
    );
}

#[tokio::test]
async fn array_times_wildcard_and_clear() {
    let emu = start().await;
    push_json(
        &emu,
        json!([{"path": "*", "status": 500, "times": 2, "body": "plain text"}]),
    )
    .await;
    for _ in 0..2 {
        let res = post_key(
            &embeddings_url(&emu, "text-embedding-3-small"),
            &json!({"input": "x"}),
        )
        .await;
        assert_eq!(res.status().as_u16(), 500);
        assert_eq!(res.text().await.unwrap(), "plain text");
    }
    assert_eq!(
        post_key(&chat_url(&emu, "gpt-4o"), &hello())
            .await
            .status()
            .as_u16(),
        200
    );
    push_json(&emu, json!({"path": "*", "status": 500})).await;
    let res = client()
        .delete(format!("{}/_emulator/faults", emu.url()))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    assert_eq!(
        post_key(&chat_url(&emu, "gpt-4o"), &hello())
            .await
            .status()
            .as_u16(),
        200
    );
    // method filter: a GET fault does not catch a POST
    emu.push_fault(Fault::reply(CHAT_PATH, 418).method("GET"));
    assert_eq!(
        post_key(&chat_url(&emu, "gpt-4o"), &hello())
            .await
            .status()
            .as_u16(),
        200
    );
}

#[tokio::test]
async fn invalid_fault_json_is_400() {
    let emu = start().await;
    assert_eq!(
        push_json(&emu, json!({"path": "/x", "kind": "explode"})).await,
        400
    );
    assert_eq!(push_json(&emu, json!({"kind": "reply"})).await, 400);
}

#[tokio::test]
async fn reply_delay_is_honoured() {
    let emu = start().await;
    emu.push_fault(
        Fault::reply(CHAT_PATH, 500)
            .delay_ms(150)
            .body(json!({"error": {}})),
    );
    let t = Instant::now();
    let res = post_key(&chat_url(&emu, "gpt-4o"), &hello()).await;
    assert_eq!(res.status().as_u16(), 500);
    assert!(t.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn reset_closes_without_a_response() {
    let emu = start().await;
    emu.push_fault(Fault::reset(CHAT_PATH));
    let err = client()
        .post(chat_url(&emu, "gpt-4o"))
        .header("api-key", KEY)
        .json(&hello())
        .send()
        .await
        .expect_err("connection reset");
    assert!(err.is_request() || err.is_connect(), "{err:?}");
    assert_eq!(
        post_key(&chat_url(&emu, "gpt-4o"), &hello())
            .await
            .status()
            .as_u16(),
        200
    );
}

#[tokio::test]
async fn reset_mid_body_sends_headers_then_drops() {
    let emu = start().await;
    emu.push_fault(Fault::reset_mid_body(CHAT_PATH));
    let res = post_key(&chat_url(&emu, "gpt-4o"), &hello()).await;
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.headers().get("apim-request-id").is_some());
    let err = res.bytes().await.expect_err("body is cut");
    assert!(
        err.is_body() || err.is_decode() || err.is_request(),
        "{err:?}"
    );
}

#[tokio::test]
async fn cut_stream_ends_cleanly_before_done() {
    let emu = start().await;
    emu.push_fault(Fault::cut_stream(CHAT_PATH));
    let body = json!({"messages": [{"role": "user", "content": "hi"}], "stream": true});
    let res = post_key(&chat_url(&emu, "gpt-4o"), &body).await;
    assert_eq!(res.status().as_u16(), 200);
    let text = res.text().await.expect("body ends cleanly");
    assert!(text.contains("\"finish_reason\":\"stop\""), "{text}");
    assert!(!text.contains("[DONE]"), "{text}");
}

#[tokio::test]
async fn stall_never_answers() {
    let emu = start().await;
    emu.push_fault(Fault::stall(CHAT_PATH));
    let c = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let err = c
        .post(chat_url(&emu, "gpt-4o"))
        .header("api-key", KEY)
        .json(&hello())
        .send()
        .await
        .expect_err("stalled");
    assert!(err.is_timeout(), "{err:?}");
}

#[tokio::test]
async fn faults_apply_to_non_openai_paths() {
    let emu = start().await;
    emu.push_fault(
        Fault::reply("/metadata/identity/oauth2/token", 500).body(json!({"error": "x"})),
    );
    let res = client()
        .get(format!(
            "{}/metadata/identity/oauth2/token?api-version=2018-02-01",
            emu.url()
        ))
        .header("metadata", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 500);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap(),
        json!({"error": "x"})
    );
}
