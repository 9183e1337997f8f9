//! Calls to Azure OpenAI and the classification of its answers into the library's error kinds
//! with quick fixes.
//!
//! BRIDGE: written while the `aoai` crate had no public API (see `settings.rs`). It does one
//! request per call (no retries) — what `aoai chat` and the doctor's minimal request need. When
//! `aoai::AzureOpenAI` lands, [`Client`] wraps it and [`classify`] is replaced by
//! `aoai::Error::kind()` / `quick_fix()`.

use std::time::Duration;

use aoai_identity::DefaultAzureCredential;
use futures::stream::{BoxStream, StreamExt};
use serde_json::{Value, json};

use crate::failure::Failure;
use crate::settings::{Auth, Settings};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// What `aoai chat` sends.
#[derive(Debug, Clone)]
pub struct ChatInput {
    /// Optional system message.
    pub system: Option<String>,
    /// The user's message.
    pub message: String,
    /// Deployment override.
    pub deployment: Option<String>,
    /// `max_tokens`.
    pub max_tokens: Option<u32>,
    /// `temperature`.
    pub temperature: Option<f32>,
}

/// A whole answer: its text and the response JSON.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The first choice's content.
    pub text: String,
    /// The response body, as received.
    pub json: String,
}

/// One streamed chunk: its text delta (if any) and the chunk's JSON.
#[derive(Debug, Clone)]
pub struct Chunk {
    /// `choices[0].delta.content`.
    pub delta: Option<String>,
    /// The chunk, as received.
    pub json: String,
}

#[derive(Clone)]
enum ClientAuth {
    Key(String),
    Bearer(String),
    Entra(DefaultAzureCredential),
}

/// A configured client: endpoint, api-version and credential.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    auth: ClientAuth,
    settings: Settings,
}

impl Settings {
    /// A client for these settings; in Entra mode with `dac` (or a new chain from the process
    /// environment). `_retries` is accepted for the library's interface; the bridge never retries.
    pub fn client(
        &self,
        dac: Option<DefaultAzureCredential>,
        _retries: bool,
    ) -> Result<Client, Failure> {
        let auth = match self.auth() {
            Auth::ApiKey => ClientAuth::Key(self.api_key().unwrap_or_default().to_string()),
            Auth::Token => ClientAuth::Bearer(self.static_token().unwrap_or_default()),
            Auth::Entra => ClientAuth::Entra(match dac {
                Some(d) => d,
                None => DefaultAzureCredential::new()?,
            }),
        };
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| {
                Failure::new("network_error", format!("cannot build an HTTP client: {e}"))
            })?;
        Ok(Client {
            http,
            auth,
            settings: self.clone(),
        })
    }
}

impl Client {
    fn deployment<'a>(&'a self, input: &'a ChatInput) -> Result<&'a str, Failure> {
        input
            .deployment
            .as_deref()
            .or(self.settings.deployment())
            .ok_or_else(|| {
                Failure::usage(
                    "no deployment given",
                    "set AZURE_OPENAI_DEPLOYMENT=<deployment name> or pass --deployment <name>",
                )
            })
    }

    async fn post(&self, deployment: &str, body: Value) -> Result<reqwest::Response, Failure> {
        let mut url = self.settings.endpoint().clone();
        url.path_segments_mut()
            .map_err(|()| {
                Failure::usage(
                    "the endpoint cannot take a path",
                    crate::settings::vars::ENDPOINT,
                )
            })?
            .pop_if_empty()
            .extend(["openai", "deployments", deployment, "chat", "completions"]);
        url.query_pairs_mut()
            .append_pair("api-version", self.settings.api_version());
        let mut req = self.http.post(url).json(&body);
        req = match &self.auth {
            ClientAuth::Key(k) => req.header("api-key", k),
            ClientAuth::Bearer(t) => req.bearer_auth(t),
            ClientAuth::Entra(dac) => {
                let token = dac
                    .get_token_detailed(&[self.settings.scope()], None)
                    .await?;
                req.bearer_auth(token.access_token.secret())
            }
        };
        let resp = req.send().await.map_err(transport)?;
        if resp.status().is_success() {
            return Ok(resp);
        }
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let request_id = resp
            .headers()
            .get("apim-request-id")
            .or_else(|| resp.headers().get("x-request-id"))
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let text = resp.text().await.unwrap_or_default();
        Err(classify(
            status,
            &text,
            retry_after,
            request_id.as_deref(),
            deployment,
        ))
    }
}

fn body(client: &Client, input: &ChatInput, stream: bool) -> Value {
    let mut messages = Vec::new();
    if let Some(s) = &input.system {
        messages.push(json!({"role": "system", "content": s}));
    }
    messages.push(json!({"role": "user", "content": input.message}));
    let mut b = json!({"messages": messages});
    if let Some(m) = input.max_tokens {
        b["max_tokens"] = json!(m);
    }
    if let Some(t) = input.temperature {
        b["temperature"] = json!(t);
    }
    if stream {
        b["stream"] = json!(true);
        b["stream_options"] = json!({"include_usage": true});
    }
    let _ = client;
    b
}

/// One non-streamed chat completion.
pub async fn chat_once(
    client: &Client,
    _settings: &Settings,
    input: &ChatInput,
) -> Result<Answer, Failure> {
    let deployment = client.deployment(input)?;
    let resp = client.post(deployment, body(client, input, false)).await?;
    let json = resp.text().await.map_err(transport)?;
    let v: Value = serde_json::from_str(&json)
        .map_err(|e| Failure::new("server_error", format!("the answer is not JSON: {e}")))?;
    let text = v["choices"][0]["message"]["content"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    Ok(Answer { text, json })
}

/// A streamed chat completion: chunks as they arrive; a stream cut before `[DONE]` ends with a
/// `stream_error`.
pub async fn chat_stream(
    client: &Client,
    _settings: &Settings,
    input: &ChatInput,
) -> Result<BoxStream<'static, Result<Chunk, Failure>>, Failure> {
    let deployment = client.deployment(input)?;
    let resp = client.post(deployment, body(client, input, true)).await?;
    let bytes = resp.bytes_stream();
    let state = (bytes, Vec::<u8>::new(), false);
    let stream = futures::stream::unfold(state, |(mut bytes, mut buf, done)| async move {
        if done {
            return None;
        }
        loop {
            if let Some(pos) = buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = buf.drain(..=pos).collect();
                let line = String::from_utf8_lossy(&line).trim().to_string();
                let Some(data) = line.strip_prefix("data:") else {
                    continue;
                };
                let data = data.trim();
                if data == "[DONE]" {
                    return None;
                }
                let item = match serde_json::from_str::<Value>(data) {
                    Ok(v) => {
                        if v.get("error").is_some() {
                            Err(classify(200, data, None, None, ""))
                        } else {
                            Ok(Chunk {
                                delta: v["choices"][0]["delta"]["content"]
                                    .as_str()
                                    .map(str::to_string),
                                json: data.to_string(),
                            })
                        }
                    }
                    Err(e) => Err(Failure::new(
                        "stream_error",
                        format!("a stream event is not JSON: {e}"),
                    )),
                };
                let stop = item.is_err();
                return Some((item, (bytes, buf, stop)));
            }
            match bytes.next().await {
                Some(Ok(b)) => buf.extend_from_slice(&b),
                Some(Err(e)) => return Some((Err(transport(e)), (bytes, buf, true))),
                None => {
                    let e = Failure::new(
                        "stream_error",
                        "the stream ended without [DONE]: the connection was cut",
                    )
                    .with_fix("retry the request; if it keeps happening, check proxies between you and the endpoint");
                    return Some((Err(e), (bytes, buf, true)));
                }
            }
        }
    });
    Ok(stream.boxed())
}

/// The doctor's minimal request: one chat completion, `max_tokens` 1, no retries.
pub async fn ping(
    settings: &Settings,
    dac: Option<DefaultAzureCredential>,
) -> Result<String, Failure> {
    let client = settings.client(dac, false)?;
    let input = ChatInput {
        system: None,
        message: "ping".into(),
        deployment: None,
        max_tokens: Some(1),
        temperature: None,
    };
    let deployment = client.deployment(&input)?.to_string();
    let answer = chat_once(&client, settings, &input).await?;
    let v: Value = serde_json::from_str(&answer.json).unwrap_or_default();
    let model = v["model"].as_str().unwrap_or("?");
    Ok(format!("deployment {deployment} answered (model {model})"))
}

fn transport(e: reqwest::Error) -> Failure {
    let mut msg = e.to_string();
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    if e.is_timeout() {
        Failure::new("timeout", format!("no answer in time: {msg}"))
            .with_fix("retry; if it persists, check the network path to AZURE_OPENAI_ENDPOINT (`aoai doctor`)")
    } else {
        Failure::new("network_error", format!("cannot reach the endpoint: {msg}")).with_fix(
            "check AZURE_OPENAI_ENDPOINT and your network (`aoai doctor` checks DNS, TCP and TLS)",
        )
    }
}

/// Maps an error answer (spec `aoai-wire.md` §2-3) to a kind and a quick fix.
pub fn classify(
    status: u16,
    text: &str,
    retry_after: Option<u64>,
    request_id: Option<&str>,
    deployment: &str,
) -> Failure {
    let v: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    let err = v.get("error").unwrap_or(&v);
    let code = match err.get("code") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    let message = err
        .get("message")
        .and_then(|m| m.as_str())
        .unwrap_or(text)
        .trim()
        .to_string();
    let bare = v.get("error").is_none() && v.get("statusCode").is_some();
    let said = match request_id {
        Some(id) => format!("HTTP {status}: {message} (request id {id})"),
        None => format!("HTTP {status}: {message}"),
    };
    let (kind, fix): (&str, String) = match status {
        401 if code == "PermissionDenied" => (
            "permission_error",
            "the principal lacks the data-plane role: az role assignment create --role \
             \"Cognitive Services OpenAI User\" --assignee <principal id> --scope <resource id> \
             (takes up to 5 minutes to apply)"
                .into(),
        ),
        401 if bare => (
            "authentication_error",
            "the Entra token is missing, invalid, expired or for another audience: request the \
             scope https://cognitiveservices.azure.com/.default (see `aoai token --explain`)"
                .into(),
        ),
        401 => (
            "authentication_error",
            "the key does not belong to the resource at AZURE_OPENAI_ENDPOINT: copy key1 from the \
             resource's Keys and Endpoint page into AZURE_OPENAI_API_KEY (az cognitiveservices \
             account keys list -n <resource> -g <group>)"
                .into(),
        ),
        403 if code == "AuthenticationTypeDisabled" => (
            "permission_error",
            "key authentication is disabled on this resource: use Microsoft Entra ID — unset \
             AZURE_OPENAI_API_KEY so DefaultAzureCredential is used (az login), and hold the \
             \"Cognitive Services OpenAI User\" role"
                .into(),
        ),
        403 => (
            "permission_error",
            "the resource refuses this caller (network rules or a blocked resource): allow your \
             address under Networking on the resource, or use its private endpoint"
                .into(),
        ),
        404 if code == "DeploymentNotFound" => (
            "not_found",
            format!(
                "no deployment named {deployment:?} on this resource: set AZURE_OPENAI_DEPLOYMENT \
                 to the deployment name (not the model name); list them with az cognitiveservices \
                 account deployment list -n <resource> -g <group> (a new deployment takes up to 5 \
                 minutes)"
            ),
        ),
        404 => (
            "not_found",
            "the route does not exist for this api-version: check AZURE_OPENAI_ENDPOINT (the \
             origin only) and OPENAI_API_VERSION (e.g. 2024-10-21)"
                .into(),
        ),
        400 if message.contains("API version not supported") => (
            "config_error",
            "the service does not know this api-version: set OPENAI_API_VERSION=2024-10-21 (or \
             unset it for the default)"
                .into(),
        ),
        400 if message.contains("is enabled only for api versions") => (
            "config_error",
            format!(
                "this model needs a newer api-version: set OPENAI_API_VERSION accordingly ({message})"
            ),
        ),
        400 if code.starts_with("Tenant provided in token") => (
            "authentication_error",
            "the token is from another tenant than the resource: sign in to the resource's \
             tenant (az login --tenant <tenant id>, or AZURE_TENANT_ID)"
                .into(),
        ),
        _ if code == "content_filter" => (
            "content_filter",
            "the prompt was blocked by the content filter: rephrase it, or review the \
             deployment's content filter policy"
                .into(),
        ),
        400 => ("bad_request", format!("fix the request: {message}")),
        429 => (
            "rate_limit",
            match retry_after {
                Some(s) => format!(
                    "the deployment's quota is exhausted: retry after {s} s, or raise its \
                     tokens-per-minute quota"
                ),
                None => "the deployment's quota is exhausted: retry later, or raise its \
                         tokens-per-minute quota"
                    .into(),
            },
        ),
        500..=599 => (
            "server_error",
            "the service failed: retry in a moment; if it persists, include the request id in a \
             support request"
                .into(),
        ),
        200 => ("stream_error", "retry the request".into()),
        _ => ("bad_request", format!("unexpected HTTP {status}")),
    };
    Failure::new(kind, said).with_fix(fix)
}

#[cfg(test)]
mod tests {
    use super::classify;

    #[test]
    fn every_error_row_gets_its_kind() {
        let rows = [
            (
                401,
                r#"{"error":{"code":"401","message":"Access denied due to invalid subscription key"}}"#,
                "authentication_error",
                "AZURE_OPENAI_API_KEY",
            ),
            (
                401,
                r#"{"statusCode":401,"message":"Unauthorized. Access token is missing"}"#,
                "authentication_error",
                "scope",
            ),
            (
                401,
                r#"{"error":{"code":"PermissionDenied","message":"The principal lacks"}}"#,
                "permission_error",
                "Cognitive Services OpenAI User",
            ),
            (
                403,
                r#"{"error":{"code":"AuthenticationTypeDisabled","message":"Key based authentication is disabled"}}"#,
                "permission_error",
                "Entra",
            ),
            (
                404,
                r#"{"error":{"code":"DeploymentNotFound","message":"The API deployment for this resource does not exist."}}"#,
                "not_found",
                "deployment",
            ),
            (
                400,
                r#"{"error":{"code":"BadRequest","message":"API version not supported"}}"#,
                "config_error",
                "OPENAI_API_VERSION",
            ),
            (
                400,
                r#"{"error":{"message":"filtered","type":null,"param":"prompt","code":"content_filter","status":400}}"#,
                "content_filter",
                "content filter",
            ),
            (
                429,
                r#"{"error":{"code":429,"message":"Rate limit is exceeded. Try again in 2 seconds."}}"#,
                "rate_limit",
                "retry",
            ),
            (
                500,
                r#"{"error":{"message":"The server had an error","type":"server_error","param":null,"code":null}}"#,
                "server_error",
                "retry",
            ),
            (
                400,
                r#"{"error":{"code":"Tenant provided in token does not match resource token","message":"Token tenant t does not match resource tenant."}}"#,
                "authentication_error",
                "az login --tenant",
            ),
        ];
        for (status, body, kind, word) in rows {
            let f = classify(status, body, Some(2), Some("rid"), "d");
            assert_eq!(f.kind, kind, "{body}");
            assert!(
                f.fix.as_deref().unwrap().contains(word),
                "{body}: {:?}",
                f.fix
            );
            assert!(f.message.contains("rid"));
        }
    }
}
