//! The command line as clap types: names, flags, help text. No behaviour lives here.

use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

/// Printed after `--help`: exit codes and where configuration comes from.
const AFTER_HELP: &str = "\
Exit status:
  0  success
  1  the service or the credential failed (authentication, permission, deployment not found,
     rate limit, network, timeout, ...); for `aoai doctor`: any check failed
  2  bad usage or configuration (unknown flag, missing or malformed AZURE_OPENAI_* variable, ...)

Configuration comes from the environment, read exactly as the aoai library reads it:
  AZURE_OPENAI_ENDPOINT    https://<resource>.openai.azure.com
  AZURE_OPENAI_API_KEY     a resource key; or AZURE_OPENAI_AD_TOKEN, a Microsoft Entra token;
                           with neither, DefaultAzureCredential (AZURE_CLIENT_ID/..., managed
                           identity, az login, azd auth login)
  AZURE_OPENAI_DEPLOYMENT  the deployment name (not the model name)
  OPENAI_API_VERSION       e.g. 2024-10-21 (default: the latest GA version)

Try it without Azure: `aoai demo`, or `aoai emulator` in one shell and the printed exports in another.";

/// Azure OpenAI from the command line: chat, diagnose your setup, get tokens, run a local emulator.
#[derive(Debug, Parser)]
#[command(
    name = "aoai",
    version,
    about = "Azure OpenAI from the command line: chat, diagnose your setup, get tokens, run a local emulator",
    long_about = None,
    after_help = AFTER_HELP,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Log to stderr: -v info, -vv debug, -vvv trace (RUST_LOG also works)
    #[arg(short, long, action = ArgAction::Count, global = true)]
    pub verbose: u8,

    /// When to use colour (NO_COLOR and CLICOLOR_FORCE are honoured with `auto`)
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorWhen::Auto, global = true)]
    pub color: ColorWhen,

    /// What to do
    #[command(subcommand)]
    pub command: Command,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    /// Colour when the stream is a terminal and NO_COLOR is not set
    Auto,
    /// Always colour
    Always,
    /// Never colour
    Never,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Send one chat message and print the answer (streamed as it comes)
    Chat(ChatArgs),
    /// Check the configuration, the network, the credential and the deployment, in order
    Doctor(DoctorArgs),
    /// Get a Microsoft Entra token through DefaultAzureCredential and say who it is for
    Token(TokenArgs),
    /// Run the quick start against an in-process emulator (needs nothing configured)
    Demo(DemoArgs),
    /// Serve a local Azure OpenAI + Microsoft Entra stand-in
    Emulator(EmulatorArgs),
    /// Print a shell completion script
    Completions(CompletionsArgs),
}

/// `aoai chat`.
#[derive(Debug, Args)]
pub struct ChatArgs {
    /// The message; read from stdin when absent or `-`
    pub message: Option<String>,

    /// A system message sent before yours
    #[arg(long, short)]
    pub system: Option<String>,

    /// Deployment to use (default: AZURE_OPENAI_DEPLOYMENT)
    #[arg(long, short)]
    pub deployment: Option<String>,

    /// Upper bound on the answer's length, in tokens
    #[arg(long, value_name = "N")]
    pub max_tokens: Option<u32>,

    /// Sampling temperature, 0 to 2
    #[arg(long, value_name = "T")]
    pub temperature: Option<f32>,

    /// Wait for the whole answer instead of streaming it
    #[arg(long)]
    pub no_stream: bool,

    /// Print JSON: the full response, or one chunk per line when streaming
    #[arg(long)]
    pub json: bool,
}

/// `aoai doctor`.
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Print one JSON object: {"ok", "kind", "checks": [{"name", "status", "kind", "message", "fix"}]}
    #[arg(long)]
    pub json: bool,
}

/// `aoai token`.
#[derive(Debug, Args)]
pub struct TokenArgs {
    /// The scope to ask for
    #[arg(long, default_value = aoai::vars::DEFAULT_SCOPE)]
    pub scope: String,

    /// Print only the token (for `curl -H "Authorization: Bearer $(aoai token --raw)"`)
    #[arg(long)]
    pub raw: bool,

    /// Print the credential chain's report also on success
    #[arg(long)]
    pub explain: bool,
}

/// `aoai demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {}

/// `aoai emulator` (interface fixed by the emulator issue).
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

/// `aoai completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn help_documents_exit_codes() {
        let help = Cli::command().render_long_help().to_string();
        assert!(help.contains("0  success"), "{help}");
        assert!(help.contains("2  bad usage or configuration"), "{help}");
    }
}
