//! Turns an error answer of the service (spec `aoai-wire.md` §2-3) into an [`Error`] with the
//! right kind and a quick fix that names the exact action.
//!
//! Bodies are parsed leniently: the gateway's `{"error":{"code","message"}}`, OpenAI's
//! `{"error":{"message","type","param","code"}}`, the bare `{"statusCode","message"}` of token
//! failures and `{"code":400,"message"}`; `code` may be a string or a number.

use std::time::Duration;

use serde_json::Value;

use crate::error::{Error, ErrorKind};

/// Everything about a failed answer that classification looks at.
pub(crate) struct Failed<'a> {
    /// HTTP status; `None` for an error event inside a stream.
    pub status: Option<u16>,
    /// The body, as text.
    pub body: &'a str,
    /// `apim-request-id` or `x-request-id`.
    pub request_id: Option<String>,
    /// The server's requested delay.
    pub retry_after: Option<Duration>,
    /// The deployment the request was for.
    pub deployment: &'a str,
    /// Whether the request carried a bearer token (rather than a key).
    pub bearer: bool,
}

/// Azure's `code` and `message` from any of the known body shapes.
pub(crate) fn code_and_message(body: &str) -> (Option<String>, Option<String>) {
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let err = v.get("error").filter(|e| e.is_object()).unwrap_or(&v);
    let code = match err.get("code") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let message = err
        .get("message")
        .and_then(Value::as_str)
        .map(|m| m.trim().to_string());
    (code, message)
}

const ROLE_FIX: &str = "assign the data-plane role: az role assignment create --role \
    \"Cognitive Services OpenAI User\" --assignee <principal id> --scope <resource id> \
    (takes up to 5 minutes to apply)";

/// Classifies a failed answer.
pub(crate) fn classify(f: Failed<'_>) -> Error {
    let (code, message) = code_and_message(f.body);
    let code_str = code.as_deref().unwrap_or_default();
    let msg = message.as_deref().unwrap_or_default();
    let bare_token_401 = f.body.contains("\"statusCode\"") && !f.body.contains("\"error\"");
    let (kind, summary, fix): (ErrorKind, &str, String) = match f.status {
        _ if code_str == "content_filter" => (
            ErrorKind::ContentFilter,
            "the prompt was blocked by the content filter",
            "rephrase the prompt, or review the deployment's content filter policy in the \
             Azure AI Foundry portal"
                .into(),
        ),
        Some(401) if code_str == "PermissionDenied" => (
            ErrorKind::Permission,
            "the principal lacks the data-plane role on this resource",
            ROLE_FIX.into(),
        ),
        Some(401) if msg.contains("missing subscription key") => (
            ErrorKind::Authentication,
            "an API Management gateway asked for its subscription key",
            "this endpoint is an API Management gateway, not the Azure OpenAI resource: use the \
             resource's endpoint (https://<resource>.openai.azure.com) or send the gateway's \
             Ocp-Apim-Subscription-Key"
                .into(),
        ),
        Some(401) if bare_token_401 || (f.bearer && code.is_none()) => (
            ErrorKind::Authentication,
            "the service refused the Entra token",
            "the token is missing, invalid, expired or for another audience: request the scope \
             https://cognitiveservices.azure.com/.default (see `aoai token --explain`)"
                .into(),
        ),
        Some(401) => (
            ErrorKind::Authentication,
            "the service refused the key",
            "the key does not belong to the resource at AZURE_OPENAI_ENDPOINT: copy key1 from the \
             resource's Keys and Endpoint page into AZURE_OPENAI_API_KEY (az cognitiveservices \
             account keys list -n <resource> -g <group>)"
                .into(),
        ),
        Some(403) if code_str == "AuthenticationTypeDisabled" => (
            ErrorKind::Permission,
            "key authentication is disabled on this resource",
            "use Microsoft Entra ID instead of the key: unset AZURE_OPENAI_API_KEY so \
             DefaultAzureCredential is used (az login), and hold the \"Cognitive Services OpenAI \
             User\" role"
                .into(),
        ),
        Some(403) => (
            ErrorKind::Permission,
            "the resource refuses this caller",
            "network rules or a blocked resource: allow your address under Networking on the \
             resource, or call it through its private endpoint"
                .into(),
        ),
        Some(404) if code_str == "DeploymentNotFound" => (
            ErrorKind::NotFound,
            "no such deployment",
            format!(
                "the deployment name {:?} is wrong (use the deployment name, not the model name): \
                 set AZURE_OPENAI_DEPLOYMENT to one listed by az cognitiveservices account \
                 deployment list -n <resource> -g <group> (a new deployment takes up to 5 minutes)",
                f.deployment
            ),
        ),
        Some(404) => (
            ErrorKind::NotFound,
            "the route does not exist",
            "check AZURE_OPENAI_ENDPOINT (the resource's origin only) and OPENAI_API_VERSION \
             (this api-version may lack the operation; try 2024-10-21)"
                .into(),
        ),
        Some(400) if msg.contains("API version not supported") => (
            ErrorKind::Config,
            "the service does not know this api-version",
            format!(
                "set OPENAI_API_VERSION={} (or unset it for that default)",
                crate::vars::DEFAULT_API_VERSION
            ),
        ),
        Some(400) if msg.contains("is enabled only for api versions") => (
            ErrorKind::Config,
            "this model needs a newer api-version",
            "set OPENAI_API_VERSION to the version named in the service's message".into(),
        ),
        Some(400) if code_str.starts_with("Tenant provided in token") => (
            ErrorKind::Authentication,
            "the token is from another tenant than the resource",
            "sign in to the resource's tenant: az login --tenant <tenant id> (or set \
             AZURE_TENANT_ID)"
                .into(),
        ),
        Some(400) if code_str == "unsupported_parameter" || code_str == "unsupported_value" => (
            ErrorKind::BadRequest,
            "the model refused a parameter",
            "reasoning models take max_completion_tokens (not max_tokens) and only default \
             sampling values: drop the parameter named in the message"
                .into(),
        ),
        Some(400) if code_str == "context_length_exceeded" => (
            ErrorKind::BadRequest,
            "the messages are longer than the model's context",
            "shorten the messages or lower max_completion_tokens".into(),
        ),
        Some(429) => (
            ErrorKind::RateLimit,
            "the deployment's rate limit was hit",
            match f.retry_after {
                Some(d) => format!(
                    "retry after {} s, or raise the deployment's tokens-per-minute quota",
                    d.as_secs_f64().ceil()
                ),
                None => "retry later, or raise the deployment's tokens-per-minute quota".into(),
            },
        ),
        Some(s) if s >= 500 => (
            ErrorKind::Server,
            "the service failed",
            "retry in a moment; if it persists, quote the request id in a support request".into(),
        ),
        None => (
            ErrorKind::Stream,
            "the stream carried an error event",
            "retry the request; if it persists, quote the request id in a support request".into(),
        ),
        Some(408) => (
            ErrorKind::Timeout,
            "the service timed out",
            "retry the request".into(),
        ),
        Some(_) => (
            ErrorKind::BadRequest,
            "the service refused the request",
            "fix the request as the service's message says".into(),
        ),
    };
    let text = match &message {
        Some(m) if !m.is_empty() => format!("{summary}: {m}"),
        _ => summary.to_string(),
    };
    let mut err = Error::new(kind, text)
        .with_fix(fix)
        .with_service(code, message)
        .with_request_id(f.request_id)
        .with_retry_after(f.retry_after);
    if let Some(s) = f.status {
        err = err.with_status(s);
    }
    err
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind_and_fix(status: u16, body: &str, bearer: bool) -> (ErrorKind, String) {
        let e = classify(Failed {
            status: Some(status),
            body,
            request_id: Some("rid".into()),
            retry_after: Some(Duration::from_secs(2)),
            deployment: "dep",
            bearer,
        });
        assert!(e.to_string().contains("rid"), "{e}");
        (e.kind(), e.quick_fix().unwrap().to_string())
    }

    #[test]
    fn every_row_of_the_spec_gets_its_kind_and_fix() {
        let rows = [
            (
                401,
                r#"{"error":{"code":"401","message":"Access denied due to invalid subscription key or wrong API endpoint."}}"#,
                false,
                ErrorKind::Authentication,
                "AZURE_OPENAI_API_KEY",
            ),
            (
                401,
                r#"{"error":{"code":"Unauthorized","message":"Access denied due to invalid subscription key"}}"#,
                false,
                ErrorKind::Authentication,
                "key1",
            ),
            (
                401,
                r#"{"statusCode":401,"message":"Unauthorized. Access token is missing, invalid, audience is incorrect (https://cognitiveservices.azure.com), or have expired."}"#,
                true,
                ErrorKind::Authentication,
                "scope",
            ),
            (
                401,
                r#"{"error":{"code":"PermissionDenied","message":"The principal `x` lacks the required data action"}}"#,
                true,
                ErrorKind::Permission,
                "Cognitive Services OpenAI User",
            ),
            (
                400,
                r#"{"error":{"code":"Tenant provided in token does not match resource token","message":"Token tenant t does not match resource tenant."}}"#,
                true,
                ErrorKind::Authentication,
                "az login --tenant",
            ),
            (
                403,
                r#"{"error":{"code":"AuthenticationTypeDisabled","message": "Key based authentication is disabled for this resource."}}"#,
                false,
                ErrorKind::Permission,
                "Entra",
            ),
            (
                403,
                r#"{"error":{"code":"403","message":"Access denied due to Virtual Network/Firewall rules."}}"#,
                false,
                ErrorKind::Permission,
                "Networking",
            ),
            (
                401,
                r#"{ "statusCode": 401, "message": "Access denied due to missing subscription key." }"#,
                false,
                ErrorKind::Authentication,
                "API Management",
            ),
            (
                404,
                r#"{"error":{"code":"DeploymentNotFound","message":"The API deployment for this resource does not exist."}}"#,
                false,
                ErrorKind::NotFound,
                "deployment list",
            ),
            (
                404,
                r#"{"error":{"code":"404","message": "Resource not found"}}"#,
                false,
                ErrorKind::NotFound,
                "OPENAI_API_VERSION",
            ),
            (
                400,
                r#"{"error":{"code":"BadRequest","message":"API version not supported"}}"#,
                false,
                ErrorKind::Config,
                "OPENAI_API_VERSION=2024-10-21",
            ),
            (
                400,
                r#"{"error":{"code":"BadRequest","message":"Model {modelName} is enabled only for api versions 2024-12-01-preview and later"}}"#,
                false,
                ErrorKind::Config,
                "OPENAI_API_VERSION",
            ),
            (
                400,
                r#"{"error":{"message":"filtered","type":null,"param":"prompt","code":"content_filter","status":400,"innererror":{"code":"ResponsibleAIPolicyViolation"}}}"#,
                false,
                ErrorKind::ContentFilter,
                "rephrase",
            ),
            (
                400,
                r#"{"error":{"message":"Unsupported parameter: 'max_tokens'","type":"invalid_request_error","param":"max_tokens","code":"unsupported_parameter"}}"#,
                false,
                ErrorKind::BadRequest,
                "max_completion_tokens",
            ),
            (
                400,
                r#"{"error":{"message":"This model's maximum context length is 128000 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}"#,
                false,
                ErrorKind::BadRequest,
                "shorten",
            ),
            (
                400,
                r#"{"requestid":"r","code":400,"message":"Validation error at #/max_completion_tokens"}"#,
                false,
                ErrorKind::BadRequest,
                "message",
            ),
            (
                429,
                r#"{"error":{"code":429,"message":"Rate limit is exceeded. Try again in 2 seconds."}}"#,
                false,
                ErrorKind::RateLimit,
                "retry after 2 s",
            ),
            (
                500,
                r#"{"error":{"message":"The server had an error","type":"server_error","param":null,"code":null}}"#,
                false,
                ErrorKind::Server,
                "retry",
            ),
            (
                502,
                "<html>bad gateway</html>",
                false,
                ErrorKind::Server,
                "retry",
            ),
        ];
        for (status, body, bearer, kind, word) in rows {
            let (k, fix) = kind_and_fix(status, body, bearer);
            assert_eq!(k, kind, "{body}");
            assert!(fix.contains(word), "{body}: {fix}");
        }
    }

    #[test]
    fn numeric_codes_become_strings() {
        let (code, message) = code_and_message(r#"{"error":{"code":429,"message":" m "}}"#);
        assert_eq!(code.as_deref(), Some("429"));
        assert_eq!(message.as_deref(), Some("m"));
        assert_eq!(code_and_message("not json"), (None, None));
    }
}
