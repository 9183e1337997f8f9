//! Azure OpenAI for Rust, with authentication that just works.
//!
//! [`AzureOpenAI`] calls chat completions (whole or streamed) and embeddings on an Azure OpenAI
//! resource, authenticating with a key, a static Microsoft Entra token, or any
//! [`azure_core::credentials::TokenCredential`] — by default [`DefaultAzureCredential`], the
//! chain Python and .NET users know. Settings are checked when the client is built, and every
//! failure is an [`Error`] with a stable [`ErrorKind`] and a one-line [`Error::quick_fix`].
//!
//! ```text
//!  AzureOpenAI::from_env() / builder()          validated once: endpoint, auth, api-version
//!        │
//!  chat().create(req) / create_stream(req) / embeddings().create(req) / get_json / post_json
//!        │  URL: /openai/deployments/{d}/{op}?api-version=V   or   /openai/v1/{op} (model = d)
//!        ▼
//!  pipeline: total deadline ─► retry (backoff, server delays) ─► attempt timeout ─► auth header
//!        │        (401 + token credential: one retry with a fresh token)              │
//!        ▼                                                                           ▼
//!  reqwest (rustls, one pool per client; redirects followed by hand, credentials dropped
//!        │   on another origin)
//!        ▼
//!  2xx: typed JSON, or an SSE stream of typed chunks (idle timeout, [DONE] required)
//!  else: classify(status, body) ─► Error { kind, quick_fix, status, code, request_id, .. }
//! ```
//!
//! ```no_run
//! # async fn run() -> Result<(), aoai::Error> {
//! use std::sync::Arc;
//! use aoai::types::{ChatCompletionRequest, ChatMessage};
//!
//! // Keyless: the seed's AzureOpenAI(azure_ad_token_provider=DefaultAzureCredential()).
//! let client = aoai::AzureOpenAI::builder()
//!     .endpoint("https://my-resource.openai.azure.com")
//!     .credential(Arc::new(aoai::DefaultAzureCredential::new()?))
//!     .deployment("gpt-4o")
//!     .build()?;
//! let answer = client
//!     .chat()
//!     .create(ChatCompletionRequest::new(vec![ChatMessage::user("Hello!")]))
//!     .await?;
//! println!("{}", answer.text());
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

mod auth;
pub mod blocking;
mod chat;
mod classify;
mod client;
mod config;
mod embeddings;
mod error;
mod pipeline;
mod retry;
mod sse;
mod stream;
pub mod types;
pub mod vars;

pub use aoai_identity as identity;
pub use aoai_identity::DefaultAzureCredential;
pub use auth::AuthMode;
pub use chat::Chat;
pub use client::{AzureOpenAI, AzureOpenAIBuilder, Route};
pub use config::api_version_well_formed;
pub use embeddings::Embeddings;
pub use error::{Error, ErrorKind};
pub use pipeline::Timeouts;
pub use retry::RetryPolicy;
pub use stream::ChatCompletionStream;

/// The workspace README's Rust examples, compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
