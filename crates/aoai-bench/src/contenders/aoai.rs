//! Our client, `aoai`, in three variants: async with key auth, async with Entra auth through
//! `DefaultAzureCredential` (a service principal), and the blocking client.

use std::sync::Arc;
use std::time::Instant;

use aoai::types::{ChatCompletionRequest, ChatMessage};
use futures::{FutureExt, StreamExt};

use crate::measure::{AsyncOp, BlockingOp, Outcome};
use crate::workload::{API_KEY, ChatRequest, DEPLOYMENT, Workload};

fn request(req: &ChatRequest) -> ChatCompletionRequest {
    ChatCompletionRequest::new(vec![ChatMessage::user(req.prompt.as_str())])
        .max_completion_tokens(req.max_tokens)
}

fn async_op(client: aoai::AzureOpenAI, req: &ChatRequest, workload: Workload) -> AsyncOp {
    let request = request(req);
    Arc::new(move || {
        let (client, request) = (client.clone(), request.clone());
        async move {
            match workload {
                Workload::Chat => {
                    let _c: aoai::types::ChatCompletion = client
                        .chat()
                        .create(request)
                        .await
                        .map_err(|e| e.to_string())?;
                    Ok(Outcome::default())
                }
                Workload::Stream => {
                    let start = Instant::now();
                    let mut out = Outcome::default();
                    let mut s = client
                        .chat()
                        .create_stream(request)
                        .await
                        .map_err(|e| e.to_string())?;
                    while let Some(chunk) = s.next().await {
                        chunk.map_err(|e| e.to_string())?;
                        out.chunks += 1;
                        out.first_chunk.get_or_insert_with(|| start.elapsed());
                    }
                    Ok(out)
                }
            }
        }
        .boxed()
    })
}

/// Async client, `api-key` auth.
pub fn key(base: &str, req: &ChatRequest, workload: Workload) -> Result<AsyncOp, String> {
    let client = aoai::AzureOpenAI::builder()
        .endpoint(base)
        .api_key(API_KEY)
        .deployment(DEPLOYMENT)
        .build()
        .map_err(|e| e.to_string())?;
    Ok(async_op(client, req, workload))
}

/// Async client, Entra auth with `credential` (a `DefaultAzureCredential`).
pub fn entra(
    base: &str,
    credential: Arc<dyn azure_core::credentials::TokenCredential>,
    req: &ChatRequest,
    workload: Workload,
) -> Result<AsyncOp, String> {
    let client = aoai::AzureOpenAI::builder()
        .endpoint(base)
        .credential(credential)
        .deployment(DEPLOYMENT)
        .build()
        .map_err(|e| e.to_string())?;
    Ok(async_op(client, req, workload))
}

/// Blocking client, `api-key` auth (streams are iterators of chunks).
pub fn blocking(base: &str, req: &ChatRequest, workload: Workload) -> Result<BlockingOp, String> {
    let client = aoai::blocking::AzureOpenAI::builder()
        .endpoint(base)
        .api_key(API_KEY)
        .deployment(DEPLOYMENT)
        .build()
        .map_err(|e| e.to_string())?;
    let request = request(req);
    Ok(Arc::new(move || match workload {
        Workload::Chat => {
            client
                .chat()
                .create(request.clone())
                .map_err(|e| e.to_string())?;
            Ok(Outcome::default())
        }
        Workload::Stream => {
            let start = Instant::now();
            let mut out = Outcome::default();
            for chunk in client
                .chat()
                .create_stream(request.clone())
                .map_err(|e| e.to_string())?
            {
                chunk.map_err(|e| e.to_string())?;
                out.chunks += 1;
                out.first_chunk.get_or_insert_with(|| start.elapsed());
            }
            Ok(out)
        }
    }))
}
