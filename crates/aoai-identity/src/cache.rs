//! `TokenCache`: one token per (scopes, tenant), shared by every caller of a credential.
//!
//! ```text
//!  get_token ──► valid token? ──yes──► return it at once
//!                   │                   └─ past refresh_at (5 min before expiry, or refresh_on /
//!                   │                      half-life, minus jitter)? spawn ONE background refresh;
//!                   │                      callers keep the old token meanwhile
//!                   no (or ForceRefresh)
//!                   ▼
//!            request in flight? ──yes──► wait for it (single-flight: N callers, 1 request)
//!                   no ──► start it, wait for it
//! ```
//!
//! A failed background refresh keeps the old token and waits 30 s before the next attempt.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use futures::future::{BoxFuture, FutureExt, Shared};
use rand::Rng;
use time::{Duration, OffsetDateTime};

use crate::clock::Clock;
use crate::error::IdentityError;
use crate::token::Token;

/// Cache timing (defaults follow the Python peer: 300 s window, 30 s between attempts).
#[derive(Debug, Clone, Copy)]
pub struct CacheOptions {
    /// Refresh proactively this long before expiry.
    pub refresh_window: Duration,
    /// Minimum time between two requests for a key while its token is valid (also the backoff
    /// after a failed refresh).
    pub min_retry_gap: Duration,
    /// Up to this much random time is taken off the refresh time, so many processes started
    /// together do not refresh together.
    pub max_jitter: Duration,
    /// A token with less than this left is not handed out; callers wait for a new one.
    pub min_validity: Duration,
}

impl Default for CacheOptions {
    fn default() -> Self {
        CacheOptions {
            refresh_window: Duration::minutes(5),
            min_retry_gap: Duration::seconds(30),
            max_jitter: Duration::seconds(30),
            min_validity: Duration::seconds(30),
        }
    }
}

type Fetch = Shared<BoxFuture<'static, Result<Token, IdentityError>>>;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    scopes: String,
    tenant: Option<String>,
}

impl Key {
    fn new(scopes: &[&str], tenant: Option<&str>) -> Self {
        Key {
            scopes: scopes.join(" "),
            tenant: tenant.map(str::to_owned),
        }
    }
}

#[derive(Default)]
struct Entry {
    token: Option<Token>,
    refresh_at: Option<OffsetDateTime>,
    next_attempt: Option<OffsetDateTime>,
    inflight: Option<Fetch>,
    requests: u64,
}

struct Inner {
    clock: Arc<dyn Clock>,
    options: CacheOptions,
    entries: Mutex<HashMap<Key, Entry>>,
}

/// A token cache with single-flight requests and background refresh. Cheap to clone (shared).
#[derive(Clone)]
pub struct TokenCache(Arc<Inner>);

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.0.entries.lock().map(|m| m.len()).unwrap_or(0);
        f.debug_struct("TokenCache")
            .field("entries", &n)
            .field("options", &self.0.options)
            .finish()
    }
}

impl TokenCache {
    /// A cache with default timing.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self::with_options(clock, CacheOptions::default())
    }

    /// A cache with explicit timing.
    pub fn with_options(clock: Arc<dyn Clock>, options: CacheOptions) -> Self {
        TokenCache(Arc::new(Inner {
            clock,
            options,
            entries: Mutex::new(HashMap::new()),
        }))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Entry>> {
        self.0.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Returns the cached token for `scopes` (+ `tenant`), or runs `fetch` once for all
    /// concurrent callers. `force` drops the cached token first (the `ForceRefresh` marker).
    ///
    /// Never waits when a valid token is cached: a due refresh runs in the background.
    pub async fn get_or_fetch<F, Fut>(
        &self,
        scopes: &[&str],
        tenant: Option<&str>,
        force: bool,
        fetch: F,
    ) -> Result<Token, IdentityError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Token, IdentityError>> + Send + 'static,
    {
        let key = Key::new(scopes, tenant);
        let now = self.0.clock.now();
        let waiting = {
            let mut map = self.lock();
            let entry = map.entry(key.clone()).or_default();
            if force {
                entry.token = None;
                entry.next_attempt = None;
            }
            if let Some(token) = entry.token.clone() {
                if token.expires_on - now > self.0.options.min_validity {
                    let due = entry.refresh_at.is_some_and(|at| now >= at);
                    let allowed = entry.next_attempt.is_none_or(|at| now >= at);
                    if due
                        && allowed
                        && entry.inflight.is_none()
                        && let Ok(rt) = tokio::runtime::Handle::try_current()
                    {
                        let fut = self.start(entry, key.clone(), fetch);
                        rt.spawn(fut);
                        tracing::debug!(scopes = %key.scopes, "background token refresh started");
                    }
                    return Ok(token);
                }
                entry.token = None;
            }
            match &entry.inflight {
                Some(f) => f.clone(),
                None => self.start(entry, key, fetch),
            }
        };
        waiting.await
    }

    fn start<F, Fut>(&self, entry: &mut Entry, key: Key, fetch: F) -> Fetch
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Token, IdentityError>> + Send + 'static,
    {
        let cache = self.clone();
        let fut = fetch();
        let shared = async move {
            let result = fut.await;
            cache.complete(&key, &result);
            result
        }
        .boxed()
        .shared();
        entry.inflight = Some(shared.clone());
        entry.requests += 1;
        shared
    }

    fn complete(&self, key: &Key, result: &Result<Token, IdentityError>) {
        let now = self.0.clock.now();
        let o = self.0.options;
        let mut map = self.lock();
        let entry = map.entry(key.clone()).or_default();
        entry.inflight = None;
        entry.next_attempt = Some(now + o.min_retry_gap);
        match result {
            Ok(token) => {
                let by_window = token.expires_on - o.refresh_window;
                let base = match token.refresh_on {
                    Some(r) if r < by_window => r,
                    _ => by_window,
                };
                let jitter_ms = o.max_jitter.whole_milliseconds().max(0) as i64;
                let jitter = if jitter_ms > 0 {
                    rand::rng().random_range(0..=jitter_ms)
                } else {
                    0
                };
                entry.refresh_at = Some(base - Duration::milliseconds(jitter));
                entry.token = Some(token.clone());
            }
            Err(e) => {
                let kept = entry
                    .token
                    .as_ref()
                    .is_some_and(|t| t.expires_on - now > o.min_validity);
                tracing::warn!(
                    scopes = %key.scopes,
                    error = %e,
                    kept_old_token = kept,
                    "token refresh failed; next attempt in {} s",
                    o.min_retry_gap.whole_seconds()
                );
            }
        }
    }

    /// Drops the cached token for `scopes` (every tenant), e.g. after a 401.
    pub fn invalidate(&self, scopes: &[&str]) {
        let joined = scopes.join(" ");
        let mut map = self.lock();
        for (k, e) in map.iter_mut() {
            if k.scopes == joined {
                e.token = None;
                e.next_attempt = None;
            }
        }
    }

    /// Drops every cached token.
    pub fn clear(&self) {
        for e in self.lock().values_mut() {
            e.token = None;
            e.next_attempt = None;
        }
    }

    /// The cached token for `scopes`, without side effects.
    pub fn peek(&self, scopes: &[&str], tenant: Option<&str>) -> Option<Token> {
        self.lock()
            .get(&Key::new(scopes, tenant))
            .and_then(|e| e.token.clone())
    }

    /// How many requests the cache started for `scopes` (tests and diagnostics).
    pub fn request_count(&self, scopes: &[&str], tenant: Option<&str>) -> u64 {
        self.lock()
            .get(&Key::new(scopes, tenant))
            .map(|e| e.requests)
            .unwrap_or(0)
    }

    /// Waits for a request in flight for `scopes`, if any (tests: observe a background refresh).
    pub async fn wait_for_refresh(&self, scopes: &[&str], tenant: Option<&str>) {
        let fut = self
            .lock()
            .get(&Key::new(scopes, tenant))
            .and_then(|e| e.inflight.clone());
        if let Some(f) = fut {
            let _ = f.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::sync::Notify;

    const S: &[&str] = &["https://cognitiveservices.azure.com/.default"];

    fn cache(clock: &ManualClock) -> TokenCache {
        TokenCache::with_options(
            Arc::new(clock.clone()),
            CacheOptions {
                max_jitter: Duration::ZERO,
                ..CacheOptions::default()
            },
        )
    }

    fn token(name: &str, clock: &ManualClock, lifetime: Duration) -> Token {
        Token::new(name, clock.now() + lifetime)
    }

    #[tokio::test]
    async fn single_flight_1000_callers_one_fetch() {
        let clock = ManualClock::starting_now();
        let c = cache(&clock);
        let calls = Arc::new(AtomicUsize::new(0));
        let gate = Arc::new(Notify::new());
        let mut tasks = Vec::new();
        for _ in 0..1000 {
            let (c, calls, gate, clock) = (c.clone(), calls.clone(), gate.clone(), clock.clone());
            tasks.push(tokio::spawn(async move {
                c.get_or_fetch(S, None, false, move || {
                    calls.fetch_add(1, Ordering::SeqCst);
                    async move {
                        gate.notified().await;
                        Ok(token("t1", &clock, Duration::hours(1)))
                    }
                })
                .await
            }));
        }
        // Let every task register, then open the gate.
        while c.request_count(S, None) == 0 {
            tokio::task::yield_now().await;
        }
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        gate.notify_waiters();
        gate.notify_one();
        for t in tasks {
            assert_eq!(t.await.unwrap().unwrap().access_token.secret(), "t1");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn background_refresh_never_blocks_callers() {
        let clock = ManualClock::starting_now();
        let c = cache(&clock);
        let first = c.get_or_fetch(S, None, false, || {
            let t = token("old", &clock, Duration::hours(1));
            async move { Ok(t) }
        });
        assert_eq!(first.await.unwrap().access_token.secret(), "old");

        // 4 minutes before expiry: inside the 5-minute window.
        clock.advance(Duration::minutes(56));
        let gate = Arc::new(Notify::new());
        let g = gate.clone();
        let new = token("new", &clock, Duration::hours(1));
        let got = c
            .get_or_fetch(S, None, false, move || async move {
                g.notified().await;
                Ok(new)
            })
            .now_or_never()
            .expect("a caller with a valid token must not wait")
            .unwrap();
        assert_eq!(got.access_token.secret(), "old");
        // Another caller while the refresh is blocked: also immediate, no second fetch.
        let again = c
            .get_or_fetch(S, None, false, || async {
                panic!("no second fetch while one is in flight")
            })
            .now_or_never()
            .unwrap()
            .unwrap();
        assert_eq!(again.access_token.secret(), "old");
        assert_eq!(c.request_count(S, None), 2);
        gate.notify_one();
        c.wait_for_refresh(S, None).await;
        assert_eq!(c.peek(S, None).unwrap().access_token.secret(), "new");
    }

    #[tokio::test]
    async fn failed_refresh_keeps_old_token_and_backs_off() {
        let clock = ManualClock::starting_now();
        let c = cache(&clock);
        let t = token("old", &clock, Duration::hours(1));
        c.get_or_fetch(S, None, false, || async move { Ok(t) })
            .await
            .unwrap();
        clock.advance(Duration::minutes(57));
        let got = c
            .get_or_fetch(S, None, false, || async {
                Err(IdentityError::unavailable("idp down"))
            })
            .await
            .unwrap();
        assert_eq!(got.access_token.secret(), "old");
        c.wait_for_refresh(S, None).await;
        assert_eq!(c.request_count(S, None), 2);
        // Within 30 s: no new attempt.
        clock.advance(Duration::seconds(20));
        let got = c
            .get_or_fetch(S, None, false, || async { panic!("backoff must hold") })
            .await
            .unwrap();
        assert_eq!(got.access_token.secret(), "old");
        assert_eq!(c.request_count(S, None), 2);
        // After 30 s: tries again (and fails again, still old token).
        clock.advance(Duration::seconds(15));
        let got = c
            .get_or_fetch(S, None, false, || async {
                Err(IdentityError::unavailable("still down"))
            })
            .await
            .unwrap();
        assert_eq!(got.access_token.secret(), "old");
        c.wait_for_refresh(S, None).await;
        assert_eq!(c.request_count(S, None), 3);
        // Expired: the caller waits and sees the error.
        clock.advance(Duration::minutes(5));
        let err = c
            .get_or_fetch(S, None, false, || async {
                Err(IdentityError::unavailable("down"))
            })
            .await
            .unwrap_err();
        assert_eq!(err.message(), "down");
    }

    #[tokio::test]
    async fn force_refresh_and_invalidate_drop_the_token() {
        let clock = ManualClock::starting_now();
        let c = cache(&clock);
        let (t1, t2, t3) = (
            token("a", &clock, Duration::hours(1)),
            token("b", &clock, Duration::hours(1)),
            token("c", &clock, Duration::hours(1)),
        );
        c.get_or_fetch(S, None, false, || async move { Ok(t1) })
            .await
            .unwrap();
        let b = c
            .get_or_fetch(S, None, true, || async move { Ok(t2) })
            .await
            .unwrap();
        assert_eq!(b.access_token.secret(), "b");
        c.invalidate(S);
        let cc = c
            .get_or_fetch(S, None, false, || async move { Ok(t3) })
            .await
            .unwrap();
        assert_eq!(cc.access_token.secret(), "c");
    }

    #[tokio::test]
    async fn refresh_on_and_half_life_are_honoured() {
        let clock = ManualClock::starting_now();
        let c = cache(&clock);
        let issued = clock.now();
        let t = Token::from_lifetime(
            "day".into(),
            issued,
            issued + Duration::seconds(86399),
            None,
        );
        c.get_or_fetch(S, None, false, || async move { Ok(t) })
            .await
            .unwrap();
        clock.advance(Duration::hours(11));
        c.get_or_fetch(S, None, false, || async {
            panic!("not due before half-life")
        })
        .await
        .unwrap();
        clock.advance(Duration::hours(2));
        let t2 = token("day2", &clock, Duration::hours(24));
        c.get_or_fetch(S, None, false, || async move { Ok(t2) })
            .await
            .unwrap();
        c.wait_for_refresh(S, None).await;
        assert_eq!(c.peek(S, None).unwrap().access_token.secret(), "day2");
    }
}
