//! A recording TLS pass-through in front of the emulator, for the one thing its journal withholds
//! on purpose: the unmasked form values of token requests (the journal masks `client_assertion`
//! and `client_secret`). The differential tests need the assertion itself to compare the JWT
//! header (`alg`, `x5t`) and claims (`aud`, `iss`, `sub`) of ours and MSAL's, and the federated
//! token as sent. Every request is forwarded as is (method, path, query, headers, body, with the
//! client's `Host` so discovery documents point back at the tap); every answer is the emulator's.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};

/// One request body as the client sent it.
#[derive(Debug, Clone)]
pub struct Tapped {
    /// Decoded form pairs (empty for non-form bodies), in order, unmasked.
    pub form: Vec<(String, String)>,
}

impl Tapped {
    pub fn form_value(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

pub struct Tap {
    /// `https://127.0.0.1:<port>`.
    pub url: String,
    /// The tap's CA certificate (PEM file), for `REQUESTS_CA_BUNDLE` / `AOAI_IDENTITY_EXTRA_CA_FILE`.
    pub ca_file: std::path::PathBuf,
    seen: Arc<Mutex<Vec<Tapped>>>,
    _dir: tempfile::TempDir,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Tap {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Tap {
    pub fn seen(&self) -> Vec<Tapped> {
        self.seen.lock().unwrap().clone()
    }

    pub fn clear(&self) {
        self.seen.lock().unwrap().clear();
    }

    /// Starts a tap on 127.0.0.1 forwarding to `upstream` (an emulator URL) whose CA is
    /// `upstream_ca_pem`.
    pub async fn start(upstream: &str, upstream_ca_pem: Option<&str>) -> Tap {
        let material = aoai_emulator::tls::generate().expect("tap TLS material");
        let dir = tempfile::tempdir().unwrap();
        let ca_file = dir.path().join("tap-ca.pem");
        std::fs::write(&ca_file, &material.ca_pem).unwrap();
        let mut client = reqwest::Client::builder().no_proxy().http1_only();
        if let Some(pem) = upstream_ca_pem {
            client = client.tls_certs_only(vec![
                reqwest::Certificate::from_pem(pem.as_bytes()).unwrap(),
            ]);
        }
        let client = client.build().unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(material.server_config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "https://127.0.0.1:{}",
            listener.local_addr().unwrap().port()
        );
        let seen = Arc::new(Mutex::new(Vec::new()));
        let state = Arc::new((client, upstream.to_string(), seen.clone()));
        let server = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (acceptor, state) = (acceptor.clone(), state.clone());
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    let svc = hyper::service::service_fn(move |req| forward(state.clone(), req));
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(tls), svc)
                        .await;
                });
            }
        });
        Tap {
            url,
            ca_file,
            seen,
            _dir: dir,
            server,
        }
    }
}

type State = (reqwest::Client, String, Arc<Mutex<Vec<Tapped>>>);

async fn forward(
    state: Arc<State>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let (client, upstream, seen) = &*state;
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let is_form = parts
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    seen.lock().unwrap().push(Tapped {
        form: if is_form {
            serde_urlencoded::from_bytes(&body).unwrap_or_default()
        } else {
            Vec::new()
        },
    });
    let host = parts
        .headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| parts.uri.authority().map(|a| a.to_string()))
        .unwrap_or_default();
    let path_and_query = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut out = client.request(parts.method.clone(), format!("{upstream}{path_and_query}"));
    for (name, value) in &parts.headers {
        if !matches!(
            name.as_str(),
            "host" | "content-length" | "connection" | "transfer-encoding"
        ) {
            out = out.header(name, value);
        }
    }
    let answer = out.header("host", host).body(body).send().await;
    let response = match answer {
        Ok(r) => {
            let mut b = Response::builder().status(r.status().as_u16());
            for (name, value) in r.headers() {
                if !matches!(
                    name.as_str(),
                    "content-length" | "connection" | "transfer-encoding"
                ) {
                    b = b.header(name, value);
                }
            }
            let bytes = r.bytes().await.unwrap_or_default();
            b.body(Full::new(bytes)).unwrap()
        }
        Err(e) => Response::builder()
            .status(502)
            .body(Full::new(Bytes::from(format!("tap: upstream failed: {e}"))))
            .unwrap(),
    };
    Ok(response)
}
