//! Client assertions: certificate-signed JWTs (MSAL: RS256 + `x5t`; azure-identity's own builder:
//! PS256 + `x5t#S256`) and federated (workload identity) tokens, checked the way Entra does.
//!
//! ```text
//! federated_token configured and equal ─► ok
//! not a JWT ─► AADSTS700213 (federated principal) | AADSTS50027
//! alg ∉ {RS256, PS256} / thumbprint ≠ configured / no key ─► AADSTS700027 (key not found)
//! signature fails ─► AADSTS700027 (key found, verification failed)
//! iss/sub ≠ client_id ─► AADSTS700021   aud ≠ token endpoint ─► AADSTS700027 (audience)
//! exp passed / nbf in the future ─► AADSTS700024
//! ```

use axum::http::StatusCode;
use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD},
};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;
use sha2::Digest;

use super::{AadError, PrincipalConfig};

/// Assertions whose `nbf` is this far in the future are still accepted (clock skew).
const SKEW_SECS: f64 = 300.0;

/// The configured `certificate` of a principal.
#[derive(Clone)]
pub enum CertificateKey {
    /// A PEM certificate: key and both thumbprints known.
    Certificate {
        /// The RSA public key.
        key: DecodingKey,
        /// SHA-1 of the DER.
        sha1: Vec<u8>,
        /// SHA-256 of the DER.
        sha256: Vec<u8>,
    },
    /// Only a thumbprint (SHA-1 = 20 bytes or SHA-256 = 32 bytes); the assertion must bring the
    /// certificate in `x5c`.
    Thumbprint(Vec<u8>),
}

impl std::fmt::Debug for CertificateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Certificate { sha1, .. } => write!(f, "Certificate({})", hex(sha1)),
            Self::Thumbprint(t) => write!(f, "Thumbprint({})", hex(t)),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// The DER of the first `CERTIFICATE` block of `pem`.
fn first_certificate_der(pem: &str) -> Result<Vec<u8>, String> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let start = pem.find(BEGIN).ok_or("no BEGIN CERTIFICATE line")? + BEGIN.len();
    let len = pem[start..].find(END).ok_or("no END CERTIFICATE line")?;
    let b64: String = pem[start..start + len]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    STANDARD
        .decode(b64)
        .map_err(|e| format!("the certificate is not valid base64: {e}"))
}

fn key_from_der(der: &[u8]) -> Result<DecodingKey, String> {
    let pem = format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        STANDARD.encode(der)
    );
    DecodingKey::from_rsa_pem(pem.as_bytes())
        .map_err(|e| format!("the certificate has no usable RSA public key: {e}"))
}

impl CertificateKey {
    /// Parses a PEM certificate or a hex thumbprint (colons and spaces ignored).
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.contains("-----BEGIN") {
            let der = first_certificate_der(text)?;
            return Self::from_der(&der);
        }
        let digits: String = text
            .chars()
            .filter(|c| !matches!(c, ':' | ' ' | '\t'))
            .collect();
        if !(digits.len() == 40 || digits.len() == 64)
            || !digits.chars().all(|c| c.is_ascii_hexdigit())
        {
            return Err(format!(
                "expected 40 (SHA-1) or 64 (SHA-256) hex digits, got {} characters",
                digits.len()
            ));
        }
        let bytes = (0..digits.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).unwrap_or(0))
            .collect();
        Ok(Self::Thumbprint(bytes))
    }

    fn from_der(der: &[u8]) -> Result<Self, String> {
        Ok(Self::Certificate {
            key: key_from_der(der)?,
            sha1: sha1::Sha1::digest(der).to_vec(),
            sha256: sha2::Sha256::digest(der).to_vec(),
        })
    }

    fn matches(&self, presented: &Presented) -> bool {
        let (sha1, sha256): (&[u8], &[u8]) = match self {
            Self::Certificate { sha1, sha256, .. } => (sha1, sha256),
            Self::Thumbprint(t) => (t, t),
        };
        match presented {
            Presented::Sha1(t) => t == sha1,
            Presented::Sha256(t) => t == sha256,
        }
    }
}

enum Presented {
    Sha1(Vec<u8>),
    Sha256(Vec<u8>),
}

impl Presented {
    fn hex(&self) -> String {
        match self {
            Self::Sha1(t) | Self::Sha256(t) => hex(t),
        }
    }
}

/// base64url with or without `=` padding (MSAL pads `x5t`).
fn b64url(s: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD
        .decode(s)
        .or_else(|_| URL_SAFE.decode(s))
        .ok()
}

fn invalid_client(code: u32, text: String) -> AadError {
    AadError::new(StatusCode::UNAUTHORIZED, "invalid_client", code, text)
}

fn malformed() -> AadError {
    AadError::new(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        50027,
        "JWT token is invalid or malformed.",
    )
}

fn key_not_found(thumbprint: &str, client_id: &str) -> AadError {
    invalid_client(
        700027,
        format!(
            "Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint of key used by client: '{thumbprint}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '{client_id}'.]"
        ),
    )
}

/// A federated token equals the configured one (a trailing newline of a token file is ignored).
fn federated_matches(presented: &str, configured: &str) -> bool {
    let trim = |s: &str| s.trim_end_matches(['\r', '\n']).to_owned();
    trim(presented) == trim(configured)
}

/// Checks `assertion` for `principal`; `token_path_suffixes` are the endpoint paths the `aud`
/// may end with (`/{tenant}/oauth2/v2.0/token`, `/{tenant}/oauth2/token`).
pub fn verify(
    assertion: &str,
    principal: &PrincipalConfig,
    token_path_suffixes: &[String],
    now: f64,
) -> Result<(), AadError> {
    let client_id = principal.client_id.as_str();
    if let Some(fed) = &principal.federated_token
        && federated_matches(assertion, fed)
    {
        return Ok(());
    }
    let no_federated_match = |subject: &str| {
        AadError::new(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            700213,
            format!(
                "No matching federated identity record found for presented assertion subject '{subject}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation"
            ),
        )
    };
    let Ok(header) = jsonwebtoken::decode_header(assertion) else {
        return Err(if principal.federated_token.is_some() {
            no_federated_match("")
        } else {
            malformed()
        });
    };
    let presented = match (&header.x5t_s256, &header.x5t) {
        (Some(t), _) => b64url(t).map(Presented::Sha256),
        (None, Some(t)) => b64url(t).map(Presented::Sha1),
        (None, None) => None,
    };
    let Some(presented) = presented else {
        if principal.federated_token.is_some() {
            let sub = unverified_claim(assertion, "sub");
            return Err(no_federated_match(&sub));
        }
        return Err(key_not_found("", client_id));
    };
    if !matches!(header.alg, Algorithm::RS256 | Algorithm::PS256) {
        return Err(invalid_client(
            700027,
            format!(
                "Client assertion contains an invalid signature. [Reason - The signing algorithm '{:?}' is not supported; use RS256 or PS256., Thumbprint of key used by client: '{}']",
                header.alg,
                presented.hex()
            ),
        ));
    }
    let configured = principal
        .certificate
        .as_deref()
        .and_then(|c| CertificateKey::parse(c).ok());
    let key = match configured {
        Some(c) if c.matches(&presented) => match c {
            CertificateKey::Certificate { key, .. } => key,
            CertificateKey::Thumbprint(_) => {
                // Only the thumbprint is registered: take the key from `x5c`, if it is the
                // registered certificate.
                let from_chain = header
                    .x5c
                    .as_ref()
                    .and_then(|c| c.first())
                    .and_then(|b64| STANDARD.decode(b64).ok())
                    .and_then(|der| CertificateKey::from_der(&der).ok())
                    .filter(|k| k.matches(&presented));
                match from_chain {
                    Some(CertificateKey::Certificate { key, .. }) => key,
                    _ => return Err(key_not_found(&presented.hex(), client_id)),
                }
            }
        },
        _ => return Err(key_not_found(&presented.hex(), client_id)),
    };
    let mut validation = Validation::new(header.alg);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let claims = jsonwebtoken::decode::<Value>(assertion, &key, &validation)
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature => invalid_client(
                700027,
                format!(
                    "Client assertion contains an invalid signature. [Reason - Key was found, but use of the key to verify the signature failed., Thumbprint of key used by client: '{}']",
                    presented.hex()
                ),
            ),
            _ => malformed(),
        })?
        .claims;
    let str_claim = |n: &str| claims.get(n).and_then(Value::as_str).unwrap_or("");
    if str_claim("iss") != client_id || str_claim("sub") != client_id {
        return Err(invalid_client(
            700021,
            "Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .".into(),
        ));
    }
    let aud = str_claim("aud").to_ascii_lowercase();
    if !token_path_suffixes
        .iter()
        .any(|s| aud.ends_with(&s.to_ascii_lowercase()))
    {
        return Err(invalid_client(
            700027,
            format!(
                "Client assertion audience claim does not match the token endpoint. [Reason - The audience '{}' is not a token endpoint of this tenant.]",
                str_claim("aud")
            ),
        ));
    }
    let num = |n: &str| claims.get(n).and_then(Value::as_f64);
    let Some(exp) = num("exp") else {
        return Err(malformed());
    };
    let nbf = num("nbf").or(num("iat"));
    if exp <= now || nbf.is_some_and(|nbf| nbf > now + SKEW_SECS) {
        return Err(invalid_client(
            700024,
            format!(
                "Client assertion is not within its valid time range. Current time: {}, assertion valid from {}, expiry time of assertion {}. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .",
                iso(now),
                nbf.map(iso).unwrap_or_else(|| iso(0.0)),
                iso(exp)
            ),
        ));
    }
    Ok(())
}

fn iso(secs: f64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs as i64)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// A string claim read without verifying (for error texts only).
fn unverified_claim(jwt: &str, name: &str) -> String {
    jwt.split('.')
        .nth(1)
        .and_then(b64url)
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|v| v.get(name).and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbprints_parse() {
        let t =
            CertificateKey::parse("E1:8B:77:57:00:00:00:00:00:00:00:00:00:00:00:00:00:00:88:DE")
                .unwrap();
        assert!(matches!(t, CertificateKey::Thumbprint(ref b) if b.len() == 20));
        assert!(CertificateKey::parse(&"ab".repeat(32)).is_ok());
        assert!(CertificateKey::parse("abc").is_err());
        assert!(CertificateKey::parse(&"zz".repeat(20)).is_err());
        assert!(
            CertificateKey::parse("-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----")
                .is_err()
        );
    }

    #[test]
    fn federated_ignores_a_trailing_newline_only() {
        assert!(federated_matches("abc\n", "abc"));
        assert!(federated_matches("abc", "abc\r\n"));
        assert!(!federated_matches("abc ", "abc"));
        assert!(!federated_matches("ab", "abc"));
    }
}
