//! Embeddings in both wire encodings.

use aoai::types::{EmbeddingsRequest, EncodingFormat};

use crate::support::{client, emulator, requests_to};

#[tokio::test]
async fn float_and_base64_encodings_decode_to_the_same_vectors() {
    let emu = emulator().await;
    let c = client(&emu);
    let req = EmbeddingsRequest::new(vec!["alpha", "beta"]).model("text-embedding-3-small");
    let b64 = c.embeddings().create(req.clone()).await.unwrap();
    let floats = c
        .embeddings()
        .create(req.encoding_format(EncodingFormat::Float))
        .await
        .unwrap();
    assert_eq!(b64.data.len(), 2);
    assert_eq!(b64.data[1].index, 1);
    assert_eq!(b64.data[0].embedding.len(), 1536);
    assert_eq!(b64.data, floats.data);
    assert_ne!(b64.data[0].embedding, b64.data[1].embedding);
    let sent = requests_to(
        &emu,
        "/openai/deployments/text-embedding-3-small/embeddings",
    );
    assert_eq!(sent[0].body["encoding_format"], "base64");
    assert_eq!(sent[1].body["encoding_format"], "float");
}

#[tokio::test]
async fn dimensions_shorten_the_vectors() {
    let emu = emulator().await;
    let req = EmbeddingsRequest::new("alpha")
        .model("text-embedding-3-small")
        .dimensions(256);
    let answer = client(&emu).embeddings().create(req).await.unwrap();
    assert_eq!(answer.data[0].embedding.len(), 256);
    assert!(answer.usage.unwrap().prompt_tokens > 0);
}
