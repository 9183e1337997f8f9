//! Managed-identity endpoints (spec identity-wire §6): IMDS, App Service, Azure Arc, Azure ML,
//! Cloud Shell and Service Fabric, each with its own request and answer shape. All issue a JWT
//! for the configured system- or user-assigned identity.
//!
//! | Source | Secret | Id parameters | Answer numbers |
//! |---|---|---|---|
//! | IMDS | `Metadata: true` | `client_id`, `object_id`, `msi_res_id` | strings (`expires_in`, `expires_on`, ...) |
//! | App Service 2019-08-01 | `X-IDENTITY-HEADER` | `client_id`, `object_id`/`principal_id`, `mi_res_id` | `expires_on` string |
//! | Arc 2020-06-01 | `Metadata: true`, then `Authorization: Basic <key file>` | as IMDS (echoed) | strings |
//! | Azure ML 2017-09-01 | `secret` | `clientid` | `expires_on` string |
//! | Cloud Shell (POST form) | `Metadata: true` | (`client_id` ignored) | strings |
//! | Service Fabric 2019-07-01-preview | `Secret` | none | `expires_on` number |

use std::path::PathBuf;

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, Uri},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use super::{IdentitySelector, ManagedIdentityConfig, errors::json_body, param, query_pairs};
use crate::{
    jwt::{IssuedToken, TokenSpec},
    state::AppState,
};

type Pairs = Vec<(String, String)>;

fn reply(status: StatusCode, body: Value) -> Response {
    (status, json_body(&body)).into_response()
}

/// IMDS-style error `{"error":..,"error_description":..}`.
fn imds_error(status: StatusCode, error: &str, description: &str) -> Response {
    reply(
        status,
        json!({"error": error, "error_description": description}),
    )
}

/// App Service-style error `{"statusCode":..,"message":..,"correlationId":..}`.
fn app_service_error(status: StatusCode, message: &str) -> Response {
    reply(
        status,
        json!({
            "statusCode": status.as_u16(),
            "message": message,
            "correlationId": uuid::Uuid::new_v4().to_string(),
        }),
    )
}

fn has_metadata(headers: &HeaderMap) -> bool {
    headers
        .get("metadata")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// The identity named by `client_id` / `object_id` / resource-id parameters.
fn selector<'a>(
    pairs: &'a Pairs,
    client: &[&str],
    object: &[&str],
    resource: &[&str],
) -> IdentitySelector<'a> {
    let first = |names: &[&str]| names.iter().find_map(|n| param(pairs, n));
    if let Some(id) = first(client) {
        IdentitySelector::ClientId(id)
    } else if let Some(id) = first(object) {
        IdentitySelector::ObjectId(id)
    } else if let Some(id) = first(resource) {
        IdentitySelector::ResourceId(id)
    } else {
        IdentitySelector::System
    }
}

fn issue(state: &AppState, mi: &ManagedIdentityConfig, resource: &str) -> IssuedToken {
    let entra = &state.config.entra;
    state.issuer.issue(&TokenSpec {
        tenant_id: entra.tenant_id.clone(),
        object_id: mi.object_id.clone(),
        client_id: mi.client_id.clone(),
        audience: resource.to_owned(),
        expires_in: entra.managed_identity_token_lifetime_secs as i64,
        roles: Vec::new(),
        appidacr: "2",
        mi_resource_id: Some(mi.resource_id.clone()),
    })
}

/// The IMDS answer: every number a string (§6.1.5).
fn imds_answer(mi: &ManagedIdentityConfig, resource: &str, t: &IssuedToken) -> Value {
    json!({
        "access_token": t.access_token,
        "client_id": mi.client_id,
        "expires_in": t.expires_in.to_string(),
        "expires_on": t.expires_on.to_string(),
        "ext_expires_in": t.expires_in.to_string(),
        "not_before": t.not_before.to_string(),
        "resource": resource,
        "token_type": "Bearer",
    })
}

/// `GET /metadata/identity/oauth2/token` — IMDS (`api-version=2020-06-01` is Azure Arc).
pub async fn imds(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    let pairs = query_pairs(&uri);
    let Some(api_version) = param(&pairs, "api-version") else {
        return imds_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Required query variable 'api-version' is missing",
        );
    };
    if api_version == "2020-06-01" {
        return arc_flow(&state, &headers, &pairs, uri.path());
    }
    if !has_metadata(&headers) {
        return imds_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Required metadata header not specified",
        );
    }
    let Some(resource) = param(&pairs, "resource") else {
        return imds_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Required query variable 'resource' is missing",
        );
    };
    let sel = selector(
        &pairs,
        &["client_id"],
        &["object_id"],
        &["msi_res_id", "mi_res_id"],
    );
    let Some(mi) = state.config.entra.managed_identity(sel) else {
        return imds_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Identity not found",
        );
    };
    let t = issue(&state, mi, resource);
    reply(StatusCode::OK, imds_answer(mi, resource, &t))
}

/// `GET /msi/token` — App Service 2019-08-01 (`api-version=2017-09-01` there is Azure ML).
pub async fn app_service(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    let pairs = query_pairs(&uri);
    match param(&pairs, "api-version") {
        Some("2019-08-01") => {}
        Some("2017-09-01") => return azure_ml_flow(&state, &headers, &pairs),
        Some(v) => {
            return app_service_error(
                StatusCode::BAD_REQUEST,
                &format!("The api-version '{v}' is not supported. Use 2019-08-01."),
            );
        }
        None => {
            return app_service_error(
                StatusCode::BAD_REQUEST,
                "The query parameter 'api-version' is required.",
            );
        }
    }
    let expected = &state.config.entra.identity_header;
    match headers
        .get("x-identity-header")
        .and_then(|v| v.to_str().ok())
    {
        None => {
            return app_service_error(
                StatusCode::BAD_REQUEST,
                "The header 'X-IDENTITY-HEADER' is required (the value of IDENTITY_HEADER).",
            );
        }
        Some(v) if v != expected => {
            return app_service_error(
                StatusCode::UNAUTHORIZED,
                "The 'X-IDENTITY-HEADER' value does not match this site's IDENTITY_HEADER.",
            );
        }
        Some(_) => {}
    }
    let Some(resource) = param(&pairs, "resource") else {
        return app_service_error(
            StatusCode::BAD_REQUEST,
            "The query parameter 'resource' is required.",
        );
    };
    let sel = selector(
        &pairs,
        &["client_id"],
        &["object_id", "principal_id"],
        &["mi_res_id", "msi_res_id"],
    );
    let Some(mi) = state.config.entra.managed_identity(sel) else {
        return app_service_error(
            StatusCode::BAD_REQUEST,
            "No User Assigned or Delegated Managed Identity found for specified ClientId/ResourceId/PrincipalId.",
        );
    };
    let t = issue(&state, mi, resource);
    reply(
        StatusCode::OK,
        json!({
            "access_token": t.access_token,
            "expires_on": t.expires_on.to_string(),
            "resource": resource,
            "token_type": "Bearer",
            "client_id": mi.client_id,
        }),
    )
}

/// `GET /ml/token` — Azure ML 2017-09-01 (`secret` header, `clientid` parameter).
pub async fn azure_ml(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    azure_ml_flow(&state, &headers, &query_pairs(&uri))
}

fn azure_ml_flow(state: &AppState, headers: &HeaderMap, pairs: &Pairs) -> Response {
    let expected = &state.config.entra.msi_secret;
    if headers.get("secret").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        return app_service_error(
            StatusCode::UNAUTHORIZED,
            "The 'secret' header is missing or does not match MSI_SECRET.",
        );
    }
    let Some(resource) = param(pairs, "resource") else {
        return app_service_error(
            StatusCode::BAD_REQUEST,
            "The query parameter 'resource' is required.",
        );
    };
    let sel = selector(pairs, &["clientid", "client_id"], &[], &[]);
    let Some(mi) = state.config.entra.managed_identity(sel) else {
        return app_service_error(
            StatusCode::BAD_REQUEST,
            "No User Assigned or Delegated Managed Identity found for specified ClientId/ResourceId/PrincipalId.",
        );
    };
    let t = issue(state, mi, resource);
    reply(
        StatusCode::OK,
        json!({
            "access_token": t.access_token,
            "expires_on": t.expires_on.to_string(),
            "resource": resource,
            "token_type": "Bearer",
            "client_id": mi.client_id,
        }),
    )
}

/// `GET /arc/token` — Azure Arc.
pub async fn arc(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    let pairs = query_pairs(&uri);
    arc_flow(&state, &headers, &pairs, uri.path())
}

fn arc_flow(state: &AppState, headers: &HeaderMap, pairs: &Pairs, _path: &str) -> Response {
    if !has_metadata(headers) {
        return imds_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Required metadata header not specified",
        );
    }
    let Some(resource) = param(pairs, "resource") else {
        return imds_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Required query variable 'resource' is missing",
        );
    };
    let presented = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("basic").then(|| rest.trim())
        });
    let accepted = presented.is_some_and(|p| state.entra.arc_secret_valid(p));
    if !accepted {
        return match state.entra.arc_challenge(&state.config.entra.arc_key_dir) {
            Ok(path) => {
                let mut res = imds_error(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized_client",
                    if presented.is_some() {
                        "The secret in the Authorization header does not match a key file."
                    } else {
                        "Read the key file named in the WWW-Authenticate realm and send its content as 'Authorization: Basic <content>'."
                    },
                );
                if let Ok(v) = HeaderValue::from_str(&format!("Basic realm={}", path.display())) {
                    res.headers_mut().insert("www-authenticate", v);
                }
                res
            }
            Err(e) => imds_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                &format!(
                    "the emulator cannot write the Arc key file ({e}); set `entra.arc_key_dir` to a writable directory"
                ),
            ),
        };
    }
    let sel = selector(
        pairs,
        &["client_id"],
        &["object_id"],
        &["msi_res_id", "mi_res_id"],
    );
    let Some(mi) = state.config.entra.managed_identity(sel) else {
        return imds_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Identity not found",
        );
    };
    let t = issue(state, mi, resource);
    let mut answer = imds_answer(mi, resource, &t);
    // Echo the identity (MSAL 1.26+ checks that a requested user-assigned identity was honoured).
    answer["object_id"] = json!(mi.object_id);
    answer["msi_res_id"] = json!(mi.resource_id);
    reply(StatusCode::OK, answer)
}

/// `POST /cloudshell/token` and `POST /oauth2/token` — Cloud Shell (form `resource=`).
pub async fn cloud_shell(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !has_metadata(&headers) {
        return imds_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Required metadata header not specified",
        );
    }
    let form: Pairs = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let Some(resource) = param(&form, "resource") else {
        return imds_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Required form field 'resource' is missing",
        );
    };
    // Cloud Shell has no user-assigned identities: a `client_id` is ignored, as there.
    let mi = &state.config.entra.system_identity;
    let t = issue(&state, mi, resource);
    reply(
        StatusCode::OK,
        json!({
            "access_token": t.access_token,
            "refresh_token": "",
            "expires_in": t.expires_in.to_string(),
            "expires_on": t.expires_on.to_string(),
            "not_before": t.not_before.to_string(),
            "resource": resource,
            "token_type": "Bearer",
        }),
    )
}

/// `GET /sf/token` — Service Fabric (`Secret` header).
pub async fn service_fabric(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let pairs = query_pairs(&uri);
    let sf_error = |status: StatusCode, code: &str, message: &str| {
        reply(status, json!({"error": {"code": code, "message": message}}))
    };
    if param(&pairs, "api-version").is_none() {
        return sf_error(
            StatusCode::BAD_REQUEST,
            "ArgumentNullOrEmpty",
            "The parameter api-version cannot be null or empty.",
        );
    }
    match headers.get("secret").and_then(|v| v.to_str().ok()) {
        None => {
            return sf_error(
                StatusCode::UNAUTHORIZED,
                "SecretHeaderNotFound",
                "Secret is not found in the request headers.",
            );
        }
        Some(s) if s != state.config.entra.identity_header => {
            return sf_error(
                StatusCode::UNAUTHORIZED,
                "SecretHeaderNotFound",
                "The Secret header does not match IDENTITY_HEADER.",
            );
        }
        Some(_) => {}
    }
    let Some(resource) = param(&pairs, "resource") else {
        return sf_error(
            StatusCode::BAD_REQUEST,
            "ArgumentNullOrEmpty",
            "The parameter resource cannot be null or empty.",
        );
    };
    let mi = &state.config.entra.system_identity;
    let t = issue(&state, mi, resource);
    reply(
        StatusCode::OK,
        json!({
            "token_type": "Bearer",
            "access_token": t.access_token,
            "expires_on": t.expires_on,
            "resource": resource,
        }),
    )
}

impl super::EntraState {
    /// Writes a new `<uuid>.key` file with a random secret under `dir` (default: a per-process
    /// temp directory) and returns its path, for the Arc `WWW-Authenticate` realm.
    pub fn arc_challenge(&self, dir: &Option<PathBuf>) -> std::io::Result<PathBuf> {
        let dir = dir.clone().unwrap_or_else(|| {
            std::env::temp_dir().join(format!("aoai-emulator-arc-{}", std::process::id()))
        });
        std::fs::create_dir_all(&dir)?;
        let secret = uuid::Uuid::new_v4().simple().to_string();
        let path = dir.join(format!("{}.key", uuid::Uuid::new_v4().simple()));
        write_private(&path, secret.as_bytes())?;
        let mut keys = self
            .arc_keys
            .lock()
            .map_err(|_| std::io::Error::other("arc key list poisoned"))?;
        keys.push((path.clone(), secret));
        // Keep the last few challenges valid; remove older files.
        while keys.len() > 16 {
            let (old, _) = keys.remove(0);
            let _ = std::fs::remove_file(old);
        }
        Ok(path)
    }

    /// Whether `presented` is the content of a key file written by [`Self::arc_challenge`].
    pub fn arc_secret_valid(&self, presented: &str) -> bool {
        self.arc_keys
            .lock()
            .map(|keys| keys.iter().any(|(_, s)| s == presented.trim()))
            .unwrap_or(false)
    }
}

fn write_private(path: &std::path::Path, content: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(content)
}
