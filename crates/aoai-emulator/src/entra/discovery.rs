//! OIDC discovery (v2 and v1), MSAL instance discovery and the JWKS. Every URL in these
//! documents is built from the origin the client used (`Host` + the emulator's scheme), so a
//! client that follows them never leaves the emulator.

use axum::{
    extract::{Path, State},
    http::{HeaderMap, StatusCode, Uri},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use super::{AadError, errors::json_body, origin, param, query_pairs};
use crate::state::AppState;

/// `GET /{tenant}/v2.0/.well-known/openid-configuration`.
pub async fn openid_v2(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let o = origin(&state, &headers, &uri);
    if !known(&state, &tenant) {
        return AadError::unknown_tenant(&tenant).respond(&o, &headers);
    }
    let doc = json!({
        "token_endpoint": format!("{o}/{tenant}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{o}/{tenant}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": format!("{o}/{tenant}/v2.0"),
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": format!("{o}/oidc/userinfo"),
        "authorization_endpoint": format!("{o}/{tenant}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": format!("{o}/{tenant}/oauth2/v2.0/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{o}/{tenant}/oauth2/v2.0/logout"),
        "claims_supported": claims_supported(),
        "kerberos_endpoint": format!("{o}/{tenant}/kerberos"),
        "tenant_region_scope": "NA",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
    });
    ok_json(&doc)
}

/// `GET /{tenant}/.well-known/openid-configuration` (v1).
pub async fn openid_v1(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let o = origin(&state, &headers, &uri);
    if !known(&state, &tenant) {
        return AadError::unknown_tenant(&tenant).respond(&o, &headers);
    }
    let doc = json!({
        "token_endpoint": format!("{o}/{tenant}/oauth2/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{o}/{tenant}/discovery/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "response_types_supported": ["code", "id_token", "code id_token", "token id_token", "token"],
        "scopes_supported": ["openid"],
        "issuer": crate::jwt::issuer_for(&tenant),
        "microsoft_multi_refresh_token": true,
        "authorization_endpoint": format!("{o}/{tenant}/oauth2/authorize"),
        "device_authorization_endpoint": format!("{o}/{tenant}/oauth2/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{o}/{tenant}/oauth2/logout"),
        "claims_supported": claims_supported(),
        "check_session_iframe": format!("{o}/{tenant}/oauth2/checksession"),
        "userinfo_endpoint": format!("{o}/{tenant}/openid/userinfo"),
        "kerberos_endpoint": format!("{o}/{tenant}/kerberos"),
        "tenant_region_scope": "NA",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
    });
    ok_json(&doc)
}

/// `GET /common/discovery/instance?api-version=1.1&authorization_endpoint=<origin>/<tenant>/oauth2/v2.0/authorize`.
pub async fn instance(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    let o = origin(&state, &headers, &uri);
    let pairs = query_pairs(&uri);
    let Some(endpoint) = param(&pairs, "authorization_endpoint") else {
        return AadError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90014,
            "The required field 'authorization_endpoint' is missing from the credential. Ensure that you have all the necessary parameters for the login request.",
        )
        .respond(&o, &headers);
    };
    let parsed = url::Url::parse(endpoint).ok();
    let tenant = parsed
        .as_ref()
        .and_then(|u| u.path_segments()?.next().map(str::to_owned))
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| "common".to_owned());
    let host = parsed
        .as_ref()
        .and_then(|u| {
            let h = u.host_str()?;
            Some(match u.port() {
                Some(p) => format!("{h}:{p}"),
                None => h.to_owned(),
            })
        })
        .unwrap_or_default();
    let ours = o.split_once("://").map(|(_, h)| h).unwrap_or("");
    let mut aliases = vec![ours.to_owned()];
    if !host.is_empty() && !host.eq_ignore_ascii_case(ours) {
        aliases.push(host);
    }
    let doc = json!({
        "tenant_discovery_endpoint": format!("{o}/{tenant}/v2.0/.well-known/openid-configuration"),
        "api-version": "1.1",
        "metadata": [{
            "preferred_network": ours,
            "preferred_cache": ours,
            "aliases": aliases,
        }],
    });
    ok_json(&doc)
}

/// `GET /{tenant}/discovery/v2.0/keys` (also `/{tenant}/discovery/keys`, `/common/discovery/keys`).
pub async fn keys(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let o = origin(&state, &headers, &uri);
    let issuer_tenant = if matches!(tenant.as_str(), "common" | "organizations") {
        "{tenantid}".to_owned()
    } else if known(&state, &tenant) {
        tenant
    } else {
        return AadError::unknown_tenant(&tenant).respond(&o, &headers);
    };
    ok_json(
        &state
            .issuer
            .jwks(Some(&crate::jwt::issuer_for(&issuer_tenant))),
    )
}

fn known(state: &AppState, tenant: &str) -> bool {
    state.config.entra.knows_tenant(tenant)
}

fn claims_supported() -> Value {
    json!([
        "sub",
        "iss",
        "cloud_instance_name",
        "cloud_instance_host_name",
        "cloud_graph_host_name",
        "msgraph_host",
        "aud",
        "exp",
        "iat",
        "auth_time",
        "acr",
        "nonce",
        "preferred_username",
        "name",
        "tid",
        "ver",
        "at_hash",
        "c_hash",
        "email"
    ])
}

fn ok_json(doc: &Value) -> Response {
    (StatusCode::OK, json_body(doc)).into_response()
}
