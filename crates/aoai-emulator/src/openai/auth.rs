//! Authentication and authorisation of data-plane requests, in Azure's order (spec §7.2):
//! credential → 401 A1/A2 → tenant (400 A4) → key auth disabled (403 A5) → role (401 A3).
//!
//! * `api-key: <key>` works on every route.
//! * `Authorization: Bearer <key>` works on `/openai/v1/` only; on classic routes the key is taken
//!   as a token and fails with A2. On v1 a bearer value that is neither a configured key nor
//!   JWT-shaped (three dot-separated parts) is a wrong key (A1).
//! * `Authorization: Bearer <JWT>` is verified by [`crate::jwt::TokenIssuer::verify`]; the token's
//!   `tid` must be the resource tenant and its principal (`oid`, else `appid`) must hold one of
//!   [`DATA_ROLES`].
//! * No credential at all: A1 (spec §9).

use axum::{http::HeaderMap, http::StatusCode, response::Response};
use serde_json::json;

use crate::{
    jwt::AccessClaims,
    openai::{
        api_version::Operation,
        reply::{self, Origin, Reply},
    },
    state::AppState,
};

/// Roles that grant data-plane inference.
pub const DATA_ROLES: &[&str] = &[
    "Cognitive Services OpenAI User",
    "Cognitive Services OpenAI Contributor",
    "Cognitive Services User",
];

/// Who the request is from.
#[derive(Debug, Clone)]
pub enum Caller {
    /// A valid resource key.
    Key,
    /// A valid Entra token whose principal holds a data role.
    Token(Box<AccessClaims>),
}

/// Authenticates and authorises a request for `op`; `Err` is the finished error response.
pub fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    v1: bool,
    op: Operation,
) -> Result<Caller, Response> {
    let config = &state.config;
    let region = config.region.as_str();
    let key_ok = || {
        if config.disable_key_auth {
            Err(a5(region))
        } else {
            Ok(Caller::Key)
        }
    };
    if let Some(key) = headers.get("api-key") {
        let key = key.to_str().unwrap_or("");
        if !config.api_keys.iter().any(|k| k == key) {
            return Err(a1(region));
        }
        return key_ok();
    }
    let Some(authorization) = headers.get(axum::http::header::AUTHORIZATION) else {
        return Err(a1(region));
    };
    let authorization = authorization.to_str().unwrap_or("");
    let token = match authorization.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        _ => return Err(a2(region)),
    };
    if v1 && config.api_keys.iter().any(|k| k == token) {
        return key_ok();
    }
    if token.split('.').count() != 3 {
        // Not a JWT: a wrong key on v1, a bad token on classic routes.
        return Err(if v1 { a1(region) } else { a2(region) });
    }
    let claims = state.issuer.verify(token).map_err(|_| a2(region))?;
    if let Some(tenant) = config.entra.resource_tenant()
        && !claims.tid.eq_ignore_ascii_case(tenant)
    {
        return Err(a4(region, &claims.tid));
    }
    let has_role = [claims.oid.as_str(), claims.appid.as_str()]
        .into_iter()
        .filter(|p| !p.is_empty())
        .filter_map(|p| config.entra.roles_of(p))
        .flatten()
        .any(|r| DATA_ROLES.iter().any(|d| d.eq_ignore_ascii_case(r)));
    if !has_role {
        let principal = if claims.oid.is_empty() {
            &claims.appid
        } else {
            &claims.oid
        };
        return Err(a3(region, principal, op));
    }
    Ok(Caller::Token(Box::new(claims)))
}

/// 401 A1.
pub fn a1(region: &str) -> Response {
    Reply::json(
        StatusCode::UNAUTHORIZED,
        &reply::short_error("401", reply::A1_MESSAGE),
    )
    .finish(Origin::Gateway, region)
}

/// 401 A2 (bare body, no `error` envelope).
pub fn a2(region: &str) -> Response {
    Reply::json(
        StatusCode::UNAUTHORIZED,
        &json!({"statusCode": 401, "message": reply::A2_MESSAGE}),
    )
    .finish(Origin::Gateway, region)
}

/// 401 A3 `PermissionDenied`.
pub fn a3(region: &str, principal: &str, op: Operation) -> Response {
    let (action, operation) = match op {
        Operation::Chat => (
            "Microsoft.CognitiveServices/accounts/OpenAI/deployments/chat/completions/action",
            "POST /openai/deployments/{deployment-id}/chat/completions",
        ),
        Operation::Embeddings => (
            "Microsoft.CognitiveServices/accounts/OpenAI/deployments/embeddings/action",
            "POST /openai/deployments/{deployment-id}/embeddings",
        ),
        Operation::Models => (
            "Microsoft.CognitiveServices/accounts/OpenAI/models/read",
            "GET /openai/models",
        ),
        Operation::Deployments => (
            "Microsoft.CognitiveServices/accounts/OpenAI/deployments/read",
            "GET /openai/deployments",
        ),
    };
    let message = format!(
        "The principal `{principal}` lacks the required data action `{action}` to perform `{operation}` operation."
    );
    Reply::json(
        StatusCode::UNAUTHORIZED,
        &reply::short_error("PermissionDenied", &message),
    )
    .finish(Origin::Gateway, region)
}

/// 400 A4 (token from another tenant).
pub fn a4(region: &str, token_tenant: &str) -> Response {
    Reply::json(
        StatusCode::BAD_REQUEST,
        &reply::short_error(
            "Tenant provided in token does not match resource token",
            &format!("Token tenant {token_tenant} does not match resource tenant."),
        ),
    )
    .finish(Origin::Gateway, region)
}

/// 403 A5 `AuthenticationTypeDisabled`.
pub fn a5(region: &str) -> Response {
    Reply::raw(
        StatusCode::FORBIDDEN,
        "application/json",
        axum::body::Body::from(reply::A5_BODY),
    )
    .finish(Origin::Gateway, region)
}
