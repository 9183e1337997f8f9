//! `aoai completions <shell>`: a completion script on stdout.

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};

/// Writes the completion script for `args.shell` to stdout.
pub fn run(args: &CompletionsArgs) {
    let mut cmd = Cli::command();
    clap_complete::generate(args.shell, &mut cmd, "aoai", &mut std::io::stdout());
}
