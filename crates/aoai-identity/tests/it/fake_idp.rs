//! A recording stand-in for Entra and the managed identity endpoints, on 127.0.0.1 (HTTP or
//! HTTPS with a throwaway CA), with a journal of every request. Used by `dac.rs` only, for what
//! the emulator (`aoai_emulator`, which `diff.rs` runs against) does not offer:
//! - the SHA-1 thumbprint of the server's TLS certificate (`leaf_sha1`), for Service Fabric's
//!   `IDENTITY_SERVER_THUMBPRINT` pinning; the emulator does not expose its leaf certificate;
//! - unmasked form values in the journal (the workload-identity token file re-read test reads the
//!   `client_assertion` it sent; the emulator's journal masks it by design);
//! - a delay before the *real* token answer (single-flight under 1000 callers); the emulator's
//!   faults replace, cut or withhold the answer instead;
//! - fixed token strings (`entra-token`, `app-service-token`, ...) that the chain table and the
//!   secret-leak test look for.
//!
//! Routes (the default behaviour; `Behaviour` switches change it):
//! - `GET  /{tenant}/v2.0/.well-known/openid-configuration`   OIDC discovery (MSAL only)
//! - `POST /{tenant}/oauth2/v2.0/token`                       Entra v2 token (secret, assertion)
//! - `GET  /metadata/identity/oauth2/token`                   IMDS (400 without `Metadata: true`)
//! - `GET  /msi/token`                                        App Service (`X-IDENTITY-HEADER`)
//! - `POST /cloudshell/token`                                 Cloud Shell
//! - `GET  /sf/token`                                         Service Fabric (`secret`)

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

pub const TENANT: &str = "00000000-0000-0000-0000-000000000001";
pub const CLIENT_ID: &str = "emulator-client";
pub const CLIENT_SECRET: &str = "emulator-secret";
pub const APP_SERVICE_HEADER: &str = "app-svc-secret-header-value";

/// One recorded request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// Decoded query pairs, in order.
    pub query: Vec<(String, String)>,
    /// Lower-cased header names.
    pub headers: BTreeMap<String, String>,
    /// Decoded form pairs (for form bodies), in order.
    pub form: Vec<(String, String)>,
    pub body: String,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
    pub fn form_value(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Switches.
#[derive(Debug, Clone, Default)]
pub struct Behaviour {
    /// Entra answers `expires_in` with this (default 3599).
    pub expires_in: Option<u64>,
    /// Delay every token answer by this many milliseconds.
    pub delay_ms: u64,
}

pub struct FakeIdp {
    pub url: String,
    pub ca_file: Option<PathBuf>,
    pub ca_pem: Option<String>,
    /// SHA-1 thumbprint (hex) of the TLS server certificate, for Service Fabric pinning.
    pub leaf_sha1: Option<String>,
    journal: Arc<Mutex<Vec<Recorded>>>,
    _dir: tempfile::TempDir,
}

impl FakeIdp {
    pub fn journal(&self) -> Vec<Recorded> {
        self.journal.lock().unwrap().clone()
    }
    pub fn clear(&self) {
        self.journal.lock().unwrap().clear();
    }
    pub fn start(tls: bool) -> FakeIdp {
        Self::start_with(tls, Behaviour::default())
    }

    pub fn start_with(tls: bool, behaviour: Behaviour) -> FakeIdp {
        let dir = tempfile::tempdir().unwrap();
        let journal = Arc::new(Mutex::new(Vec::new()));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let scheme = if tls { "https" } else { "http" };
        let url = format!("{scheme}://127.0.0.1:{port}");
        let (acceptor, ca_pem, leaf_sha1) = if tls {
            let (acceptor, ca, leaf) = tls_acceptor();
            (Some(acceptor), Some(ca), Some(leaf))
        } else {
            (None, None, None)
        };
        let ca_file = ca_pem.as_ref().map(|pem| {
            let p = dir.path().join("ca.pem");
            std::fs::write(&p, pem).unwrap();
            p
        });
        let state = Arc::new(State {
            journal: journal.clone(),
            base: url.clone(),
            behaviour,
        });
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    let state = state.clone();
                    let acceptor = acceptor.clone();
                    tokio::spawn(async move {
                        let svc = hyper::service::service_fn(move |req| handle(state.clone(), req));
                        let builder = hyper::server::conn::http1::Builder::new();
                        match acceptor {
                            Some(a) => {
                                if let Ok(tls) = a.accept(stream).await {
                                    let _ = builder.serve_connection(TokioIo::new(tls), svc).await;
                                }
                            }
                            None => {
                                let _ = builder.serve_connection(TokioIo::new(stream), svc).await;
                            }
                        }
                    });
                }
            });
        });
        FakeIdp {
            url,
            ca_file,
            ca_pem,
            leaf_sha1,
            journal,
            _dir: dir,
        }
    }
}

fn tls_acceptor() -> (tokio_rustls::TlsAcceptor, String, String) {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    };
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "aoai-identity test CA");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let mut leaf_params =
        CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "127.0.0.1");
    let leaf = leaf_params.signed_by(&leaf_key, &issuer).unwrap();
    let key_der = rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![leaf.der().clone(), ca_cert.der().clone()], key_der)
    .unwrap();
    use sha1::Digest;
    let leaf_sha1 = hex::encode(sha1::Sha1::digest(leaf.der().as_ref()));
    (
        tokio_rustls::TlsAcceptor::from(Arc::new(config)),
        ca_cert.pem(),
        leaf_sha1,
    )
}

struct State {
    journal: Arc<Mutex<Vec<Recorded>>>,
    base: String,
    behaviour: Behaviour,
}

fn reply(status: u16, headers: &[(&str, &str)], body: serde_json::Value) -> Response<Full<Bytes>> {
    let mut r = Response::builder()
        .status(status)
        .header("content-type", "application/json");
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    r.body(Full::new(Bytes::from(body.to_string()))).unwrap()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

async fn handle(
    state: Arc<State>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let query: Vec<(String, String)> =
        serde_urlencoded::from_str(req.uri().query().unwrap_or("")).unwrap_or_default();
    let headers: BTreeMap<String, String> = req
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_ascii_lowercase(),
                v.to_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let body = String::from_utf8_lossy(&body).into_owned();
    let form: Vec<(String, String)> = if headers
        .get("content-type")
        .is_some_and(|c| c.contains("form"))
    {
        serde_urlencoded::from_str(&body).unwrap_or_default()
    } else {
        Vec::new()
    };
    let rec = Recorded {
        method: method.clone(),
        path: path.clone(),
        query,
        headers,
        form,
        body,
    };
    state.journal.lock().unwrap().push(rec.clone());
    if state.behaviour.delay_ms > 0 && !path.contains("well-known") {
        tokio::time::sleep(std::time::Duration::from_millis(state.behaviour.delay_ms)).await;
    }
    let q = |name: &str| {
        rec.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let expires_in = state.behaviour.expires_in.unwrap_or(3599);
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let resp = match (method.as_str(), parts.as_slice()) {
        ("GET", [tenant, "v2.0", ".well-known", "openid-configuration"]) => {
            let b = &state.base;
            reply(
                200,
                &[],
                serde_json::json!({
                    "token_endpoint": format!("{b}/{tenant}/oauth2/v2.0/token"),
                    "authorization_endpoint": format!("{b}/{tenant}/oauth2/v2.0/authorize"),
                    "device_authorization_endpoint": format!("{b}/{tenant}/oauth2/v2.0/devicecode"),
                    "issuer": format!("{b}/{tenant}/v2.0"),
                }),
            )
        }
        ("POST", [_tenant, "oauth2", "v2.0", "token"]) => {
            let secret_ok = rec
                .form_value("client_secret")
                .is_none_or(|s| s == CLIENT_SECRET);
            if !secret_ok {
                reply(
                    401,
                    &[],
                    serde_json::json!({
                        "error": "invalid_client",
                        "error_description": "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app 'emulator-client'. Trace ID: t Correlation ID: c Timestamp: 2026-01-01 00:00:00Z",
                        "error_codes": [7000215],
                        "timestamp": "2026-01-01 00:00:00Z",
                        "trace_id": "t",
                        "correlation_id": "c",
                        "error_uri": "https://login.microsoftonline.com/error?code=7000215"
                    }),
                )
            } else {
                reply(
                    200,
                    &[],
                    serde_json::json!({"token_type": "Bearer", "expires_in": expires_in, "ext_expires_in": expires_in, "access_token": "entra-token"}),
                )
            }
        }
        ("GET", ["metadata", "identity", "oauth2", "token"]) => {
            if rec.header("metadata") != Some("true") {
                reply(
                    400,
                    &[],
                    serde_json::json!({"error": "invalid_request", "error_description": "Required metadata header not specified"}),
                )
            } else {
                let exp = now() + 86399;
                reply(
                    200,
                    &[],
                    serde_json::json!({
                        "access_token": "imds-token", "client_id": q("client_id").unwrap_or_default(),
                        "expires_in": "86399", "expires_on": exp.to_string(), "ext_expires_in": "86399",
                        "not_before": now().to_string(), "resource": q("resource").unwrap_or_default(), "token_type": "Bearer"
                    }),
                )
            }
        }
        ("GET", ["msi", "token"]) => {
            if rec.header("x-identity-header") != Some(APP_SERVICE_HEADER) {
                reply(
                    400,
                    &[],
                    serde_json::json!({"statusCode": 400, "message": "Invalid X-IDENTITY-HEADER"}),
                )
            } else {
                reply(
                    200,
                    &[],
                    serde_json::json!({
                        "access_token": "app-service-token", "expires_on": (now() + 86399).to_string(),
                        "resource": q("resource").unwrap_or_default(), "token_type": "Bearer",
                        "client_id": q("client_id").unwrap_or_default()
                    }),
                )
            }
        }
        ("POST", ["cloudshell", "token"]) => reply(
            200,
            &[],
            serde_json::json!({"access_token": "cloud-shell-token", "expires_in": 3599, "expires_on": now() + 3599, "resource": rec.form_value("resource").unwrap_or(""), "token_type": "Bearer"}),
        ),
        ("GET", ["sf", "token"]) => {
            if rec.header("secret") != Some(APP_SERVICE_HEADER) {
                reply(
                    401,
                    &[],
                    serde_json::json!({"error": {"code": "SecretHeaderNotFound", "message": "no secret"}}),
                )
            } else {
                reply(
                    200,
                    &[],
                    serde_json::json!({"access_token": "sf-token", "expires_on": now() + 3599, "resource": q("resource").unwrap_or_default(), "token_type": "Bearer"}),
                )
            }
        }
        _ => reply(
            404,
            &[],
            serde_json::json!({"error": "not_found", "path": path}),
        ),
    };
    Ok(resp)
}
