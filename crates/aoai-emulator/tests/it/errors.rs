//! 404, 400 api-version, 429 and content-filter answers (spec §3).

use serde_json::json;

use crate::support::*;

const NOT_FOUND: &str = r#"{"error":{"code":"404","message": "Resource not found"}}"#;

async fn raw(res: reqwest::Response) -> (u16, reqwest::header::HeaderMap, String) {
    let s = res.status().as_u16();
    let h = res.headers().clone();
    (s, h, res.text().await.unwrap())
}

#[tokio::test]
async fn missing_api_version_is_resource_not_found() {
    let emu = start().await;
    let url = format!("{}/openai/deployments/gpt-4o/chat/completions", emu.url());
    let (status, h, body) = raw(post_key(&url, &hello()).await).await;
    assert_eq!(status, 404);
    assert_eq!(body, NOT_FOUND);
    assert_eq!(header(&h, "content-length"), Some("56"));
    assert_common_headers(&h, false);
}

#[tokio::test]
async fn api_version_without_the_operation_is_not_found() {
    let emu = start().await;
    for v in ["2022-12-01", "preview"] {
        let url = format!(
            "{}/openai/deployments/gpt-4o/chat/completions?api-version={v}",
            emu.url()
        );
        let (status, _, body) = raw(post_key(&url, &hello()).await).await;
        assert_eq!((status, body.as_str()), (404, NOT_FOUND), "api-version {v}");
    }
    // embeddings exist on 2022-12-01
    let url = format!(
        "{}/openai/deployments/text-embedding-3-small/embeddings?api-version=2022-12-01",
        emu.url()
    );
    assert_eq!(
        post_key(&url, &json!({"input": "x"}))
            .await
            .status()
            .as_u16(),
        200
    );
}

#[tokio::test]
async fn unknown_path_and_wrong_method_are_not_found() {
    let emu = start().await;
    let url = format!(
        "{}/openai/deployments/gpt-4o/nothing?api-version={API_VERSION}",
        emu.url()
    );
    let (status, _, body) = raw(post_key(&url, &hello()).await).await;
    assert_eq!((status, body.as_str()), (404, NOT_FOUND));
    let res = client()
        .get(chat_url(&emu, "gpt-4o"))
        .header("api-key", KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 404);
}

#[tokio::test]
async fn unknown_api_version_is_400() {
    let emu = start().await;
    for v in ["2099-01-01", "2023-12-01-preview"] {
        let url = format!(
            "{}/openai/deployments/gpt-4o/chat/completions?api-version={v}",
            emu.url()
        );
        let (status, h, body) = parts(post_key(&url, &hello()).await).await;
        assert_eq!(status, 400, "{v}");
        assert_eq!(
            body,
            json!({"error": {"code": "BadRequest", "message": "API version not supported"}})
        );
        assert_common_headers(&h, false);
    }
}

#[tokio::test]
async fn every_accepted_version_serves_chat() {
    let emu = start().await;
    for v in [
        "2023-05-15",
        "2024-02-01",
        "2024-06-01",
        "2024-10-21",
        "2024-02-15-preview",
        "2025-04-01-preview",
    ] {
        let url = format!(
            "{}/openai/deployments/gpt-4o/chat/completions?api-version={v}",
            emu.url()
        );
        assert_eq!(post_key(&url, &hello()).await.status().as_u16(), 200, "{v}");
    }
}

#[tokio::test]
async fn unknown_deployment_is_deployment_not_found_on_both_routes() {
    let emu = start().await;
    let want = json!({"error": {"code": "DeploymentNotFound", "message": "The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again."}});
    let (status, h, body) = parts(post_key(&chat_url(&emu, "nope"), &hello()).await).await;
    assert_eq!((status, &body), (404, &want));
    assert_common_headers(&h, false);
    let url = format!("{}/openai/v1/chat/completions", emu.url());
    let v1 = json!({"model": "nope", "messages": [{"role": "user", "content": "x"}]});
    let (status, _, body) = parts(post_key(&url, &v1).await).await;
    assert_eq!((status, &body), (404, &want));
}

#[tokio::test]
async fn chat_on_an_embeddings_deployment_is_operation_not_supported() {
    let emu = start().await;
    let (status, _, body) =
        parts(post_key(&chat_url(&emu, "text-embedding-3-small"), &hello()).await).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "OperationNotSupported");
}

#[tokio::test]
async fn invalid_bodies_are_openai_style_400s() {
    let emu = start().await;
    let (status, h, body) =
        parts(post_key(&chat_url(&emu, "gpt-4o"), &json!({"messages": []})).await).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert_eq!(body["error"]["param"], "messages");
    assert_common_headers(&h, true);
    let res = client()
        .post(chat_url(&emu, "gpt-4o"))
        .header("api-key", KEY)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
}

#[tokio::test]
async fn rpm_limit_gives_azure_429() {
    let emu = start_toml(
        r#"
        [[deployments]]
        name = "small"
        model = "gpt-4o-2024-08-06"
        kind = "chat"
        rpm = 2
        "#,
    )
    .await;
    let url = chat_url(&emu, "small");
    for remaining in ["1", "0"] {
        let res = post_key(&url, &hello()).await;
        assert_eq!(res.status().as_u16(), 200);
        assert_eq!(
            header(res.headers(), "x-ratelimit-remaining-requests"),
            Some(remaining)
        );
        assert_eq!(
            header(res.headers(), "x-ratelimit-limit-requests"),
            Some("2")
        );
    }
    let (status, h, body) = parts(post_key(&url, &hello()).await).await;
    assert_eq!(status, 429);
    let secs: u64 = header(&h, "retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&secs));
    assert_eq!(
        header(&h, "retry-after-ms"),
        Some((secs * 1000).to_string().as_str())
    );
    assert_eq!(body["error"]["code"], "429");
    assert_eq!(
        body["error"]["message"],
        format!(
            "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version {API_VERSION} have exceeded call rate limit of your current OpenAI S0 pricing tier. Please retry after {secs} seconds. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit."
        )
    );
    assert_eq!(header(&h, "x-ms-deployment-name"), Some("small"));
    assert_common_headers(&h, true);
}

#[tokio::test]
async fn tpm_limit_counts_max_tokens_at_arrival() {
    let emu = start_toml(
        r#"
        [[deployments]]
        name = "t"
        model = "gpt-4o-2024-08-06"
        kind = "chat"
        tpm = 100
        "#,
    )
    .await;
    let body = json!({"messages": [{"role": "user", "content": "abcd"}], "max_tokens": 200});
    let (status, _, answer) = parts(post_key(&chat_url(&emu, "t"), &body).await).await;
    assert_eq!(status, 429);
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("exceeded token rate limit")
    );
}

#[tokio::test]
async fn rate_limited_switch_makes_every_chat_429() {
    let emu = start_toml("rate_limited = true\nrate_limited_retry_after_secs = 7").await;
    for _ in 0..2 {
        let (status, h, body) = parts(post_key(&chat_url(&emu, "gpt-4o"), &hello()).await).await;
        assert_eq!(status, 429);
        assert_eq!(header(&h, "retry-after"), Some("7"));
        assert_eq!(header(&h, "retry-after-ms"), Some("7000"));
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("Please retry after 7 seconds")
        );
    }
    // auth still comes first
    let res = client()
        .post(chat_url(&emu, "gpt-4o"))
        .header("api-key", "bad")
        .json(&hello())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);
}

#[tokio::test]
async fn prompt_filter_is_the_exact_400() {
    let emu = start().await;
    let body =
        json!({"messages": [{"role": "user", "content": "please trigger-content-filter now"}]});
    let (status, h, answer) = parts(post_key(&chat_url(&emu, "gpt-4o"), &body).await).await;
    assert_eq!(status, 400);
    assert_eq!(
        answer,
        json!({"error": {
            "message": "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry. To learn more about our content filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766",
            "type": null, "param": "prompt", "code": "content_filter", "status": 400,
            "innererror": {"code": "ResponsibleAIPolicyViolation", "content_filter_result": {
                "hate": {"filtered": false, "severity": "safe"},
                "jailbreak": {"filtered": false, "detected": false},
                "self_harm": {"filtered": false, "severity": "safe"},
                "sexual": {"filtered": false, "severity": "safe"},
                "violence": {"filtered": true, "severity": "medium"}}}}})
    );
    assert_common_headers(&h, true);
    assert_eq!(header(&h, "content-type"), Some("application/json"));
}

#[tokio::test]
async fn output_filter_ends_with_content_filter() {
    let emu = start_toml(r#"output_filter_trigger = "BADWORD""#).await;
    let body = json!({"messages": [{"role": "user", "content": "say BADWORD"}]});
    let (status, _, answer) = parts(post_key(&chat_url(&emu, "gpt-4o"), &body).await).await;
    assert_eq!(status, 200);
    let choice = &answer["choices"][0];
    assert_eq!(choice["finish_reason"], "content_filter");
    assert_eq!(choice["message"]["content"], "Echo: say");
    assert_eq!(
        choice["content_filter_results"]["violence"],
        json!({"filtered": true, "severity": "medium"})
    );
}
