//! Integration tests: each starts an emulator on a random loopback port and talks HTTP to it.

mod support;

mod auth;
mod chat;
mod embeddings;
mod entra;
mod errors;
mod faults;
mod journal;
mod tls;
