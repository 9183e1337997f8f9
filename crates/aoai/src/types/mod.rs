//! Request and response types of the typed endpoints. Every response type keeps fields it does
//! not know in `extra`, so nothing the service sends is dropped.

mod chat;
mod content_filter;
mod embeddings;

pub use chat::*;
pub use content_filter::*;
pub use embeddings::*;

/// Fields a type does not model, kept as they came (and sent as they are given).
pub type Extra = serde_json::Map<String, serde_json::Value>;
