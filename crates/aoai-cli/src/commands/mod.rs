//! One module per command; [`run`] dispatches and turns a [`Failure`] into output and an exit code.

pub mod chat;
pub mod completions;
pub mod demo;
pub mod doctor;
pub mod emulator;
pub mod token;

use std::process::ExitCode;

use aoai_identity::Env;

use crate::cli::{Cli, Command};
use crate::failure::{Exit, Failure};

/// Runs the command and returns the exit status (failures are printed here, once).
pub async fn run(cli: Cli) -> ExitCode {
    let env = Env::process();
    let result: Result<Exit, Failure> = match cli.command {
        Command::Token(args) => token::run(&args, &env).await.map(|()| Exit::Ok),
        // Its interface (one `listening on URL` line, its own exit codes) is fixed by the
        // emulator issue.
        Command::Emulator(args) => return emulator::run(&args).await,
        Command::Completions(args) => {
            completions::run(&args);
            Ok(Exit::Ok)
        }
        Command::Chat(args) => chat::run(&args, &env).await.map(|()| Exit::Ok),
        Command::Doctor(args) => Ok(doctor::run(&args, &env).await),
        Command::Demo(args) => demo::run(&args).await.map(|()| Exit::Ok),
    };
    match result {
        Ok(exit) => exit.into(),
        Err(failure) => {
            failure.print();
            failure.exit().into()
        }
    }
}
