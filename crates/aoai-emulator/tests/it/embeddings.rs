//! Embeddings: float and base64 encodings, dimensions, determinism, usage.

use base64::Engine;
use serde_json::{Value, json};

use crate::support::*;

fn floats(v: &Value) -> Vec<f32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect()
}

fn norm(v: &[f32]) -> f64 {
    v.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt()
}

#[tokio::test]
async fn float_and_base64_encode_the_same_unit_vector() {
    let emu = start().await;
    let url = embeddings_url(&emu, "text-embedding-3-small");
    let (status, h, body) = parts(post_key(&url, &json!({"input": "hello world"})).await).await;
    assert_eq!(status, 200);
    assert_common_headers(&h, true);
    assert_eq!(body["object"], "list");
    assert_eq!(body["model"], "text-embedding-3-small");
    assert_eq!(body["data"][0]["object"], "embedding");
    assert_eq!(
        body["usage"],
        json!({"prompt_tokens": 2, "total_tokens": 2})
    );
    let f = floats(&body["data"][0]["embedding"]);
    assert_eq!(f.len(), 1536);
    assert!((norm(&f) - 1.0).abs() < 1e-4);

    let (_, _, body) = parts(
        post_key(
            &url,
            &json!({"input": "hello world", "encoding_format": "base64"}),
        )
        .await,
    )
    .await;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(body["data"][0]["embedding"].as_str().unwrap())
        .unwrap();
    let b: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(b.len(), 1536);
    for (x, y) in f.iter().zip(&b) {
        assert!((x - y).abs() < 1e-6);
    }
}

#[tokio::test]
async fn dimensions_and_arrays() {
    let emu = start().await;
    let url = embeddings_url(&emu, "text-embedding-3-small");
    let (status, _, body) =
        parts(post_key(&url, &json!({"input": ["a", "b", "a"], "dimensions": 256})).await).await;
    assert_eq!(status, 200);
    let data = body["data"].as_array().unwrap();
    assert_eq!(data.len(), 3);
    assert_eq!(data[2]["index"], 2);
    let (a, b, a2) = (
        floats(&data[0]["embedding"]),
        floats(&data[1]["embedding"]),
        floats(&data[2]["embedding"]),
    );
    assert_eq!(a.len(), 256);
    assert_eq!(a, a2);
    assert_ne!(a, b);
    assert!((norm(&b) - 1.0).abs() < 1e-4);
    let (status, _, body) =
        parts(post_key(&url, &json!({"input": "x", "dimensions": 5000})).await).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["param"], "dimensions");
}

#[tokio::test]
async fn v1_embeddings_and_configured_dimensions() {
    let emu = start_toml(
        r#"
        [[deployments]]
        name = "emb"
        model = "text-embedding-3-large"
        kind = "embeddings"
        dimensions = 8
        "#,
    )
    .await;
    let url = format!("{}/openai/v1/embeddings", emu.url());
    let res = client()
        .post(&url)
        .bearer_auth(KEY)
        .json(&json!({"model": "emb", "input": "q"}))
        .send()
        .await
        .unwrap();
    let (status, h, body) = parts(res).await;
    assert_eq!(status, 200);
    assert_eq!(header(&h, "x-ms-deployment-name"), Some("emb"));
    assert_eq!(body["model"], "text-embedding-3-large");
    assert_eq!(body["data"][0]["embedding"].as_array().unwrap().len(), 8);
}
