//! Integration tests of the client against the emulator on a random loopback port.

mod auth;
mod blocking;
mod chat;
mod diagnosis;
mod embeddings;
mod errors;
mod retry;
mod support;
