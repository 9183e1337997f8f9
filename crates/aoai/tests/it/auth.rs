//! Every auth mode, the 401-refresh path, and credentials kept off other origins.

use std::sync::Arc;

use aoai::{AuthMode, AzureOpenAI};
use aoai_emulator::Fault;
use aoai_identity::{
    ClientSecretCredential, ClientSecretCredentialOptions, DefaultAzureCredential,
};
use serde_json::json;

use crate::support::{
    CHAT_PATH, CLIENT_ID, CLIENT_SECRET, TENANT, builder, emulator, good_token, hello, requests_to,
    sp_env, token_requests,
};

#[tokio::test]
async fn a_static_token_is_sent_as_bearer() {
    let emu = emulator().await;
    let token = good_token(&emu).await;
    let c = AzureOpenAI::builder()
        .endpoint(emu.url())
        .ad_token(token)
        .deployment("gpt-4o")
        .build()
        .unwrap();
    assert_eq!(c.auth_mode(), AuthMode::StaticToken);
    assert_eq!(
        c.chat().create(hello()).await.unwrap().text(),
        "Echo: hello world"
    );
    let sent = &requests_to(&emu, CHAT_PATH)[0];
    assert!(
        sent.headers["authorization"]
            .as_str()
            .unwrap()
            .starts_with("Bearer ")
    );
    assert!(!sent.headers.contains_key("api-key"));
}

#[tokio::test]
async fn from_env_without_a_key_uses_default_azure_credential_once_for_many_calls() {
    let emu = emulator().await;
    let c = AzureOpenAI::builder().env(sp_env(&emu)).build().unwrap();
    assert_eq!(c.auth_mode(), AuthMode::TokenCredential);
    let calls = (0..20).map(|_| {
        let c = c.clone();
        async move { c.chat().create(hello()).await }
    });
    for r in futures::future::join_all(calls).await {
        assert_eq!(r.unwrap().text(), "Echo: hello world");
    }
    assert_eq!(token_requests(&emu), 1, "one token for all calls");
    let form = &emu
        .journal()
        .into_iter()
        .find(|e| e.path.ends_with("/oauth2/v2.0/token"))
        .unwrap()
        .body;
    assert_eq!(
        form["scope"],
        "https://cognitiveservices.azure.com/.default"
    );
}

#[tokio::test]
async fn any_token_credential_works_and_a_401_refreshes_the_token_once() {
    let emu = emulator().await;
    let options = ClientSecretCredentialOptions {
        authority_host: Some(emu.url().to_string()),
        ..Default::default()
    };
    let credential =
        ClientSecretCredential::new(TENANT, CLIENT_ID, CLIENT_SECRET, options).unwrap();
    let c = AzureOpenAI::builder()
        .endpoint(emu.url())
        .credential(Arc::new(credential))
        .deployment("gpt-4o")
        .build()
        .unwrap();
    c.chat().create(hello()).await.unwrap();
    assert_eq!(token_requests(&emu), 1);

    // The service now refuses the cached token once (as after a revocation).
    emu.push_fault(Fault::reply(CHAT_PATH, 401).body(json!({"statusCode":401,"message":"Unauthorized. Access token is missing, invalid, audience is incorrect (https://cognitiveservices.azure.com), or have expired."})));
    let answer = c.chat().create(hello()).await.unwrap();
    assert_eq!(answer.text(), "Echo: hello world");
    assert_eq!(token_requests(&emu), 2, "a fresh token after the 401");
    assert_eq!(requests_to(&emu, CHAT_PATH).len(), 3);

    // A second 401 in a row is the answer: no loop.
    emu.push_fault(
        Fault::reply(CHAT_PATH, 401)
            .body(json!({"statusCode":401,"message":"Unauthorized."}))
            .times(2),
    );
    let err = c.chat().create(hello()).await.unwrap_err();
    assert_eq!(err.kind(), aoai::ErrorKind::Authentication);
    assert_eq!(requests_to(&emu, CHAT_PATH).len(), 5);
}

#[tokio::test]
async fn the_seed_s_second_program_works_with_default_azure_credential() {
    let emu = emulator().await;
    let dac = DefaultAzureCredential::with_env(sp_env(&emu)).unwrap();
    let c = AzureOpenAI::builder()
        .endpoint(emu.url())
        .credential(Arc::new(dac))
        .deployment("gpt-4o")
        .build()
        .unwrap();
    assert_eq!(
        c.chat().create(hello()).await.unwrap().text(),
        "Echo: hello world"
    );
}

#[tokio::test]
async fn a_redirect_to_another_origin_drops_credentials_and_a_same_origin_one_keeps_them() {
    let emu = emulator().await;
    let other = emulator().await;
    let target = format!("{}{CHAT_PATH}?api-version=2024-10-21", other.url());
    emu.push_fault(Fault::reply(CHAT_PATH, 307).header("location", target));
    let _ = builder(&emu).build().unwrap().chat().create(hello()).await;
    let arrived = requests_to(&other, CHAT_PATH);
    assert_eq!(arrived.len(), 1, "the redirect was followed");
    assert!(!arrived[0].headers.contains_key("api-key"));
    assert!(!arrived[0].headers.contains_key("authorization"));
    assert_eq!(
        arrived[0].body["messages"][0]["content"], "hello world",
        "307 keeps the body"
    );

    // 127.0.0.1 -> localhost is another origin too; the same origin keeps the key.
    emu.clear_journal();
    let same = format!(
        "{}/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21",
        emu.url()
    );
    emu.push_fault(Fault::reply("/moved", 308).header("location", same));
    let answer = builder(&emu)
        .build()
        .unwrap()
        .post_json(
            "../moved",
            &json!({"messages":[{"role":"user","content":"x"}]}),
        )
        .await;
    assert_eq!(
        answer.unwrap()["choices"][0]["message"]["content"],
        "Echo: x"
    );
    assert!(
        requests_to(&emu, CHAT_PATH)[0]
            .headers
            .contains_key("api-key")
    );
}

#[tokio::test]
async fn the_chain_the_builder_created_is_inspectable_and_a_custom_scope_is_requested() {
    let emu = emulator().await;
    let c = AzureOpenAI::builder()
        .env(sp_env(&emu))
        .scope("https://ai.azure.com/.default")
        .build()
        .unwrap();
    c.chat().create(hello()).await.unwrap();
    let chain = c.default_credential().expect("the builder's chain");
    assert_eq!(
        chain.resolution().unwrap().credential,
        "EnvironmentCredential"
    );
    let token_request = emu
        .journal()
        .into_iter()
        .find(|e| e.path.ends_with("/oauth2/v2.0/token"))
        .unwrap();
    assert_eq!(token_request.body["scope"], "https://ai.azure.com/.default");

    let bad = AzureOpenAI::builder()
        .env(sp_env(&emu).with("AZURE_CLIENT_SECRET", "wrong"))
        .build()
        .unwrap();
    let err = bad.chat().create(hello()).await.unwrap_err();
    assert!(
        err.identity().is_some_and(|ie| ie.code().is_some()),
        "{err:?}"
    );
    let key_err = builder(&emu)
        .api_key("0123456789abcdef")
        .max_retries(0)
        .build()
        .unwrap()
        .chat()
        .create(hello())
        .await
        .unwrap_err();
    assert!(key_err.identity().is_none(), "{key_err:?}");
}

#[tokio::test]
async fn only_the_attempt_after_a_401_bypasses_the_token_cache() {
    let emu = emulator().await;
    let c = AzureOpenAI::builder()
        .env(sp_env(&emu))
        .retry_policy(crate::support::quick_retries(2))
        .build()
        .unwrap();
    c.chat().create(hello()).await.unwrap();
    emu.push_fault(
        Fault::reply(CHAT_PATH, 401).body(json!({"statusCode":401,"message":"Unauthorized."})),
    );
    emu.push_fault(
        Fault::reply(CHAT_PATH, 503)
            .body(json!({"error":{"message":"busy","type":"server_error"}})),
    );
    c.chat().create(hello()).await.unwrap();
    assert_eq!(requests_to(&emu, CHAT_PATH).len(), 4);
    assert_eq!(
        token_requests(&emu),
        2,
        "the retry after the 503 reuses the fresh token"
    );
}
