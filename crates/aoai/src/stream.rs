//! A streamed chat completion as a `Stream` of typed chunks.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::stream::{BoxStream, Stream, StreamExt};

use crate::classify::{Failed, classify};
use crate::error::{Error, ErrorKind};
use crate::pipeline::{request_id, transport_error};
use crate::sse::SseDecoder;
use crate::types::ChatCompletionChunk;

/// The events of a streamed chat completion, ending after `[DONE]`.
///
/// Yields an error (then ends) when the connection breaks, the stream ends without `[DONE]`
/// (`stream_error`), no event arrives within the idle timeout (`timeout`), or the service sends
/// an error event. Nothing is retried once events have reached the caller.
pub struct ChatCompletionStream {
    inner: BoxStream<'static, Result<ChatCompletionChunk, Error>>,
}

impl std::fmt::Debug for ChatCompletionStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChatCompletionStream")
    }
}

struct State {
    body: BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    decoder: SseDecoder,
    idle: Duration,
    deployment: String,
    request_id: Option<String>,
    done: bool,
}

/// At most this much is read after `[DONE]` to keep the connection reusable.
const DRAIN_LIMIT: usize = 64 * 1024;

const RETRY_FIX: &str =
    "retry the request; if it keeps happening, check proxies between you and the endpoint";

impl State {
    fn event(&mut self, data: &[u8]) -> Option<Result<ChatCompletionChunk, Error>> {
        if data.starts_with(b"[DONE]") {
            self.done = true;
            return None;
        }
        let item = match serde_json::from_slice::<ChatCompletionChunk>(data) {
            Ok(chunk) if chunk.extra.get("error").is_some_and(|e| !e.is_null()) => {
                Err(classify(Failed {
                    status: None,
                    body: &String::from_utf8_lossy(data),
                    request_id: self.request_id.clone(),
                    retry_after: None,
                    deployment: &self.deployment,
                    bearer: false,
                }))
            }
            Ok(chunk) => Ok(chunk),
            Err(e) => Err(Error::new(
                ErrorKind::Stream,
                "a stream event is not a chat completion chunk",
            )
            .with_fix(RETRY_FIX)
            .with_source(e)),
        };
        self.done = item.is_err();
        Some(item)
    }

    /// Reads what follows `[DONE]` (normally just the end of the body), so the connection goes
    /// back to the pool instead of being closed.
    async fn drain(&mut self) {
        let mut left = DRAIN_LIMIT;
        while let Ok(Some(Ok(bytes))) = tokio::time::timeout(self.idle, self.body.next()).await {
            left = left.saturating_sub(bytes.len());
            if left == 0 {
                break;
            }
        }
    }

    async fn next(&mut self) -> Option<Result<ChatCompletionChunk, Error>> {
        loop {
            if self.done {
                return None;
            }
            if let Some(data) = self.decoder.next_event() {
                match self.event(&data) {
                    Some(item) => return Some(item),
                    None => {
                        self.drain().await;
                        return None;
                    }
                }
            }
            match tokio::time::timeout(self.idle, self.body.next()).await {
                Ok(Some(Ok(bytes))) => self.decoder.push(&bytes),
                Ok(Some(Err(e))) => {
                    self.done = true;
                    let err = transport_error(e);
                    return Some(Err(Error::new(
                        ErrorKind::Stream,
                        format!("the stream broke: {err}"),
                    )
                    .with_fix(RETRY_FIX)
                    .with_source(err)));
                }
                Ok(None) => {
                    self.done = true;
                    let how = if self.decoder.has_partial() {
                        "in the middle of an event"
                    } else {
                        ""
                    };
                    return Some(Err(Error::new(
                        ErrorKind::Stream,
                        format!("the stream ended without [DONE] {how}")
                            .trim_end()
                            .to_string(),
                    )
                    .with_fix(RETRY_FIX)
                    .with_request_id(self.request_id.clone())));
                }
                Err(_) => {
                    self.done = true;
                    return Some(Err(Error::new(
                        ErrorKind::Timeout,
                        format!("no stream event for {:.1} s", self.idle.as_secs_f64()),
                    )
                    .with_fix("retry, or raise Timeouts::stream_idle")
                    .with_request_id(self.request_id.clone())));
                }
            }
        }
    }
}

impl ChatCompletionStream {
    pub(crate) fn new(response: reqwest::Response, idle: Duration, deployment: String) -> Self {
        let request_id = request_id(response.headers());
        let state = State {
            body: response.bytes_stream().boxed(),
            decoder: SseDecoder::default(),
            idle,
            deployment,
            request_id,
            done: false,
        };
        let inner = futures::stream::unfold(state, |mut state| async move {
            let item = state.next().await?;
            Some((item, state))
        })
        .boxed();
        ChatCompletionStream { inner }
    }
}

impl Stream for ChatCompletionStream {
    type Item = Result<ChatCompletionChunk, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.poll_next_unpin(cx)
    }
}
