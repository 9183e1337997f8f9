//! Microsoft Entra ID and managed-identity stand-ins, served on the emulator's own origin: point
//! `AZURE_AUTHORITY_HOST`, `AZURE_POD_IDENTITY_AUTHORITY_HOST`, `IDENTITY_ENDPOINT`, `MSI_ENDPOINT`
//! at the emulator and every credential gets a real, verifiable JWT (see [`crate::jwt`]).
//!
//! | Request | Stands in for |
//! |---|---|
//! | `POST /{tenant}/oauth2/v2.0/token` (form) | Entra v2 token endpoint: `client_credentials` with `client_secret`, a certificate `client_assertion` (RS256 + `x5t` or PS256 + `x5t#S256`) or a federated (workload identity) assertion |
//! | `POST /{tenant}/oauth2/token` (form, `resource=`) | Entra v1 token endpoint, same grants |
//! | `GET /{tenant}/v2.0/.well-known/openid-configuration`, `GET /{tenant}/.well-known/openid-configuration` | OIDC discovery (v2, v1); every URL points back at this origin |
//! | `GET /common/discovery/instance?api-version=1.1&authorization_endpoint=..` | MSAL instance discovery |
//! | `GET /{tenant}/discovery/v2.0/keys`, `GET /{tenant}/discovery/keys`, `GET /common/discovery/keys` | JWKS of the signing key |
//! | `GET /metadata/identity/oauth2/token?api-version=2018-02-01&resource=..[&client_id=\|&object_id=\|&msi_res_id=]` | IMDS (`Metadata: true` required); with `api-version=2020-06-01` it is Azure Arc |
//! | `GET /msi/token?api-version=2019-08-01&resource=..[&client_id=\|&object_id=\|&mi_res_id=]` | App Service / Functions (`X-IDENTITY-HEADER`); `api-version=2017-09-01` there is Azure ML |
//! | `GET /arc/token?api-version=2020-06-01&resource=..` | Azure Arc: 401 + `WWW-Authenticate: Basic realm=<key file>`, then `Authorization: Basic <file content>` |
//! | `GET /ml/token?api-version=2017-09-01&resource=..[&clientid=]` (also `/MSI/token`) | Azure ML (`secret` header) |
//! | `POST /cloudshell/token`, `POST /oauth2/token` (form `resource=`) | Cloud Shell (`Metadata: true`) |
//! | `GET /sf/token?api-version=2019-07-01-preview&resource=..` | Service Fabric (`Secret` header; clients need TLS mode) |
//! | `POST /_emulator/tokens` (JSON [`crate::jwt::MintOptions`]) | test helper: mint any token (expired, other tenant, wrong audience) |
//!
//! ```text
//! token request ─► tenant known? (AADSTS90002) ─► grant_type ─► client_id known in tenant?
//!   (AADSTS700016) ─► scope `<resource>/.default` (AADSTS70011) ─► secret (AADSTS7000215) |
//!   assertion: federated match | certificate JWT (AADSTS700027/700024/700021) ─► TokenIssuer::issue
//! ```

mod assertion;
mod config;
mod discovery;
mod errors;
mod managed;
mod mint;
mod token;

use std::{
    path::PathBuf,
    sync::{Arc, Mutex},
};

use axum::{
    Router,
    http::{HeaderMap, Uri},
    routing::{any, get, post},
};

pub use assertion::CertificateKey;
pub use config::{
    DEFAULT_TENANT, EntraConfig, IdentitySelector, ManagedIdentityConfig, OPENAI_USER,
    PrincipalConfig,
};
pub use errors::AadError;

use crate::state::AppState;

/// Routes served on the emulator's origin for Entra and managed identity.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/{tenant}/oauth2/v2.0/token", any(token::token_v2))
        .route("/{tenant}/oauth2/token", any(token::token_v1))
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(discovery::openid_v2),
        )
        .route(
            "/{tenant}/.well-known/openid-configuration",
            get(discovery::openid_v1),
        )
        .route("/common/discovery/instance", get(discovery::instance))
        .route("/{tenant}/discovery/v2.0/keys", get(discovery::keys))
        .route("/{tenant}/discovery/keys", get(discovery::keys))
        .route("/metadata/identity/oauth2/token", get(managed::imds))
        .route("/msi/token", get(managed::app_service))
        .route("/MSI/token", get(managed::app_service))
        .route("/MSI/token/", get(managed::app_service))
        .route("/ml/token", get(managed::azure_ml))
        .route("/arc/token", get(managed::arc))
        .route("/cloudshell/token", post(managed::cloud_shell))
        .route("/oauth2/token", post(managed::cloud_shell))
        .route("/sf/token", get(managed::service_fabric))
        .route("/_emulator/tokens", post(mint::mint))
}

/// Run-time state of the identity endpoints (the Azure Arc key files).
#[derive(Debug, Default)]
pub struct EntraState {
    arc_keys: Mutex<Vec<(PathBuf, String)>>,
}

impl EntraState {
    /// Empty state.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }
}

impl Drop for EntraState {
    fn drop(&mut self) {
        if let Ok(keys) = self.arc_keys.lock() {
            for (path, _) in keys.iter() {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}

/// `scheme://host[:port]` the client used to reach us (from `Host`, or the h2 `:authority`).
pub(crate) fn origin(state: &AppState, headers: &HeaderMap, uri: &Uri) -> String {
    let scheme = if state.config.tls { "https" } else { "http" };
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| uri.authority().map(|a| a.to_string()))
        .unwrap_or_else(|| state.config.listen.to_string());
    format!("{scheme}://{host}")
}

/// Query pairs of `uri`, decoded.
pub(crate) fn query_pairs(uri: &Uri) -> Vec<(String, String)> {
    url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

/// First value of `name` in `pairs` (empty values count as absent).
pub(crate) fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}
