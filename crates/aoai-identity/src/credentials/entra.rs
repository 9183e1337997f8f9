//! The Entra ID v2 token endpoint, shared by the secret, certificate and workload identity
//! credentials: authority validation, the form POST, response parsing and error classification.
//!
//! We POST straight to `<authority>/<tenant>/oauth2/v2.0/token`. MSAL (the Python peer) first
//! sends an OIDC discovery GET (`/<tenant>/v2.0/.well-known/openid-configuration`) and, for
//! authorities it does not know, an instance discovery GET to login.microsoftonline.com. We
//! make neither: for every Entra cloud the discovered `token_endpoint` is exactly that path, so
//! discovery only adds a round trip (and instance discovery would send traffic to the public
//! cloud when a sovereign or local authority is configured).

use serde::Deserialize;
use time::OffsetDateTime;

use crate::env::Env;
use crate::error::{ErrorKind, IdentityError};
use crate::http::{Http, HttpResponse, RetryOn};
use crate::token::Token;
use crate::vars;

/// The public cloud authority.
pub(crate) const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com";

/// Normalises an authority host: adds `https://` when no scheme is given, removes trailing
/// slashes and spaces, refuses plain `http://` except on loopback (local emulators).
pub(crate) fn normalize_authority(raw: &str) -> Result<String, IdentityError> {
    let trimmed = raw.trim().trim_end_matches('/');
    let with_scheme = if trimmed.contains("://") {
        trimmed.to_string()
    } else {
        format!("https://{trimmed}")
    };
    let url = url::Url::parse(&with_scheme).map_err(|_| {
        IdentityError::config(format!("'{trimmed}' is not a valid authority URL")).with_fix(
            "set AZURE_AUTHORITY_HOST to an https URL such as https://login.microsoftonline.com",
        )
    })?;
    let loopback = matches!(
        url.host_str(),
        Some("127.0.0.1" | "localhost" | "[::1]" | "::1")
    );
    if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
        return Err(IdentityError::config(format!(
            "'{trimmed}' is an invalid authority: it must be a TLS protected (https) URL"
        ))
        .with_fix(
            "set AZURE_AUTHORITY_HOST to an https URL such as https://login.microsoftonline.com",
        ));
    }
    Ok(with_scheme)
}

/// The authority: the explicit value, else `AZURE_AUTHORITY_HOST`, else the public cloud.
pub(crate) fn authority_from(explicit: Option<&str>, env: &Env) -> Result<String, IdentityError> {
    match explicit
        .map(str::to_owned)
        .or_else(|| env.get_non_empty(vars::AZURE_AUTHORITY_HOST))
    {
        Some(a) => normalize_authority(&a),
        None => Ok(DEFAULT_AUTHORITY.to_string()),
    }
}

/// `<authority>/<tenant>/oauth2/v2.0/token`.
pub(crate) fn token_url(authority: &str, tenant: &str) -> String {
    format!("{authority}/{tenant}/oauth2/v2.0/token")
}

/// Which credential is asking (the quick fixes differ).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    Secret,
    Certificate,
    Workload,
}

/// Sends the form and parses the answer. Every failure is a hard failure (the credential is
/// configured, so the chain must stop and say why).
pub(crate) async fn request_token(
    http: &Http,
    now: OffsetDateTime,
    url: &str,
    form: &[(&str, &str)],
    msal_headers: bool,
    flavor: Flavor,
) -> Result<Token, IdentityError> {
    let body = serde_urlencoded::to_string(form)
        .map_err(|e| IdentityError::config(format!("cannot encode the token request: {e}")))?;
    let resp = http
        .send("the Entra token endpoint", RetryOn::Transient, |c| {
            let mut rb = c
                .post(url)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(body.clone());
            if msal_headers {
                rb = rb
                    .header("Accept", "application/json")
                    .header("client-request-id", uuid::Uuid::new_v4().to_string());
            }
            rb
        })
        .await
        .map_err(|e| e.with_fix(network_fix()))?;
    parse_token_response(&resp, now, flavor)
}

fn network_fix() -> String {
    format!(
        "check that the authority is reachable (AZURE_AUTHORITY_HOST, default {DEFAULT_AUTHORITY}) and any firewall or proxy rules"
    )
}

#[derive(Deserialize)]
struct TokenBody {
    access_token: Option<String>,
    expires_in: Option<serde_json::Value>,
    expires_on: Option<serde_json::Value>,
    refresh_in: Option<serde_json::Value>,
    error: Option<String>,
    error_description: Option<String>,
    error_codes: Option<Vec<serde_json::Value>>,
}

/// A JSON number or a string holding one.
pub(crate) fn num(v: &Option<serde_json::Value>) -> Option<i64> {
    match v.as_ref()? {
        serde_json::Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        serde_json::Value::String(s) => s.trim().parse::<f64>().ok().map(|f| f as i64),
        _ => None,
    }
}

pub(crate) fn parse_token_response(
    resp: &HttpResponse,
    now: OffsetDateTime,
    flavor: Flavor,
) -> Result<Token, IdentityError> {
    let status = resp.status.as_u16();
    let body: TokenBody = match serde_json::from_slice(&resp.body) {
        Ok(b) => b,
        Err(_) => {
            let ct = resp
                .header("content-type")
                .unwrap_or("no content type")
                .to_string();
            return Err(IdentityError::failed(
                ErrorKind::Network,
                format!("the authority answered HTTP {status} with a body that is not JSON ({ct})"),
            )
            .with_status(status)
            .with_fix("check AZURE_AUTHORITY_HOST: it must be the Entra authority, e.g. https://login.microsoftonline.com"));
        }
    };
    if let Some(error) = body.error.clone().filter(|e| !e.is_empty()) {
        let desc = body.error_description.clone().unwrap_or_default();
        let code = body
            .error_codes
            .as_ref()
            .and_then(|c| c.first())
            .and_then(|c| c.as_i64())
            .map(|c| format!("AADSTS{c}"))
            .or_else(|| aadsts_in(&desc));
        let first_line = desc.lines().next().unwrap_or("").trim();
        let msg = if first_line.is_empty() {
            format!("authentication failed: {error}")
        } else {
            format!("authentication failed: {first_line}")
        };
        let mut e = IdentityError::failed(ErrorKind::Authentication, msg)
            .with_status(status)
            .with_fix(fix_for(code.as_deref(), &error, flavor));
        e = e.with_code(code.unwrap_or(error));
        return Err(e);
    }
    if !(200..300).contains(&status) {
        return Err(IdentityError::failed(
            ErrorKind::Network,
            format!("the authority answered HTTP {status} without a token"),
        )
        .with_status(status)
        .with_fix(network_fix()));
    }
    let Some(access_token) = body.access_token.clone().filter(|t| !t.is_empty()) else {
        return Err(IdentityError::failed(
            ErrorKind::Authentication,
            "the authority's answer has no access_token",
        )
        .with_status(status));
    };
    let expires_on = match (num(&body.expires_on), num(&body.expires_in)) {
        (Some(on), _) => OffsetDateTime::from_unix_timestamp(on).ok(),
        (None, Some(inn)) => Some(now + time::Duration::seconds(inn)),
        _ => None,
    };
    let Some(expires_on) = expires_on else {
        return Err(IdentityError::failed(
            ErrorKind::Authentication,
            "the authority's answer has neither expires_in nor expires_on",
        )
        .with_status(status));
    };
    Ok(Token::from_lifetime(
        access_token,
        now,
        expires_on,
        num(&body.refresh_in),
    ))
}

fn aadsts_in(desc: &str) -> Option<String> {
    let i = desc.find("AADSTS")?;
    let digits: String = desc[i + 6..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    (!digits.is_empty()).then(|| format!("AADSTS{digits}"))
}

/// The quick fix for an Entra error code.
fn fix_for(code: Option<&str>, error: &str, flavor: Flavor) -> String {
    match code.unwrap_or("") {
        "AADSTS7000215" => "AZURE_CLIENT_SECRET is not a valid client secret for this app: set it to the secret's Value \
(not its Secret ID), or create a new one with `az ad app credential reset --id <AZURE_CLIENT_ID>`"
            .into(),
        "AADSTS7000222" => "the client secret has expired: create a new one with `az ad app credential reset --id \
<AZURE_CLIENT_ID>` and put it in AZURE_CLIENT_SECRET"
            .into(),
        "AADSTS700016" => "no app with AZURE_CLIENT_ID exists in tenant AZURE_TENANT_ID: check both values \
(`az ad sp show --id <AZURE_CLIENT_ID>`)"
            .into(),
        "AADSTS90002" | "AADSTS900023" | "AADSTS90013" => {
            "AZURE_TENANT_ID is not a known tenant: set it to your directory id (`az account show --query tenantId -o tsv`)"
                .into()
        }
        "AADSTS700027" | "AADSTS700024" | "AADSTS7000274" => "the certificate in AZURE_CLIENT_CERTIFICATE_PATH is not \
accepted for this app: upload it with `az ad app credential reset --id <AZURE_CLIENT_ID> --cert @cert.pem --append`"
            .into(),
        "AADSTS700213" | "AADSTS70021" | "AADSTS700211" | "AADSTS700212" => "no federated identity credential of the \
app matches the token in AZURE_FEDERATED_TOKEN_FILE: add one for the service account's issuer and subject \
(`az identity federated-credential create ...`)"
            .into(),
        _ => match (flavor, error) {
            (Flavor::Secret, "invalid_client") => {
                "check AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (the secret's Value, not its ID)".into()
            }
            (Flavor::Certificate, _) => {
                "check AZURE_TENANT_ID, AZURE_CLIENT_ID and the certificate in AZURE_CLIENT_CERTIFICATE_PATH".into()
            }
            (Flavor::Workload, _) => {
                "check AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_FEDERATED_TOKEN_FILE (the workload identity setup)".into()
            }
            _ => "check AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authority_rules() {
        assert_eq!(
            normalize_authority("login.microsoftonline.us/").unwrap(),
            "https://login.microsoftonline.us"
        );
        assert_eq!(
            normalize_authority(" https://login.microsoftonline.com/ ").unwrap(),
            DEFAULT_AUTHORITY
        );
        assert!(normalize_authority("http://login.example.com").is_err());
        assert_eq!(
            normalize_authority("http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080"
        );
    }

    #[test]
    fn wrong_secret_classified_with_fix() {
        let body = br#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. Trace ID: t","error_codes":[7000215]}"#;
        let resp = HttpResponse {
            status: reqwest::StatusCode::UNAUTHORIZED,
            headers: Default::default(),
            body: body.to_vec(),
        };
        let e = parse_token_response(&resp, OffsetDateTime::now_utc(), Flavor::Secret).unwrap_err();
        assert!(!e.is_unavailable());
        assert_eq!(e.kind().as_str(), "authentication_error");
        assert_eq!(e.code(), Some("AADSTS7000215"));
        assert!(e.quick_fix().unwrap().contains("AZURE_CLIENT_SECRET"));
    }

    #[test]
    fn parses_string_numbers_and_refresh_in() {
        let now = OffsetDateTime::from_unix_timestamp(1000).unwrap();
        let body = br#"{"access_token":"x","expires_in":"3599","refresh_in":1000}"#;
        let resp = HttpResponse {
            status: reqwest::StatusCode::OK,
            headers: Default::default(),
            body: body.to_vec(),
        };
        let t = parse_token_response(&resp, now, Flavor::Secret).unwrap();
        assert_eq!(t.expires_on.unix_timestamp(), 4599);
        assert_eq!(t.refresh_on.unwrap().unix_timestamp(), 2000);
    }
}
