//! Validation of the settings a client is built from: the endpoint's form, the key's form and
//! the api-version's form. Every refusal is a `config_error` whose quick fix names the variable
//! and the value to set.

use url::Url;

use crate::error::Error;
use crate::vars::{AZURE_OPENAI_ENDPOINT, DEFAULT_API_VERSION, OPENAI_API_VERSION};

/// Whether `host` is a loopback name or address (plain `http://` is allowed only there).
pub(crate) fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost")
        || h.parse::<std::net::IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
}

/// Whether `url` may carry a key or token: https, or http to loopback.
pub(crate) fn may_carry_secrets(url: &Url) -> bool {
    url.scheme() == "https" || is_loopback(url.host_str().unwrap_or_default())
}

/// Checks an endpoint and returns its origin.
///
/// A pasted path (`/openai/deployments/...?api-version=...`) is refused with an explanation,
/// unless `accept_path` is set, in which case only the origin is kept.
pub(crate) fn endpoint(raw: &str, accept_path: bool) -> Result<Url, Error> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(Error::config(
            "no endpoint is configured",
            format!("set {AZURE_OPENAI_ENDPOINT}=https://<resource>.openai.azure.com"),
        ));
    }
    let url = match Url::parse(raw) {
        Ok(u) if u.host_str().is_some() && matches!(u.scheme(), "http" | "https") => u,
        _ => {
            let guess = if raw.contains(['.', '/', ':']) {
                "https://<resource>.openai.azure.com".to_string()
            } else {
                format!("https://{raw}.openai.azure.com")
            };
            return Err(Error::config(
                format!("the endpoint {raw:?} is not a URL"),
                format!("set {AZURE_OPENAI_ENDPOINT}={guess} (the full URL, with https://)"),
            ));
        }
    };
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    if host == "api.openai.com" || host.ends_with(".openai.com") {
        return Err(Error::config(
            format!("the endpoint points at OpenAI's own API ({host}), not at Azure"),
            format!(
                "set {AZURE_OPENAI_ENDPOINT}=https://<resource>.openai.azure.com (your Azure \
                 resource's endpoint, under Keys and Endpoint)"
            ),
        ));
    }
    if url.scheme() == "http" && !is_loopback(&host) {
        return Err(Error::config(
            "the endpoint uses plain http:// to a remote host (keys and tokens would travel \
             unencrypted)",
            format!("set {AZURE_OPENAI_ENDPOINT}=https://{host}"),
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::config(
            "the endpoint carries user info (user:password@)",
            format!("set {AZURE_OPENAI_ENDPOINT} to the origin alone: https://{host}"),
        ));
    }
    let mut origin = url.clone();
    origin.set_path("");
    origin.set_query(None);
    origin.set_fragment(None);
    let has_path = !url.path().trim_end_matches('/').is_empty() || url.query().is_some();
    if has_path && !accept_path {
        return Err(Error::config(
            format!(
                "the endpoint has a path ({}): it must be the resource's origin only; the client \
                 adds /openai/..., the deployment and the api-version itself",
                url.path()
            ),
            format!(
                "set {AZURE_OPENAI_ENDPOINT}={} (or opt in with \
                 AzureOpenAIBuilder::accept_endpoint_path to keep only the origin)",
                origin.as_str().trim_end_matches('/')
            ),
        ));
    }
    Ok(origin)
}

/// `YYYY-MM-DD` or `YYYY-MM-DD-preview` with a real month and day, or `v1` / `preview`.
///
/// ```
/// assert!(aoai::api_version_well_formed("2024-10-21"));
/// assert!(aoai::api_version_well_formed("2025-04-01-preview"));
/// assert!(!aoai::api_version_well_formed("2024-13-01"));
/// ```
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

/// Checks an api-version string's form.
pub(crate) fn api_version(v: &str) -> Result<String, Error> {
    let v = v.trim();
    if api_version_well_formed(v) {
        return Ok(v.to_string());
    }
    Err(Error::config(
        format!("the api-version {v:?} is not of the form YYYY-MM-DD or YYYY-MM-DD-preview"),
        format!("set {OPENAI_API_VERSION}={DEFAULT_API_VERSION} (or unset it for that default)"),
    ))
}

/// Checks a key's form: not empty, not an OpenAI (`sk-...`) key, no spaces or quotes.
pub(crate) fn api_key(key: &str) -> Result<(), Error> {
    let fix = "set AZURE_OPENAI_API_KEY to key1 or key2 from your Azure resource's Keys and \
               Endpoint page (az cognitiveservices account keys list -n <resource> -g <group>)";
    if key.trim().is_empty() {
        return Err(Error::config("the API key is empty", fix));
    }
    if key.starts_with("sk-") {
        return Err(Error::config(
            "the API key is an OpenAI key (sk-...), not an Azure resource key",
            fix,
        ));
    }
    if key.contains(char::is_whitespace) || key.contains(['"', '\'']) {
        return Err(Error::config(
            "the API key contains spaces or quotes",
            "set AZURE_OPENAI_API_KEY to the key alone, as copied from Keys and Endpoint",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fix(r: Result<impl std::fmt::Debug, Error>) -> String {
        r.unwrap_err().quick_fix().unwrap().to_string()
    }

    #[test]
    fn endpoints_are_checked_and_reduced_to_their_origin() {
        assert_eq!(
            endpoint("https://r.openai.azure.com/", false)
                .unwrap()
                .as_str(),
            "https://r.openai.azure.com/"
        );
        assert!(endpoint("http://127.0.0.1:8089", false).is_ok());
        assert!(endpoint("http://localhost:1", false).is_ok());
        assert!(fix(endpoint("", false)).contains("AZURE_OPENAI_ENDPOINT"));
        assert!(
            fix(endpoint("my-resource", false)).contains("https://my-resource.openai.azure.com")
        );
        assert!(fix(endpoint("https://api.openai.com/v1", false)).contains("openai.azure.com"));
        assert!(
            fix(endpoint("http://r.openai.azure.com", false))
                .contains("=https://r.openai.azure.com")
        );
        let pasted = "https://r.openai.azure.com/openai/deployments/x/chat/completions?api-version=2024-10-21";
        assert!(fix(endpoint(pasted, false)).contains("=https://r.openai.azure.com "));
        assert_eq!(
            endpoint(pasted, true).unwrap().as_str(),
            "https://r.openai.azure.com/"
        );
    }

    #[test]
    fn api_versions_and_keys_are_checked_for_form() {
        for ok in ["2024-10-21", "2025-04-01-preview", "v1", "preview"] {
            assert!(api_version(ok).is_ok(), "{ok}");
        }
        for bad in [
            "2024-13",
            "2024-13-01",
            "24-10-21",
            "2024-10-21-beta",
            "latest",
            "",
        ] {
            assert!(
                fix(api_version(bad)).contains("OPENAI_API_VERSION"),
                "{bad}"
            );
        }
        assert!(api_key("0123abcd").is_ok());
        for bad in ["", "sk-proj-123", "ab cd", "\"abc\""] {
            assert!(fix(api_key(bad)).contains("AZURE_OPENAI_API_KEY"), "{bad}");
        }
    }
}
