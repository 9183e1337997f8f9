//! `POST .../embeddings`.

use reqwest::Method;

use crate::client::{AzureOpenAI, decode, encode};
use crate::error::Error;
use crate::types::{EmbeddingsRequest, EncodingFormat};

/// Embeddings of a client ([`AzureOpenAI::embeddings`]).
#[derive(Debug, Clone, Copy)]
pub struct Embeddings<'c> {
    client: &'c AzureOpenAI,
}

impl<'c> Embeddings<'c> {
    pub(crate) fn new(client: &'c AzureOpenAI) -> Self {
        Embeddings { client }
    }

    /// Embeds the request's input with its deployment (its `model`, else the client's default).
    /// Vectors travel as base64 unless the request says otherwise, and come back decoded.
    ///
    /// ```no_run
    /// # async fn run(client: aoai::AzureOpenAI) -> Result<(), aoai::Error> {
    /// use aoai::types::EmbeddingsRequest;
    /// let answer = client
    ///     .embeddings()
    ///     .create(EmbeddingsRequest::new("hello").model("text-embedding-3-small"))
    ///     .await?;
    /// println!("{} dimensions", answer.data[0].embedding.len());
    /// # Ok(()) }
    /// ```
    pub async fn create(
        &self,
        mut request: EmbeddingsRequest,
    ) -> Result<crate::types::EmbeddingsResponse, Error> {
        let deployment = self.client.resolve_deployment(request.model.as_deref())?;
        let url = self.client.operation_url(&deployment, "embeddings");
        request.model = Some(deployment.clone());
        request
            .encoding_format
            .get_or_insert(EncodingFormat::Base64);
        let body = encode(&request)?;
        let received = self
            .client
            .send(Method::POST, url, Some(body), &deployment, false)
            .await?;
        decode(received)
    }
}
