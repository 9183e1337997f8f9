//! The load driver and what it measures: requests, streamed chunks, time to first chunk, and the
//! process's CPU time and peak RSS (getrusage) over the measured window.
//!
//! ```text
//! warm-up phase (results dropped) ─► rusage₀, t₀ ─► measured phase ─► join all ─► t₁, rusage₁
//!   N workers loop { start = now; op().await; record(start) } until the phase deadline
//! ```
//! A request in flight at the deadline finishes and counts; elapsed runs until the last one ends.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;

/// What one request produced.
#[derive(Debug, Default, Clone, Copy)]
pub struct Outcome {
    /// Stream chunks received (0 for a non-streaming call).
    pub chunks: u64,
    /// Time from sending to the first chunk (streams only).
    pub first_chunk: Option<Duration>,
}

/// One request, async.
pub type AsyncOp = Arc<dyn Fn() -> BoxFuture<'static, Result<Outcome, String>> + Send + Sync>;
/// One request, blocking.
pub type BlockingOp = Arc<dyn Fn() -> Result<Outcome, String> + Send + Sync>;

/// Phase lengths and concurrency.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Concurrent workers (tasks or threads).
    pub concurrency: usize,
    /// Warm-up phase (connections opened, tokens fetched); not measured.
    pub warmup: Duration,
    /// Measured phase.
    pub duration: Duration,
}

/// Per-worker tallies.
#[derive(Debug, Default)]
struct Tally {
    ok: u64,
    errors: u64,
    chunks: u64,
    ttfc_us: Vec<u64>,
    first_error: Option<String>,
}

impl Tally {
    fn record(&mut self, r: Result<Outcome, String>) {
        match r {
            Ok(o) => {
                self.ok += 1;
                self.chunks += o.chunks;
                if let Some(t) = o.first_chunk {
                    self.ttfc_us.push(t.as_micros() as u64);
                }
            }
            Err(e) => {
                self.errors += 1;
                self.first_error.get_or_insert(e);
            }
        }
    }

    fn merge(&mut self, o: Tally) {
        self.ok += o.ok;
        self.errors += o.errors;
        self.chunks += o.chunks;
        self.ttfc_us.extend(o.ttfc_us);
        if self.first_error.is_none() {
            self.first_error = o.first_error;
        }
    }
}

/// The measured phase's results.
#[derive(Debug)]
pub struct Measurement {
    /// Successful requests.
    pub ok: u64,
    /// Failed requests.
    pub errors: u64,
    /// The first failure's message.
    pub first_error: Option<String>,
    /// Chunks over all streams.
    pub chunks: u64,
    /// Times to first chunk, µs, sorted.
    pub ttfc_us: Vec<u64>,
    /// Wall time of the measured phase.
    pub elapsed: Duration,
    /// User + system CPU over the measured phase.
    pub cpu: Duration,
    /// Peak resident set of the process so far, KiB.
    pub peak_rss_kib: u64,
}

impl Measurement {
    /// The `q`-quantile (0..=1) of the time to first chunk, µs.
    pub fn ttfc_quantile(&self, q: f64) -> Option<u64> {
        if self.ttfc_us.is_empty() {
            return None;
        }
        let i = ((self.ttfc_us.len() - 1) as f64 * q).round() as usize;
        Some(self.ttfc_us[i])
    }
}

/// CPU time (user + system) and peak RSS (KiB) of this process.
///
/// Peak RSS is `VmHWM` from `/proc/self/status` when available: Linux carries `ru_maxrss` over
/// `execve`, so a contender started from a large parent (the Python orchestrator) would report
/// the parent's peak. `ru_maxrss` is the fallback.
pub fn rusage() -> (Duration, u64) {
    // SAFETY: getrusage writes into the zeroed struct we own; RUSAGE_SELF is always valid.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    let peak = vm_hwm_kib().unwrap_or(ru.ru_maxrss as u64);
    (tv(ru.ru_utime) + tv(ru.ru_stime), peak)
}

fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

async fn async_phase(op: &AsyncOp, concurrency: usize, length: Duration) -> Tally {
    let deadline = Instant::now() + length;
    let mut workers = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let op = op.clone();
        workers.push(tokio::spawn(async move {
            let mut t = Tally::default();
            while Instant::now() < deadline {
                t.record(op().await);
            }
            t
        }));
    }
    let mut all = Tally::default();
    for w in workers {
        match w.await {
            Ok(t) => all.merge(t),
            Err(e) => all.record(Err(format!("worker panicked: {e}"))),
        }
    }
    all
}

fn blocking_phase(op: &BlockingOp, concurrency: usize, length: Duration) -> Tally {
    let deadline = Instant::now() + length;
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let op = op.clone();
            std::thread::spawn(move || {
                let mut t = Tally::default();
                while Instant::now() < deadline {
                    t.record(op());
                }
                t
            })
        })
        .collect();
    let mut all = Tally::default();
    for w in workers {
        match w.join() {
            Ok(t) => all.merge(t),
            Err(_) => all.record(Err("worker thread panicked".into())),
        }
    }
    all
}

fn finish(t: Tally, start: Instant, cpu0: Duration) -> Measurement {
    let elapsed = start.elapsed();
    let (cpu1, peak_rss_kib) = rusage();
    let mut ttfc_us = t.ttfc_us;
    ttfc_us.sort_unstable();
    Measurement {
        ok: t.ok,
        errors: t.errors,
        first_error: t.first_error,
        chunks: t.chunks,
        ttfc_us,
        elapsed,
        cpu: cpu1.saturating_sub(cpu0),
        peak_rss_kib,
    }
}

/// Runs `op` from `plan.concurrency` tokio tasks: warm-up, then the measured phase.
pub async fn run_async(op: AsyncOp, plan: Plan) -> Measurement {
    if !plan.warmup.is_zero() {
        async_phase(&op, plan.concurrency, plan.warmup).await;
    }
    let (cpu0, _) = rusage();
    let start = Instant::now();
    let t = async_phase(&op, plan.concurrency, plan.duration).await;
    finish(t, start, cpu0)
}

/// Runs `op` from `plan.concurrency` OS threads: warm-up, then the measured phase.
pub fn run_blocking(op: BlockingOp, plan: Plan) -> Measurement {
    if !plan.warmup.is_zero() {
        blocking_phase(&op, plan.concurrency, plan.warmup);
    }
    let (cpu0, _) = rusage();
    let start = Instant::now();
    let t = blocking_phase(&op, plan.concurrency, plan.duration);
    finish(t, start, cpu0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_pick_from_sorted_samples() {
        let m = Measurement {
            ok: 0,
            errors: 0,
            first_error: None,
            chunks: 0,
            ttfc_us: (1..=10).collect(),
            elapsed: Duration::ZERO,
            cpu: Duration::ZERO,
            peak_rss_kib: 0,
        };
        assert_eq!(m.ttfc_quantile(0.5), Some(6));
        assert_eq!(m.ttfc_quantile(0.9), Some(9));
        assert_eq!(m.ttfc_quantile(0.0), Some(1));
    }

    #[test]
    fn rusage_reports_cpu_and_rss() {
        let (_, rss) = rusage();
        assert!(rss > 0);
    }
}
