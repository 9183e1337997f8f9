//! The `aoai` binary. For now it serves only `aoai emulator`; the other commands join when the CLI
//! is assembled (their clap definitions are already in `cli.rs`).

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// Stand-in for `cli.rs` until the full CLI is assembled: the same `EmulatorArgs` (copied from
/// `cli.rs`; keep them in sync), without the definitions that need the client library.
mod cli {
    use std::path::PathBuf;

    use clap::Args;

    /// `aoai emulator`.
    #[derive(Debug, Args)]
    pub struct EmulatorArgs {
        /// Address to listen on
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8089")]
        pub listen: String,

        /// Serve HTTPS with a generated self-signed certificate
        #[arg(long)]
        pub tls: bool,

        /// Where to write the CA certificate (PEM) in TLS mode
        #[arg(long, value_name = "PATH")]
        pub ca_out: Option<PathBuf>,

        /// A TOML file with deployments, keys, principals, roles, rate limits and switches
        #[arg(long, value_name = "FILE")]
        pub config: Option<PathBuf>,
    }
}
mod commands {
    pub mod emulator;
}

/// Azure OpenAI from the command line.
#[derive(Debug, Parser)]
#[command(name = "aoai", version, about)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve a local Azure OpenAI + Microsoft Entra stand-in
    Emulator(cli::EmulatorArgs),
}

fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match args.command {
        Command::Emulator(a) => runtime.block_on(commands::emulator::run(&a)),
    }
}
