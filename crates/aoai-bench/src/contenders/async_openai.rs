//! `async-openai` with its `AzureConfig`: the Rust peer, used the way its README shows.

use std::sync::Arc;
use std::time::Instant;

use async_openai::Client;
use async_openai::config::AzureConfig;
use async_openai::types::chat::{
    ChatCompletionRequestUserMessage, ChatCompletionStreamOptions, CreateChatCompletionRequest,
    CreateChatCompletionRequestArgs,
};
use futures::{FutureExt, StreamExt};

use crate::measure::{AsyncOp, Outcome};
use crate::workload::{API_KEY, API_VERSION, ChatRequest, DEPLOYMENT, Workload};

fn request(req: &ChatRequest, workload: Workload) -> Result<CreateChatCompletionRequest, String> {
    let mut b = CreateChatCompletionRequestArgs::default();
    b.model(DEPLOYMENT)
        .messages([ChatCompletionRequestUserMessage::from(req.prompt.as_str()).into()])
        .max_completion_tokens(req.max_tokens);
    if workload == Workload::Stream {
        b.stream_options(ChatCompletionStreamOptions {
            include_usage: Some(true),
            ..Default::default()
        });
    }
    b.build().map_err(|e| e.to_string())
}

/// The op for `workload` against the emulator at `base`.
pub fn op(base: &str, req: &ChatRequest, workload: Workload) -> Result<AsyncOp, String> {
    let config = AzureConfig::new()
        .with_api_base(base.trim_end_matches('/'))
        .with_api_version(API_VERSION)
        .with_deployment_id(DEPLOYMENT)
        .with_api_key(API_KEY);
    let client = Client::with_config(config);
    let request = request(req, workload)?;
    Ok(Arc::new(move || {
        let (client, request) = (client.clone(), request.clone());
        async move {
            match workload {
                Workload::Chat => {
                    client
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
    }))
}
