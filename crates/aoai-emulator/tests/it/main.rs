//! Integration tests: each starts an emulator on a random loopback port and talks HTTP to it.

mod support;

mod auth;
mod chat;
mod embeddings;
mod errors;
mod faults;
mod journal;
mod tls;
