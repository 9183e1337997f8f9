//! The Rust contenders, one module each. Each turns the shared request into an
//! [`AsyncOp`](crate::measure::AsyncOp) (or a blocking op) the driver repeats.

pub mod async_openai;
pub mod reqwest_loop;

#[cfg(feature = "ours")]
pub mod aoai;
