//! `aoai completions <shell>`: a completion script on stdout.

use std::io::Write;

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};

/// Writes the completion script for `args.shell` to stdout (a closed pipe, as with `| head`, is
/// not an error).
pub fn run(args: &CompletionsArgs) {
    let mut cmd = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "aoai", &mut script);
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(&script).and_then(|()| out.flush());
}
