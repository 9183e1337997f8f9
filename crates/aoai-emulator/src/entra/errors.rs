//! Entra's OAuth error answers, shaped as Entra sends them (spec identity-wire §4.1.5):
//!
//! ```text
//! 400/401  Content-Type: application/json; charset=utf-8
//! {"error":"invalid_client",
//!  "error_description":"AADSTS7000215: Invalid client secret provided. ...\r\nTrace ID: <uuid>\r\nCorrelation ID: <uuid>\r\nTimestamp: 2026-01-01 00:00:00Z",
//!  "error_codes":[7000215],"timestamp":"2026-01-01 00:00:00Z","trace_id":"<uuid>",
//!  "correlation_id":"<uuid>","error_uri":"<origin>/error?code=7000215"}
//! ```

use axum::{
    http::{HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use serde_json::json;

/// One Entra error (`AADSTS<code>: <text>`), turned into the response by [`AadError::respond`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AadError {
    /// HTTP status (400 or 401).
    pub status: StatusCode,
    /// OAuth `error` (`invalid_client`, `invalid_request`, ...).
    pub error: &'static str,
    /// The AADSTS number.
    pub code: u32,
    /// The text after `AADSTS<code>: `.
    pub text: String,
}

impl AadError {
    /// An error with `status`, OAuth `error`, AADSTS `code` and `text`.
    pub fn new(
        status: StatusCode,
        error: &'static str,
        code: u32,
        text: impl Into<String>,
    ) -> Self {
        Self {
            status,
            error,
            code,
            text: text.into(),
        }
    }

    /// AADSTS90002: the tenant in the path is unknown.
    pub fn unknown_tenant(tenant: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_tenant",
            90002,
            format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."
            ),
        )
    }

    /// AADSTS900144: a required form field is missing.
    pub fn missing(field: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            format!("The request body must contain the following parameter: '{field}'."),
        )
    }

    /// AADSTS700016: no such application in the tenant.
    pub fn unknown_client(client_id: &str, tenant: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            format!(
                "Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."
            ),
        )
    }

    /// AADSTS7000215: wrong client secret.
    pub fn bad_secret(client_id: &str) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000215,
            format!(
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."
            ),
        )
    }

    /// AADSTS70011: the scope is missing or not `<resource>/.default`.
    pub fn invalid_scope(scope: Option<&str>) -> Self {
        let text = match scope {
            None => "The provided request must include a 'scope' input parameter.".to_owned(),
            Some(s) => format!(
                "The provided value for the input parameter 'scope' is not valid. The scope {s} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
            ),
        };
        Self::new(StatusCode::BAD_REQUEST, "invalid_scope", 70011, text)
    }

    /// Writes the response; `correlation` is the client's `client-request-id` when it sent one.
    pub fn respond(&self, origin: &str, request_headers: &HeaderMap) -> Response {
        let trace_id = uuid::Uuid::new_v4().to_string();
        let correlation_id = request_headers
            .get("client-request-id")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| uuid::Uuid::parse_str(v).ok())
            .unwrap_or_else(uuid::Uuid::new_v4)
            .to_string();
        let timestamp = timestamp();
        let description = format!(
            "AADSTS{}: {}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {timestamp}",
            self.code, self.text
        );
        let body = json!({
            "error": self.error,
            "error_description": description,
            "error_codes": [self.code],
            "timestamp": timestamp,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": format!("{origin}/error?code={}", self.code),
        });
        let mut res = (self.status, json_body(&body)).into_response();
        entra_headers(res.headers_mut(), &trace_id);
        res
    }
}

/// `2026-01-01 00:00:00Z`, Entra's error timestamp format.
pub(crate) fn timestamp() -> String {
    let now = time::OffsetDateTime::now_utc();
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]Z");
    now.format(&fmt).unwrap_or_default()
}

/// Serialises `value` with Entra's content type.
pub(crate) fn json_body(value: &serde_json::Value) -> ([(&'static str, &'static str); 1], String) {
    (
        [("content-type", "application/json; charset=utf-8")],
        value.to_string(),
    )
}

/// Headers Entra puts on token-endpoint answers.
pub(crate) fn entra_headers(headers: &mut HeaderMap, request_id: &str) {
    headers.insert(
        "cache-control",
        HeaderValue::from_static("no-store, no-cache"),
    );
    headers.insert("pragma", HeaderValue::from_static("no-cache"));
    headers.insert(
        "x-ms-ests-server",
        HeaderValue::from_static("aoai-emulator"),
    );
    if let Ok(v) = HeaderValue::from_str(request_id) {
        headers.insert("x-ms-request-id", v);
    }
}
