//! The blocking client.

use aoai::types::EmbeddingsRequest;

use crate::support::{KEY, emulator, hello};

#[test]
fn the_blocking_client_chats_streams_and_embeds() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let emu = rt.block_on(emulator());
    let url = emu.url().to_string();
    let client = std::thread::spawn(move || {
        let c = aoai::blocking::AzureOpenAI::builder()
            .endpoint(url)
            .api_key(KEY)
            .deployment("gpt-4o")
            .build()
            .unwrap();
        let whole = c.chat().create(hello()).unwrap().text();
        let streamed: String = c
            .chat()
            .create_stream(hello())
            .unwrap()
            .map(|chunk| chunk.unwrap().delta_text().unwrap_or_default().to_string())
            .collect();
        assert_eq!(whole, streamed);
        let e = c
            .embeddings()
            .create(EmbeddingsRequest::new("x").model("text-embedding-3-small"))
            .unwrap();
        assert_eq!(e.data.len(), 1);
        whole
    })
    .join()
    .unwrap();
    assert_eq!(client, "Echo: hello world");
}

#[tokio::test]
async fn the_blocking_client_refuses_async_contexts_instead_of_panicking() {
    let err = aoai::blocking::AzureOpenAI::builder()
        .endpoint("http://127.0.0.1:9")
        .api_key(KEY)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), aoai::ErrorKind::Config);
    assert!(err.quick_fix().unwrap().contains("async client"));
}

#[test]
fn threads_share_one_blocking_client() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let emu = rt.block_on(emulator());
    let c = aoai::blocking::AzureOpenAI::builder()
        .endpoint(emu.url())
        .api_key(KEY)
        .deployment("gpt-4o")
        .build()
        .unwrap();
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let c = c.clone();
            std::thread::spawn(move || {
                (0..5)
                    .map(|_| c.chat().create(hello()).unwrap().text())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for t in threads {
        assert!(t.join().unwrap().iter().all(|t| t == "Echo: hello world"));
    }
    assert_eq!(emu.journal().len(), 40);
}
