//! `aoai`: Azure OpenAI from the command line.
//!
//! ```text
//!  argv ──► cli.rs (clap) ──► main: colour (ui.rs), tracing (-v), tokio runtime
//!                                │
//!                                ▼
//!                    commands/<cmd>.rs ──► settings.rs (the library's own from-env config,
//!                                │         resolved once)          ──► aoai / aoai-identity
//!                                ▼
//!   stdout: the data (answer, JSON, token)      stderr: spinner, `error:`/`fix:`, logs
//!   exit: 0 ok, 1 service or credential failed, 2 usage or configuration (failure.rs)
//! ```

mod claims;
mod cli;
mod commands;
mod failure;
mod settings;
mod ui;

use std::process::ExitCode;

use clap::Parser;

use crate::failure::Exit;

fn main() -> ExitCode {
    // clap prints usage errors itself and exits with 2; --help and --version exit with 0.
    let cli = cli::Cli::parse();
    ui::init_color(cli.color);
    init_tracing(
        cli.verbose,
        matches!(cli.command, cli::Command::Emulator(_)),
    );
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            ui::error(&format!("cannot start the async runtime: {e}"));
            return Exit::Failed.into();
        }
    };
    let exit = runtime.block_on(commands::run(cli));
    // Do not wait for background work (token refreshes, idle connections) on the way out.
    runtime.shutdown_background();
    exit
}

/// `-v` info, `-vv` debug, `-vvv` trace, on stderr. Without `-v`: `RUST_LOG` if set, else
/// nothing (the emulator logs requests at info, as its interface says).
fn init_tracing(verbose: u8, emulator: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = match verbose {
        0 => match std::env::var("RUST_LOG") {
            Ok(v) if !v.trim().is_empty() => EnvFilter::new(v),
            _ if emulator => EnvFilter::new("info"),
            _ => return,
        },
        1 => EnvFilter::new("info"),
        2 => EnvFilter::new("debug"),
        _ => EnvFilter::new("trace"),
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ui::stderr_colored())
        .with_target(verbose >= 2)
        .try_init();
}
