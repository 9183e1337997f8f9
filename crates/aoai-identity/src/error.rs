//! `IdentityError`: the one error type of this crate.
//!
//! Two questions matter to a chain and to a user: does this credential apply here at all
//! ([`IdentityError::is_unavailable`]: no → the chain goes on), and what should I do
//! ([`IdentityError::quick_fix`]). The [`kind`](IdentityError::kind) names match the client's
//! error kinds (`credential_unavailable`, `authentication_error`, `network_error`, `timeout`,
//! `config_error`).

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

use crate::report::ChainReport;

/// What went wrong, as a small stable set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The credential does not apply here (not configured, tool missing, not logged in).
    CredentialUnavailable,
    /// The identity provider refused (wrong secret, unknown client, bad assertion, ...).
    Authentication,
    /// The identity endpoint could not be reached or answered garbage.
    Network,
    /// The identity endpoint or tool did not answer in time.
    Timeout,
    /// The configuration is malformed (bad tenant id, bad authority, unreadable certificate, ...).
    Config,
}

impl ErrorKind {
    /// Stable snake_case name, the same as the client's error kinds.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::CredentialUnavailable => "credential_unavailable",
            ErrorKind::Authentication => "authentication_error",
            ErrorKind::Network => "network_error",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Config => "config_error",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An identity error. Cheap to clone (an `Arc` inside); never contains a secret.
///
/// `Display` is one short line; the alternate form (`{:#}`) adds the chain report and the quick
/// fix. Get it back from an [`azure_core::Error`] with [`IdentityError::from_azure`].
#[derive(Clone)]
pub struct IdentityError(Arc<Inner>);

struct Inner {
    kind: ErrorKind,
    unavailable: bool,
    credential: Option<String>,
    message: String,
    quick_fix: Option<String>,
    code: Option<String>,
    status: Option<u16>,
    report: Option<ChainReport>,
    source: Option<Arc<dyn StdError + Send + Sync>>,
}

impl IdentityError {
    fn build(kind: ErrorKind, unavailable: bool, message: impl Into<String>) -> Self {
        IdentityError(Arc::new(Inner {
            kind,
            unavailable,
            credential: None,
            message: message.into(),
            quick_fix: None,
            code: None,
            status: None,
            report: None,
            source: None,
        }))
    }

    /// This credential does not apply here; a chain goes on to the next one.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::build(ErrorKind::CredentialUnavailable, true, message)
    }

    /// The credential applies and failed; a chain stops here.
    pub fn failed(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self::build(kind, kind == ErrorKind::CredentialUnavailable, message)
    }

    /// A malformed configuration (reported by constructors).
    pub fn config(message: impl Into<String>) -> Self {
        Self::build(ErrorKind::Config, false, message)
    }

    fn edit(mut self, f: impl FnOnce(&mut Inner)) -> Self {
        match Arc::get_mut(&mut self.0) {
            Some(inner) => f(inner),
            None => {
                let o = &*self.0;
                let mut inner = Inner {
                    kind: o.kind,
                    unavailable: o.unavailable,
                    credential: o.credential.clone(),
                    message: o.message.clone(),
                    quick_fix: o.quick_fix.clone(),
                    code: o.code.clone(),
                    status: o.status,
                    report: o.report.clone(),
                    source: o.source.clone(),
                };
                f(&mut inner);
                self = IdentityError(Arc::new(inner));
            }
        }
        self
    }

    /// Attaches the quick fix (what the user should do).
    pub fn with_fix(self, fix: impl Into<String>) -> Self {
        let fix = fix.into();
        self.edit(|i| i.quick_fix = Some(fix))
    }

    /// Names the credential that produced the error (kept if already set).
    pub fn with_credential(self, name: impl Into<String>) -> Self {
        let name = name.into();
        self.edit(|i| {
            if i.credential.is_none() {
                i.credential = Some(name)
            }
        })
    }

    /// Attaches the service's error code (for example `AADSTS7000215`).
    pub fn with_code(self, code: impl Into<String>) -> Self {
        let code = code.into();
        self.edit(|i| i.code = Some(code))
    }

    /// Attaches the HTTP status the identity endpoint answered with.
    pub fn with_status(self, status: u16) -> Self {
        self.edit(|i| i.status = Some(status))
    }

    /// Attaches the underlying error.
    pub fn with_source(self, source: impl StdError + Send + Sync + 'static) -> Self {
        let source: Arc<dyn StdError + Send + Sync> = Arc::new(source);
        self.edit(|i| i.source = Some(source))
    }

    /// Attaches a chain report.
    pub fn with_report(self, report: ChainReport) -> Self {
        self.edit(|i| i.report = Some(report))
    }

    /// Turns this error into "unavailable" (kept message, kind and fix), for chain contexts that
    /// treat every failure of a credential as "does not apply" (the CLI credentials in a chain).
    pub fn into_unavailable(self) -> Self {
        self.edit(|i| {
            i.unavailable = true;
            i.kind = ErrorKind::CredentialUnavailable;
        })
    }

    /// Turns an "unavailable" error into a hard failure of `kind` (message and fix kept).
    pub fn into_failed(self, kind: ErrorKind) -> Self {
        self.edit(|i| {
            i.unavailable = false;
            i.kind = kind;
        })
    }

    /// The kind; its [`as_str`](ErrorKind::as_str) matches the client's error kinds.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// True when the credential does not apply here (a chain continues); false when it applies
    /// and failed (a chain stops).
    pub fn is_unavailable(&self) -> bool {
        self.0.unavailable
    }

    /// The credential that produced this error, e.g. `EnvironmentCredential`.
    pub fn credential(&self) -> Option<&str> {
        self.0.credential.as_deref()
    }

    /// The message, without credential name or fix.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// What to do about it, naming the exact command or variable.
    pub fn quick_fix(&self) -> Option<&str> {
        self.0.quick_fix.as_deref()
    }

    /// The identity provider's error code (`AADSTS7000215`, `invalid_client`, ...).
    pub fn code(&self) -> Option<&str> {
        self.0.code.as_deref()
    }

    /// The HTTP status of the identity endpoint's answer, if there was one.
    pub fn status(&self) -> Option<u16> {
        self.0.status
    }

    /// The chain report, when a chain produced this error.
    pub fn report(&self) -> Option<&ChainReport> {
        self.0.report.as_ref()
    }

    /// Finds the `IdentityError` inside an `azure_core::Error` returned by
    /// [`TokenCredential::get_token`](azure_core::credentials::TokenCredential::get_token).
    ///
    /// ```
    /// use aoai_identity::IdentityError;
    /// let err: azure_core::Error = IdentityError::unavailable("nothing here").into();
    /// let back = IdentityError::from_azure(&err).expect("an identity error");
    /// assert!(back.is_unavailable());
    /// // Equivalent: err.downcast_ref::<IdentityError>()
    /// ```
    pub fn from_azure(err: &azure_core::Error) -> Option<&IdentityError> {
        err.downcast_ref::<IdentityError>()
    }
}

impl fmt::Debug for IdentityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &*self.0;
        let mut d = f.debug_struct("IdentityError");
        d.field("kind", &i.kind.as_str())
            .field("unavailable", &i.unavailable);
        if let Some(c) = &i.credential {
            d.field("credential", c);
        }
        d.field("message", &i.message);
        if let Some(c) = &i.code {
            d.field("code", c);
        }
        if let Some(s) = &i.status {
            d.field("status", s);
        }
        if let Some(q) = &i.quick_fix {
            d.field("quick_fix", q);
        }
        if let Some(s) = &i.source {
            d.field("source", &s.to_string());
        }
        d.finish_non_exhaustive()
    }
}

impl fmt::Display for IdentityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &*self.0;
        if let Some(c) = &i.credential {
            write!(f, "{c}: ")?;
        }
        f.write_str(&i.message)?;
        if f.alternate() {
            if let Some(r) = &i.report {
                write!(f, "\n{r}")?;
            }
            if let Some(q) = &i.quick_fix {
                write!(f, "\nquick fix: {q}")?;
            }
        }
        Ok(())
    }
}

impl StdError for IdentityError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.0
            .source
            .as_deref()
            .map(|s| s as &(dyn StdError + 'static))
    }
}

impl From<IdentityError> for azure_core::Error {
    /// `ErrorKind::Credential`, with the `IdentityError` as the downcastable source.
    fn from(err: IdentityError) -> Self {
        azure_core::Error::new(azure_core::error::ErrorKind::Credential, err)
    }
}

/// Quick-fix texts shared by several credentials (rendered the same everywhere).
pub(crate) mod fixes {
    /// Nothing configured at all.
    pub const NO_CREDENTIAL: &str = "run `az login` (or `azd auth login`), or set AZURE_TENANT_ID, \
AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH) for a service principal, \
or run on Azure with a managed identity";
    /// `az` missing or not logged in.
    pub const AZ_LOGIN: &str =
        "run `az login` (install the Azure CLI from https://aka.ms/azure-cli if `az` is missing)";
    /// `azd` missing or not logged in.
    pub const AZD_LOGIN: &str =
        "run `azd auth login` (install azd from https://aka.ms/azure-dev if it is missing)";
    /// pwsh missing or not logged in.
    pub const PWSH_LOGIN: &str = "run `Connect-AzAccount` in PowerShell (needs the Az.Accounts module: `Install-Module Az.Accounts`)";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrips_through_azure_core_error() {
        let e = IdentityError::failed(ErrorKind::Authentication, "bad secret")
            .with_fix("set AZURE_CLIENT_SECRET")
            .with_credential("EnvironmentCredential");
        let az: azure_core::Error = e.into();
        assert_eq!(*az.kind(), azure_core::error::ErrorKind::Credential);
        let back = IdentityError::from_azure(&az).unwrap();
        assert_eq!(back.kind().as_str(), "authentication_error");
        assert!(!back.is_unavailable());
        assert_eq!(back.quick_fix(), Some("set AZURE_CLIENT_SECRET"));
        assert_eq!(back.to_string(), "EnvironmentCredential: bad secret");
        assert!(format!("{back:#}").contains("quick fix: set AZURE_CLIENT_SECRET"));
    }

    #[test]
    fn unavailable_conversion_keeps_message() {
        let e = IdentityError::failed(ErrorKind::Timeout, "az timed out").into_unavailable();
        assert!(e.is_unavailable());
        assert_eq!(e.kind(), ErrorKind::CredentialUnavailable);
        assert_eq!(e.message(), "az timed out");
    }
}
