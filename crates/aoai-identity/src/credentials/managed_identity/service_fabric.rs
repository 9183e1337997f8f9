//! Service Fabric (2019-07-01-preview): `GET $IDENTITY_ENDPOINT?api-version=2019-07-01-preview&
//! resource=<r>` with header `Secret: $IDENTITY_HEADER` over HTTPS whose server certificate is
//! pinned by SHA-1 thumbprint (`IDENTITY_SERVER_THUMBPRINT`; CA validation off), spec §6.4.
//!
//! The pin is checked inside the TLS handshake (a rustls verifier), so the secret header is
//! never sent to a server with another certificate. A user-assigned id is refused (the
//! platform does not support choosing one).

use std::sync::Arc;

use azure_core::credentials::Secret;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use sha1::{Digest, Sha1};

use super::{Expiry, ManagedIdentityId, MiBody};
use crate::credentials::Context;
use crate::error::{ErrorKind, IdentityError};
use crate::http::{Http, RetryOn, mask_url};
use crate::token::Token;

pub(crate) struct ServiceFabric {
    ctx: Context,
    http: Http,
    endpoint: String,
    secret: Secret,
}

#[derive(Debug)]
struct PinnedVerifier {
    thumbprint: [u8; 20],
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for PinnedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let got: [u8; 20] = Sha1::digest(end_entity.as_ref()).into();
        if got == self.thumbprint {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(
                "Service Fabric endpoint certificate thumbprint does not match IDENTITY_SERVER_THUMBPRINT".into(),
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

fn parse_thumbprint(raw: &str) -> Result<[u8; 20], IdentityError> {
    let cleaned: String = raw
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ':')
        .collect();
    let bytes = hex::decode(&cleaned)
        .ok()
        .filter(|b| b.len() == 20)
        .ok_or_else(|| {
            IdentityError::config(
                "IDENTITY_SERVER_THUMBPRINT must be a SHA-1 thumbprint (40 hex digits)",
            )
            .with_fix("set IDENTITY_SERVER_THUMBPRINT as Service Fabric provides it")
        })?;
    let mut out = [0u8; 20];
    out.copy_from_slice(&bytes);
    Ok(out)
}

impl ServiceFabric {
    pub(crate) fn new(
        ctx: &Context,
        endpoint: String,
        header: String,
        thumbprint: String,
        id: ManagedIdentityId,
    ) -> Result<Self, IdentityError> {
        if id != ManagedIdentityId::SystemAssigned {
            return Err(IdentityError::config(
                "specifying a client id or identity is not supported by the Service Fabric managed identity environment; \
the identity is configured by the cluster",
            )
            .with_fix("unset AZURE_CLIENT_ID (or use the system-assigned identity) on Service Fabric"));
        }
        let thumbprint = parse_thumbprint(&thumbprint)?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| IdentityError::config(format!("TLS setup failed: {e}")))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(PinnedVerifier {
                thumbprint,
                provider,
            }))
            .with_no_client_auth();
        let client = reqwest::Client::builder()
            .no_proxy()
            .tls_backend_preconfigured(config)
            .build()
            .map_err(|e| {
                IdentityError::config(format!("cannot build the Service Fabric HTTP client: {e}"))
            })?;
        Ok(ServiceFabric {
            ctx: ctx.clone(),
            http: ctx.http.with_client(client),
            endpoint,
            secret: Secret::new(header),
        })
    }

    pub(crate) fn url(&self) -> String {
        mask_url(&self.endpoint)
    }

    pub(crate) async fn fetch(&self, resource: &str) -> Result<Token, IdentityError> {
        let q = [
            ("api-version", "2019-07-01-preview"),
            ("resource", resource),
        ];
        let now = self.ctx.clock.now();
        let resp = self
            .http
            .send(
                "the Service Fabric identity endpoint",
                RetryOn::Transient,
                |c| {
                    let mut h = reqwest::header::HeaderValue::from_str(self.secret.secret())
                        .unwrap_or_else(|_| reqwest::header::HeaderValue::from_static("invalid"));
                    h.set_sensitive(true);
                    c.get(&self.endpoint).query(&q).header("Secret", h)
                },
            )
            .await
            .map_err(|e| {
                let pinned = e.message().contains("thumbprint");
                let e = if pinned {
                    e.into_failed(ErrorKind::Authentication)
                } else {
                    e
                };
                e.with_fix("check IDENTITY_ENDPOINT and IDENTITY_SERVER_THUMBPRINT")
            })?;
        let Some(body) = MiBody::parse(&resp) else {
            return Err(super::not_json("Service Fabric", &resp));
        };
        match body.token(now, Expiry::OnFirst) {
            Some(t) if resp.status.is_success() => Ok(t),
            _ => Err(super::json_error(
                "Service Fabric",
                &body,
                resp.status.as_u16(),
                &ManagedIdentityId::SystemAssigned,
            )),
        }
    }
}
