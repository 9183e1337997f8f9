//! Retries: which answers are retried, how many times, and after what delay (read back from the
//! emulator's journal and the clock).

use std::time::{Duration, Instant};

use aoai::ErrorKind;
use aoai_emulator::Fault;
use futures::StreamExt;
use serde_json::json;

use crate::support::{CHAT_PATH, builder, emulator, hello, quick_retries, requests_to};

/// One chat completion with the default test client (quick retries).
async fn chat(
    emu: &aoai_emulator::EmulatorHandle,
) -> Result<aoai::types::ChatCompletion, aoai::Error> {
    builder(emu).build().unwrap().chat().create(hello()).await
}

fn server_error() -> serde_json::Value {
    json!({"error":{"message":"The server had an error","type":"server_error","param":null,"code":null}})
}

#[tokio::test]
async fn transient_failures_are_retried_until_success() {
    let emu = emulator().await;
    emu.push_fault(Fault::reply(CHAT_PATH, 503).body(server_error()));
    emu.push_fault(Fault::reset(CHAT_PATH));
    let answer = chat(&emu).await.unwrap();
    assert_eq!(answer.text(), "Echo: hello world");
    assert_eq!(requests_to(&emu, CHAT_PATH).len(), 3);
}

#[tokio::test]
async fn retries_stop_at_the_limit_and_return_the_last_error() {
    let emu = emulator().await;
    emu.push_fault(Fault::reply(CHAT_PATH, 500).body(server_error()).times(10));
    let c = builder(&emu)
        .retry_policy(quick_retries(3))
        .build()
        .unwrap();
    let err = c.chat().create(hello()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(requests_to(&emu, CHAT_PATH).len(), 4);
}

#[tokio::test]
async fn each_retryable_status_is_retried_and_others_are_not() {
    for (status, retried) in [
        (408, true),
        (409, true),
        (429, true),
        (502, true),
        (400, false),
        (401, false),
        (403, false),
        (404, false),
        (422, false),
    ] {
        let emu = emulator().await;
        emu.push_fault(
            Fault::reply(CHAT_PATH, status).body(json!({"error":{"code":"x","message":"m"}})),
        );
        let result = chat(&emu).await;
        assert_eq!(result.is_ok(), retried, "status {status}");
        assert_eq!(
            requests_to(&emu, CHAT_PATH).len(),
            if retried { 2 } else { 1 },
            "status {status}"
        );
    }
}

#[tokio::test]
async fn server_delays_are_honoured() {
    for (header, value, at_least) in [
        ("retry-after-ms", "300", 300),
        ("x-ms-retry-after-ms", "250", 250),
        ("retry-after", "1", 1000),
    ] {
        let emu = emulator().await;
        emu.push_fault(
            Fault::reply(CHAT_PATH, 429)
                .header(header, value)
                .body(json!({"error":{"code":"429","message":"Rate limit is exceeded."}})),
        );
        let started = Instant::now();
        chat(&emu).await.unwrap();
        assert!(
            started.elapsed() >= Duration::from_millis(at_least),
            "{header}: {value}"
        );
        assert_eq!(requests_to(&emu, CHAT_PATH).len(), 2);
    }
}

#[tokio::test]
async fn x_should_retry_and_the_delay_cap_decide_first() {
    let emu = emulator().await;
    emu.push_fault(
        Fault::reply(CHAT_PATH, 503)
            .header("x-should-retry", "false")
            .body(server_error()),
    );
    assert!(chat(&emu).await.is_err());
    assert_eq!(requests_to(&emu, CHAT_PATH).len(), 1);

    emu.clear_journal();
    emu.push_fault(
        Fault::reply(CHAT_PATH, 400)
            .header("x-should-retry", "true")
            .body(json!({"error":{"code":"x","message":"m"}})),
    );
    assert!(chat(&emu).await.is_ok());
    assert_eq!(requests_to(&emu, CHAT_PATH).len(), 2);

    emu.clear_journal();
    emu.push_fault(
        Fault::reply(CHAT_PATH, 429)
            .header("retry-after", "86400")
            .body(json!({"error":{"code":"429","message":"Please retry after 86400 seconds."}})),
    );
    let err = chat(&emu).await.unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_secs(86400)));
    assert_eq!(requests_to(&emu, CHAT_PATH).len(), 1);
}

#[tokio::test]
async fn a_timed_out_attempt_is_retried() {
    let emu = emulator().await;
    emu.push_fault(Fault::stall(CHAT_PATH));
    let timeouts = aoai::Timeouts {
        attempt: Duration::from_millis(200),
        ..Default::default()
    };
    let answer = builder(&emu)
        .timeouts(timeouts)
        .build()
        .unwrap()
        .chat()
        .create(hello())
        .await
        .unwrap();
    assert_eq!(answer.text(), "Echo: hello world");
    assert_eq!(requests_to(&emu, CHAT_PATH).len(), 2);
}

#[tokio::test]
async fn the_total_deadline_bounds_all_attempts() {
    let emu = emulator().await;
    emu.push_fault(
        Fault::reply(CHAT_PATH, 429)
            .header("retry-after", "2")
            .body(json!({"error":{"code":"429","message":"m"}}))
            .times(5),
    );
    let timeouts = aoai::Timeouts {
        total: Duration::from_millis(500),
        ..Default::default()
    };
    let started = Instant::now();
    let err = builder(&emu)
        .timeouts(timeouts)
        .build()
        .unwrap()
        .chat()
        .create(hello())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimit);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "no wait beyond the deadline"
    );
}

#[tokio::test]
async fn a_stream_is_never_retried_once_events_reached_the_caller() {
    let emu = emulator().await;
    emu.push_fault(Fault::reset_mid_body(CHAT_PATH));
    let mut stream = builder(&emu)
        .build()
        .unwrap()
        .chat()
        .create_stream(hello())
        .await
        .unwrap();
    let mut errors = 0;
    while let Some(item) = stream.next().await {
        errors += usize::from(item.is_err());
    }
    assert_eq!(errors, 1);
    assert_eq!(requests_to(&emu, CHAT_PATH).len(), 1);
}

#[tokio::test]
async fn a_failure_before_the_stream_starts_is_retried() {
    let emu = emulator().await;
    emu.push_fault(Fault::reply(CHAT_PATH, 500).body(server_error()));
    let mut stream = builder(&emu)
        .build()
        .unwrap()
        .chat()
        .create_stream(hello())
        .await
        .unwrap();
    let mut text = String::new();
    while let Some(item) = stream.next().await {
        text.push_str(item.unwrap().delta_text().unwrap_or_default());
    }
    assert_eq!(text, "Echo: hello world");
    assert_eq!(requests_to(&emu, CHAT_PATH).len(), 2);
}
