//! `POST /_emulator/tokens`: mint a token with any claims, for client tests (expired,
//! wrong-audience, other-tenant, unknown-principal tokens).
//!
//! Request (JSON, every field optional): `{"tenant_id", "object_id", "client_id", "audience",
//! "expires_in" (seconds, may be negative), "roles": [..]}`. Defaults: the configured tenant, the
//! first configured principal, `https://cognitiveservices.azure.com`, `entra.token_lifetime_secs`.
//! Answer: `{"access_token", "token_type": "Bearer", "expires_in", "expires_on"}`.

use axum::{
    Json,
    body::Bytes,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::json;

use crate::{jwt::MintOptions, state::AppState};

/// The handler.
pub async fn mint(State(state): State<AppState>, body: Bytes) -> Response {
    let options = if body.iter().all(u8::is_ascii_whitespace) {
        MintOptions::default()
    } else {
        match serde_json::from_slice::<MintOptions>(&body) {
            Ok(o) => o,
            Err(e) => {
                return (
                    StatusCode::BAD_REQUEST,
                    Json(json!({"error": format!(
                        "expected {{\"tenant_id\"?, \"object_id\"?, \"client_id\"?, \"audience\"?, \"expires_in\"?, \"roles\"?}}: {e}"
                    )})),
                )
                    .into_response();
            }
        }
    };
    let t = state.issuer.mint(options);
    Json(json!({
        "access_token": t.access_token,
        "token_type": "Bearer",
        "expires_in": t.expires_in,
        "expires_on": t.expires_on,
    }))
    .into_response()
}
