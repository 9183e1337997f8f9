//! Configuration, resolved once from an environment ([`Env`]: the process's, or a map for `aoai
//! demo`) by the client library itself: `AzureOpenAI::builder().env(..).build()` reads and
//! validates `AZURE_OPENAI_ENDPOINT`, `AZURE_OPENAI_API_KEY`, `AZURE_OPENAI_AD_TOKEN`,
//! `OPENAI_API_VERSION` and `AZURE_OPENAI_DEPLOYMENT` exactly as a program using the library
//! would. This module only keeps how the commands reach the client's chain and show the
//! settings in messages.

use aoai::{AuthMode, AzureOpenAI, RetryPolicy};
use aoai_identity::{DefaultAzureCredential, Env};

/// The resolved configuration: a built client (in Entra mode with the chain it created).
#[derive(Clone, Debug)]
pub struct Settings {
    client: AzureOpenAI,
}

/// Whether the library refused the configuration because the credential chain could not be
/// built (an identity error, such as an unknown `AZURE_TOKEN_CREDENTIALS`), rather than because
/// of the endpoint, key or api-version.
pub fn is_credential_error(e: &aoai::Error) -> bool {
    e.identity().is_some()
}

/// `2024-10-21`, or `2024-10-21 (default)` when `OPENAI_API_VERSION` is not set.
pub fn api_version_display(client: &AzureOpenAI, from_env: bool) -> String {
    let v = client.api_version();
    if from_env {
        v.to_string()
    } else {
        format!("{v} (default)")
    }
}

/// Whether `OPENAI_API_VERSION` is set (else the library's default applies).
pub fn api_version_from_env(env: &Env) -> bool {
    env.get_non_empty(aoai::vars::OPENAI_API_VERSION).is_some()
}

/// The endpoint of a client for messages (no trailing slash).
pub fn endpoint_display(client: &AzureOpenAI) -> String {
    client.endpoint().as_str().trim_end_matches('/').to_string()
}

impl Settings {
    /// Builds the client from `env` with the library's rules, retrying as `retry` says. In
    /// Entra mode the client's own `DefaultAzureCredential` is reachable through
    /// [`Settings::credential`], so the doctor reads the chain's report and the client reuses the
    /// tokens the doctor fetched.
    pub fn resolve(env: &Env, retry: RetryPolicy) -> Result<Settings, aoai::Error> {
        let client = AzureOpenAI::builder()
            .env(env.clone())
            .retry_policy(retry)
            .build()?;
        Ok(Settings { client })
    }

    /// The client.
    pub fn client(&self) -> &AzureOpenAI {
        &self.client
    }

    /// The credential chain, in Entra mode.
    pub fn credential(&self) -> Option<&DefaultAzureCredential> {
        self.client.default_credential()
    }

    /// The default deployment (`AZURE_OPENAI_DEPLOYMENT`).
    pub fn deployment(&self) -> Option<&str> {
        self.client.deployment()
    }

    /// How requests are authenticated.
    pub fn auth(&self) -> AuthMode {
        self.client.auth_mode()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_map(pairs.iter().copied())
    }

    #[test]
    fn auth_mode_follows_what_is_set_and_entra_keeps_its_chain() {
        let base = ("AZURE_OPENAI_ENDPOINT", "http://127.0.0.1:9");
        let s = Settings::resolve(&env(&[base]), RetryPolicy::none()).unwrap();
        assert_eq!(s.auth(), AuthMode::TokenCredential);
        assert!(s.credential().is_some());
        assert_eq!(
            api_version_display(s.client(), false),
            "2024-10-21 (default)"
        );
        let s = Settings::resolve(
            &env(&[base, ("AZURE_OPENAI_API_KEY", "k")]),
            RetryPolicy::none(),
        )
        .unwrap();
        assert_eq!(s.auth(), AuthMode::ApiKey);
        assert!(s.credential().is_none());
        assert!(!format!("{s:?}").contains("\"k\""));
    }

    #[test]
    fn chain_errors_are_told_apart_from_config_errors() {
        let base = ("AZURE_OPENAI_ENDPOINT", "http://127.0.0.1:9");
        let chain = Settings::resolve(
            &env(&[base, ("AZURE_TOKEN_CREDENTIALS", "nonsense")]),
            RetryPolicy::none(),
        )
        .unwrap_err();
        assert!(is_credential_error(&chain), "{chain:?}");
        let endpoint =
            Settings::resolve(&env(&[("AZURE_OPENAI_API_KEY", "k")]), RetryPolicy::none())
                .unwrap_err();
        assert!(!is_credential_error(&endpoint));
        assert_eq!(endpoint.kind().as_str(), "config_error");
    }
}
