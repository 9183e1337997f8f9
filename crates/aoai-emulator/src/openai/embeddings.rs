//! Embeddings: deterministic unit vectors (spec §5).
//!
//! Vector rule: SHA-256 of the input (a string as UTF-8; a token array as its JSON text) seeds a
//! SplitMix64 generator; the deployment's default number of values (1536) are drawn uniformly from
//! [-1, 1); `dimensions` keeps the first `d` values; the result is scaled to length 1. So the same
//! input always gives the same vector, and a shortened vector is the normalised prefix of the full
//! one (as text-embedding-3 behaves). `encoding_format: "base64"` sends the little-endian `f32`
//! bytes in base64. `usage.prompt_tokens` counts tokens as chat does (space-separated runs).

use base64::Engine;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::{config::DeploymentConfig, openai::chat::count_tokens};

/// A parsed embeddings request.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbeddingsRequest {
    /// Each input as the text that seeds its vector.
    pub inputs: Vec<String>,
    /// Token count of all inputs.
    pub prompt_tokens: u64,
    /// Requested length.
    pub dimensions: usize,
    /// `true` for base64 output.
    pub base64: bool,
}

/// Message and `param` of a rejected body.
pub type Invalid = (String, Option<&'static str>);

impl EmbeddingsRequest {
    /// Parses and validates a body for `deployment`.
    pub fn parse(body: &Value, deployment: &DeploymentConfig) -> Result<Self, Invalid> {
        let bad_input = || {
            (
                "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.".to_owned(),
                Some("input"),
            )
        };
        let (inputs, prompt_tokens) = match body.get("input") {
            Some(Value::String(s)) if !s.is_empty() => (vec![s.clone()], count_tokens(s)),
            Some(Value::Array(items)) if !items.is_empty() && items.len() <= 2048 => {
                if items.iter().all(Value::is_string) {
                    let texts: Vec<String> = items
                        .iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect();
                    if texts.iter().any(String::is_empty) {
                        return Err(bad_input());
                    }
                    let n = texts.iter().map(|t| count_tokens(t)).sum();
                    (texts, n)
                } else if items.iter().all(Value::is_u64) {
                    (
                        vec![Value::Array(items.clone()).to_string()],
                        items.len() as u64,
                    )
                } else if items.iter().all(|i| {
                    i.as_array()
                        .is_some_and(|a| !a.is_empty() && a.iter().all(Value::is_u64))
                }) {
                    let n = items
                        .iter()
                        .map(|i| i.as_array().map_or(0, |a| a.len() as u64))
                        .sum();
                    (items.iter().map(Value::to_string).collect(), n)
                } else {
                    return Err(bad_input());
                }
            }
            _ => return Err(bad_input()),
        };
        let max = deployment.default_dimensions();
        let dimensions = match body.get("dimensions") {
            None | Some(Value::Null) => max,
            Some(v) => match v.as_u64() {
                Some(d) if d >= 1 && d as usize <= max => d as usize,
                _ => {
                    return Err((
                        format!("Invalid 'dimensions': expected an integer from 1 to {max}."),
                        Some("dimensions"),
                    ));
                }
            },
        };
        let base64 = match body.get("encoding_format") {
            None | Some(Value::Null) => false,
            Some(Value::String(s)) if s == "float" => false,
            Some(Value::String(s)) if s == "base64" => true,
            Some(_) => {
                return Err((
                    "Invalid 'encoding_format': expected 'float' or 'base64'.".to_owned(),
                    Some("encoding_format"),
                ));
            }
        };
        Ok(Self {
            inputs,
            prompt_tokens,
            dimensions,
            base64,
        })
    }
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The vector of `input` (see the module doc).
pub fn vector(input: &str, full_len: usize, dimensions: usize) -> Vec<f32> {
    let digest = Sha256::digest(input.as_bytes());
    let mut seed = u64::from_le_bytes(digest[..8].try_into().unwrap_or([0; 8]));
    let n = dimensions.min(full_len.max(dimensions));
    let mut v: Vec<f32> = (0..n)
        .map(|_| {
            let x = splitmix64(&mut seed) >> 11; // 53 bits
            (x as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) as f32
        })
        .collect();
    let norm = v
        .iter()
        .map(|x| (*x as f64) * (*x as f64))
        .sum::<f64>()
        .sqrt();
    if norm > 0.0 {
        for x in &mut v {
            *x = (*x as f64 / norm) as f32;
        }
    }
    v
}

/// Base64 of the little-endian `f32` bytes.
pub fn to_base64(v: &[f32]) -> String {
    let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The response body.
pub fn response_body(req: &EmbeddingsRequest, deployment: &DeploymentConfig) -> Value {
    let full = deployment.default_dimensions();
    let data: Vec<Value> = req
        .inputs
        .iter()
        .enumerate()
        .map(|(i, input)| {
            let v = vector(input, full, req.dimensions);
            let embedding = if req.base64 {
                Value::String(to_base64(&v))
            } else {
                json!(v)
            };
            json!({"object": "embedding", "index": i, "embedding": embedding})
        })
        .collect();
    json!({
        "object": "list",
        "model": deployment.model,
        "data": data,
        "usage": {"prompt_tokens": req.prompt_tokens, "total_tokens": req.prompt_tokens},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dep() -> DeploymentConfig {
        crate::config::EmulatorConfig::default().deployments[1].clone()
    }

    #[test]
    fn vectors_are_deterministic_unit_and_prefix_consistent() {
        let a = vector("hello", 1536, 1536);
        assert_eq!(a, vector("hello", 1536, 1536));
        assert_ne!(a, vector("hellp", 1536, 1536));
        let len: f64 = a.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
        assert!((len - 1.0).abs() < 1e-5);
        let short = vector("hello", 1536, 4);
        assert_eq!(short.len(), 4);
        let ratio = short[0] / a[0];
        assert!((short[1] / a[1] - ratio).abs() < 1e-3);
    }

    #[test]
    fn parses_inputs_and_options() {
        let r = EmbeddingsRequest::parse(
            &json!({"input": ["a b", "c"], "dimensions": 8, "encoding_format": "base64"}),
            &dep(),
        )
        .unwrap();
        assert_eq!(r.inputs.len(), 2);
        assert_eq!(r.prompt_tokens, 3);
        assert!(r.base64);
        let body = response_body(&r, &dep());
        let b64 = body["data"][1]["embedding"].as_str().unwrap();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        assert_eq!(bytes.len(), 8 * 4);
        let first = f32::from_le_bytes(bytes[..4].try_into().unwrap());
        assert_eq!(first, vector("c", 1536, 8)[0]);
        assert!(EmbeddingsRequest::parse(&json!({"input": [1, 2, 3]}), &dep()).is_ok());
        assert!(EmbeddingsRequest::parse(&json!({"input": ""}), &dep()).is_err());
        assert!(EmbeddingsRequest::parse(&json!({"input": "x", "dimensions": 0}), &dep()).is_err());
        assert!(
            EmbeddingsRequest::parse(&json!({"input": "x", "dimensions": 4000}), &dep()).is_err()
        );
        assert!(
            EmbeddingsRequest::parse(&json!({"input": "x", "encoding_format": "hex"}), &dep())
                .is_err()
        );
    }
}
