//! The bare `reqwest` loop: the same bytes every time, no typed parsing. The limit a client can
//! approach. A JSON answer is read to the end; a stream is split into SSE events (a chunk is a
//! `data:` event other than `[DONE]`).

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use futures::{FutureExt, StreamExt};

use crate::measure::{AsyncOp, Outcome};
use crate::workload::{API_KEY, ChatRequest, Workload};

/// The op for `workload` against the emulator at `base`.
pub fn op(base: &str, req: &ChatRequest, workload: Workload) -> Result<AsyncOp, String> {
    let http = reqwest::Client::builder()
        .build()
        .map_err(|e| format!("reqwest client: {e}"))?;
    let url: Arc<str> = req.url(base).into();
    let body = Bytes::from(req.body(workload));
    Ok(Arc::new(move || {
        let (http, url, body) = (http.clone(), url.clone(), body.clone());
        async move {
            let start = Instant::now();
            let resp = http
                .post(&*url)
                .header("api-key", API_KEY)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .map_err(|e| e.to_string())?;
            if !resp.status().is_success() {
                return Err(format!("status {}", resp.status()));
            }
            match workload {
                Workload::Chat => {
                    resp.bytes().await.map_err(|e| e.to_string())?;
                    Ok(Outcome::default())
                }
                Workload::Stream => read_sse(resp, start).await,
            }
        }
        .boxed()
    }))
}

async fn read_sse(resp: reqwest::Response, start: Instant) -> Result<Outcome, String> {
    let mut out = Outcome::default();
    let mut buf: Vec<u8> = Vec::new();
    let mut done = false;
    let mut body = resp.bytes_stream();
    while let Some(piece) = body.next().await {
        buf.extend_from_slice(&piece.map_err(|e| e.to_string())?);
        while let Some(end) = find(&buf, b"\n\n") {
            let event = &buf[..end];
            if event.starts_with(b"data: [DONE]") {
                done = true;
            } else if event.starts_with(b"data:") {
                out.chunks += 1;
                if out.first_chunk.is_none() {
                    out.first_chunk = Some(start.elapsed());
                }
            }
            buf.drain(..end + 2);
        }
    }
    if done {
        Ok(out)
    } else {
        Err("stream ended without [DONE]".into())
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
