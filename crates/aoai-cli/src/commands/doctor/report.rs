//! The doctor's result: checks with a status, the `--json` contract, and the human rendering.

use owo_colors::OwoColorize;
use serde::Serialize;

/// A check's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Fine.
    Pass,
    /// Worth knowing; does not make the report fail.
    Warn,
    /// Broken; later checks are skipped.
    Fail,
    /// Not run (not applicable, or an earlier check failed).
    Skip,
}

/// One check, exactly the `--json` contract's fields (plus human-only detail, not serialised).
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// Stable name (`environment`, `auth`, `dns`, `tcp`, `tls`, `credential`, `token`, `deployment`).
    pub name: String,
    /// The outcome.
    pub status: Status,
    /// The client library's error kind, for `fail` (and `warn` when one fits).
    pub kind: Option<String>,
    /// What was found.
    pub message: String,
    /// What to do, naming the exact command or variable.
    pub fix: Option<String>,
    /// More lines for humans (a chain report); not part of the JSON contract.
    #[serde(skip)]
    pub detail: Option<String>,
}

impl Check {
    fn new(name: &str, status: Status, message: impl Into<String>) -> Self {
        Check {
            name: name.to_string(),
            status,
            kind: None,
            message: message.into(),
            fix: None,
            detail: None,
        }
    }

    /// A passing check.
    pub fn pass(name: &str, message: impl Into<String>) -> Self {
        Check::new(name, Status::Pass, message)
    }

    /// A warning with a fix.
    pub fn warn(name: &str, message: impl Into<String>, fix: impl Into<String>) -> Self {
        let mut c = Check::new(name, Status::Warn, message);
        c.fix = Some(fix.into());
        c
    }

    /// A failure of `kind` with a fix.
    pub fn fail(
        name: &str,
        kind: impl Into<String>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        let mut c = Check::new(name, Status::Fail, message);
        c.kind = Some(kind.into());
        c.fix = Some(fix.into());
        c
    }

    /// A failure from a [`crate::failure::Failure`] (kind, message and fix carried over).
    pub fn failed(name: &str, f: crate::failure::Failure) -> Self {
        let mut c = Check::new(name, Status::Fail, f.message);
        c.kind = Some(f.kind);
        c.fix = f.fix;
        c.detail = f.detail;
        c
    }

    /// A check that was not run.
    pub fn skip(name: &str, message: impl Into<String>) -> Self {
        Check::new(name, Status::Skip, message)
    }

    /// Adds human-only detail.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

/// The whole report: the `--json` contract.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// No check failed.
    pub ok: bool,
    /// The first failing check's kind.
    pub kind: Option<String>,
    /// The checks, in order.
    pub checks: Vec<Check>,
}

impl Report {
    /// Summarises checks into a report.
    pub fn new(checks: Vec<Check>) -> Self {
        let first_fail = checks.iter().find(|c| c.status == Status::Fail);
        Report {
            ok: first_fail.is_none(),
            kind: first_fail.and_then(|c| c.kind.clone()),
            checks,
        }
    }

    /// The contract's JSON (one line).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self)
            .unwrap_or_else(|_| r#"{"ok":false,"kind":null,"checks":[]}"#.into())
    }

    /// The human rendering: one line per check; kind and fix under a failure or warning.
    pub fn render(&self) -> String {
        use std::fmt::Write as _;
        let width = self.checks.iter().map(|c| c.name.len()).max().unwrap_or(0);
        let pad = " ".repeat(width + 6);
        let mut out = String::new();
        for c in &self.checks {
            let symbol = match c.status {
                Status::Pass => "✓".green().bold().to_string(),
                Status::Warn => "!".yellow().bold().to_string(),
                Status::Fail => "✗".red().bold().to_string(),
                Status::Skip => "-".dimmed().to_string(),
            };
            let name = format!("{:<width$}", c.name);
            let mut lines = c.message.lines();
            let first = lines.next().unwrap_or("");
            let message = if c.status == Status::Skip {
                first.dimmed().to_string()
            } else {
                first.to_string()
            };
            let _ = writeln!(out, "  {symbol} {}  {message}", name.bold());
            for more in lines.chain(c.detail.iter().flat_map(|d| d.lines())) {
                let _ = writeln!(out, "{pad}{}", more.dimmed());
            }
            if matches!(c.status, Status::Fail | Status::Warn) {
                if let Some(kind) = &c.kind {
                    let _ = writeln!(out, "{pad}{} {kind}", "kind:".bold());
                }
                if let Some(fix) = &c.fix {
                    let _ = writeln!(out, "{pad}{}  {}", "fix:".green().bold(), fix);
                }
            }
        }
        let failed = self
            .checks
            .iter()
            .filter(|c| c.status == Status::Fail)
            .count();
        let warned = self
            .checks
            .iter()
            .filter(|c| c.status == Status::Warn)
            .count();
        let summary = match (failed, warned) {
            (0, 0) => "all checks passed".green().bold().to_string(),
            (0, w) => format!("all checks passed, {w} warning(s)")
                .yellow()
                .bold()
                .to_string(),
            (_, _) => format!("failed: {}", self.kind.as_deref().unwrap_or("unknown"))
                .red()
                .bold()
                .to_string(),
        };
        let _ = writeln!(out, "{summary}");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_exactly_the_contract() {
        let r = Report::new(vec![
            Check::pass("environment", "fine").with_detail("not serialised"),
            Check::fail(
                "deployment",
                "not_found",
                "no such deployment",
                "set AZURE_OPENAI_DEPLOYMENT",
            ),
            Check::skip("token", "skipped"),
        ]);
        let v: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "ok": false,
                "kind": "not_found",
                "checks": [
                    {"name": "environment", "status": "pass", "kind": null, "message": "fine", "fix": null},
                    {"name": "deployment", "status": "fail", "kind": "not_found", "message": "no such deployment", "fix": "set AZURE_OPENAI_DEPLOYMENT"},
                    {"name": "token", "status": "skip", "kind": null, "message": "skipped", "fix": null},
                ]
            })
        );
    }

    #[test]
    fn warnings_keep_the_report_ok() {
        let r = Report::new(vec![Check::warn("token", "odd", "look")]);
        assert!(r.ok);
        assert_eq!(r.kind, None);
    }
}
