//! The Entra token endpoints: `POST /{tenant}/oauth2/v2.0/token` (`scope=<resource>/.default`)
//! and the v1 `POST /{tenant}/oauth2/token` (`resource=<resource>`), grant `client_credentials`
//! with a client secret or a client assertion.
//!
//! v2 answer: `{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":".."}`;
//! v1 answer: the same plus `expires_on`, `not_before`, `resource`, all numbers as strings.

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
};
use serde_json::json;

use super::{
    AadError, PrincipalConfig, assertion,
    errors::{entra_headers, json_body},
    origin, param,
};
use crate::{jwt::TokenSpec, state::AppState};

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Version {
    V1,
    V2,
}

/// `POST /{tenant}/oauth2/v2.0/token`.
pub async fn token_v2(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    method: Method,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    token(state, tenant, method, headers, uri, body, Version::V2)
}

/// `POST /{tenant}/oauth2/token` (v1: `resource` instead of `scope`).
pub async fn token_v1(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    method: Method,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    token(state, tenant, method, headers, uri, body, Version::V1)
}

fn token(
    state: AppState,
    tenant: String,
    method: Method,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
    version: Version,
) -> Response {
    let o = origin(&state, &headers, &uri);
    match grant(&state, &tenant, &method, &body, version) {
        Ok(answer) => {
            let request_id = uuid::Uuid::new_v4().to_string();
            let mut res = (StatusCode::OK, json_body(&answer)).into_response();
            entra_headers(res.headers_mut(), &request_id);
            res
        }
        Err(e) => e.respond(&o, &headers),
    }
}

fn grant(
    state: &AppState,
    tenant: &str,
    method: &Method,
    body: &[u8],
    version: Version,
) -> Result<serde_json::Value, AadError> {
    let entra = &state.config.entra;
    if !entra.knows_tenant(tenant) {
        return Err(AadError::unknown_tenant(tenant));
    }
    if method != Method::POST {
        return Err(AadError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900561,
            format!(
                "The endpoint only accepts POST, OPTIONS requests. Received a {method} request."
            ),
        ));
    }
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
    let field = |name: &str| param(&form, name);
    let grant_type = field("grant_type").ok_or_else(|| AadError::missing("grant_type"))?;
    if grant_type != "client_credentials" {
        return Err(AadError::new(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            format!(
                "The app requested an unsupported grant type '{grant_type}'. The emulator issues tokens for client_credentials only."
            ),
        ));
    }
    let client_id = field("client_id").ok_or_else(|| AadError::missing("client_id"))?;
    let principal = entra
        .principal(client_id)
        .filter(|p| entra.tenant_of(p).eq_ignore_ascii_case(tenant))
        .ok_or_else(|| AadError::unknown_client(client_id, tenant))?;
    let resource = match version {
        Version::V2 => resource_of_scope(field("scope"))?,
        Version::V1 => field("resource")
            .map(str::to_owned)
            .ok_or_else(|| AadError::missing("resource"))?,
    };
    let appidacr = authenticate(principal, tenant, &form)?;
    let lifetime = entra.token_lifetime_secs as i64;
    let issued = state.issuer.issue(&TokenSpec {
        tenant_id: entra.tenant_of(principal).to_owned(),
        object_id: principal.oid(),
        client_id: principal.client_id.clone(),
        audience: resource.clone(),
        expires_in: lifetime,
        roles: Vec::new(),
        appidacr,
        mi_resource_id: None,
    });
    Ok(match version {
        Version::V2 => json!({
            "token_type": "Bearer",
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": issued.access_token,
        }),
        Version::V1 => json!({
            "token_type": "Bearer",
            "expires_in": lifetime.to_string(),
            "ext_expires_in": lifetime.to_string(),
            "expires_on": issued.expires_on.to_string(),
            "not_before": issued.not_before.to_string(),
            "resource": resource,
            "access_token": issued.access_token,
        }),
    })
}

/// `<resource>/.default` → `<resource>`; the reserved OIDC scopes are ignored.
fn resource_of_scope(scope: Option<&str>) -> Result<String, AadError> {
    let scope = scope.ok_or_else(|| AadError::invalid_scope(None))?;
    let mut resources = scope
        .split(' ')
        .filter(|s| !s.is_empty())
        .filter(|s| !matches!(*s, "openid" | "profile" | "offline_access" | "email"));
    match (resources.next(), resources.next()) {
        (Some(one), None) => match one.strip_suffix("/.default") {
            Some(resource) if !resource.is_empty() => Ok(resource.to_owned()),
            _ => Err(AadError::invalid_scope(Some(scope))),
        },
        _ => Err(AadError::invalid_scope(Some(scope))),
    }
}

/// Checks the client credential; returns the token's `appidacr` (1 = secret, 2 = assertion).
fn authenticate(
    principal: &PrincipalConfig,
    tenant: &str,
    form: &[(String, String)],
) -> Result<&'static str, AadError> {
    let field = |name: &str| param(form, name);
    if let Some(secret) = field("client_secret") {
        return match &principal.secret {
            Some(s) if constant_time_eq(s.as_bytes(), secret.as_bytes()) => Ok("1"),
            _ => Err(AadError::bad_secret(&principal.client_id)),
        };
    }
    if let Some(assertion) = field("client_assertion") {
        match field("client_assertion_type") {
            Some(JWT_BEARER) => {}
            None => return Err(AadError::missing("client_assertion_type")),
            Some(other) => {
                return Err(AadError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    7000216,
                    format!("'client_assertion_type' is invalid: '{other}'. Use '{JWT_BEARER}'."),
                ));
            }
        }
        let suffixes = [
            format!("/{tenant}/oauth2/v2.0/token"),
            format!("/{tenant}/oauth2/token"),
        ];
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        assertion::verify(assertion, principal, &suffixes, now)?;
        return Ok("2");
    }
    Err(AadError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    ))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes() {
        assert_eq!(
            resource_of_scope(Some("https://cognitiveservices.azure.com/.default")).unwrap(),
            "https://cognitiveservices.azure.com"
        );
        assert_eq!(
            resource_of_scope(Some("https://management.core.windows.net//.default")).unwrap(),
            "https://management.core.windows.net/"
        );
        assert_eq!(
            resource_of_scope(Some("openid https://x/.default offline_access")).unwrap(),
            "https://x"
        );
        for bad in [
            "https://cognitiveservices.azure.com",
            "/.default",
            "https://a/.default https://b/.default",
            "openid",
        ] {
            assert_eq!(
                resource_of_scope(Some(bad)).unwrap_err().code,
                70011,
                "{bad}"
            );
        }
        assert_eq!(resource_of_scope(None).unwrap_err().code, 70011);
    }
}
