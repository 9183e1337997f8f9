//! Configuration, resolved once from an environment ([`Env`]: the process's, or a map for `aoai
//! demo`), with the variables and rules of the aoai client library (`AZURE_OPENAI_ENDPOINT`,
//! `AZURE_OPENAI_API_KEY`, `AZURE_OPENAI_AD_TOKEN`, `OPENAI_API_VERSION`, `AZURE_OPENAI_DEPLOYMENT`).
//!
//! BRIDGE: the `aoai` crate had no public API yet when this was written (its `lib.rs` was a
//! placeholder), so the validation below follows issue 3's rules directly. When
//! `AzureOpenAI::from_env()` and its errors land, `Settings::resolve` becomes a call to it and
//! this module shrinks to the accessors the commands use.

use aoai_identity::Env;
use url::Url;

use crate::failure::Failure;
pub use crate::service::{ChatInput, chat_once, chat_stream, ping};

/// The scope Azure OpenAI tokens are requested for.
pub const DEFAULT_SCOPE: &str = "https://cognitiveservices.azure.com/.default";

/// The api-version used when `OPENAI_API_VERSION` is not set (the latest dated GA version).
pub const DEFAULT_API_VERSION: &str = "2024-10-21";

/// The variables read here.
pub mod vars {
    /// `https://<resource>.openai.azure.com`.
    pub const ENDPOINT: &str = "AZURE_OPENAI_ENDPOINT";
    /// A resource key.
    pub const API_KEY: &str = "AZURE_OPENAI_API_KEY";
    /// A static Microsoft Entra token.
    pub const AD_TOKEN: &str = "AZURE_OPENAI_AD_TOKEN";
    /// The api-version query parameter.
    pub const API_VERSION: &str = "OPENAI_API_VERSION";
    /// The default deployment.
    pub const DEPLOYMENT: &str = "AZURE_OPENAI_DEPLOYMENT";
}

/// How requests will be authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// `api-key` from `AZURE_OPENAI_API_KEY`.
    ApiKey,
    /// A static bearer token from `AZURE_OPENAI_AD_TOKEN`.
    Token,
    /// `DefaultAzureCredential`.
    Entra,
}

/// The resolved configuration. `Debug` never shows the key or token.
#[derive(Clone)]
pub struct Settings {
    endpoint: Url,
    api_key: Option<String>,
    ad_token: Option<String>,
    api_version: String,
    api_version_from_env: bool,
    deployment: Option<String>,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("endpoint", &self.endpoint.as_str())
            .field("auth", &self.auth())
            .field("api_version", &self.api_version)
            .field("deployment", &self.deployment)
            .finish()
    }
}

const ENDPOINT_FIX: &str = "set AZURE_OPENAI_ENDPOINT=https://<resource>.openai.azure.com";

fn config(message: impl Into<String>, fix: impl Into<String>) -> Failure {
    Failure::usage(message, fix)
}

fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost")
        || h.parse::<std::net::IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
}

/// `YYYY-MM-DD` or `YYYY-MM-DD-preview` with a real month and day, or `v1` / `preview`.
pub fn api_version_well_formed(v: &str) -> bool {
    if v == "v1" || v == "preview" {
        return true;
    }
    let date = v.strip_suffix("-preview").unwrap_or(v);
    let parts: Vec<&str> = date.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return false;
    };
    let num = |s: &str, len: usize| {
        (s.len() == len && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u32>().ok())
            .flatten()
    };
    matches!(
        (num(y, 4), num(m, 2), num(d, 2)),
        (Some(_), Some(1..=12), Some(1..=31))
    )
}

fn endpoint(raw: Option<String>) -> Result<Url, Failure> {
    let Some(raw) = raw.map(|r| r.trim().to_string()).filter(|r| !r.is_empty()) else {
        return Err(config("AZURE_OPENAI_ENDPOINT is not set", ENDPOINT_FIX));
    };
    let url = match Url::parse(&raw) {
        Ok(u) if u.host_str().is_some() && matches!(u.scheme(), "http" | "https") => u,
        _ => {
            let guess = if raw.contains('.') || raw.contains('/') {
                "https://<resource>.openai.azure.com".to_string()
            } else {
                format!("https://{raw}.openai.azure.com")
            };
            return Err(config(
                format!("AZURE_OPENAI_ENDPOINT ({raw:?}) is not a URL"),
                format!("set AZURE_OPENAI_ENDPOINT={guess} (the full URL, with https://)"),
            ));
        }
    };
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    if host == "api.openai.com" || host.ends_with(".openai.com") {
        return Err(config(
            format!("AZURE_OPENAI_ENDPOINT points at OpenAI's own API ({host}), not at Azure"),
            "set AZURE_OPENAI_ENDPOINT=https://<resource>.openai.azure.com (your Azure resource's \
             endpoint, under Keys and Endpoint)",
        ));
    }
    if url.scheme() == "http" && !is_loopback(&host) {
        return Err(config(
            "AZURE_OPENAI_ENDPOINT uses plain http:// to a remote host (keys and tokens would \
             travel unencrypted)",
            format!("set AZURE_OPENAI_ENDPOINT=https://{host}"),
        ));
    }
    let path = url.path().trim_end_matches('/');
    if !path.is_empty() || url.query().is_some() {
        let mut origin = url.clone();
        origin.set_path("");
        origin.set_query(None);
        return Err(config(
            format!(
                "AZURE_OPENAI_ENDPOINT has a path ({}): it must be the resource's origin only",
                url.path()
            ),
            format!(
                "set AZURE_OPENAI_ENDPOINT={} (no /openai/..., deployment or api-version)",
                origin.as_str().trim_end_matches('/')
            ),
        ));
    }
    Ok(url)
}

impl Settings {
    /// Reads and validates the configuration.
    pub fn resolve(env: &Env) -> Result<Settings, Failure> {
        let endpoint = endpoint(env.get(vars::ENDPOINT))?;
        let api_key = env
            .get_non_empty(vars::API_KEY)
            .map(|k| k.trim().to_string());
        let ad_token = env
            .get_non_empty(vars::AD_TOKEN)
            .map(|k| k.trim().to_string());
        if api_key.is_some() && ad_token.is_some() {
            return Err(config(
                "both AZURE_OPENAI_API_KEY and AZURE_OPENAI_AD_TOKEN are set",
                "unset one: `unset AZURE_OPENAI_AD_TOKEN` to use the key, or `unset \
                 AZURE_OPENAI_API_KEY` to use the token",
            ));
        }
        if let Some(k) = &api_key
            && k.starts_with("sk-")
        {
            return Err(config(
                "AZURE_OPENAI_API_KEY holds an OpenAI key (sk-...), not an Azure resource key",
                "set AZURE_OPENAI_API_KEY to key1 or key2 from your Azure resource's Keys and \
                 Endpoint page (az cognitiveservices account keys list -n <resource> -g <group>)",
            ));
        }
        let (api_version, from_env) = match env.get_non_empty(vars::API_VERSION) {
            Some(v) => (v.trim().to_string(), true),
            None => (DEFAULT_API_VERSION.to_string(), false),
        };
        if !api_version_well_formed(&api_version) {
            return Err(config(
                format!(
                    "OPENAI_API_VERSION ({api_version:?}) is not of the form YYYY-MM-DD or YYYY-MM-DD-preview"
                ),
                format!(
                    "set OPENAI_API_VERSION={DEFAULT_API_VERSION} (or unset it for that default)"
                ),
            ));
        }
        let deployment = env
            .get_non_empty(vars::DEPLOYMENT)
            .map(|d| d.trim().to_string());
        Ok(Settings {
            endpoint,
            api_key,
            ad_token,
            api_version,
            api_version_from_env: from_env,
            deployment,
        })
    }

    /// The endpoint (an origin).
    pub fn endpoint(&self) -> &Url {
        &self.endpoint
    }

    /// The endpoint for messages (no trailing slash).
    pub fn endpoint_display(&self) -> String {
        self.endpoint.as_str().trim_end_matches('/').to_string()
    }

    /// The api-version.
    pub fn api_version(&self) -> &str {
        &self.api_version
    }

    /// The api-version for messages, saying whether it is the default.
    pub fn api_version_display(&self) -> String {
        if self.api_version_from_env {
            self.api_version.clone()
        } else {
            format!("{} (default)", self.api_version)
        }
    }

    /// The default deployment (`AZURE_OPENAI_DEPLOYMENT`).
    pub fn deployment(&self) -> Option<&str> {
        self.deployment.as_deref()
    }

    /// How requests are authenticated: a key wins, then a static token, else Entra ID.
    pub fn auth(&self) -> Auth {
        if self.api_key.is_some() {
            Auth::ApiKey
        } else if self.ad_token.is_some() {
            Auth::Token
        } else {
            Auth::Entra
        }
    }

    pub(crate) fn api_key(&self) -> Option<&str> {
        self.api_key.as_deref()
    }

    /// The static token of `AZURE_OPENAI_AD_TOKEN`.
    pub fn static_token(&self) -> Option<String> {
        self.ad_token.clone()
    }

    /// The token scope in Entra mode.
    pub fn scope(&self) -> &str {
        DEFAULT_SCOPE
    }

    /// A key that looks pasted wrong (whitespace or quotes inside): what and the fix.
    pub fn key_warning(&self) -> Option<(String, String)> {
        let key = self.api_key.as_deref()?;
        if key.contains(char::is_whitespace) || key.contains(['"', '\'']) {
            return Some((
                "AZURE_OPENAI_API_KEY contains spaces or quotes".into(),
                "set AZURE_OPENAI_API_KEY to the key alone, as copied from Keys and Endpoint"
                    .into(),
            ));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_map(pairs.iter().copied())
    }

    fn fix_of(pairs: &[(&str, &str)]) -> String {
        let f = Settings::resolve(&env(pairs)).unwrap_err();
        assert_eq!(f.kind, "config_error");
        f.fix.unwrap()
    }

    #[test]
    fn api_versions_are_checked_for_form() {
        for ok in ["2024-10-21", "2025-04-01-preview", "v1", "preview"] {
            assert!(api_version_well_formed(ok), "{ok}");
        }
        for bad in [
            "2024-13",
            "2024-13-01",
            "24-10-21",
            "2024-10-21-beta",
            "latest",
            "",
        ] {
            assert!(!api_version_well_formed(bad), "{bad}");
        }
    }

    #[test]
    fn endpoint_mistakes_name_the_fix() {
        assert!(fix_of(&[("AZURE_OPENAI_API_KEY", "k")]).contains("AZURE_OPENAI_ENDPOINT"));
        assert!(
            fix_of(&[("AZURE_OPENAI_ENDPOINT", "my-resource")])
                .contains("https://my-resource.openai.azure.com")
        );
        assert!(
            fix_of(&[("AZURE_OPENAI_ENDPOINT", "https://api.openai.com/v1")])
                .contains("openai.azure.com")
        );
        assert!(
            fix_of(&[("AZURE_OPENAI_ENDPOINT", "http://r.openai.azure.com")])
                .contains("https://r.openai.azure.com")
        );
        assert!(
            fix_of(&[(
                "AZURE_OPENAI_ENDPOINT",
                "https://r.openai.azure.com/openai/deployments/x?api-version=1"
            )])
            .contains("=https://r.openai.azure.com ")
        );
        assert!(
            fix_of(&[
                ("AZURE_OPENAI_ENDPOINT", "https://r.openai.azure.com"),
                ("OPENAI_API_VERSION", "2024-13")
            ])
            .contains("OPENAI_API_VERSION")
        );
        assert!(
            fix_of(&[
                ("AZURE_OPENAI_ENDPOINT", "https://r.openai.azure.com"),
                ("AZURE_OPENAI_API_KEY", "k"),
                ("AZURE_OPENAI_AD_TOKEN", "t")
            ])
            .contains("unset")
        );
    }

    #[test]
    fn auth_mode_follows_what_is_set() {
        let base = [("AZURE_OPENAI_ENDPOINT", "http://127.0.0.1:9")];
        assert_eq!(Settings::resolve(&env(&base)).unwrap().auth(), Auth::Entra);
        let s = Settings::resolve(&env(&[base[0], ("AZURE_OPENAI_API_KEY", "k")])).unwrap();
        assert_eq!(s.auth(), Auth::ApiKey);
        assert!(!format!("{s:?}").contains("\"k\""));
    }
}
