//! Per-deployment RPM/TPM limits over fixed 60-second windows, lock-free (atomics only).
//!
//! Semantics (spec §3.3): every request that reaches the limiter counts (failed ones too); the
//! token charge is the arrival estimate `prompt characters / 4 + max_tokens` (see
//! [`crate::openai::chat::tpm_estimate`]). A request that takes the count over the limit gets 429
//! with `retry-after` = seconds to the end of the window.

use std::{
    collections::HashMap,
    sync::atomic::{AtomicU64, Ordering},
    time::{SystemTime, UNIX_EPOCH},
};

use crate::config::DeploymentConfig;

/// Limit reported in headers for a deployment without `rpm`.
pub const UNLIMITED_RPM: u64 = 1_000_000;
/// Limit reported in headers for a deployment without `tpm`.
pub const UNLIMITED_TPM: u64 = 100_000_000;

/// Which limit was exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exceeded {
    /// Requests per minute ("call rate limit").
    Requests,
    /// Tokens per minute ("token rate limit").
    Tokens,
}

/// Result of charging one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Charge {
    /// Request limit per minute.
    pub limit_requests: u64,
    /// Token limit per minute.
    pub limit_tokens: u64,
    /// Requests left in this window.
    pub remaining_requests: u64,
    /// Tokens left in this window.
    pub remaining_tokens: u64,
    /// Set when a limit was exceeded.
    pub exceeded: Option<Exceeded>,
    /// Seconds until the window resets (at least 1).
    pub reset_secs: u64,
}

/// The counters of one deployment.
#[derive(Debug)]
pub struct Limiter {
    rpm: u64,
    tpm: u64,
    window: AtomicU64,
    requests: AtomicU64,
    tokens: AtomicU64,
}

impl Limiter {
    /// A limiter; `None` means unlimited (reported with the `UNLIMITED_*` figures).
    pub fn new(rpm: Option<u64>, tpm: Option<u64>) -> Self {
        Self {
            rpm: rpm.unwrap_or(UNLIMITED_RPM),
            tpm: tpm.unwrap_or(UNLIMITED_TPM),
            window: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            tokens: AtomicU64::new(0),
        }
    }

    /// Charges one request of `tokens` estimated tokens at `now_secs` (Unix time).
    pub fn charge_at(&self, now_secs: u64, tokens: u64) -> Charge {
        let window = now_secs / 60;
        let seen = self.window.load(Ordering::Acquire);
        if seen != window
            && self
                .window
                .compare_exchange(seen, window, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            self.requests.store(0, Ordering::Release);
            self.tokens.store(0, Ordering::Release);
        }
        let requests = self.requests.fetch_add(1, Ordering::AcqRel) + 1;
        let used_tokens = self.tokens.fetch_add(tokens, Ordering::AcqRel) + tokens;
        let exceeded = if requests > self.rpm {
            Some(Exceeded::Requests)
        } else if used_tokens > self.tpm {
            Some(Exceeded::Tokens)
        } else {
            None
        };
        Charge {
            limit_requests: self.rpm,
            limit_tokens: self.tpm,
            remaining_requests: self.rpm.saturating_sub(requests),
            remaining_tokens: self.tpm.saturating_sub(used_tokens),
            exceeded,
            reset_secs: (60 - now_secs % 60).max(1),
        }
    }

    /// Charges one request now.
    pub fn charge(&self, tokens: u64) -> Charge {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        self.charge_at(now, tokens)
    }
}

/// Limiters of every configured deployment (built once; lookups take no lock).
#[derive(Debug, Default)]
pub struct RateLimits {
    by_deployment: HashMap<String, Limiter>,
}

impl RateLimits {
    /// One limiter per deployment.
    pub fn new(deployments: &[DeploymentConfig]) -> Self {
        Self {
            by_deployment: deployments
                .iter()
                .map(|d| (d.name.clone(), Limiter::new(d.rpm, d.tpm)))
                .collect(),
        }
    }

    /// The limiter of `deployment`.
    pub fn get(&self, deployment: &str) -> Option<&Limiter> {
        self.by_deployment.get(deployment)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_requests_and_tokens_per_window() {
        let l = Limiter::new(Some(2), Some(100));
        let t0 = 6_000; // start of a window
        let c = l.charge_at(t0, 10);
        assert_eq!(
            (c.remaining_requests, c.remaining_tokens, c.exceeded),
            (1, 90, None)
        );
        assert_eq!(c.reset_secs, 60);
        assert_eq!(l.charge_at(t0 + 1, 10).exceeded, None);
        let c = l.charge_at(t0 + 15, 10);
        assert_eq!(c.exceeded, Some(Exceeded::Requests));
        assert_eq!(c.reset_secs, 45);
        // next window starts fresh
        assert_eq!(l.charge_at(t0 + 60, 10).exceeded, None);
        assert_eq!(l.charge_at(t0 + 61, 95).exceeded, Some(Exceeded::Tokens));
    }

    #[test]
    fn unlimited_reports_big_figures() {
        let l = Limiter::new(None, None);
        let c = l.charge_at(0, 5);
        assert_eq!(c.limit_requests, UNLIMITED_RPM);
        assert_eq!(c.remaining_tokens, UNLIMITED_TPM - 5);
    }
}
