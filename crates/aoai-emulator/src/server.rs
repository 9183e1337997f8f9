//! The server: accept loop (plain or TLS, HTTP/1.1 and h2), and the outer layer that wraps the
//! whole router — journal and faults apply to every path (data plane, Entra, IMDS) except
//! `/_emulator/*`.
//!
//! ```text
//! TCP ─► [TLS] ─► hyper (h1/h2) ─► outer layer: journal, fault? ─► axum Router
//!                                     │ reply/reset/stall           ├─ /openai/...   (data plane)
//!                                     │ reset_mid_body/cut_stream   ├─ Entra / IMDS  (entra::routes)
//!                                     ▼ (wrap the real body)        └─ /_emulator/*  (admin)
//! ```

use std::{pin::Pin, sync::Arc, task::Poll, time::Duration};

use axum::{Router, body::Body};
use bytes::Bytes;
use futures::StreamExt;
use http::{HeaderName, HeaderValue, Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::{Frame, Incoming};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::{net::TcpListener, sync::watch};
use tower::ServiceExt;

use crate::{
    faults::{Fault, FaultKind},
    journal::JournalEntry,
    state::AppState,
};

/// Error returned to hyper to abort a connection (the `reset` fault).
#[derive(Debug, thiserror::Error)]
#[error("connection reset by a scripted fault")]
pub struct FaultAbort;

/// Builds the full router: data plane, Entra, admin, fallback.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(crate::openai::routes())
        .merge(crate::entra::routes())
        .merge(crate::admin::routes())
        .fallback(crate::openai::not_found)
        .with_state(state)
}

/// Serves connections from `listener` until `shutdown` turns true.
pub async fn serve(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    state: AppState,
    mut shutdown: watch::Receiver<bool>,
) {
    let router = router(state.clone());
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    loop {
        let (stream, _peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => return,
        };
        let _ = stream.set_nodelay(true);
        let state = state.clone();
        let router = router.clone();
        let acceptor = acceptor.clone();
        let mut conn_shutdown = shutdown.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                handle(state.clone(), router.clone(), req)
            });
            let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            let work = async {
                match acceptor {
                    Some(acceptor) => match acceptor.accept(stream).await {
                        Ok(tls) => {
                            let _ = builder.serve_connection(TokioIo::new(tls), service).await;
                        }
                        Err(e) => tracing::debug!(error = %e, "TLS handshake failed"),
                    },
                    None => {
                        let _ = builder
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    }
                }
            };
            tokio::select! {
                _ = work => {}
                _ = conn_shutdown.changed() => {}
            }
        });
    }
}

/// The outer layer: journal the request, apply a queued fault, else call the router.
async fn handle(
    state: AppState,
    router: Router,
    req: Request<Incoming>,
) -> Result<Response<Body>, FaultAbort> {
    let req = req.map(Body::new);
    if req.uri().path().starts_with("/_emulator/") {
        return Ok(call(router, req).await);
    }
    let fault = state.faults.take(req.method().as_str(), req.uri().path());
    let req = if state.journal.enabled() {
        let (parts, body) = req.into_parts();
        let bytes = body
            .collect()
            .await
            .map(|c| c.to_bytes())
            .unwrap_or_default();
        state.journal.push(JournalEntry::from_parts(&parts, &bytes));
        Request::from_parts(parts, Body::from(bytes))
    } else {
        req
    };
    let Some(fault) = fault else {
        return Ok(call(router, req).await);
    };
    tracing::debug!(path = %req.uri().path(), kind = ?fault.kind, "applying scripted fault");
    if fault.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(fault.delay_ms)).await;
    }
    match fault.kind {
        FaultKind::Reply => Ok(scripted_reply(&fault)),
        FaultKind::Reset => Err(FaultAbort),
        FaultKind::Stall => std::future::pending().await,
        FaultKind::ResetMidBody => {
            let res = call(router, req).await;
            let (mut parts, body) = res.into_parts();
            let bytes = body
                .collect()
                .await
                .map(|c| c.to_bytes())
                .unwrap_or_default();
            // Announce the full length so the client knows the body was cut.
            parts
                .headers
                .insert(http::header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
            let half = bytes.slice(..bytes.len() / 2);
            // Let the headers and the first half reach the client before the connection drops.
            let frames = futures::stream::iter([Some(half), None]).then(|part| async move {
                match part {
                    Some(data) => Ok(Frame::data(data)),
                    None => {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        Err(std::io::Error::new(
                            std::io::ErrorKind::ConnectionReset,
                            "reset_mid_body fault",
                        ))
                    }
                }
            });
            Ok(Response::from_parts(
                parts,
                Body::new(http_body_util::StreamBody::new(frames)),
            ))
        }
        FaultKind::CutStream => {
            let res = call(router, req).await;
            let (mut parts, body) = res.into_parts();
            parts.headers.remove(http::header::CONTENT_LENGTH);
            Ok(Response::from_parts(
                parts,
                Body::new(CutBeforeDone::new(body)),
            ))
        }
    }
}

async fn call(router: Router, req: Request<Body>) -> Response<Body> {
    match router.oneshot(req).await {
        Ok(r) => r,
        Err(e) => match e {},
    }
}

fn scripted_reply(fault: &Fault) -> Response<Body> {
    let status = StatusCode::from_u16(fault.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let (body, content_type) = match &fault.body {
        serde_json::Value::Null => (Bytes::new(), None),
        serde_json::Value::String(s) => (Bytes::from(s.clone()), Some("text/plain; charset=utf-8")),
        v => (
            Bytes::from(serde_json::to_vec(v).unwrap_or_default()),
            Some("application/json"),
        ),
    };
    let mut res = Response::new(Body::from(body));
    *res.status_mut() = status;
    if let Some(ct) = content_type {
        res.headers_mut()
            .insert(http::header::CONTENT_TYPE, HeaderValue::from_static(ct));
    }
    for (name, value) in &fault.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            res.headers_mut().insert(n, v);
        }
    }
    res
}

/// A body that passes data through and ends cleanly where `data: [DONE]` begins.
struct CutBeforeDone {
    inner: Body,
    done: bool,
}

impl CutBeforeDone {
    fn new(inner: Body) -> Self {
        Self { inner, done: false }
    }
}

const DONE_MARKER: &[u8] = b"data: [DONE]";

impl hyper::body::Body for CutBeforeDone {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if self.done {
            return Poll::Ready(None);
        }
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                Ok(data) => {
                    if let Some(i) = data
                        .windows(DONE_MARKER.len())
                        .position(|w| w == DONE_MARKER)
                    {
                        self.done = true;
                        if i == 0 {
                            return Poll::Ready(None);
                        }
                        return Poll::Ready(Some(Ok(Frame::data(data.slice(..i)))));
                    }
                    Poll::Ready(Some(Ok(Frame::data(data))))
                }
                Err(frame) => Poll::Ready(Some(Ok(frame))),
            },
            other => other,
        }
    }
}
