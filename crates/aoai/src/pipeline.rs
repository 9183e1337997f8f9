//! The request pipeline: every call goes through it in this order.
//!
//! ```text
//!  call ──► total deadline ──► retry loop ──► per-attempt timeout ──► auth header ──► transport
//!              (Timeouts.total)   (RetryPolicy)    (Timeouts.attempt)     (per attempt)   (reqwest,
//!                                    ▲                                                  redirects
//!                                    └── 401 with a token credential: once, fresh token  by hand)
//! ```
//!
//! Redirects are followed here rather than by reqwest so that `api-key` and `Authorization`
//! are dropped when the target is another origin or plain http to a non-loopback host.

use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::header::{CONTENT_TYPE, HeaderMap, LOCATION};
use reqwest::{Method, StatusCode};
use tracing::{debug, warn};
use url::Url;

use crate::auth::Auth;
use crate::classify::{Failed, classify};
use crate::config::may_carry_secrets;
use crate::error::{Error, ErrorKind};
use crate::retry::{RetryPolicy, server_delay};

const MAX_REDIRECTS: usize = 10;

/// Time limits of a client.
///
/// ```
/// use std::time::Duration;
/// let t = aoai::Timeouts { total: Duration::from_secs(30), ..Default::default() };
/// assert_eq!(t.connect, Duration::from_secs(5));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Establishing a connection (default 5 s).
    pub connect: Duration,
    /// One attempt, up to the response headers (streams) or the whole body (default 300 s).
    pub attempt: Duration,
    /// The whole call, retries and their waits included (default 600 s, like the official SDKs).
    pub total: Duration,
    /// Between two events of a stream (default 60 s).
    pub stream_idle: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(5),
            attempt: Duration::from_secs(300),
            total: Duration::from_secs(600),
            stream_idle: Duration::from_secs(60),
        }
    }
}

/// One call to send.
pub(crate) struct Call<'a> {
    pub method: Method,
    pub url: Url,
    pub body: Option<Bytes>,
    /// For error messages.
    pub deployment: &'a str,
}

/// A successful answer: its body, or the open response of a stream.
pub(crate) enum Received {
    Body(Bytes),
    Stream(reqwest::Response),
}

impl Received {
    /// The body of an answer sent with `stream: false`.
    pub(crate) fn into_body(self) -> Result<Bytes, Error> {
        match self {
            Received::Body(body) => Ok(body),
            Received::Stream(_) => Err(mismatch()),
        }
    }

    /// The open response of an answer sent with `stream: true`.
    pub(crate) fn into_stream(self) -> Result<reqwest::Response, Error> {
        match self {
            Received::Stream(response) => Ok(response),
            Received::Body(_) => Err(mismatch()),
        }
    }
}

fn mismatch() -> Error {
    Error::new(
        ErrorKind::Stream,
        "the pipeline answered a body where a stream was asked for, or the reverse",
    )
    .with_fix("report this as a bug")
}

enum AttemptError {
    /// The service answered with an error.
    Status {
        error: Error,
        retryable: bool,
        server_delay: Option<Duration>,
        refresh_may_help: bool,
    },
    /// The connection failed or broke.
    Transport(Error),
    /// Retrying cannot help (the credential failed, too many redirects).
    Fatal(Error),
}

#[derive(Debug)]
pub(crate) struct Pipeline {
    pub http: reqwest::Client,
    pub auth: Auth,
    pub retry: RetryPolicy,
    pub timeouts: Timeouts,
}

/// A transport error as a client error, without secrets (reqwest's messages hold no headers).
pub(crate) fn transport_error(e: reqwest::Error) -> Error {
    let host = e
        .url()
        .and_then(|u| u.host_str())
        .unwrap_or("the endpoint")
        .to_string();
    if e.is_timeout() {
        Error::new(ErrorKind::Timeout, format!("no answer from {host} in time"))
            .with_fix("retry; if it persists, check the network path to AZURE_OPENAI_ENDPOINT (`aoai doctor`)")
            .with_source(e)
    } else {
        let what = if e.is_connect() {
            "cannot connect to"
        } else if e.is_body() || e.is_decode() {
            "the connection broke while reading from"
        } else {
            "the request failed at"
        };
        Error::new(ErrorKind::Network, format!("{what} {host}"))
            .with_fix("check AZURE_OPENAI_ENDPOINT and your network (`aoai doctor` checks DNS, TCP and TLS)")
            .with_source(e)
    }
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

pub(crate) fn request_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get("apim-request-id")
        .or_else(|| headers.get("x-request-id"))
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

impl Pipeline {
    /// Sends `call` through deadline, retries, attempt timeout and auth.
    pub(crate) async fn send(&self, call: &Call<'_>, stream: bool) -> Result<Received, Error> {
        self.send_with(call, stream, &self.retry).await
    }

    /// [`Pipeline::send`] with another retry policy.
    pub(crate) async fn send_with(
        &self,
        call: &Call<'_>,
        stream: bool,
        policy: &RetryPolicy,
    ) -> Result<Received, Error> {
        let started = Instant::now();
        let deadline = started + self.timeouts.total;
        let mut retry = 0;
        // One retry with a fresh token after a 401; only that attempt bypasses the cache.
        let mut refreshed = false;
        let mut fresh_token = false;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            let limit = remaining.min(self.timeouts.attempt);
            debug!(method = %call.method, path = call.url.path(), attempt = retry + 1, "sending");
            let outcome =
                tokio::time::timeout(limit, self.attempt(call, fresh_token, stream)).await;
            fresh_token = false;
            let (error, retryable, delay_hint) = match outcome {
                Ok(Ok(received)) => {
                    debug!(
                        elapsed_ms = started.elapsed().as_millis() as u64,
                        "answered"
                    );
                    return Ok(received);
                }
                Ok(Err(AttemptError::Fatal(e))) => return Err(e),
                Ok(Err(AttemptError::Status {
                    error,
                    refresh_may_help,
                    ..
                })) if refresh_may_help && !refreshed => {
                    debug!(
                        status = error.status(),
                        "401 with a cached token: retrying once with a fresh one"
                    );
                    refreshed = true;
                    fresh_token = true;
                    continue;
                }
                Ok(Err(AttemptError::Status {
                    error,
                    retryable,
                    server_delay,
                    ..
                })) => (error, retryable, server_delay),
                Ok(Err(AttemptError::Transport(e))) => (e, true, None),
                Err(_) => (
                    Error::new(
                        ErrorKind::Timeout,
                        format!("no answer within {:.1} s", limit.as_secs_f64()),
                    )
                    .with_fix("retry, or raise the client's attempt or total timeout (Timeouts)"),
                    true,
                    None,
                ),
            };
            if !retryable || retry >= policy.max_retries {
                return Err(error);
            }
            let wait = policy.delay(retry, delay_hint);
            if Instant::now() + wait >= deadline {
                return Err(error);
            }
            warn!(kind = %error.kind(), status = error.status(), wait_ms = wait.as_millis() as u64, retry = retry + 1, "retrying");
            tokio::time::sleep(wait).await;
            retry += 1;
        }
    }

    async fn attempt(
        &self,
        call: &Call<'_>,
        fresh_token: bool,
        stream: bool,
    ) -> Result<Received, AttemptError> {
        let (auth_name, auth_value) = self
            .auth
            .header(fresh_token)
            .await
            .map_err(AttemptError::Fatal)?;
        let mut url = call.url.clone();
        let mut method = call.method.clone();
        let mut body = call.body.clone();
        let mut with_auth = true;
        for _ in 0..=MAX_REDIRECTS {
            let mut request = self.http.request(method.clone(), url.clone());
            if with_auth {
                request = request.header(auth_name.clone(), auth_value.clone());
            }
            if let Some(b) = &body {
                request = request
                    .header(CONTENT_TYPE, "application/json")
                    .body(b.clone());
            }
            let response = request
                .send()
                .await
                .map_err(|e| AttemptError::Transport(transport_error(e)))?;
            let status = response.status();
            if status.is_redirection()
                && let Some(next) = response
                    .headers()
                    .get(LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .and_then(|l| url.join(l).ok())
            {
                if !same_origin(&url, &next) || !may_carry_secrets(&next) {
                    with_auth = false;
                }
                if matches!(
                    status,
                    StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND | StatusCode::SEE_OTHER
                ) && method != Method::GET
                {
                    method = Method::GET;
                    body = None;
                }
                debug!(
                    status = status.as_u16(),
                    to = next.path(),
                    keeps_auth = with_auth,
                    "redirected"
                );
                url = next;
                continue;
            }
            if status.is_success() {
                if stream {
                    return Ok(Received::Stream(response));
                }
                let body = response
                    .bytes()
                    .await
                    .map_err(|e| AttemptError::Transport(transport_error(e)))?;
                return Ok(Received::Body(body));
            }
            let headers = response.headers().clone();
            let text = response.text().await.unwrap_or_default();
            let delay = server_delay(&headers);
            let error = classify(Failed {
                status: Some(status.as_u16()),
                body: &text,
                request_id: request_id(&headers),
                retry_after: delay,
                deployment: call.deployment,
                bearer: with_auth && self.auth.mode() != crate::AuthMode::ApiKey,
            });
            return Err(AttemptError::Status {
                refresh_may_help: status == StatusCode::UNAUTHORIZED
                    && matches!(self.auth, Auth::Credential { .. })
                    && error.kind() == ErrorKind::Authentication,
                retryable: self.retry.should_retry(status.as_u16(), &headers),
                server_delay: delay,
                error,
            });
        }
        Err(AttemptError::Fatal(
            Error::new(
                ErrorKind::Network,
                format!("more than {MAX_REDIRECTS} redirects"),
            )
            .with_fix("check AZURE_OPENAI_ENDPOINT: it should be the resource's own origin"),
        ))
    }
}
