//! `ClientCertificateCredential`: a service principal with a certificate (spec §4.2).
//!
//! The certificate file is PEM (key and certificate in one file, the key optionally encrypted
//! PKCS#8) or PKCS#12 (with a password). The key must be RSA. The client assertion is built
//! exactly as MSAL builds it when it is given a thumbprint (the Python peer always gives one):
//!
//! ```text
//! header  {"alg":"RS256","typ":"JWT"[,"x5c":[<base64 DER>...]],"x5t":"<padded base64url SHA-1>"}
//! claims  {"aud":"<token endpoint>","iss":"<client id>","sub":"<client id>",
//!          "exp":<iat+600, fractional>,"iat":<now, fractional>,"jti":"<uuid4>"}
//! sig     RSASSA-PKCS1-v1_5 with SHA-256
//! ```
//!
//! We do not use PS256 / `x5t#S256` (azure-identity's own builder for ADFS): MSAL, and so DAC's
//! chain, sends RS256 + `x5t`, and Entra accepts it. Pure-Rust crypto only (`rsa`, `sha1`,
//! `sha2`, `p12-keystore`, `pkcs8`): no OpenSSL.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use azure_core::credentials::TokenRequestOptions;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use rsa::RsaPrivateKey;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer};
use sha1::{Digest, Sha1};
use sha2::Sha256;

use super::entra::{self, Flavor};
use super::{Cached, Context, Source, impl_credential};
use crate::clock::Clock;
use crate::env::Env;
use crate::error::IdentityError;
use crate::http::ClientOptions;
use crate::report::Evidence;
use crate::token::{Token, check_tenant};

/// Options for [`ClientCertificateCredential`].
#[derive(Debug, Clone, Default)]
pub struct ClientCertificateCredentialOptions {
    /// Password of a PKCS#12 file or an encrypted PEM key.
    pub password: Option<azure_core::credentials::Secret>,
    /// Send the certificate chain (`x5c`) in the assertion (subject name / issuer auth).
    pub send_certificate_chain: bool,
    /// Authority host; default `AZURE_AUTHORITY_HOST` from `env`, else the public cloud.
    pub authority_host: Option<String>,
    /// Environment.
    pub env: Env,
    /// Clock.
    pub clock: Option<Arc<dyn Clock>>,
    /// HTTP options.
    pub client: ClientOptions,
}

/// A loaded certificate: RSA key, DER chain, SHA-1 thumbprint.
pub(crate) struct LoadedCertificate {
    key: RsaPrivateKey,
    chain: Vec<Vec<u8>>,
    thumbprint_sha1: [u8; 20],
}

fn cert_error(msg: impl Into<String>) -> IdentityError {
    IdentityError::config(msg).with_fix(
        "set AZURE_CLIENT_CERTIFICATE_PATH to a PEM file holding the certificate and its RSA private key, \
or a PKCS#12 (.pfx) file with AZURE_CLIENT_CERTIFICATE_PASSWORD",
    )
}

struct PemBlock {
    label: String,
    der: Vec<u8>,
}

fn pem_blocks(text: &str) -> Result<Vec<PemBlock>, IdentityError> {
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + 11..];
        let Some(end_label) = after.find("-----") else {
            break;
        };
        let label = after[..end_label].to_string();
        let body_start = &after[end_label + 5..];
        let end_marker = format!("-----END {label}-----");
        let Some(end) = body_start.find(&end_marker) else {
            return Err(cert_error(format!(
                "the PEM block '{label}' has no END line"
            )));
        };
        let body: String = body_start[..end]
            .lines()
            .filter(|l| !l.contains(':'))
            .flat_map(|l| l.chars())
            .filter(|c| !c.is_whitespace())
            .collect();
        let der = STANDARD
            .decode(body.as_bytes())
            .map_err(|_| cert_error(format!("the PEM block '{label}' is not valid base64")))?;
        blocks.push(PemBlock { label, der });
        rest = &body_start[end + end_marker.len()..];
    }
    Ok(blocks)
}

fn not_rsa() -> IdentityError {
    cert_error("the certificate must have an RSA private key because RS256 is used for signing")
}

impl LoadedCertificate {
    pub(crate) fn from_file(path: &Path, password: Option<&str>) -> Result<Self, IdentityError> {
        let data = std::fs::read(path).map_err(|e| {
            cert_error(format!(
                "cannot read the certificate file {}: {e}",
                path.display()
            ))
        })?;
        Self::from_bytes(&data, password)
    }

    pub(crate) fn from_bytes(data: &[u8], password: Option<&str>) -> Result<Self, IdentityError> {
        let is_pem = data.windows(10).any(|w| w == b"-----BEGIN");
        let (key, chain) = if is_pem {
            let text = String::from_utf8_lossy(data);
            let blocks = pem_blocks(&text)?;
            let chain: Vec<Vec<u8>> = blocks
                .iter()
                .filter(|b| b.label == "CERTIFICATE")
                .map(|b| b.der.clone())
                .collect();
            let key = blocks
                .iter()
                .find_map(|b| match b.label.as_str() {
                    "PRIVATE KEY" => Some(RsaPrivateKey::from_pkcs8_der(&b.der).map_err(|_| not_rsa())),
                    "RSA PRIVATE KEY" => Some(
                        RsaPrivateKey::from_pkcs1_der(&b.der)
                            .map_err(|_| cert_error("the RSA PRIVATE KEY block cannot be parsed (encrypted legacy PEM keys are not supported; use PKCS#8)")),
                    ),
                    "ENCRYPTED PRIVATE KEY" => Some(match password {
                        Some(p) => RsaPrivateKey::from_pkcs8_encrypted_der(&b.der, p.as_bytes())
                            .map_err(|_| cert_error("cannot decrypt the private key: wrong AZURE_CLIENT_CERTIFICATE_PASSWORD, or not an RSA key")),
                        None => Err(cert_error("the private key is encrypted: set AZURE_CLIENT_CERTIFICATE_PASSWORD")),
                    }),
                    "EC PRIVATE KEY" => Some(Err(not_rsa())),
                    _ => None,
                })
                .ok_or_else(|| cert_error("the PEM file has no private key"))??;
            (key, chain)
        } else {
            let ks = p12_keystore::KeyStore::from_pkcs12(data, password.unwrap_or(""))
                .map_err(|e| cert_error(format!("failed to deserialize the certificate in PEM or PKCS12 format ({e}); a PKCS#12 file needs the right AZURE_CLIENT_CERTIFICATE_PASSWORD")))?;
            let (_, pkc) = ks
                .private_key_chain()
                .ok_or_else(|| cert_error("the PKCS#12 file has no private key"))?;
            let key = RsaPrivateKey::from_pkcs8_der(pkc.key())
                .or_else(|_| RsaPrivateKey::from_pkcs1_der(pkc.key()))
                .map_err(|_| not_rsa())?;
            (
                key,
                pkc.chain().iter().map(|c| c.as_der().to_vec()).collect(),
            )
        };
        let first = chain
            .first()
            .ok_or_else(|| cert_error("the file has no certificate"))?;
        let thumbprint_sha1: [u8; 20] = Sha1::digest(first).into();
        Ok(LoadedCertificate {
            key,
            chain,
            thumbprint_sha1,
        })
    }

    /// `x5t`: the padded base64url SHA-1 thumbprint (as MSAL sends it).
    pub(crate) fn x5t(&self) -> String {
        URL_SAFE.encode(self.thumbprint_sha1)
    }

    /// The client assertion JWT for `aud` (the token endpoint).
    pub(crate) fn assertion(
        &self,
        client_id: &str,
        aud: &str,
        now: time::OffsetDateTime,
        send_chain: bool,
    ) -> Result<String, IdentityError> {
        let mut header = String::from(r#"{"alg":"RS256","typ":"JWT""#);
        if send_chain {
            let x5c: Vec<String> = self.chain.iter().map(|d| STANDARD.encode(d)).collect();
            header.push_str(&format!(
                r#","x5c":{}"#,
                serde_json::to_string(&x5c).unwrap_or_default()
            ));
        }
        header.push_str(&format!(r#","x5t":"{}"}}"#, self.x5t()));
        let iat = now.unix_timestamp_nanos() as f64 / 1e9;
        let claims = serde_json::json!({
            "aud": aud,
            "iss": client_id,
            "sub": client_id,
            "exp": iat + 600.0,
            "iat": iat,
            "jti": uuid::Uuid::new_v4().to_string(),
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.as_bytes()),
            URL_SAFE_NO_PAD.encode(claims.to_string().as_bytes())
        );
        let signer = SigningKey::<Sha256>::new(self.key.clone());
        let sig = signer
            .try_sign(signing_input.as_bytes())
            .map_err(|e| cert_error(format!("cannot sign the client assertion: {e}")))?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(sig.to_bytes())
        ))
    }
}

pub(crate) struct CertSource {
    ctx: Context,
    token_url: String,
    client_id: String,
    cert: LoadedCertificate,
    send_chain: bool,
}

#[async_trait]
impl Source for CertSource {
    async fn fetch(&self, scopes: &[String]) -> Result<Token, IdentityError> {
        let now = self.ctx.clock.now();
        let assertion =
            self.cert
                .assertion(&self.client_id, &self.token_url, now, self.send_chain)?;
        let scope = scopes.join(" ");
        let form = [
            ("client_id", self.client_id.as_str()),
            ("grant_type", "client_credentials"),
            ("client_assertion", assertion.as_str()),
            ("client_info", "1"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("scope", scope.as_str()),
        ];
        entra::request_token(
            &self.ctx.http,
            now,
            &self.token_url,
            &form,
            true,
            Flavor::Certificate,
        )
        .await
    }
}

/// A service principal authenticating with a certificate.
#[derive(Clone)]
pub struct ClientCertificateCredential {
    inner: Cached<CertSource>,
    evidence: Vec<Evidence>,
}

impl std::fmt::Debug for ClientCertificateCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCertificateCredential")
            .field("client_id", &self.inner.source.client_id)
            .field("token_url", &self.inner.source.token_url)
            .field("x5t", &self.inner.source.cert.x5t())
            .finish_non_exhaustive()
    }
}

impl ClientCertificateCredential {
    /// The name used in reports.
    pub const NAME: &'static str = "ClientCertificateCredential";

    /// Loads the certificate file now (errors are config errors naming the fix).
    pub fn new(
        tenant_id: &str,
        client_id: &str,
        certificate_path: impl AsRef<Path>,
        options: ClientCertificateCredentialOptions,
    ) -> Result<Self, IdentityError> {
        let ctx = Context::new(options.env.clone(), options.clock.clone(), &options.client)?;
        let password = options.password.as_ref().map(|p| p.secret().to_string());
        Self::with_context(
            ctx,
            tenant_id,
            client_id,
            certificate_path.as_ref(),
            password.as_deref(),
            options.send_certificate_chain,
            options.authority_host.as_deref(),
            Self::NAME,
        )
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn with_context(
        ctx: Context,
        tenant_id: &str,
        client_id: &str,
        path: &Path,
        password: Option<&str>,
        send_chain: bool,
        authority_host: Option<&str>,
        name: &'static str,
    ) -> Result<Self, IdentityError> {
        check_tenant(tenant_id).map_err(|e| e.with_credential(name))?;
        let cert =
            LoadedCertificate::from_file(path, password).map_err(|e| e.with_credential(name))?;
        let authority =
            entra::authority_from(authority_host, &ctx.env).map_err(|e| e.with_credential(name))?;
        let token_url = entra::token_url(&authority, tenant_id);
        let evidence = vec![
            Evidence::File {
                path: path.to_path_buf(),
                exists: true,
            },
            Evidence::Endpoint {
                url: token_url.clone(),
            },
        ];
        let clock = ctx.clock.clone();
        let source = CertSource {
            ctx,
            token_url,
            client_id: client_id.to_string(),
            cert,
            send_chain,
        };
        Ok(ClientCertificateCredential {
            inner: Cached::new(name, source, clock),
            evidence,
        })
    }

    /// Gets a token (cached; `ForceRefresh` bypasses the cache).
    pub async fn get_token_detailed(
        &self,
        scopes: &[&str],
        options: Option<&TokenRequestOptions<'_>>,
    ) -> Result<Token, IdentityError> {
        self.inner.get(scopes, options).await
    }

    /// The certificate file and token endpoint.
    pub fn looked_at(&self) -> Vec<Evidence> {
        self.evidence.clone()
    }

    fn may_stall_impl(&self) -> bool {
        false
    }

    /// The `x5t` header value (padded base64url SHA-1 thumbprint).
    pub fn x5t(&self) -> String {
        self.inner.source.cert.x5t()
    }
}

impl_credential!(ClientCertificateCredential);
