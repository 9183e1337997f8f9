//! When to retry and how long to wait: the official SDKs' rules (spec `aoai-wire.md` §8.3) with
//! full-jitter exponential backoff.
//!
//! A failed answer is retried when `x-should-retry: true`, or its status is 408, 409, 429 or
//! 5xx (unless `x-should-retry: false`); connect errors and timeouts are retried too. A server
//! delay (`x-ms-retry-after-ms`, `retry-after-ms`, `retry-after` in seconds or as an HTTP date)
//! within the cap is waited as is; above the cap there is no retry at all.

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;

/// How failed requests are retried.
///
/// ```
/// let policy = aoai::RetryPolicy { max_retries: 5, ..Default::default() };
/// assert_eq!(policy.initial_delay, std::time::Duration::from_millis(500));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (default 2, like the official SDKs; 0 disables).
    pub max_retries: u32,
    /// Upper bound of the first backoff (default 500 ms); it doubles with each retry.
    pub initial_delay: Duration,
    /// Upper bound of any backoff (default 8 s).
    pub max_delay: Duration,
    /// A server delay above this means "do not retry" (default 120 s).
    pub max_server_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 2,
            initial_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
            max_server_delay: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// No retries.
    pub fn none() -> Self {
        RetryPolicy {
            max_retries: 0,
            ..Default::default()
        }
    }

    /// Full-jitter backoff before retry number `retry` (0-based): uniform in
    /// `[0, min(initial × 2^retry, max)]`.
    pub(crate) fn backoff(&self, retry: u32) -> Duration {
        let ceiling = self
            .initial_delay
            .saturating_mul(1u32.checked_shl(retry.min(31)).unwrap_or(u32::MAX))
            .min(self.max_delay);
        ceiling.mul_f64(rand::random::<f64>())
    }

    /// The wait before retry number `retry`: the server's delay when it gave one, else backoff.
    pub(crate) fn delay(&self, retry: u32, server_delay: Option<Duration>) -> Duration {
        match server_delay {
            Some(d) if !d.is_zero() && d <= self.max_server_delay => d,
            _ => self.backoff(retry),
        }
    }

    /// Whether a failed answer with `status` and `headers` may be retried.
    pub(crate) fn should_retry(&self, status: u16, headers: &HeaderMap) -> bool {
        if server_delay(headers).is_some_and(|d| d > self.max_server_delay) {
            return false;
        }
        match header(headers, "x-should-retry") {
            Some("true") => return true,
            Some("false") => return false,
            _ => {}
        }
        matches!(status, 408 | 409 | 429) || status >= 500
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name)?.to_str().ok().map(str::trim)
}

/// The delay the server asked for, from `x-ms-retry-after-ms`, `retry-after-ms` or
/// `retry-after` (seconds, or an HTTP date).
pub(crate) fn server_delay(headers: &HeaderMap) -> Option<Duration> {
    server_delay_at(headers, SystemTime::now())
}

fn server_delay_at(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let millis = |name| {
        header(headers, name)?
            .parse::<f64>()
            .ok()
            .filter(|ms| ms.is_finite() && *ms >= 0.0)
            .map(|ms| Duration::from_secs_f64(ms / 1000.0))
    };
    if let Some(d) = millis("x-ms-retry-after-ms").or_else(|| millis("retry-after-ms")) {
        return Some(d);
    }
    let value = header(headers, "retry-after")?;
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn server_delays_are_read_in_priority_order() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let at = |pairs: &[(&'static str, &str)]| server_delay_at(&headers(pairs), now);
        assert_eq!(
            at(&[("retry-after-ms", "250"), ("retry-after", "9")]),
            Some(Duration::from_millis(250))
        );
        assert_eq!(
            at(&[("x-ms-retry-after-ms", "10"), ("retry-after-ms", "250")]),
            Some(Duration::from_millis(10))
        );
        assert_eq!(
            at(&[("retry-after", "1.5")]),
            Some(Duration::from_millis(1500))
        );
        let date = httpdate::fmt_http_date(now + Duration::from_secs(7));
        assert_eq!(at(&[("retry-after", &date)]), Some(Duration::from_secs(7)));
        assert_eq!(at(&[("retry-after", "soon")]), None);
        assert_eq!(at(&[("retry-after", "-3")]), None);
        assert_eq!(at(&[]), None);
    }

    #[test]
    fn retry_follows_status_header_and_cap() {
        let p = RetryPolicy::default();
        for s in [408, 409, 429, 500, 502, 503] {
            assert!(p.should_retry(s, &HeaderMap::new()), "{s}");
        }
        for s in [400, 401, 403, 404, 422] {
            assert!(!p.should_retry(s, &HeaderMap::new()), "{s}");
        }
        assert!(p.should_retry(400, &headers(&[("x-should-retry", "true")])));
        assert!(!p.should_retry(503, &headers(&[("x-should-retry", "false")])));
        assert!(!p.should_retry(429, &headers(&[("retry-after", "121")])));
        assert!(p.should_retry(429, &headers(&[("retry-after", "120")])));
    }

    #[test]
    fn backoff_is_full_jitter_under_a_doubling_cap() {
        let p = RetryPolicy::default();
        for retry in 0..40 {
            let cap = Duration::from_millis(500)
                .saturating_mul(1 << retry.min(20))
                .min(Duration::from_secs(8));
            for _ in 0..50 {
                assert!(p.backoff(retry) <= cap);
            }
        }
        assert_eq!(
            p.delay(0, Some(Duration::from_millis(300))),
            Duration::from_millis(300)
        );
        assert!(p.delay(0, Some(Duration::from_secs(500))) <= Duration::from_millis(500));
    }
}
