//! `aoai-bench`: runs ONE benchmark contender against a running emulator and prints one JSON
//! line, so CPU time (getrusage) and peak RSS belong to that contender alone. `scripts/bench`
//! starts the emulator, runs every contender interleaved and writes the table.
//!
//! ```text
//! scripts/bench ─► aoai emulator ◄─ HTTP ─ aoai-bench --contender X (one process per run)
//!                                  ◄─ HTTP ─ python bench/openai_peer.py (same protocol)
//!                        stdout: {"contender":..,"rps":..,"chunks_per_s":..,"ttfc_median_us":..}
//! ```

mod contenders;
mod measure;
#[cfg_attr(not(feature = "ours"), allow(dead_code))]
mod token_counter;
mod workload;

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use serde_json::json;

use measure::{Measurement, Plan};
use workload::{ChatRequest, Workload};

/// Who sends the requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Contender {
    /// A bare reqwest loop sending the same bytes every time.
    Reqwest,
    /// async-openai with AzureConfig.
    AsyncOpenai,
    /// Our async client, api-key auth.
    AoaiKey,
    /// Our async client, Entra auth via DefaultAzureCredential (service principal).
    AoaiEntra,
    /// Our blocking client (threads = concurrency).
    AoaiBlocking,
}

impl Contender {
    fn name(self) -> &'static str {
        match self {
            Contender::Reqwest => "reqwest",
            Contender::AsyncOpenai => "async-openai",
            Contender::AoaiKey => "aoai-key",
            Contender::AoaiEntra => "aoai-entra",
            Contender::AoaiBlocking => "aoai-blocking",
        }
    }
}

/// Run one contender against the emulator and print one JSON line of results.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// The contender.
    #[arg(long, value_enum)]
    contender: Contender,
    /// Emulator base URL (http://127.0.0.1:PORT).
    #[arg(long)]
    url: String,
    /// Workload.
    #[arg(long, value_enum, default_value = "chat")]
    workload: Workload,
    /// Concurrent requests (tasks, or threads for the blocking client).
    #[arg(long, default_value_t = 1)]
    concurrency: usize,
    /// Warm-up before measuring, ms.
    #[arg(long, default_value_t = 300)]
    warmup_ms: u64,
    /// Measured time, ms.
    #[arg(long, default_value_t = 2000)]
    duration_ms: u64,
    /// The user message.
    #[arg(long, default_value = "hello")]
    prompt: String,
    /// max_completion_tokens.
    #[arg(long, default_value_t = 16)]
    max_tokens: u32,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("aoai-bench: {e}");
            let line = json!({
                "contender": args.contender.name(),
                "workload": args.workload.as_str(),
                "concurrency": args.concurrency,
                "unsupported": e,
            });
            println!("{line}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &Args) -> Result<serde_json::Value, String> {
    if args.concurrency == 0 {
        return Err("--concurrency must be at least 1".into());
    }
    let plan = Plan {
        concurrency: args.concurrency,
        warmup: Duration::from_millis(args.warmup_ms),
        duration: Duration::from_millis(args.duration_ms),
    };
    let req = ChatRequest {
        prompt: args.prompt.clone(),
        max_tokens: args.max_tokens,
    };
    if args.contender == Contender::AoaiBlocking {
        // No runtime here: the blocking client brings its own.
        let op = blocking_op(args, &req)?;
        let m = measure::run_blocking(op, plan);
        return Ok(report(args, &m, None));
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    rt.block_on(async {
        let (op, counter) = match args.contender {
            Contender::Reqwest => (
                contenders::reqwest_loop::op(&args.url, &req, args.workload)?,
                None,
            ),
            Contender::AsyncOpenai => (
                contenders::async_openai::op(&args.url, &req, args.workload)?,
                None,
            ),
            Contender::AoaiKey | Contender::AoaiEntra => ours_async(args, &req).await?,
            Contender::AoaiBlocking => unreachable_blocking()?,
        };
        let m = measure::run_async(op, plan).await;
        Ok(report(args, &m, counter.map(|c| c.token_requests())))
    })
}

fn unreachable_blocking() -> Result<(measure::AsyncOp, Option<token_counter::TokenCounter>), String>
{
    Err("the blocking contender runs without a runtime".into())
}

#[cfg(feature = "ours")]
fn blocking_op(args: &Args, req: &ChatRequest) -> Result<measure::BlockingOp, String> {
    contenders::aoai::blocking(&args.url, req, args.workload)
}

#[cfg(not(feature = "ours"))]
fn blocking_op(_: &Args, _: &ChatRequest) -> Result<measure::BlockingOp, String> {
    Err(NOT_BUILT.into())
}

#[cfg(not(feature = "ours"))]
const NOT_BUILT: &str = "aoai contenders not built (cargo build -p aoai-bench --features ours)";

#[cfg(not(feature = "ours"))]
async fn ours_async(
    _: &Args,
    _: &ChatRequest,
) -> Result<(measure::AsyncOp, Option<token_counter::TokenCounter>), String> {
    Err(NOT_BUILT.into())
}

#[cfg(feature = "ours")]
async fn ours_async(
    args: &Args,
    req: &ChatRequest,
) -> Result<(measure::AsyncOp, Option<token_counter::TokenCounter>), String> {
    if args.contender == Contender::AoaiKey {
        return Ok((contenders::aoai::key(&args.url, req, args.workload)?, None));
    }
    let counter = token_counter::TokenCounter::start(&args.url)
        .await
        .map_err(|e| format!("token counter: {e}"))?;
    let dac = entra_credential(&counter.url)?;
    let op = contenders::aoai::entra(&args.url, std::sync::Arc::new(dac), req, args.workload)?;
    Ok((op, Some(counter)))
}

/// `DefaultAzureCredential` for the service principal in `AZURE_TENANT_ID` / `AZURE_CLIENT_ID` /
/// `AZURE_CLIENT_SECRET` (the emulator's defaults when unset), its authority the counting
/// forwarder. Managed identity is excluded and IMDS pointed at loopback: nothing leaves 127.0.0.1.
#[cfg(feature = "ours")]
fn entra_credential(authority: &str) -> Result<aoai_identity::DefaultAzureCredential, String> {
    use aoai_identity::{DefaultAzureCredential, DefaultAzureCredentialOptions, Env};
    let mut env = Env::process().with("AZURE_AUTHORITY_HOST", authority);
    for (name, default) in [
        ("AZURE_TENANT_ID", "00000000-0000-0000-0000-000000000001"),
        ("AZURE_CLIENT_ID", "emulator-client"),
        ("AZURE_CLIENT_SECRET", "emulator-secret"),
    ] {
        if env.get_non_empty(name).is_none() {
            env = env.with(name, default);
        }
    }
    DefaultAzureCredential::with_options(DefaultAzureCredentialOptions {
        env,
        exclude_managed_identity_credential: Some(true),
        imds_endpoint: Some("http://127.0.0.1:9".into()),
        ..Default::default()
    })
    .map_err(|e| format!("DefaultAzureCredential: {e}"))
}

fn report(args: &Args, m: &Measurement, token_requests: Option<u64>) -> serde_json::Value {
    let secs = m.elapsed.as_secs_f64().max(1e-9);
    let stream = args.workload == Workload::Stream;
    json!({
        "contender": args.contender.name(),
        "workload": args.workload.as_str(),
        "concurrency": args.concurrency,
        "requests": m.ok,
        "errors": m.errors,
        "first_error": m.first_error,
        "elapsed_s": secs,
        "rps": m.ok as f64 / secs,
        "chunks": m.chunks,
        "chunks_per_s": if stream { Some(m.chunks as f64 / secs) } else { None },
        "ttfc_median_us": m.ttfc_quantile(0.5),
        "ttfc_p90_us": m.ttfc_quantile(0.9),
        "cpu_us_per_req": if m.ok > 0 { Some(m.cpu.as_micros() as f64 / m.ok as f64) } else { None },
        "peak_rss_kib": m.peak_rss_kib,
        "token_requests": token_requests,
    })
}
