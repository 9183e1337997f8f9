//! The crate's own HTTP stack: one shared `reqwest` client (rustls, no proxy), retries with
//! backoff and `Retry-After`, and classification of transport errors.
//!
//! Identity endpoints are often loopback (IMDS stand-ins, App Service, Arc, emulators), so the
//! client never uses a proxy (`.no_proxy()`).

use std::sync::OnceLock;
use std::time::Duration;

use reqwest::{RequestBuilder, StatusCode};

use crate::env::Env;
use crate::error::{ErrorKind, IdentityError};
use crate::vars;

type Bytes = Vec<u8>;

/// HTTP options shared by every credential of a chain.
#[derive(Clone, Default)]
pub struct ClientOptions {
    /// Extra PEM root certificates to trust besides the platform's (for HTTPS emulators). When
    /// unset, the file named by `AOAI_IDENTITY_EXTRA_CA_FILE` is used, if set.
    pub extra_root_ca_pem: Option<Vec<u8>>,
    /// Retries of token requests (defaults as in the Python peer: 3 retries, 0.8 s backoff factor).
    pub retry: RetryOptions,
    /// Time limit for one attempt (default 30 s).
    pub attempt_timeout: Option<Duration>,
}

impl std::fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientOptions")
            .field(
                "extra_root_ca_pem",
                &self.extra_root_ca_pem.as_ref().map(|p| p.len()),
            )
            .field("retry", &self.retry)
            .field("attempt_timeout", &self.attempt_timeout)
            .finish()
    }
}

/// Retry settings. Delays are `0, factor·2, factor·4, ...` (the first retry is immediate), or the
/// server's `Retry-After` when given.
#[derive(Debug, Clone, Copy)]
pub struct RetryOptions {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// Backoff factor (the Python peer: 0.8 s).
    pub backoff_factor: Duration,
    /// Upper bound of one delay.
    pub max_delay: Duration,
}

impl Default for RetryOptions {
    fn default() -> Self {
        RetryOptions {
            max_retries: 3,
            backoff_factor: Duration::from_millis(800),
            max_delay: Duration::from_secs(60),
        }
    }
}

impl RetryOptions {
    /// No retries (tests).
    pub fn none() -> Self {
        RetryOptions {
            max_retries: 0,
            ..Default::default()
        }
    }

    fn delay(&self, retry: u32, factor: Duration) -> Duration {
        if retry <= 1 {
            return Duration::ZERO;
        }
        let d = factor.saturating_mul(1 << (retry - 1).min(16));
        d.min(self.max_delay)
    }
}

/// A response with its body read.
#[derive(Debug)]
pub(crate) struct HttpResponse {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Bytes,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Which statuses a request retries.
#[derive(Debug, Clone, Copy)]
pub(crate) enum RetryOn {
    /// 408, 429, 500, 502, 503, 504 (token POSTs and most managed identity sources).
    Transient,
    /// IMDS: also 404 and 410 (410 with a 2.5 s factor).
    Imds,
    /// Never (probes, challenges).
    Never,
}

/// The shared client plus retry settings.
#[derive(Clone)]
pub(crate) struct Http {
    client: reqwest::Client,
    retry: RetryOptions,
    attempt_timeout: Duration,
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http")
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

fn builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .no_proxy()
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("aoai-identity/", env!("CARGO_PKG_VERSION")))
        .pool_idle_timeout(Duration::from_secs(30))
}

fn shared_client() -> Result<reqwest::Client, IdentityError> {
    static CLIENT: OnceLock<Result<reqwest::Client, String>> = OnceLock::new();
    CLIENT
        .get_or_init(|| builder().build().map_err(|e| e.to_string()))
        .clone()
        .map_err(|e| IdentityError::config(format!("cannot build the HTTP client: {e}")))
}

impl Http {
    /// The shared client, or a dedicated one when extra root certificates are configured.
    pub(crate) fn new(options: &ClientOptions, env: &Env) -> Result<Self, IdentityError> {
        let pem = match &options.extra_root_ca_pem {
            Some(p) => Some(p.clone()),
            None => match env.get_non_empty(vars::AOAI_IDENTITY_EXTRA_CA_FILE) {
                Some(path) => Some(std::fs::read(&path).map_err(|e| {
                    IdentityError::config(format!(
                        "cannot read {}={path}: {e}",
                        vars::AOAI_IDENTITY_EXTRA_CA_FILE
                    ))
                })?),
                None => None,
            },
        };
        let client = match pem {
            None => shared_client()?,
            Some(pem) => {
                let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                    IdentityError::config(format!("extra root certificates are not valid PEM: {e}"))
                })?;
                match builder().tls_certs_merge(certs.clone()).build() {
                    Ok(c) => c,
                    Err(_) => builder().tls_certs_only(certs).build().map_err(|e| {
                        IdentityError::config(format!("cannot build the HTTP client: {e}"))
                    })?,
                }
            }
        };
        Ok(Http {
            client,
            retry: options.retry,
            attempt_timeout: options.attempt_timeout.unwrap_or(Duration::from_secs(30)),
        })
    }

    pub(crate) fn client(&self) -> &reqwest::Client {
        &self.client
    }

    pub(crate) fn with_client(&self, client: reqwest::Client) -> Http {
        Http {
            client,
            ..self.clone()
        }
    }

    /// Sends the request built by `build` (called once per attempt), retrying as `retry_on` says.
    /// Transport failures become `network_error`/`timeout` identity errors naming `what`.
    pub(crate) async fn send(
        &self,
        what: &str,
        retry_on: RetryOn,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<HttpResponse, IdentityError> {
        let request_id = uuid::Uuid::new_v4().to_string();
        let max = if matches!(retry_on, RetryOn::Never) {
            0
        } else {
            self.retry.max_retries
        };
        let mut attempt = 0u32;
        loop {
            let rb = build(&self.client)
                .header("x-ms-client-request-id", &request_id)
                .timeout(self.attempt_timeout);
            let result = rb.send().await;
            let resp = match result {
                Ok(resp) => {
                    let status = resp.status();
                    let headers = resp.headers().clone();
                    match resp.bytes().await {
                        Ok(body) => Ok(HttpResponse {
                            status,
                            headers,
                            body: body.to_vec(),
                        }),
                        Err(e) => Err(e),
                    }
                }
                Err(e) => Err(e),
            };
            attempt += 1;
            match resp {
                Ok(resp) => {
                    let retry_after = resp
                        .header("retry-after")
                        .and_then(|v| v.trim().parse::<u64>().ok());
                    let status = resp.status.as_u16();
                    let retryable = match retry_on {
                        RetryOn::Never => false,
                        RetryOn::Transient => matches!(status, 408 | 429 | 500 | 502 | 503 | 504),
                        RetryOn::Imds => matches!(status, 404 | 408 | 410 | 429 | 500..=599),
                    } || (retry_after.is_some()
                        && status >= 400
                        && !matches!(retry_on, RetryOn::Never));
                    if !retryable || attempt > max {
                        return Ok(resp);
                    }
                    let factor = if status == 410 {
                        Duration::from_millis(2500)
                    } else {
                        self.retry.backoff_factor
                    };
                    let delay = match retry_after {
                        Some(s) => Duration::from_secs(s).min(self.retry.max_delay),
                        None => self.retry.delay(attempt, factor),
                    };
                    tracing::debug!(what, status, attempt, ?delay, "identity request retried");
                    tokio::time::sleep(delay).await;
                }
                Err(e) => {
                    let connect = e.is_connect();
                    if attempt > max || !(connect || e.is_timeout() || e.is_request()) {
                        return Err(transport_error(what, e));
                    }
                    tracing::debug!(what, attempt, error = %e, "identity request failed; retrying");
                    tokio::time::sleep(self.retry.delay(attempt, self.retry.backoff_factor)).await;
                }
            }
        }
    }
}

/// A transport failure as an identity error (`timeout` or `network_error`).
pub(crate) fn transport_error(what: &str, e: reqwest::Error) -> IdentityError {
    let kind = if e.is_timeout() {
        ErrorKind::Timeout
    } else {
        ErrorKind::Network
    };
    let why = if e.is_timeout() {
        "did not answer in time"
    } else if e.is_connect() {
        "could not be reached"
    } else {
        "failed"
    };
    let e = e.without_url();
    IdentityError::failed(kind, format!("{what} {why}: {}", error_chain(&e))).with_source(e)
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        let t = s.to_string();
        if !parts.iter().any(|p| p.contains(&t)) {
            parts.push(t);
        }
        cur = s.source();
    }
    parts.join(": ")
}

/// The URL without its query (for reports and errors).
pub(crate) fn mask_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            u.set_query(None);
            let _ = u.set_password(None);
            let _ = u.set_username("");
            u.to_string()
        }
        Err(_) => url.split('?').next().unwrap_or("").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_schedule_matches_python() {
        let r = RetryOptions::default();
        let f = r.backoff_factor;
        let d: Vec<u128> = (1..=5).map(|n| r.delay(n, f).as_millis()).collect();
        assert_eq!(d, vec![0, 1600, 3200, 6400, 12800]);
        let d410: Vec<u128> = (1..=5)
            .map(|n| r.delay(n, Duration::from_millis(2500)).as_millis())
            .collect();
        assert_eq!(d410, vec![0, 5000, 10000, 20000, 40000]);
    }

    #[test]
    fn masks_query() {
        assert_eq!(
            mask_url("http://127.0.0.1:9/a?resource=x&secret=y"),
            "http://127.0.0.1:9/a"
        );
    }
}
