//! Types of `POST .../embeddings`.

use serde::{Deserialize, Serialize};

use super::Extra;

/// What to embed: one text, several texts, or token arrays.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EmbeddingInput {
    /// One text.
    Text(String),
    /// Several texts (up to 2048).
    Texts(Vec<String>),
    /// Token ids of one text.
    Tokens(Vec<u32>),
    /// Token ids of several texts.
    TokenLists(Vec<Vec<u32>>),
}

impl From<&str> for EmbeddingInput {
    fn from(s: &str) -> Self {
        EmbeddingInput::Text(s.to_string())
    }
}

impl From<String> for EmbeddingInput {
    fn from(s: String) -> Self {
        EmbeddingInput::Text(s)
    }
}

impl From<Vec<String>> for EmbeddingInput {
    fn from(v: Vec<String>) -> Self {
        EmbeddingInput::Texts(v)
    }
}

impl From<Vec<&str>> for EmbeddingInput {
    fn from(v: Vec<&str>) -> Self {
        EmbeddingInput::Texts(v.into_iter().map(str::to_string).collect())
    }
}

/// How vectors travel: JSON floats, or base64 of little-endian `f32`s (smaller, the Python
/// SDK's default). Either way [`Embedding::embedding`] holds decoded floats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EncodingFormat {
    /// JSON arrays of numbers.
    Float,
    /// Base64 strings (decoded by the client).
    #[default]
    Base64,
}

/// A request to `POST .../embeddings`.
///
/// ```
/// let req = aoai::types::EmbeddingsRequest::new(vec!["a", "b"]).dimensions(256);
/// assert_eq!(req.dimensions, Some(256));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingsRequest {
    /// What to embed.
    pub input: EmbeddingInput,
    /// The deployment; the client's default deployment when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Wire encoding of the vectors (default base64).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding_format: Option<EncodingFormat>,
    /// Shorter vectors (text-embedding-3 and later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<u32>,
    /// An end-user id for abuse monitoring.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Other fields, sent as given.
    #[serde(flatten)]
    pub extra: Extra,
}

impl EmbeddingsRequest {
    /// A request for `input`, base64 on the wire.
    pub fn new(input: impl Into<EmbeddingInput>) -> Self {
        EmbeddingsRequest {
            input: input.into(),
            model: None,
            encoding_format: None,
            dimensions: None,
            user: None,
            extra: Extra::new(),
        }
    }

    /// Names the deployment.
    pub fn model(mut self, deployment: impl Into<String>) -> Self {
        self.model = Some(deployment.into());
        self
    }

    /// Chooses the wire encoding.
    pub fn encoding_format(mut self, format: EncodingFormat) -> Self {
        self.encoding_format = Some(format);
        self
    }

    /// Asks for shorter vectors.
    pub fn dimensions(mut self, dimensions: u32) -> Self {
        self.dimensions = Some(dimensions);
        self
    }
}

/// One vector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Embedding {
    /// Position of its input.
    #[serde(default)]
    pub index: u32,
    /// The vector, decoded (from floats or from base64 of little-endian `f32`s).
    #[serde(deserialize_with = "floats_or_base64")]
    pub embedding: Vec<f32>,
    /// Other fields (`object`).
    #[serde(flatten)]
    pub extra: Extra,
}

/// Token counts of an embeddings call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingsUsage {
    /// Tokens in the input.
    #[serde(default)]
    pub prompt_tokens: u32,
    /// Tokens billed.
    #[serde(default)]
    pub total_tokens: u32,
}

/// The answer of `POST .../embeddings`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingsResponse {
    /// The vectors, in input order.
    pub data: Vec<Embedding>,
    /// The model snapshot that served.
    #[serde(default)]
    pub model: String,
    /// Token counts.
    #[serde(default)]
    pub usage: Option<EmbeddingsUsage>,
    /// Other fields (`object`).
    #[serde(flatten)]
    pub extra: Extra,
}

fn floats_or_base64<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<f32>, D::Error> {
    use base64::Engine as _;
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Wire {
        Floats(Vec<f32>),
        Base64(String),
    }
    match Wire::deserialize(d)? {
        Wire::Floats(v) => Ok(v),
        Wire::Base64(s) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(s.as_bytes())
                .map_err(serde::de::Error::custom)?;
            if bytes.len() % 4 != 0 {
                return Err(serde::de::Error::custom(
                    "a base64 embedding is not a whole number of f32 values",
                ));
            }
            Ok(bytes
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_encodings_decode_to_the_same_floats() {
        let floats: Embedding =
            serde_json::from_str(r#"{"index":0,"embedding":[1.5,-2.0],"object":"embedding"}"#)
                .unwrap();
        // 1.5 and -2.0 as little-endian f32, base64.
        let b64: Embedding =
            serde_json::from_str(r#"{"index":0,"embedding":"AADAPwAAAMA="}"#).unwrap();
        assert_eq!(floats.embedding, vec![1.5, -2.0]);
        assert_eq!(b64.embedding, floats.embedding);
        assert_eq!(floats.extra["object"], "embedding");
        assert!(serde_json::from_str::<Embedding>(r#"{"embedding":"AAA="}"#).is_err());
    }
}
