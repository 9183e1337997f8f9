//! The request journal: shape, masking, clearing, and what is not recorded.

use aoai_emulator::JournalEntry;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn records_requests_with_secrets_masked() {
    let emu = start().await;
    post_key(&chat_url(&emu, "gpt-4o"), &hello()).await;
    client()
        .post(format!("{}/openai/v1/chat/completions", emu.url()))
        .bearer_auth("eyJhbGciOi-not-a-jwt")
        .header("x-identity-header", "idh")
        .header("cookie", "a=b")
        .json(&json!({"model": "gpt-4o", "messages": []}))
        .send()
        .await
        .unwrap();
    client()
        .post(format!("{}/tenant-x/oauth2/v2.0/token", emu.url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_secret", "s3cret"),
            ("client_assertion", "jwt"),
        ])
        .send()
        .await
        .unwrap();
    // The control API is not journaled.
    let res = client()
        .get(format!("{}/_emulator/requests", emu.url()))
        .send()
        .await
        .unwrap();
    let via_http: Vec<JournalEntry> = res.json().await.unwrap();
    assert_eq!(via_http, emu.journal());
    assert_eq!(via_http.len(), 3);

    let first = &via_http[0];
    assert_eq!(first.method, "POST");
    assert_eq!(first.path, "/openai/deployments/gpt-4o/chat/completions");
    assert_eq!(first.query["api-version"], API_VERSION);
    assert_eq!(first.headers["api-key"], "***");
    assert_eq!(first.headers["content-type"], "application/json");
    assert_eq!(first.body, hello());

    let second = &via_http[1];
    assert_eq!(second.headers["authorization"], "Bearer ***");
    assert_eq!(second.headers["x-identity-header"], "***");
    assert_eq!(second.headers["cookie"], "***");
    assert_eq!(second.query, serde_json::Map::new());

    let third = &via_http[2];
    assert_eq!(
        third.body,
        json!({"grant_type": "client_credentials", "client_secret": "***", "client_assertion": "***"})
    );
    let text = serde_json::to_string(&via_http).unwrap();
    for secret in [KEY, "eyJhbGciOi", "idh", "s3cret"] {
        assert!(!text.contains(secret), "{secret} leaked into the journal");
    }

    let res = client()
        .delete(format!("{}/_emulator/requests", emu.url()))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    assert!(emu.journal().is_empty());
    post_key(&chat_url(&emu, "gpt-4o"), &hello()).await;
    assert_eq!(emu.journal().len(), 1);
    emu.clear_journal();
    assert!(emu.journal().is_empty());
}

#[tokio::test]
async fn faulted_requests_are_recorded_too() {
    let emu = start().await;
    emu.push_fault(aoai_emulator::Fault::reset("*"));
    let sent = client()
        .post(chat_url(&emu, "gpt-4o"))
        .header("api-key", KEY)
        .json(&hello())
        .send()
        .await;
    assert!(sent.is_err());
    assert_eq!(emu.journal().len(), 1);
}

#[tokio::test]
async fn journal_can_be_disabled() {
    let emu = start_toml("journal = false").await;
    post_key(&chat_url(&emu, "gpt-4o"), &hello()).await;
    assert!(emu.journal().is_empty());
}
