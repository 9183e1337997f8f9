//! `ChainedTokenCredential` and the chain walk shared with `DefaultAzureCredential`.
//!
//! ```text
//!  link 1 ─► link 2 ─► ... ─► link k (may stall: IMDS probe) ─┬─► decides first: its verdict stands
//!   (in order; unavailable → next,                             │
//!    used → done, failed → stop)      links k+1.. (in order) ──┘   tail succeeds first: link k gets
//!                                     run concurrently              `grace` more to answer, then
//!                                                                   the tail's token is used
//! ```
//!
//! Priority is kept: a lower link's token is only used once every link above it is settled as
//! unavailable, or — for an IMDS probe that has not answered at all — once it has had `grace`
//! (20 ms) more after the lower link was ready. On a real Azure host IMDS answers the probe in
//! milliseconds, long before any CLI returns; once the probe has answered, the managed identity
//! request is always awaited.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use azure_core::credentials::{TokenCredential, TokenRequestOptions};

use super::ChainLink;
use crate::error::{ErrorKind, IdentityError};
use crate::report::{ChainReport, ChainStep, Evidence, StepOutcome};
use crate::token::Token;

/// Wraps any `azure_core` `TokenCredential` (for example from `azure_identity`) for a chain.
/// Its errors stop the chain unless they carry an unavailable [`IdentityError`].
#[derive(Debug, Clone)]
pub struct ForeignCredential {
    name: String,
    inner: Arc<dyn TokenCredential>,
}

impl ForeignCredential {
    /// Names the credential for reports.
    pub fn new(name: impl Into<String>, credential: Arc<dyn TokenCredential>) -> Self {
        ForeignCredential {
            name: name.into(),
            inner: credential,
        }
    }
}

#[async_trait]
impl ChainLink for ForeignCredential {
    fn name(&self) -> &str {
        &self.name
    }
    fn looked_at(&self) -> Vec<Evidence> {
        Vec::new()
    }
    async fn token(
        &self,
        scopes: &[&str],
        options: Option<&TokenRequestOptions<'_>>,
    ) -> Result<Token, IdentityError> {
        match self.inner.get_token(scopes, options.cloned()).await {
            Ok(t) => Ok(Token {
                access_token: t.token,
                expires_on: t.expires_on,
                refresh_on: None,
            }),
            Err(e) => match IdentityError::from_azure(&e) {
                Some(ie) => Err(ie.clone()),
                None => Err(IdentityError::failed(
                    ErrorKind::Authentication,
                    e.to_string(),
                )),
            },
        }
    }
}

/// The outcome of one walk.
pub(crate) struct Walked {
    pub report: ChainReport,
    /// `Ok((index, token))` or the error that ended the walk (`None`: nothing applied).
    pub result: Result<(usize, Token), Option<IdentityError>>,
}

struct StepResult {
    step: ChainStep,
    result: Result<Token, IdentityError>,
}

async fn run_step(
    link: &Arc<dyn ChainLink>,
    scopes: &[&str],
    options: Option<&TokenRequestOptions<'_>>,
    origin: Instant,
) -> StepResult {
    let started = origin.elapsed();
    let t0 = Instant::now();
    let result = link.token(scopes, options).await;
    let elapsed = t0.elapsed();
    let (outcome, reason) = match &result {
        Ok(_) => (StepOutcome::Used, "got a token".to_string()),
        Err(e) if e.is_unavailable() => (StepOutcome::Unavailable, e.message().to_string()),
        Err(e) => (StepOutcome::Failed, e.message().to_string()),
    };
    StepResult {
        step: ChainStep {
            credential: link.name().to_string(),
            looked_at: link.looked_at(),
            outcome,
            reason,
            started,
            elapsed,
        },
        result,
    }
}

/// Walks `links` in order from `from`; steps are pushed into `steps` as they finish.
async fn walk_seq(
    links: &[Arc<dyn ChainLink>],
    from: usize,
    scopes: &[&str],
    options: Option<&TokenRequestOptions<'_>>,
    origin: Instant,
    steps: &Mutex<Vec<ChainStep>>,
) -> Result<(usize, Token), Option<IdentityError>> {
    for (i, link) in links.iter().enumerate().skip(from) {
        let r = run_step(link, scopes, options, origin).await;
        steps.lock().unwrap_or_else(|e| e.into_inner()).push(r.step);
        match r.result {
            Ok(t) => return Ok((i, t)),
            Err(e) if e.is_unavailable() => continue,
            Err(e) => return Err(Some(e)),
        }
    }
    Err(None)
}

fn take(steps: &Mutex<Vec<ChainStep>>) -> Vec<ChainStep> {
    std::mem::take(&mut *steps.lock().unwrap_or_else(|e| e.into_inner()))
}

/// Walks the chain: sequentially, except that a link that may stall runs concurrently with the
/// links after it.
pub(crate) async fn walk(
    chain: &str,
    links: &[Arc<dyn ChainLink>],
    scopes: &[&str],
    options: Option<&TokenRequestOptions<'_>>,
    grace: Duration,
) -> Walked {
    let origin = Instant::now();
    let mut steps: Vec<ChainStep> = Vec::new();
    let mut result: Result<(usize, Token), Option<IdentityError>> = Err(None);
    let mut i = 0;
    while i < links.len() {
        let link = &links[i];
        if link.may_stall() && i + 1 < links.len() {
            let tail_steps = Mutex::new(Vec::new());
            let group_started = origin.elapsed();
            let head = run_step(link, scopes, options, origin);
            let tail = walk_seq(links, i + 1, scopes, options, origin, &tail_steps);
            tokio::pin!(head);
            tokio::pin!(tail);
            let (head_result, tail_result) = tokio::select! {
                biased;
                h = &mut head => (h, None),
                t = &mut tail => {
                    match &t {
                        Ok(_) => {
                            // A lower link is ready: the stalling link gets `grace` more.
                            match tokio::time::timeout(grace, &mut head).await {
                                Ok(h) => (h, Some(t)),
                                // IMDS answered its probe: it is really there, so its
                                // token request decides (priority kept).
                                Err(_) if !link.may_stall() => ((&mut head).await, Some(t)),
                                Err(_) => {
                                    let h = abandoned(link, origin, group_started, grace);
                                    (h, Some(t))
                                }
                            }
                        }
                        Err(_) => ((&mut head).await, Some(t)),
                    }
                }
            };
            let head_outcome = head_result.step.outcome;
            steps.push(head_result.step);
            match head_result.result {
                Ok(t) => {
                    let mut tail_done = take(&tail_steps);
                    for s in &mut tail_done {
                        s.outcome = StepOutcome::Skipped;
                        s.reason = format!(
                            "ran concurrently; not needed: {} (higher priority) was used",
                            link.name()
                        );
                    }
                    steps.extend(tail_done);
                    result = Ok((i, t));
                }
                Err(e) if head_outcome == StepOutcome::Failed => {
                    let mut tail_done = take(&tail_steps);
                    for s in &mut tail_done {
                        s.outcome = StepOutcome::Skipped;
                        s.reason = format!(
                            "ran concurrently; discarded: {} (higher priority) failed",
                            link.name()
                        );
                    }
                    steps.extend(tail_done);
                    result = Err(Some(e));
                }
                Err(_) => {
                    let t = match tail_result {
                        Some(t) => t,
                        None => tail.await,
                    };
                    steps.extend(take(&tail_steps));
                    result = t;
                }
            }
            break;
        }
        let r = run_step(link, scopes, options, origin).await;
        steps.push(r.step);
        match r.result {
            Ok(t) => {
                result = Ok((i, t));
                break;
            }
            Err(e) if e.is_unavailable() => {}
            Err(e) => {
                result = Err(Some(e));
                break;
            }
        }
        i += 1;
    }
    let report = ChainReport {
        chain: chain.to_string(),
        steps,
        elapsed: origin.elapsed(),
        selection: None,
    };
    Walked { report, result }
}

fn abandoned(
    link: &Arc<dyn ChainLink>,
    origin: Instant,
    started: Duration,
    grace: Duration,
) -> StepResult {
    let reason = format!(
        "no answer yet when a lower-priority credential was ready (waited {} ms more); treated as unavailable",
        grace.as_millis()
    );
    StepResult {
        step: ChainStep {
            credential: link.name().to_string(),
            looked_at: link.looked_at(),
            outcome: StepOutcome::Unavailable,
            reason: reason.clone(),
            started,
            elapsed: origin.elapsed().saturating_sub(started),
        },
        result: Err(IdentityError::unavailable(reason)),
    }
}

/// Builds the error of a walk that produced no token.
pub(crate) fn chain_error(
    chain: &str,
    report: ChainReport,
    err: Option<IdentityError>,
) -> IdentityError {
    match err {
        Some(e) => e.with_report(report),
        None => {
            let fix = super::default::fix_for_nothing(&report);
            IdentityError::unavailable("no credential in the chain could get a token")
                .with_credential(chain)
                .with_fix(fix)
                .with_report(report)
        }
    }
}

/// Tries credentials in order, as the Python `ChainedTokenCredential` does: unavailable → next,
/// failed → stop. Every walk is recorded ([`last_report`](Self::last_report)).
#[derive(Clone, Debug)]
pub struct ChainedTokenCredential {
    links: Arc<Vec<Arc<dyn ChainLink>>>,
    last: Arc<Mutex<Option<ChainReport>>>,
    grace: Duration,
}

impl ChainedTokenCredential {
    /// The name used in reports.
    pub const NAME: &'static str = "ChainedTokenCredential";

    /// A chain of `links`, tried in order. Fails on an empty list.
    pub fn new(links: Vec<Arc<dyn ChainLink>>) -> Result<Self, IdentityError> {
        if links.is_empty() {
            return Err(IdentityError::config("at least one credential is required")
                .with_credential(Self::NAME));
        }
        Ok(ChainedTokenCredential {
            links: Arc::new(links),
            last: Arc::new(Mutex::new(None)),
            grace: Duration::from_millis(20),
        })
    }

    /// Gets a token from the first credential that applies.
    pub async fn get_token_detailed(
        &self,
        scopes: &[&str],
        options: Option<&TokenRequestOptions<'_>>,
    ) -> Result<Token, IdentityError> {
        let w = walk(Self::NAME, &self.links, scopes, options, self.grace).await;
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some(w.report.clone());
        match w.result {
            Ok((_, t)) => Ok(t),
            Err(e) => Err(chain_error(Self::NAME, w.report, e)),
        }
    }

    /// The report of the last walk.
    pub fn last_report(&self) -> Option<ChainReport> {
        self.last.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The evidence of every link.
    pub fn looked_at(&self) -> Vec<Evidence> {
        self.links.iter().flat_map(|l| l.looked_at()).collect()
    }

    fn may_stall_impl(&self) -> bool {
        false
    }
}

super::impl_credential!(ChainedTokenCredential);
