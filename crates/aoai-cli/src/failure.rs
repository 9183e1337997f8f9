//! How a command fails: a kind (the library's snake_case names), a message, a quick fix, an exit code.

use std::process::ExitCode;

use aoai_identity::IdentityError;

use crate::ui;

/// The process exit status, as documented in `--help`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Success.
    Ok = 0,
    /// The service or the credential failed.
    Failed = 1,
    /// Bad usage or configuration.
    Usage = 2,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e as u8)
    }
}

/// Kind name of configuration errors; they exit with [`Exit::Usage`].
pub const CONFIG_ERROR: &str = "config_error";

/// A command's failure, rendered in one place ([`Failure::print`]).
#[derive(Debug, Clone)]
pub struct Failure {
    /// The error kind's stable name (`config_error`, `authentication_error`, ...).
    pub kind: String,
    /// What went wrong, one line.
    pub message: String,
    /// What to do about it.
    pub fix: Option<String>,
    /// More detail printed before the fix (a credential chain report).
    pub detail: Option<String>,
}

impl Failure {
    /// A failure of a given kind.
    pub fn new(kind: impl Into<String>, message: impl Into<String>) -> Self {
        Failure {
            kind: kind.into(),
            message: message.into(),
            fix: None,
            detail: None,
        }
    }

    /// A usage or configuration failure (exit 2).
    pub fn usage(message: impl Into<String>, fix: impl Into<String>) -> Self {
        Failure::new(CONFIG_ERROR, message).with_fix(fix)
    }

    /// Adds the quick fix.
    pub fn with_fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }

    /// From the identity crate's error, with its chain report as detail.
    pub fn from_identity(e: &IdentityError) -> Self {
        Failure {
            kind: e.kind().as_str().to_string(),
            message: e.to_string(),
            fix: e.quick_fix().map(str::to_string),
            detail: e.report().map(|r| r.to_string()),
        }
    }

    /// From the client library's error: its kind, message (with the HTTP status and request id),
    /// quick fix, and detail (the credential chain's report when no credential worked).
    pub fn from_ref(e: &aoai::Error) -> Self {
        Failure {
            kind: e.kind().as_str().to_string(),
            message: e.to_string(),
            fix: e.quick_fix().map(str::to_string),
            detail: e.detail().map(str::to_string),
        }
    }

    /// The exit status: configuration errors are usage errors (2), everything else 1.
    pub fn exit(&self) -> Exit {
        if self.kind == CONFIG_ERROR {
            Exit::Usage
        } else {
            Exit::Failed
        }
    }

    /// Prints `error: ...`, the detail, and `fix: ...` on stderr.
    pub fn print(&self) {
        ui::error(&format!("{} ({})", self.message, self.kind));
        if let Some(detail) = &self.detail {
            ui::note(detail);
        }
        if let Some(fix) = &self.fix {
            ui::fix(fix);
        }
    }
}

impl From<aoai::Error> for Failure {
    fn from(e: aoai::Error) -> Self {
        Failure::from_ref(&e)
    }
}

impl From<IdentityError> for Failure {
    fn from(e: IdentityError) -> Self {
        Failure::from_identity(&e)
    }
}
