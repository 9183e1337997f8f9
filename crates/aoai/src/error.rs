//! The client's one error type: a [`ErrorKind`] from a small stable set, a one-line quick fix,
//! and what the service said (status, Azure's `code` and `message`, request id, retry delay).

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

/// What went wrong, as a small stable set. The snake_case names ([`ErrorKind::as_str`]) are the
/// same in the CLI's output and its `--json` documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The client is configured wrongly (endpoint, key form, api-version, deployment missing).
    Config,
    /// The service (or the identity provider) refused the key or token.
    Authentication,
    /// The caller is known but not allowed (missing role, key auth disabled, network rules).
    Permission,
    /// No credential of the chain applies on this machine.
    CredentialUnavailable,
    /// The deployment or route does not exist.
    NotFound,
    /// The request was refused as malformed.
    BadRequest,
    /// The prompt was blocked by the content filter.
    ContentFilter,
    /// The deployment's quota is exhausted.
    RateLimit,
    /// The service failed (5xx) or answered something unreadable.
    Server,
    /// The endpoint could not be reached or the connection broke.
    Network,
    /// No answer in time.
    Timeout,
    /// A stream broke off or carried an error event.
    Stream,
}

impl ErrorKind {
    /// Stable snake_case name: `config_error`, `authentication_error`, `permission_error`,
    /// `credential_unavailable`, `not_found`, `bad_request`, `content_filter`, `rate_limit`,
    /// `server_error`, `network_error`, `timeout`, `stream_error`.
    ///
    /// ```
    /// assert_eq!(aoai::ErrorKind::RateLimit.as_str(), "rate_limit");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Config => "config_error",
            ErrorKind::Authentication => "authentication_error",
            ErrorKind::Permission => "permission_error",
            ErrorKind::CredentialUnavailable => "credential_unavailable",
            ErrorKind::NotFound => "not_found",
            ErrorKind::BadRequest => "bad_request",
            ErrorKind::ContentFilter => "content_filter",
            ErrorKind::RateLimit => "rate_limit",
            ErrorKind::Server => "server_error",
            ErrorKind::Network => "network_error",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Stream => "stream_error",
        }
    }

    /// The kind for an identity error's stable name (they share names).
    pub(crate) fn from_identity(kind: aoai_identity::ErrorKind) -> ErrorKind {
        match kind.as_str() {
            "credential_unavailable" => ErrorKind::CredentialUnavailable,
            "network_error" => ErrorKind::Network,
            "timeout" => ErrorKind::Timeout,
            "config_error" => ErrorKind::Config,
            _ => ErrorKind::Authentication,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error of the client. Never contains a key or token.
///
/// `Display` is one short line; the quick fix is [`Error::quick_fix`]; the cause is the source
/// chain.
///
/// ```
/// let err = aoai::AzureOpenAI::builder().api_key("k").build().unwrap_err();
/// assert_eq!(err.kind(), aoai::ErrorKind::Config);
/// assert!(err.quick_fix().unwrap().contains("AZURE_OPENAI_ENDPOINT"));
/// ```
pub struct Error(Box<Inner>);

struct Inner {
    kind: ErrorKind,
    message: String,
    fix: Option<String>,
    status: Option<u16>,
    code: Option<String>,
    service_message: Option<String>,
    request_id: Option<String>,
    retry_after: Option<Duration>,
    detail: Option<String>,
    source: Option<Box<dyn StdError + Send + Sync>>,
}

impl Error {
    /// An error of `kind` with a short message.
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error(Box::new(Inner {
            kind,
            message: message.into(),
            fix: None,
            status: None,
            code: None,
            service_message: None,
            request_id: None,
            retry_after: None,
            detail: None,
            source: None,
        }))
    }

    /// A configuration error with its fix.
    pub(crate) fn config(message: impl Into<String>, fix: impl Into<String>) -> Error {
        Error::new(ErrorKind::Config, message).with_fix(fix)
    }

    pub(crate) fn with_fix(mut self, fix: impl Into<String>) -> Error {
        self.0.fix = Some(fix.into());
        self
    }

    pub(crate) fn with_status(mut self, status: u16) -> Error {
        self.0.status = Some(status);
        self
    }

    pub(crate) fn with_service(mut self, code: Option<String>, message: Option<String>) -> Error {
        self.0.code = code;
        self.0.service_message = message;
        self
    }

    pub(crate) fn with_request_id(mut self, id: Option<String>) -> Error {
        self.0.request_id = id;
        self
    }

    pub(crate) fn with_retry_after(mut self, delay: Option<Duration>) -> Error {
        self.0.retry_after = delay;
        self
    }

    pub(crate) fn with_detail(mut self, detail: impl Into<String>) -> Error {
        self.0.detail = Some(detail.into());
        self
    }

    pub(crate) fn with_source(mut self, source: impl StdError + Send + Sync + 'static) -> Error {
        self.0.source = Some(Box::new(source));
        self
    }

    /// What went wrong, from a small stable set.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// One line saying what to do about it, naming the variable, command or role.
    pub fn quick_fix(&self) -> Option<&str> {
        self.0.fix.as_deref()
    }

    /// The HTTP status of the service's answer, if there was one.
    pub fn status(&self) -> Option<u16> {
        self.0.status
    }

    /// Azure's error `code` (`DeploymentNotFound`, `content_filter`, `429`, ...), as a string
    /// even where the service sent a number.
    pub fn code(&self) -> Option<&str> {
        self.0.code.as_deref()
    }

    /// Azure's error `message`, verbatim.
    pub fn service_message(&self) -> Option<&str> {
        self.0.service_message.as_deref()
    }

    /// The request id to quote in a support request (`apim-request-id`, else `x-request-id`).
    pub fn request_id(&self) -> Option<&str> {
        self.0.request_id.as_deref()
    }

    /// How long the service asked to wait before retrying.
    pub fn retry_after(&self) -> Option<Duration> {
        self.0.retry_after
    }

    /// More detail, several lines (the credential chain's report when no credential worked).
    pub fn detail(&self) -> Option<&str> {
        self.0.detail.as_deref()
    }

    /// The identity error behind this one, when a credential failed (its
    /// [`aoai_identity::IdentityError::report`] walks the chain step by step).
    pub fn identity(&self) -> Option<&aoai_identity::IdentityError> {
        self.0.source.as_deref()?.downcast_ref()
    }

    /// Whether trying again later may succeed (rate limits, server errors, network, timeouts).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.0.kind,
            ErrorKind::RateLimit | ErrorKind::Server | ErrorKind::Network | ErrorKind::Timeout
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.message)?;
        if let Some(status) = self.0.status {
            write!(f, " (HTTP {status}")?;
            if let Some(id) = &self.0.request_id {
                write!(f, ", request id {id}")?;
            }
            f.write_str(")")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.0;
        let mut d = f.debug_struct("Error");
        d.field("kind", &i.kind).field("message", &i.message);
        for (name, value) in [
            ("fix", &i.fix),
            ("code", &i.code),
            ("service_message", &i.service_message),
            ("request_id", &i.request_id),
        ] {
            if let Some(v) = value {
                d.field(name, v);
            }
        }
        if let Some(s) = i.status {
            d.field("status", &s);
        }
        if let Some(r) = i.retry_after {
            d.field("retry_after", &r);
        }
        if let Some(s) = &i.source {
            d.field("source", s);
        }
        d.finish()
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.0
            .source
            .as_deref()
            .map(|s| s as &(dyn StdError + 'static))
    }
}

impl From<aoai_identity::IdentityError> for Error {
    fn from(e: aoai_identity::IdentityError) -> Error {
        let mut err = Error::new(
            ErrorKind::from_identity(e.kind()),
            format!("no token: {}", e.message()),
        );
        if let Some(fix) = e.quick_fix() {
            err = err.with_fix(fix);
        }
        if let Some(report) = e.report() {
            err = err.with_detail(report.to_string());
        }
        err.with_service(e.code().map(str::to_string), None)
            .with_source(e)
    }
}
