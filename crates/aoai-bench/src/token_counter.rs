//! A loopback forwarder in front of the emulator's Entra endpoints that counts token requests,
//! so the Entra contender reports how many tokens it fetched over the network (target: 1).
//!
//! ```text
//! DefaultAzureCredential ─► AZURE_AUTHORITY_HOST = forwarder ─► count POST …/token ─► emulator
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;

#[derive(Clone)]
struct Fwd {
    upstream: String,
    http: reqwest::Client,
    count: Arc<AtomicU64>,
}

/// A running forwarder: its URL and the number of token requests seen.
pub struct TokenCounter {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    count: Arc<AtomicU64>,
}

impl TokenCounter {
    /// Token requests (`POST …/oauth2/v2.0/token`) forwarded so far.
    pub fn token_requests(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// Starts forwarding every request to `upstream` (the emulator's URL).
    pub async fn start(upstream: &str) -> std::io::Result<TokenCounter> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let count = Arc::new(AtomicU64::new(0));
        let state = Fwd {
            upstream: upstream.trim_end_matches('/').to_string(),
            http: reqwest::Client::new(),
            count: count.clone(),
        };
        let app = axum::Router::new().fallback(forward).with_state(state);
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(TokenCounter { url, count })
    }
}

async fn forward(State(f): State<Fwd>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    if parts.method == http_post() && parts.uri.path().ends_with("/token") {
        f.count.fetch_add(1, Ordering::Relaxed);
    }
    let bytes = match axum::body::to_bytes(body, 1 << 20).await {
        Ok(b) => b,
        Err(e) => return status(502, format!("forwarder: reading body: {e}")),
    };
    let mut out = f
        .http
        .request(parts.method.clone(), format!("{}{path}", f.upstream))
        .body(bytes);
    for (name, value) in &parts.headers {
        if name != "host" && name != "content-length" {
            out = out.header(name, value);
        }
    }
    match out.send().await {
        Ok(r) => {
            let mut b = Response::builder().status(r.status());
            for (name, value) in r.headers() {
                if name != "content-length" && name != "transfer-encoding" {
                    b = b.header(name, value);
                }
            }
            let body = r.bytes().await.unwrap_or_default();
            b.body(Body::from(body))
                .unwrap_or_else(|e| status(502, format!("forwarder: {e}")))
        }
        Err(e) => status(502, format!("forwarder: {e}")),
    }
}

fn http_post() -> reqwest::Method {
    reqwest::Method::POST
}

fn status(code: u16, msg: String) -> Response {
    let mut r = Response::new(Body::from(msg));
    *r.status_mut() =
        reqwest::StatusCode::from_u16(code).unwrap_or(reqwest::StatusCode::BAD_GATEWAY);
    r
}
