//! Authentication failures A1, A2, A5 exactly as the service answers them (spec §2.2).

use serde_json::json;

use crate::support::*;

const A1: &str = "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.";
const A2: &str = "Unauthorized. Access token is missing, invalid, audience is incorrect (https://cognitiveservices.azure.com), or have expired.";

#[tokio::test]
async fn wrong_key_is_a1() {
    let emu = start().await;
    let res = client()
        .post(chat_url(&emu, "gpt-4o"))
        .header("api-key", "not-the-key")
        .json(&hello())
        .send()
        .await
        .unwrap();
    let (status, h, body) = parts(res).await;
    assert_eq!(status, 401);
    assert_eq!(body, json!({"error": {"code": "401", "message": A1}}));
    assert_common_headers(&h, false);
    assert_eq!(header(&h, "content-type"), Some("application/json"));
}

#[tokio::test]
async fn missing_credential_is_a1() {
    let emu = start().await;
    let res = client()
        .post(chat_url(&emu, "gpt-4o"))
        .json(&hello())
        .send()
        .await
        .unwrap();
    let (status, _, body) = parts(res).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "401");
}

#[tokio::test]
async fn key_as_bearer_on_classic_route_is_a2() {
    let emu = start().await;
    let res = client()
        .post(chat_url(&emu, "gpt-4o"))
        .bearer_auth(KEY)
        .json(&hello())
        .send()
        .await
        .unwrap();
    let (status, h, body) = parts(res).await;
    assert_eq!(status, 401);
    assert_eq!(body, json!({"statusCode": 401, "message": A2}));
    assert_common_headers(&h, false);
}

#[tokio::test]
async fn non_bearer_authorization_is_a2() {
    let emu = start().await;
    let res = client()
        .post(chat_url(&emu, "gpt-4o"))
        .header("authorization", "Basic Zm9vOmJhcg==")
        .json(&hello())
        .send()
        .await
        .unwrap();
    let (status, _, body) = parts(res).await;
    assert_eq!(status, 401);
    assert_eq!(body["statusCode"], 401);
}

#[tokio::test]
async fn key_as_bearer_works_on_v1_and_a_wrong_one_is_a1() {
    let emu = start().await;
    let url = format!("{}/openai/v1/chat/completions", emu.url());
    let body = json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]});
    let res = client()
        .post(&url)
        .bearer_auth(KEY)
        .json(&body)
        .send()
        .await
        .unwrap();
    let (status, _, answer) = parts(res).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["choices"][0]["message"]["content"], "Echo: hi");
    let res = client()
        .post(&url)
        .bearer_auth("wrong")
        .json(&body)
        .send()
        .await
        .unwrap();
    let (status, _, answer) = parts(res).await;
    assert_eq!(status, 401);
    assert_eq!(answer["error"]["message"], A1);
}

#[tokio::test]
async fn disabled_key_auth_is_a5_after_the_key_check() {
    let emu = start_toml("disable_key_auth = true").await;
    let res = post_key(&chat_url(&emu, "gpt-4o"), &hello()).await;
    let status = res.status().as_u16();
    let h = res.headers().clone();
    let raw = res.text().await.unwrap();
    assert_eq!(status, 403);
    assert_eq!(
        raw,
        r#"{"error":{"code":"AuthenticationTypeDisabled","message": "Key based authentication is disabled for this resource."}}"#
    );
    assert_common_headers(&h, false);
    // A wrong key is still A1 (credential first, spec §7.2).
    let res = client()
        .post(chat_url(&emu, "gpt-4o"))
        .header("api-key", "nope")
        .json(&hello())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);
    // v1 with the key as bearer: also A5.
    let res = client()
        .post(format!("{}/openai/v1/embeddings", emu.url()))
        .bearer_auth(KEY)
        .json(&json!({"model": "text-embedding-3-small", "input": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403);
}

#[tokio::test]
async fn configured_keys_replace_the_default() {
    let emu = start_toml(r#"api_keys = ["k1", "k2"]"#).await;
    for (key, want) in [("k1", 200), ("k2", 200), (KEY, 401)] {
        let res = client()
            .post(chat_url(&emu, "gpt-4o"))
            .header("api-key", key)
            .json(&hello())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), want, "key {key}");
    }
}
