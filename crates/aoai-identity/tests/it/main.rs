//! Integration tests of aoai-identity: one binary, modules per area. Everything talks to
//! 127.0.0.1 only (the emulator, fake CLIs, refusing or silent listeners).

mod fake_idp;
mod support;
mod tap;

mod chain;
mod cli;
mod dac;
mod diff;
