//! What a credential chain did: one step per credential, with evidence, outcome, reason and time.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// One thing a credential looked at to decide whether it applies. Names only, never values.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Evidence {
    /// An environment variable and whether it was set (its value is never recorded).
    EnvVar {
        /// The variable's name.
        name: &'static str,
        /// Whether it was set (an empty value counts as set).
        set: bool,
    },
    /// An endpoint the credential talked to (secrets never appear in these URLs).
    Endpoint {
        /// The URL (without query).
        url: String,
    },
    /// An executable looked up on `PATH`.
    Executable {
        /// The program name (`az`, `azd`, `pwsh`).
        name: String,
        /// Where it was found, if it was.
        path: Option<PathBuf>,
    },
    /// A file the credential read.
    File {
        /// Its path.
        path: PathBuf,
        /// Whether it existed.
        exists: bool,
    },
    /// Anything else worth telling.
    Note(String),
}

impl fmt::Display for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Evidence::EnvVar { name, set: true } => write!(f, "{name} set"),
            Evidence::EnvVar { name, set: false } => write!(f, "{name} unset"),
            Evidence::Endpoint { url } => write!(f, "endpoint {url}"),
            Evidence::Executable {
                name,
                path: Some(p),
            } => write!(f, "{name} at {}", p.display()),
            Evidence::Executable { name, path: None } => write!(f, "{name} not on PATH"),
            Evidence::File { path, exists: true } => write!(f, "file {}", path.display()),
            Evidence::File {
                path,
                exists: false,
            } => write!(f, "file {} (missing)", path.display()),
            Evidence::Note(s) => f.write_str(s),
        }
    }
}

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StepOutcome {
    /// Not tried: excluded by options or `AZURE_TOKEN_CREDENTIALS`, or superseded by a
    /// higher-priority credential.
    Skipped,
    /// Does not apply here; the chain went on.
    Unavailable,
    /// Applies and failed; the chain stopped.
    Failed,
    /// Produced the token.
    Used,
}

impl StepOutcome {
    /// Stable lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            StepOutcome::Skipped => "skipped",
            StepOutcome::Unavailable => "unavailable",
            StepOutcome::Failed => "failed",
            StepOutcome::Used => "used",
        }
    }
}

impl fmt::Display for StepOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One credential's part in a chain walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainStep {
    /// The credential's name, e.g. `AzureCliCredential`.
    pub credential: String,
    /// What it looked at: variables (names only), endpoints, executables, files.
    pub looked_at: Vec<Evidence>,
    /// How it ended.
    pub outcome: StepOutcome,
    /// Why (the credential's message; for `Used`, what it used).
    pub reason: String,
    /// When the step started, measured from the start of the walk.
    pub started: Duration,
    /// How long the step took.
    pub elapsed: Duration,
}

/// The report of one chain walk (`DefaultAzureCredential` or `ChainedTokenCredential`).
///
/// `Display` renders a table for humans; the fields are for programs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChainReport {
    /// The chain's name (`DefaultAzureCredential`, `ChainedTokenCredential`).
    pub chain: String,
    /// Steps in chain order.
    pub steps: Vec<ChainStep>,
    /// How long the walk took.
    pub elapsed: Duration,
    /// What chose the chain's members (for example `AZURE_TOKEN_CREDENTIALS=dev`), if anything.
    pub selection: Option<String>,
}

impl ChainReport {
    /// The credential that produced the token, if one did.
    pub fn used(&self) -> Option<&ChainStep> {
        self.steps.iter().find(|s| s.outcome == StepOutcome::Used)
    }

    /// The step that stopped the chain with a hard failure, if any.
    pub fn failed(&self) -> Option<&ChainStep> {
        self.steps.iter().find(|s| s.outcome == StepOutcome::Failed)
    }

    /// The step for a credential, by name.
    pub fn step(&self, credential: &str) -> Option<&ChainStep> {
        self.steps.iter().find(|s| s.credential == credential)
    }
}

fn fmt_ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

impl fmt::Display for ChainReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tried = self
            .steps
            .iter()
            .filter(|s| s.outcome != StepOutcome::Skipped)
            .count();
        let verdict = match (self.used(), self.failed()) {
            (Some(s), _) => format!("used {}", s.credential),
            (None, Some(s)) => format!("stopped at {}: it applies here and failed", s.credential),
            (None, None) => "none applies here".to_string(),
        };
        write!(
            f,
            "{} tried {tried} credential(s) in {}; {verdict}",
            self.chain,
            fmt_ms(self.elapsed)
        )?;
        if let Some(sel) = &self.selection {
            write!(f, " [{sel}]")?;
        }
        let width = self
            .steps
            .iter()
            .map(|s| s.credential.len())
            .max()
            .unwrap_or(0);
        for (i, step) in self.steps.iter().enumerate() {
            write!(
                f,
                "\n  {}. {:<width$}  {:<11}  {:>8}  {}",
                i + 1,
                step.credential,
                step.outcome.as_str(),
                fmt_ms(step.elapsed),
                step.reason.lines().next().unwrap_or(""),
            )?;
            if !step.looked_at.is_empty() {
                let seen: Vec<String> = step.looked_at.iter().map(|e| e.to_string()).collect();
                write!(f, "\n     looked at: {}", seen.join(", "))?;
            }
        }
        Ok(())
    }
}
