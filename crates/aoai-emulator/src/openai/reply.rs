//! Building responses the way Azure sends them: bodies of the spec's error tables and the common
//! headers (`apim-request-id` everywhere, `x-request-id` on model-side answers, `x-ms-region`).

use axum::{
    body::Body,
    http::{HeaderName, HeaderValue, StatusCode, header},
    response::Response,
};
use rand::Rng;
use serde_json::{Value, json};

/// Message of A1 (wrong or missing key).
pub const A1_MESSAGE: &str = "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.";
/// Message of A2 (bad token).
pub const A2_MESSAGE: &str = "Unauthorized. Access token is missing, invalid, audience is incorrect (https://cognitiveservices.azure.com), or have expired.";
/// Message of A5 (key auth disabled).
pub const A5_MESSAGE: &str = "Key based authentication is disabled for this resource.";
/// Message of 404 DeploymentNotFound.
pub const DEPLOYMENT_NOT_FOUND_MESSAGE: &str = "The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.";
/// Message of the prompt content-filter 400.
pub const CONTENT_FILTER_MESSAGE: &str = "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry. To learn more about our content filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766";

/// A random UUID (v4) from the thread-local generator (no syscall per request).
pub fn request_id() -> String {
    let bytes: [u8; 16] = rand::rng().random();
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string()
}

/// Which family of answer this is, for the headers it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Produced by the gateway (auth, routing): `apim-request-id` but no `x-request-id`.
    Gateway,
    /// Produced by the model side: also `x-request-id`.
    Model,
}

/// A response under construction.
pub struct Reply {
    status: StatusCode,
    body: Body,
    headers: Vec<(HeaderName, HeaderValue)>,
    content_type: &'static str,
}

impl Reply {
    /// A JSON reply.
    pub fn json(status: StatusCode, body: &Value) -> Self {
        Self {
            status,
            body: Body::from(serde_json::to_vec(body).unwrap_or_default()),
            headers: Vec::new(),
            content_type: "application/json",
        }
    }

    /// A reply with a prepared body and content type.
    pub fn raw(status: StatusCode, content_type: &'static str, body: Body) -> Self {
        Self {
            status,
            body,
            headers: Vec::new(),
            content_type,
        }
    }

    /// Adds a header (values that are not valid header text are skipped).
    pub fn header(mut self, name: &'static str, value: impl AsRef<str>) -> Self {
        if let Ok(v) = HeaderValue::from_str(value.as_ref()) {
            self.headers.push((HeaderName::from_static(name), v));
        }
        self
    }

    /// Finishes with the headers every answer of `origin` carries.
    pub fn finish(self, origin: Origin, region: &str) -> Response {
        let mut res = Response::new(self.body);
        *res.status_mut() = self.status;
        let h = res.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(self.content_type),
        );
        let id = request_id();
        if let Ok(v) = HeaderValue::from_str(&id) {
            if origin == Origin::Model {
                h.insert(HeaderName::from_static("x-request-id"), v.clone());
            }
            h.insert(HeaderName::from_static("apim-request-id"), v);
        }
        if let Ok(v) = HeaderValue::from_str(region) {
            h.insert(HeaderName::from_static("x-ms-region"), v);
        }
        for (name, value) in self.headers {
            h.insert(name, value);
        }
        res
    }
}

/// `{"error":{"code":..,"message":..}}` (gateway short form).
pub fn short_error(code: &str, message: &str) -> Value {
    json!({"error": {"code": code, "message": message}})
}

/// OpenAI-style `{"error":{"message","type","param","code"}}`.
pub fn openai_error(
    message: &str,
    kind: Option<&str>,
    param: Option<&str>,
    code: Option<&str>,
) -> Value {
    json!({"error": {"message": message, "type": kind, "param": param, "code": code}})
}

/// The 404 body byte for byte as the service sends it (56 bytes, note the space).
pub const RESOURCE_NOT_FOUND_BODY: &str =
    r#"{"error":{"code":"404","message": "Resource not found"}}"#;
/// The A5 body byte for byte as reported (note the space).
pub const A5_BODY: &str = r#"{"error":{"code":"AuthenticationTypeDisabled","message": "Key based authentication is disabled for this resource."}}"#;

/// 404 `Resource not found` (unknown path, api-version missing or lacking the operation).
pub fn resource_not_found(region: &str) -> Response {
    Reply::raw(
        StatusCode::NOT_FOUND,
        "application/json",
        Body::from(RESOURCE_NOT_FOUND_BODY),
    )
    .finish(Origin::Gateway, region)
}

/// 400 `API version not supported`.
pub fn api_version_not_supported(region: &str) -> Response {
    Reply::json(
        StatusCode::BAD_REQUEST,
        &short_error("BadRequest", "API version not supported"),
    )
    .finish(Origin::Gateway, region)
}

/// 404 `DeploymentNotFound`.
pub fn deployment_not_found(region: &str) -> Response {
    Reply::json(
        StatusCode::NOT_FOUND,
        &short_error("DeploymentNotFound", DEPLOYMENT_NOT_FOUND_MESSAGE),
    )
    .finish(Origin::Gateway, region)
}

/// 400 with an OpenAI-style `invalid_request_error`.
pub fn invalid_request(region: &str, message: &str, param: Option<&str>) -> Response {
    Reply::json(
        StatusCode::BAD_REQUEST,
        &openai_error(message, Some("invalid_request_error"), param, None),
    )
    .finish(Origin::Model, region)
}

/// The severity categories all "safe".
pub fn safe_severity() -> Value {
    json!({"filtered": false, "severity": "safe"})
}

/// Prompt annotations (`prompt_filter_results[0].content_filter_results`) of a clean prompt.
pub fn prompt_filter_results() -> Value {
    json!([{"prompt_index": 0, "content_filter_results": {
        "hate": safe_severity(),
        "jailbreak": {"filtered": false, "detected": false},
        "self_harm": safe_severity(),
        "sexual": safe_severity(),
        "violence": safe_severity(),
    }}])
}

/// Choice annotations of a completed answer; `violence` filtered at `medium` when `filtered`.
pub fn choice_filter_results(filtered: bool) -> Value {
    let violence = if filtered {
        json!({"filtered": true, "severity": "medium"})
    } else {
        safe_severity()
    };
    json!({
        "hate": safe_severity(),
        "protected_material_code": {"filtered": false, "detected": false},
        "protected_material_text": {"filtered": false, "detected": false},
        "self_harm": safe_severity(),
        "sexual": safe_severity(),
        "violence": violence,
    })
}

/// The content-filter 400 body of spec §3.1.
pub fn content_filter_body() -> Value {
    json!({"error": {
        "message": CONTENT_FILTER_MESSAGE,
        "type": null,
        "param": "prompt",
        "code": "content_filter",
        "status": 400,
        "innererror": {
            "code": "ResponsibleAIPolicyViolation",
            "content_filter_result": {
                "hate": safe_severity(),
                "jailbreak": {"filtered": false, "detected": false},
                "self_harm": safe_severity(),
                "sexual": safe_severity(),
                "violence": {"filtered": true, "severity": "medium"},
            }
        }
    }})
}

/// The 500 body of spec §3.4 (for faults and tests).
pub fn server_error_body(request_id: &str) -> Value {
    openai_error(
        &format!(
            "The server had an error while processing your request. Sorry about that! You can retry your request, or contact us through an Azure support request at: https://go.microsoft.com/fwlink/?linkid=2213926 if the error persists. (Please include the request ID {request_id} in your message.)"
        ),
        Some("server_error"),
        None,
        None,
    )
}

/// The "overloaded" body of spec §3.4 (sent with 429 or 503).
pub fn overloaded_body(request_id: &str) -> Value {
    openai_error(
        &format!(
            "That model is currently overloaded with other requests. You can retry your request, or contact us through an Azure support request at: https://go.microsoft.com/fwlink/?linkid=2213926 if the error persists. (Please include the request ID {request_id} in your message.)"
        ),
        Some("server_error"),
        None,
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_uuids() {
        let id = request_id();
        assert_eq!(id.len(), 36);
        assert_ne!(id, request_id());
        assert!(uuid::Uuid::parse_str(&id).is_ok());
    }

    #[test]
    fn content_filter_body_matches_the_spec() {
        let b = content_filter_body();
        assert_eq!(b["error"]["code"], "content_filter");
        assert_eq!(b["error"]["param"], "prompt");
        assert_eq!(b["error"]["status"], 400);
        assert_eq!(
            b["error"]["innererror"]["content_filter_result"]["violence"]["filtered"],
            true
        );
    }
}
