//! `/_emulator/*`: the test-control API (not journaled, not subject to faults).
//!
//! | Request | Effect |
//! |---|---|
//! | `GET /_emulator/requests` | the journal, oldest first (array of [`crate::journal::JournalEntry`]) |
//! | `DELETE /_emulator/requests` | clear the journal |
//! | `POST /_emulator/faults` | queue one fault object or an array of them ([`crate::faults`]) |
//! | `GET /_emulator/faults` | the faults still queued |
//! | `DELETE /_emulator/faults` | clear the queue |

use axum::{
    Json, Router,
    body::Bytes,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::get,
};
use serde_json::json;

use crate::{faults::OneOrMany, state::AppState};

/// The control routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/_emulator/requests",
            get(get_requests).delete(clear_requests),
        )
        .route(
            "/_emulator/faults",
            get(get_faults).post(push_faults).delete(clear_faults),
        )
}

async fn get_requests(State(state): State<AppState>) -> Response {
    Json(state.journal.entries()).into_response()
}

async fn clear_requests(State(state): State<AppState>) -> StatusCode {
    state.journal.clear();
    StatusCode::NO_CONTENT
}

async fn get_faults(State(state): State<AppState>) -> Response {
    Json(state.faults.pending()).into_response()
}

async fn push_faults(State(state): State<AppState>, body: Bytes) -> Response {
    match serde_json::from_slice::<OneOrMany>(&body) {
        Ok(faults) => {
            let faults = faults.into_vec();
            let n = faults.len();
            for f in faults {
                state.faults.push(f);
            }
            (StatusCode::OK, Json(json!({"queued": n}))).into_response()
        }
        Err(e) => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": format!(
                "expected a fault object or an array of them ({{\"path\": \"/openai/...\", \"kind\": \"reply\", \"status\": 503}}): {e}"
            )})),
        )
            .into_response(),
    }
}

async fn clear_faults(State(state): State<AppState>) -> StatusCode {
    state.faults.clear();
    StatusCode::NO_CONTENT
}
