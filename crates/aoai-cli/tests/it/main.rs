//! The `aoai` binary, run as users run it: assert_cmd with a controlled environment, against an
//! emulator on a random loopback port. One test binary (see `support` for the sandbox).

mod basics;
mod chat;
mod demo;
mod doctor;
mod support;
mod token;
