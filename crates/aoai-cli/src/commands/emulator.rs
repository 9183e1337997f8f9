//! `aoai emulator`: serve the local Azure OpenAI + Microsoft Entra stand-in until Ctrl-C.
//!
//! Prints exactly one line to stdout when ready, `listening on <URL>` (flushed), so scripts and
//! test fixtures can read the port of `--listen 127.0.0.1:0`; everything else goes to stderr.

use std::io::Write;
use std::process::ExitCode;

use aoai_emulator::{Emulator, EmulatorConfig, EmulatorError};

use crate::cli::EmulatorArgs;

/// Runs the emulator; returns when interrupted (exit 0), or on a start-up error (exit 2 for a bad
/// config or address, 1 otherwise).
pub async fn run(args: &EmulatorArgs) -> ExitCode {
    let mut config = match &args.config {
        Some(path) => match EmulatorConfig::from_file(path) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("error: {e}{}", source_suffix(&e));
                return ExitCode::from(2);
            }
        },
        None => EmulatorConfig::default(),
    };
    config.listen = match args.listen.parse() {
        Ok(addr) => addr,
        Err(_) => {
            eprintln!(
                "error: --listen {:?} is not an address; use IP:PORT, e.g. 127.0.0.1:8089 (port 0 picks a free one)",
                args.listen
            );
            return ExitCode::from(2);
        }
    };
    if args.tls {
        config.tls = true;
    }
    if let Some(path) = &args.ca_out {
        config.ca_out = Some(path.clone());
    }
    let handle = match Emulator::start(config).await {
        Ok(h) => h,
        Err(e) => {
            eprintln!("error: {e}{}", source_suffix(&e));
            return match e {
                EmulatorError::Config(_) | EmulatorError::Bind { .. } => ExitCode::from(2),
                _ => ExitCode::from(1),
            };
        }
    };
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "listening on {}", handle.url());
        let _ = out.flush();
    }
    if let Some(ca) = handle.ca_pem_path() {
        tracing::info!(ca = %ca.display(), "CA certificate written (trust it with SSL_CERT_FILE / REQUESTS_CA_BUNDLE)");
    }
    tracing::info!(
        "try: AZURE_OPENAI_ENDPOINT={} AZURE_OPENAI_API_KEY=emulator-key AZURE_OPENAI_DEPLOYMENT=gpt-4o",
        handle.url()
    );
    let _ = tokio::signal::ctrl_c().await;
    tracing::info!("shutting down");
    drop(handle);
    ExitCode::SUCCESS
}

fn source_suffix(e: &dyn std::error::Error) -> String {
    let mut out = String::new();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push_str(": ");
        out.push_str(&s.to_string());
        cur = s.source();
    }
    out
}
