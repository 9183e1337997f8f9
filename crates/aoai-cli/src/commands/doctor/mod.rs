//! `aoai doctor`: checks the setup in the order a request depends on it, and stops where later
//! checks could not mean anything.
//!
//! ```text
//!  environment ─► auth ─► dns ─► tcp ─► tls ─► credential ─► token ─► deployment
//!  (the library's (key,   (the endpoint's host)   (Entra:       (claims   (one chat request
//!   builder        token,                          chain walk    checked)  through the library,
//!   validates)     chain)                          + report)               max_tokens 1,
//!                                                                          no retries)
//! ```
//! The first `fail` ends the run: every later check is reported as `skip`.

mod checks;
mod net;
mod report;

use aoai::RetryPolicy;
use aoai_identity::Env;

pub use report::{Check, Report, Status};

use crate::cli::DoctorArgs;
use crate::failure::Exit;
use crate::settings::Settings;
use crate::ui::Spinner;

/// Every check, in order.
pub const CHECKS: &[&str] = &[
    "environment",
    "auth",
    "dns",
    "tcp",
    "tls",
    "credential",
    "token",
    "deployment",
];

/// Runs the doctor, prints the report (human or `--json`), and returns 0 when ok, else 1.
pub async fn run(args: &DoctorArgs, env: &Env) -> Exit {
    let mut spinner = if args.json {
        Spinner::none()
    } else {
        Spinner::start("checking your Azure OpenAI setup")
    };
    let report = diagnose(env).await;
    spinner.stop();
    if args.json {
        anstream::println!("{}", report.to_json());
    } else {
        anstream::print!("{}", report.render());
    }
    if report.ok { Exit::Ok } else { Exit::Failed }
}

/// Collects checks in order; after a failure the rest are skipped.
#[derive(Default)]
struct Run {
    checks: Vec<Check>,
}

impl Run {
    /// Records a check; returns false when it failed (the caller stops).
    fn push(&mut self, check: Check) -> bool {
        let ok = check.status != Status::Fail;
        self.checks.push(check);
        ok
    }

    fn finish(mut self) -> Report {
        let failed = self
            .checks
            .iter()
            .find(|c| c.status == Status::Fail)
            .map(|c| c.name.clone());
        for name in CHECKS {
            if !self.checks.iter().any(|c| c.name == *name) {
                let why = match &failed {
                    Some(f) => format!("skipped: the {f} check failed"),
                    None => "skipped".to_string(),
                };
                self.checks.push(Check::skip(name, why));
            }
        }
        self.checks.sort_by_key(|c| {
            CHECKS
                .iter()
                .position(|n| *n == c.name)
                .unwrap_or(usize::MAX)
        });
        Report::new(self.checks)
    }
}

/// Runs every check against `env` (the process environment, or a map for `aoai demo`).
pub async fn diagnose(env: &Env) -> Report {
    let mut run = Run::default();
    // The library resolves the configuration; no retries, so one answer is one diagnosis.
    let resolved = Settings::resolve(env, RetryPolicy::none());
    if !run.push(checks::environment(env, &resolved)) {
        return run.finish();
    }
    if !run.push(checks::auth(&resolved)) {
        return run.finish();
    }
    let Ok(settings) = resolved else {
        return run.finish();
    };
    let url = settings.client().endpoint().clone();
    let (check, addrs) = net::dns(&url).await;
    if !run.push(check) {
        return run.finish();
    }
    if !run.push(net::tcp(&url, &addrs).await) {
        return run.finish();
    }
    if !run.push(net::tls(&url).await) {
        return run.finish();
    }
    let (check, token) = checks::credential(&settings, env).await;
    if !run.push(check) {
        return run.finish();
    }
    if !run.push(checks::token(&settings, env, token.as_deref())) {
        return run.finish();
    }
    run.push(checks::deployment(&settings).await);
    run.finish()
}
