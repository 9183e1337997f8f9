//! The Azure OpenAI data plane. Ownership: the data-plane side.
//!
//! Every request goes through the same steps, in Azure's order (spec §7.2):
//!
//! ```text
//! route ─► api-version (404/400) ─► auth (401 A1/A2, 400 A4, 403 A5, 401 A3)
//!       ─► deployment (404 DeploymentNotFound, 400 OperationNotSupported)
//!       ─► body validation (400) ─► rate limit (429) ─► prompt filter (400) ─► model (200)
//! ```
//!
//! Handlers return `Result<_, Response>`: the error is the finished Azure-shaped reply, returned
//! early with `?` (so the large-`Err` lint is off here).
#![allow(clippy::result_large_err)]

pub mod api_version;
pub mod auth;
pub mod chat;
pub mod embeddings;
pub mod ratelimit;
pub mod reply;

use std::time::Duration;

use axum::{
    Router,
    body::Bytes,
    extract::{Path, RawQuery, State},
    http::{HeaderMap, Method, StatusCode},
    response::Response,
    routing::any,
};
use serde_json::{Value, json};

use crate::{
    config::{DeploymentConfig, DeploymentKind},
    state::AppState,
};
use api_version::{Operation, VersionCheck};
use ratelimit::{Charge, Exceeded};
use reply::{Origin, Reply};

/// The data-plane routes. Unknown paths are answered by [`not_found`] (the server's fallback).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/openai/deployments/{deployment}/chat/completions",
            any(chat_classic),
        )
        .route(
            "/openai/deployments/{deployment}/embeddings",
            any(embeddings_classic),
        )
        .route("/openai/v1/chat/completions", any(chat_v1))
        .route("/openai/v1/embeddings", any(embeddings_v1))
        .route("/openai/models", any(models_classic))
        .route("/openai/deployments", any(deployments_list))
        .route("/openai/v1/models", any(models_v1))
}

/// 404 `Resource not found` for any path nothing else serves.
pub async fn not_found(State(state): State<AppState>) -> Response {
    reply::resource_not_found(&state.config.region)
}

fn api_version(query: Option<&str>) -> Option<String> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == "api-version")
        .map(|(_, v)| v.into_owned())
}

/// Steps shared by every operation up to (and including) authentication.
fn gate(
    state: &AppState,
    method: &Method,
    expected: Method,
    query: Option<&str>,
    headers: &HeaderMap,
    v1: bool,
    op: Operation,
) -> Result<(), Response> {
    let region = state.config.region.as_str();
    if *method != expected {
        return Err(reply::resource_not_found(region));
    }
    match api_version::check(v1, api_version(query).as_deref(), op) {
        VersionCheck::Ok => {}
        VersionCheck::NotFound => return Err(reply::resource_not_found(region)),
        VersionCheck::Unsupported => return Err(reply::api_version_not_supported(region)),
    }
    auth::authenticate(state, headers, v1, op).map(|_| ())
}

fn parse_json(state: &AppState, body: &Bytes) -> Result<Value, Response> {
    serde_json::from_slice(body).map_err(|e| {
        reply::invalid_request(
            &state.config.region,
            &format!("We could not parse the JSON body of your request. ({e})"),
            None,
        )
    })
}

/// Finds the deployment and checks it serves `op`.
fn deployment<'a>(
    state: &'a AppState,
    name: Option<&str>,
    op: Operation,
) -> Result<&'a DeploymentConfig, Response> {
    let region = state.config.region.as_str();
    let d = name
        .and_then(|n| state.config.deployment(n))
        .ok_or_else(|| reply::deployment_not_found(region))?;
    let (wanted, op_name) = match op {
        Operation::Chat => (DeploymentKind::Chat, "chatCompletion"),
        _ => (DeploymentKind::Embeddings, "embeddings"),
    };
    if d.kind != wanted {
        let message = format!(
            "The {op_name} operation does not work with the specified model, {}. Please choose different model and try again. You can learn more about which models can be used with each operation here: https://go.microsoft.com/fwlink/?linkid=2197993.",
            d.model
        );
        return Err(Reply::json(
            StatusCode::BAD_REQUEST,
            &reply::short_error("OperationNotSupported", &message),
        )
        .finish(Origin::Model, region));
    }
    Ok(d)
}

/// v1: the deployment is the body's `model`.
fn v1_model(state: &AppState, body: &Value) -> Result<String, Response> {
    match body.get("model").and_then(Value::as_str) {
        Some(m) => Ok(m.to_owned()),
        None => Err(reply::invalid_request(
            &state.config.region,
            "you must provide a model parameter",
            None,
        )),
    }
}

fn with_limit_headers(r: Reply, c: &Charge, deployment: &str) -> Reply {
    r.header("x-ms-deployment-name", deployment)
        .header("x-ratelimit-limit-requests", c.limit_requests.to_string())
        .header("x-ratelimit-limit-tokens", c.limit_tokens.to_string())
        .header(
            "x-ratelimit-remaining-requests",
            c.remaining_requests.to_string(),
        )
        .header(
            "x-ratelimit-remaining-tokens",
            c.remaining_tokens.to_string(),
        )
}

/// The 429 of spec §3.3 (2024 template).
fn too_many_requests(
    state: &AppState,
    deployment: &str,
    version: &str,
    op: Operation,
    what: Exceeded,
    retry_after: u64,
    c: &Charge,
) -> Response {
    let operation = match op {
        Operation::Chat => "ChatCompletions_Create",
        _ => "Embeddings_Create",
    };
    let limit = match what {
        Exceeded::Requests => "call rate limit",
        Exceeded::Tokens => "token rate limit",
    };
    let message = format!(
        "Requests to the {operation} Operation under Azure OpenAI API version {version} have exceeded {limit} of your current OpenAI S0 pricing tier. Please retry after {retry_after} seconds. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit."
    );
    let r = Reply::json(
        StatusCode::TOO_MANY_REQUESTS,
        &reply::short_error("429", &message),
    )
    .header("retry-after", retry_after.to_string())
    .header("retry-after-ms", (retry_after * 1000).to_string());
    with_limit_headers(r, c, deployment).finish(Origin::Model, &state.config.region)
}

/// Charges the rate limiter and applies the `rate_limited` switch.
fn rate_limit(
    state: &AppState,
    d: &DeploymentConfig,
    version: &str,
    op: Operation,
    tokens: u64,
) -> Result<Charge, Response> {
    let charge = match state.limits.get(&d.name) {
        Some(l) => l.charge(tokens),
        None => ratelimit::Limiter::new(d.rpm, d.tpm).charge(tokens),
    };
    if state.config.rate_limited && op == Operation::Chat {
        let secs = state.config.rate_limited_retry_after_secs;
        return Err(too_many_requests(
            state,
            &d.name,
            version,
            op,
            Exceeded::Tokens,
            secs,
            &charge,
        ));
    }
    if let Some(what) = charge.exceeded {
        return Err(too_many_requests(
            state,
            &d.name,
            version,
            op,
            what,
            charge.reset_secs,
            &charge,
        ));
    }
    Ok(charge)
}

struct Call {
    method: Method,
    query: Option<String>,
    headers: HeaderMap,
    body: Bytes,
}

async fn chat_classic(
    State(state): State<AppState>,
    Path(deployment): Path<String>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let call = Call {
        method,
        query,
        headers,
        body,
    };
    chat(state, Some(deployment), call).await
}

async fn chat_v1(
    State(state): State<AppState>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let call = Call {
        method,
        query,
        headers,
        body,
    };
    chat(state, None, call).await
}

async fn chat(state: AppState, path_deployment: Option<String>, call: Call) -> Response {
    match chat_inner(&state, path_deployment, call) {
        Ok(r) | Err(r) => r,
    }
}

fn chat_inner(
    state: &AppState,
    path_deployment: Option<String>,
    call: Call,
) -> Result<Response, Response> {
    let v1 = path_deployment.is_none();
    let op = Operation::Chat;
    gate(
        state,
        &call.method,
        Method::POST,
        call.query.as_deref(),
        &call.headers,
        v1,
        op,
    )?;
    let region = state.config.region.as_str();
    let body = parse_json(state, &call.body)?;
    let name = match path_deployment {
        Some(n) => n,
        None => v1_model(state, &body)?,
    };
    let d = deployment(state, Some(&name), op)?;
    let req =
        chat::ChatRequest::parse(&body).map_err(|(m, p)| reply::invalid_request(region, &m, p))?;
    let version = api_version(call.query.as_deref()).unwrap_or_else(|| "v1".into());
    let charge = rate_limit(state, d, &version, op, chat::tpm_estimate(&req))?;
    if req.prompt_contains(&state.config.prompt_filter_trigger) {
        return Err(chat::content_filter_response(region));
    }
    let ans = chat::answer(&req, &state.config.output_filter_trigger);
    let r = if req.stream {
        let events = chat::stream_events(&req, d, &ans);
        chat::stream_reply(
            events,
            Duration::from_millis(state.config.stream_chunk_delay_ms),
        )
    } else {
        Reply::json(StatusCode::OK, &chat::completion_body(&req, d, &ans))
    };
    Ok(with_limit_headers(r, &charge, &d.name).finish(Origin::Model, region))
}

async fn embeddings_classic(
    State(state): State<AppState>,
    Path(deployment): Path<String>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let call = Call {
        method,
        query,
        headers,
        body,
    };
    match embeddings_inner(&state, Some(deployment), call) {
        Ok(r) | Err(r) => r,
    }
}

async fn embeddings_v1(
    State(state): State<AppState>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let call = Call {
        method,
        query,
        headers,
        body,
    };
    match embeddings_inner(&state, None, call) {
        Ok(r) | Err(r) => r,
    }
}

fn embeddings_inner(
    state: &AppState,
    path_deployment: Option<String>,
    call: Call,
) -> Result<Response, Response> {
    let v1 = path_deployment.is_none();
    let op = Operation::Embeddings;
    gate(
        state,
        &call.method,
        Method::POST,
        call.query.as_deref(),
        &call.headers,
        v1,
        op,
    )?;
    let region = state.config.region.as_str();
    let body = parse_json(state, &call.body)?;
    let name = match path_deployment {
        Some(n) => n,
        None => v1_model(state, &body)?,
    };
    let d = deployment(state, Some(&name), op)?;
    let req = embeddings::EmbeddingsRequest::parse(&body, d)
        .map_err(|(m, p)| reply::invalid_request(region, &m, p))?;
    let version = api_version(call.query.as_deref()).unwrap_or_else(|| "v1".into());
    let estimate: u64 = req
        .inputs
        .iter()
        .map(|i| (i.chars().count() as u64).div_ceil(4))
        .sum();
    let charge = rate_limit(state, d, &version, op, estimate)?;
    let r = Reply::json(StatusCode::OK, &embeddings::response_body(&req, d));
    Ok(with_limit_headers(r, &charge, &d.name).finish(Origin::Model, region))
}

async fn models_classic(
    State(state): State<AppState>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    models(&state, method, query, headers, false)
}

async fn models_v1(
    State(state): State<AppState>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    models(&state, method, query, headers, true)
}

/// `GET /openai/models` and `/openai/v1/models`: the models of the configured deployments, in
/// both the OpenAI (`id`, `object`, `created`, `owned_by`) and Azure (`status`, `capabilities`,
/// `lifecycle_status`) fields.
fn models(
    state: &AppState,
    method: Method,
    query: Option<String>,
    headers: HeaderMap,
    v1: bool,
) -> Response {
    if let Err(r) = gate(
        state,
        &method,
        Method::GET,
        query.as_deref(),
        &headers,
        v1,
        Operation::Models,
    ) {
        return r;
    }
    let mut seen = std::collections::BTreeSet::new();
    let data: Vec<Value> = state
        .config
        .deployments
        .iter()
        .filter(|d| seen.insert(d.model.clone()))
        .map(|d| {
            let chat = d.kind == DeploymentKind::Chat;
            json!({
                "id": d.model,
                "object": "model",
                "created": 1_723_075_200,
                "created_at": 1_723_075_200,
                "owned_by": "system",
                "status": "succeeded",
                "lifecycle_status": "generally-available",
                "capabilities": {
                    "chat_completion": chat,
                    "completion": false,
                    "embeddings": !chat,
                    "fine_tune": false,
                    "inference": true,
                },
            })
        })
        .collect();
    Reply::json(StatusCode::OK, &json!({"object": "list", "data": data}))
        .finish(Origin::Model, &state.config.region)
}

/// `GET /openai/deployments?api-version=2022-12-01`: the old authoring API's deployment list
/// (what a client can offer when a deployment name is wrong).
async fn deployments_list(
    State(state): State<AppState>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = gate(
        &state,
        &method,
        Method::GET,
        query.as_deref(),
        &headers,
        false,
        Operation::Deployments,
    ) {
        return r;
    }
    let data: Vec<Value> = state
        .config
        .deployments
        .iter()
        .map(|d| {
            json!({
                "object": "deployment",
                "id": d.name,
                "model": d.model,
                "owner": "organization-owner",
                "status": "succeeded",
                "created_at": 1_723_075_200,
                "updated_at": 1_723_075_200,
                "scale_settings": {"scale_type": "standard"},
            })
        })
        .collect();
    Reply::json(StatusCode::OK, &json!({"object": "list", "data": data}))
        .finish(Origin::Model, &state.config.region)
}
