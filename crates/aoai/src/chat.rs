//! `POST .../chat/completions`, whole or streamed.

use reqwest::Method;

use crate::client::{AzureOpenAI, decode, encode};
use crate::error::Error;
use crate::stream::ChatCompletionStream;
use crate::types::{ChatCompletion, ChatCompletionRequest, StreamOptions};

/// Chat completions of a client ([`AzureOpenAI::chat`]).
#[derive(Debug, Clone, Copy)]
pub struct Chat<'c> {
    client: &'c AzureOpenAI,
}

impl<'c> Chat<'c> {
    pub(crate) fn new(client: &'c AzureOpenAI) -> Self {
        Chat { client }
    }

    /// Sends `request` to its deployment (its `model`, else the client's default) and waits for
    /// the whole answer. Retried as the client's [`crate::RetryPolicy`] says.
    pub async fn create(
        &self,
        mut request: ChatCompletionRequest,
    ) -> Result<ChatCompletion, Error> {
        request.stream = None;
        let (deployment, url, body) = self.prepare(request)?;
        let received = self
            .client
            .send(Method::POST, url, Some(body), &deployment, false)
            .await?;
        decode(received)
    }

    /// Sends `request` with `stream: true` (and `stream_options.include_usage` unless set) and
    /// returns the events as they come. Retries apply until the answer starts; a stream that
    /// ends without `[DONE]` or falls silent for longer than the idle timeout yields an error.
    ///
    /// ```no_run
    /// # async fn run(client: aoai::AzureOpenAI) -> Result<(), aoai::Error> {
    /// use futures::StreamExt;
    /// use aoai::types::{ChatCompletionRequest, ChatMessage};
    ///
    /// let mut stream = client
    ///     .chat()
    ///     .create_stream(ChatCompletionRequest::new(vec![ChatMessage::user("Hi")]))
    ///     .await?;
    /// while let Some(chunk) = stream.next().await {
    ///     print!("{}", chunk?.delta_text().unwrap_or_default());
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn create_stream(
        &self,
        mut request: ChatCompletionRequest,
    ) -> Result<ChatCompletionStream, Error> {
        request.stream = Some(true);
        if request.stream_options.is_none() {
            request.stream_options = Some(StreamOptions {
                include_usage: true,
            });
        }
        let (deployment, url, body) = self.prepare(request)?;
        let response = self
            .client
            .send(Method::POST, url, Some(body), &deployment, true)
            .await?
            .into_stream()?;
        Ok(ChatCompletionStream::new(
            response,
            self.client.stream_idle_timeout(),
            deployment,
        ))
    }

    fn prepare(
        &self,
        mut request: ChatCompletionRequest,
    ) -> Result<(String, url::Url, bytes::Bytes), Error> {
        let deployment = self.client.resolve_deployment(request.model.as_deref())?;
        let url = self.client.operation_url(&deployment, "chat/completions");
        request.model = Some(deployment.clone());
        let body = encode(&request)?;
        Ok((deployment, url, body))
    }
}
