//! Emulator configuration: deployments, keys, tenant, switches. Read from TOML (`--config`).
//!
//! Ownership: the data-plane work owns this file; the Entra side owns [`crate::entra::EntraConfig`]
//! (the `[entra]` table), which is embedded here.
//!
//! Every field has a default, so an empty file (or [`EmulatorConfig::default`]) is a working
//! emulator with key `emulator-key`, a chat deployment `gpt-4o` and an embeddings deployment
//! `text-embedding-3-small`:
//!
//! ```toml
//! listen = "127.0.0.1:8089"
//! api_keys = ["emulator-key"]
//! region = "East US 2"
//! stream_chunk_delay_ms = 0
//!
//! [[deployments]]
//! name = "gpt-4o"
//! model = "gpt-4o-2024-08-06"
//! kind = "chat"
//! rpm = 60
//! tpm = 10000
//!
//! [[deployments]]
//! name = "text-embedding-3-small"
//! model = "text-embedding-3-small"
//! kind = "embeddings"
//! dimensions = 1536
//! ```

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};

use serde::Deserialize;

use crate::entra::EntraConfig;

/// Everything the emulator serves, as one value. `Default` is the documented out-of-the-box setup.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmulatorConfig {
    /// Address to listen on. Default `127.0.0.1:0` (a free port; read it from
    /// `EmulatorHandle::url`). The CLI defaults to `127.0.0.1:8089`.
    pub listen: SocketAddr,
    /// Serve HTTPS with a certificate generated at start (CA + leaf for `127.0.0.1` and
    /// `localhost`). Default `false`.
    pub tls: bool,
    /// Where to write the CA certificate (PEM) in TLS mode. Default: a file in the system temp
    /// directory, named after the process id and port.
    pub ca_out: Option<PathBuf>,
    /// Value of the `x-ms-region` response header. Default `East US 2`.
    pub region: String,
    /// Resource keys accepted in `api-key` (and as `Authorization: Bearer <key>` on `/openai/v1/`).
    /// Default `["emulator-key"]`.
    pub api_keys: Vec<String>,
    /// Behave like a resource with `disableLocalAuth=true`: a valid key gets 403
    /// `AuthenticationTypeDisabled`; Entra tokens keep working. Default `false`.
    pub disable_key_auth: bool,
    /// Answer every chat request with 429 (token rate limit) after authentication. Default `false`.
    pub rate_limited: bool,
    /// `retry-after` seconds sent with the 429s of `rate_limited`. Default `1`.
    pub rate_limited_retry_after_secs: u64,
    /// Delay between the events of a streamed chat answer, in milliseconds. Default `0`.
    pub stream_chunk_delay_ms: u64,
    /// A prompt containing this text is rejected with the content-filter 400 (spec §3.1).
    /// Default `trigger-content-filter`.
    pub prompt_filter_trigger: String,
    /// A prompt containing this text gets an answer cut by the output filter
    /// (`finish_reason: "content_filter"`, HTTP 200). Default `trigger-output-filter`.
    pub output_filter_trigger: String,
    /// Record every request (except `/_emulator/*`) in the journal. Turn off for benchmarks.
    /// Default `true`.
    pub journal: bool,
    /// Keep at most this many journal entries (the oldest are dropped). Default `10000`.
    pub journal_limit: usize,
    /// The deployments of the resource. Giving any replaces the two defaults.
    pub deployments: Vec<DeploymentConfig>,
    /// The Entra / managed identity side: tenant, principals, roles, managed identities.
    pub entra: EntraConfig,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            tls: false,
            ca_out: None,
            region: "East US 2".to_owned(),
            api_keys: vec!["emulator-key".to_owned()],
            disable_key_auth: false,
            rate_limited: false,
            rate_limited_retry_after_secs: 1,
            stream_chunk_delay_ms: 0,
            prompt_filter_trigger: "trigger-content-filter".to_owned(),
            output_filter_trigger: "trigger-output-filter".to_owned(),
            journal: true,
            journal_limit: 10_000,
            deployments: vec![
                DeploymentConfig {
                    name: "gpt-4o".to_owned(),
                    model: "gpt-4o-2024-08-06".to_owned(),
                    kind: DeploymentKind::Chat,
                    rpm: None,
                    tpm: None,
                    dimensions: None,
                },
                DeploymentConfig {
                    name: "text-embedding-3-small".to_owned(),
                    model: "text-embedding-3-small".to_owned(),
                    kind: DeploymentKind::Embeddings,
                    rpm: None,
                    tpm: None,
                    dimensions: None,
                },
            ],
            entra: EntraConfig::default(),
        }
    }
}

/// One `[[deployments]]` entry: a named alias of a model with its own limits.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DeploymentConfig {
    /// Deployment name, as it appears in `/openai/deployments/{name}/...` and as `model` on v1.
    pub name: String,
    /// Model snapshot reported in the response's `model` (e.g. `gpt-4o-2024-08-06`).
    pub model: String,
    /// What the deployment serves: `chat` or `embeddings`.
    pub kind: DeploymentKind,
    /// Requests per minute; absent = unlimited (then `x-ratelimit-*` headers report
    /// 1,000,000 requests).
    #[serde(default)]
    pub rpm: Option<u64>,
    /// Tokens per minute (estimate at arrival: prompt characters / 4 + `max_tokens`); absent =
    /// unlimited (headers report 100,000,000 tokens).
    #[serde(default)]
    pub tpm: Option<u64>,
    /// Embeddings only: vector length when the request gives no `dimensions`. Default 1536.
    #[serde(default)]
    pub dimensions: Option<usize>,
}

impl DeploymentConfig {
    /// Default embedding length of this deployment.
    pub fn default_dimensions(&self) -> usize {
        self.dimensions.unwrap_or(1536)
    }
}

/// What a deployment serves.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum DeploymentKind {
    /// `/chat/completions`.
    Chat,
    /// `/embeddings`.
    Embeddings,
}

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read emulator config {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The text is not valid TOML for this schema (unknown keys are errors).
    #[error("invalid emulator config: {0}")]
    Parse(#[from] toml::de::Error),
    /// The values contradict each other.
    #[error("invalid emulator config: {0}")]
    Invalid(String),
}

impl EmulatorConfig {
    /// Parses and validates TOML text.
    pub fn from_toml_str(text: &str) -> Result<Self, ConfigError> {
        let config: Self = toml::from_str(text)?;
        config.validate()?;
        Ok(config)
    }

    /// Reads, parses and validates a TOML file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml_str(&text)
    }

    /// Checks what serde cannot: unique, non-empty deployment names and sane numbers.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut seen = std::collections::HashSet::new();
        for d in &self.deployments {
            if d.name.trim().is_empty() {
                return Err(ConfigError::Invalid(
                    "a [[deployments]] entry has an empty `name`; give every deployment a name"
                        .into(),
                ));
            }
            if !seen.insert(d.name.as_str()) {
                return Err(ConfigError::Invalid(format!(
                    "deployment `{}` is listed twice; deployment names must be unique",
                    d.name
                )));
            }
            if d.dimensions == Some(0) {
                return Err(ConfigError::Invalid(format!(
                    "deployment `{}` has `dimensions = 0`; use a positive number (e.g. 1536)",
                    d.name
                )));
            }
        }
        self.entra.validate().map_err(ConfigError::Invalid)?;
        if self.journal_limit == 0 && self.journal {
            return Err(ConfigError::Invalid(
                "`journal_limit = 0` with `journal = true`; set `journal = false` to disable the journal".into(),
            ));
        }
        Ok(())
    }

    /// The deployment called `name`, if any.
    pub fn deployment(&self, name: &str) -> Option<&DeploymentConfig> {
        self.deployments.iter().find(|d| d.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_text_is_the_default() {
        let c = EmulatorConfig::from_toml_str("").unwrap();
        assert_eq!(c.api_keys, vec!["emulator-key"]);
        assert_eq!(c.deployments.len(), 2);
        assert_eq!(c.deployment("gpt-4o").unwrap().model, "gpt-4o-2024-08-06");
        assert_eq!(c.listen.port(), 0);
    }

    #[test]
    fn deployments_replace_defaults() {
        let c = EmulatorConfig::from_toml_str(
            r#"
            disable_key_auth = true
            [[deployments]]
            name = "d1"
            model = "m1"
            kind = "embeddings"
            dimensions = 8
            rpm = 2
            "#,
        )
        .unwrap();
        assert!(c.disable_key_auth);
        assert_eq!(c.deployments.len(), 1);
        assert_eq!(c.deployments[0].default_dimensions(), 8);
        assert_eq!(c.deployments[0].rpm, Some(2));
    }

    #[test]
    fn unknown_keys_and_duplicates_are_errors() {
        assert!(matches!(
            EmulatorConfig::from_toml_str("nope = 1"),
            Err(ConfigError::Parse(_))
        ));
        let dup = r#"
            [[deployments]]
            name = "a"
            model = "m"
            kind = "chat"
            [[deployments]]
            name = "a"
            model = "m"
            kind = "chat"
        "#;
        let err = EmulatorConfig::from_toml_str(dup).unwrap_err();
        assert!(err.to_string().contains("listed twice"), "{err}");
    }

    #[test]
    fn missing_file_names_the_path() {
        let err = EmulatorConfig::from_file("/nonexistent/emu.toml").unwrap_err();
        assert!(err.to_string().contains("/nonexistent/emu.toml"));
    }
}
