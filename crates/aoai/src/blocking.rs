//! A blocking client for programs without an async runtime, like `reqwest::blocking`.
//!
//! It owns a current-thread Tokio runtime and runs the async client on it; calls block the
//! calling thread, which drives the runtime while it waits (no hand-off to worker threads: a
//! streamed chunk costs no cross-thread wake-up, see `BENCHMARKS.md`). Threads share the
//! runtime and the connection pool. Building or calling it from inside an async runtime is refused with a
//! `config_error` (it would deadlock or panic there) instead of panicking.
//!
//! ```no_run
//! use aoai::types::{ChatCompletionRequest, ChatMessage};
//!
//! let client = aoai::blocking::AzureOpenAI::from_env()?;
//! let answer = client.chat().create(ChatCompletionRequest::new(vec![ChatMessage::user("Hi")]))?;
//! println!("{}", answer.text());
//! # Ok::<(), aoai::Error>(())
//! ```

use std::sync::Arc;

use futures::StreamExt;

use crate::error::Error;
use crate::types::{
    ChatCompletion, ChatCompletionChunk, ChatCompletionRequest, EmbeddingsRequest,
    EmbeddingsResponse,
};

/// The blocking twin of [`crate::AzureOpenAI`]. Cheap to clone; clones share the runtime.
#[derive(Clone, Debug)]
pub struct AzureOpenAI {
    client: crate::AzureOpenAI,
    runtime: Arc<Runtime>,
}

/// Owns the runtime; shuts it down without blocking if dropped inside an async context.
#[derive(Debug)]
struct Runtime(Option<tokio::runtime::Runtime>);

impl Drop for Runtime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

impl Runtime {
    fn block_on<F: std::future::Future>(&self, f: F) -> Result<F::Output, Error> {
        outside_async()?;
        match &self.0 {
            Some(rt) => Ok(rt.block_on(f)),
            None => Err(Error::config(
                "the runtime is shut down",
                "build a new client",
            )),
        }
    }
}

fn outside_async() -> Result<(), Error> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(Error::config(
            "the blocking client was used inside an async runtime",
            "use aoai::AzureOpenAI (the async client) from async code",
        ));
    }
    Ok(())
}

impl AzureOpenAI {
    /// Wraps a configured async client.
    pub fn new(client: crate::AzureOpenAI) -> Result<Self, Error> {
        outside_async()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| {
                Error::config(
                    "cannot start the client's runtime",
                    "check thread limits (ulimit -u)",
                )
                .with_source(e)
            })?;
        Ok(AzureOpenAI {
            client,
            runtime: Arc::new(Runtime(Some(runtime))),
        })
    }

    /// A builder; finish it with [`Builder::build`].
    pub fn builder() -> Builder {
        Builder(crate::AzureOpenAI::builder())
    }

    /// A client configured from the process environment, as [`crate::AzureOpenAI::from_env`].
    pub fn from_env() -> Result<Self, Error> {
        AzureOpenAI::builder().from_env().build()
    }

    /// Chat completions.
    pub fn chat(&self) -> Chat<'_> {
        Chat { client: self }
    }

    /// Embeddings.
    pub fn embeddings(&self) -> Embeddings<'_> {
        Embeddings { client: self }
    }

    /// The async client inside.
    pub fn inner(&self) -> &crate::AzureOpenAI {
        &self.client
    }
}

/// Builds a blocking client: every setting of [`crate::AzureOpenAIBuilder`].
#[derive(Debug, Default)]
pub struct Builder(crate::AzureOpenAIBuilder);

impl Builder {
    /// Changes the inner async builder (for settings not mirrored here).
    pub fn configure(
        self,
        f: impl FnOnce(crate::AzureOpenAIBuilder) -> crate::AzureOpenAIBuilder,
    ) -> Self {
        Builder(f(self.0))
    }

    /// The resource endpoint.
    pub fn endpoint(self, endpoint: impl Into<String>) -> Self {
        Builder(self.0.endpoint(endpoint))
    }

    /// A resource key.
    pub fn api_key(self, key: impl Into<String>) -> Self {
        Builder(self.0.api_key(key))
    }

    /// A static Entra token.
    pub fn ad_token(self, token: impl Into<String>) -> Self {
        Builder(self.0.ad_token(token))
    }

    /// A token credential.
    pub fn credential(self, credential: Arc<dyn azure_core::credentials::TokenCredential>) -> Self {
        Builder(self.0.credential(credential))
    }

    /// The default deployment.
    pub fn deployment(self, deployment: impl Into<String>) -> Self {
        Builder(self.0.deployment(deployment))
    }

    /// The api-version.
    pub fn api_version(self, version: impl Into<String>) -> Self {
        Builder(self.0.api_version(version))
    }

    /// Retries after the first attempt.
    pub fn max_retries(self, retries: u32) -> Self {
        Builder(self.0.max_retries(retries))
    }

    /// Fills unset settings from the process environment.
    pub fn from_env(self) -> Self {
        Builder(self.0.from_env())
    }

    /// Checks every setting and builds the client.
    pub fn build(self) -> Result<AzureOpenAI, Error> {
        outside_async()?;
        AzureOpenAI::new(self.0.build()?)
    }
}

/// Blocking chat completions.
#[derive(Debug, Clone, Copy)]
pub struct Chat<'c> {
    client: &'c AzureOpenAI,
}

impl Chat<'_> {
    /// As [`crate::Chat::create`], blocking.
    pub fn create(&self, request: ChatCompletionRequest) -> Result<ChatCompletion, Error> {
        let c = &self.client.client;
        self.client.runtime.block_on(c.chat().create(request))?
    }

    /// As [`crate::Chat::create_stream`], as an iterator of chunks.
    pub fn create_stream(
        &self,
        request: ChatCompletionRequest,
    ) -> Result<ChatCompletionIter, Error> {
        let c = &self.client.client;
        let stream = self
            .client
            .runtime
            .block_on(c.chat().create_stream(request))??;
        Ok(ChatCompletionIter {
            stream,
            runtime: self.client.runtime.clone(),
        })
    }
}

/// The chunks of a streamed chat completion, blocking on each.
#[derive(Debug)]
pub struct ChatCompletionIter {
    stream: crate::ChatCompletionStream,
    runtime: Arc<Runtime>,
}

impl Iterator for ChatCompletionIter {
    type Item = Result<ChatCompletionChunk, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.runtime.block_on(self.stream.next()) {
            Ok(item) => item,
            Err(e) => Some(Err(e)),
        }
    }
}

/// Blocking embeddings.
#[derive(Debug, Clone, Copy)]
pub struct Embeddings<'c> {
    client: &'c AzureOpenAI,
}

impl Embeddings<'_> {
    /// As [`crate::Embeddings::create`], blocking.
    pub fn create(&self, request: EmbeddingsRequest) -> Result<EmbeddingsResponse, Error> {
        let c = &self.client.client;
        self.client
            .runtime
            .block_on(c.embeddings().create(request))?
    }
}
