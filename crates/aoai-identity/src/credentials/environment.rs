//! `EnvironmentCredential`: a service principal described by environment variables (spec §4).
//!
//! First complete set wins ("set" means present, even if empty):
//! 1. `AZURE_TENANT_ID` + `AZURE_CLIENT_ID` + `AZURE_CLIENT_SECRET` → client secret
//! 2. `AZURE_TENANT_ID` + `AZURE_CLIENT_ID` + `AZURE_CLIENT_CERTIFICATE_PATH` → certificate
//! 3. `AZURE_CLIENT_ID` + `AZURE_USERNAME` + `AZURE_PASSWORD` → refused (username/password is
//!    deprecated and fails with MFA); a hard failure naming the alternatives.
//!
//! No complete set: unavailable. A malformed set (empty secret, bad tenant, unreadable
//! certificate) is a constructor error. Once configured, every token failure is hard.

use std::path::PathBuf;
use std::sync::Arc;

use azure_core::credentials::{Secret, TokenRequestOptions};

use super::client_certificate::ClientCertificateCredential;
use super::client_secret::ClientSecretCredential;
use super::{Context, impl_credential};
use crate::clock::Clock;
use crate::env::Env;
use crate::error::{ErrorKind, IdentityError};
use crate::http::ClientOptions;
use crate::report::Evidence;
use crate::token::Token;
use crate::vars;

/// Options for [`EnvironmentCredential`].
#[derive(Debug, Clone, Default)]
pub struct EnvironmentCredentialOptions {
    /// The environment to read (default: the process environment).
    pub env: Env,
    /// Authority host; default `AZURE_AUTHORITY_HOST`, else the public cloud.
    pub authority_host: Option<String>,
    /// Clock.
    pub clock: Option<Arc<dyn Clock>>,
    /// HTTP options.
    pub client: ClientOptions,
}

#[derive(Debug, Clone)]
enum Inner {
    Secret(ClientSecretCredential),
    Certificate(ClientCertificateCredential),
    UsernamePassword,
    Unconfigured,
}

/// A service principal from `AZURE_TENANT_ID`, `AZURE_CLIENT_ID` and `AZURE_CLIENT_SECRET` (or
/// `AZURE_CLIENT_CERTIFICATE_PATH`).
#[derive(Debug, Clone)]
pub struct EnvironmentCredential {
    inner: Inner,
    evidence: Vec<Evidence>,
}

const LOOKED_AT: &[&str] = &[
    vars::AZURE_TENANT_ID,
    vars::AZURE_CLIENT_ID,
    vars::AZURE_CLIENT_SECRET,
    vars::AZURE_CLIENT_CERTIFICATE_PATH,
    vars::AZURE_USERNAME,
    vars::AZURE_PASSWORD,
];

impl EnvironmentCredential {
    /// The name used in reports.
    pub const NAME: &'static str = "EnvironmentCredential";

    /// Reads the environment now. Unconfigured is not an error (the credential is then
    /// unavailable); a malformed configuration is.
    pub fn new(options: EnvironmentCredentialOptions) -> Result<Self, IdentityError> {
        let ctx = Context::new(options.env.clone(), options.clock.clone(), &options.client)?;
        Self::with_context(ctx, options.authority_host.as_deref())
    }

    /// `new` with the process environment and default options.
    pub fn from_env() -> Result<Self, IdentityError> {
        Self::new(EnvironmentCredentialOptions::default())
    }

    pub(crate) fn with_context(
        ctx: Context,
        authority_host: Option<&str>,
    ) -> Result<Self, IdentityError> {
        let env = &ctx.env;
        let mut evidence = ctx.evidence_vars(LOOKED_AT);
        let tenant = env.get(vars::AZURE_TENANT_ID);
        let client = env.get(vars::AZURE_CLIENT_ID);
        let inner = match (tenant, client) {
            (Some(t), Some(c)) if env.is_set(vars::AZURE_CLIENT_SECRET) => {
                let secret = Secret::new(env.get(vars::AZURE_CLIENT_SECRET).unwrap_or_default());
                Inner::Secret(ClientSecretCredential::with_context(
                    ctx.clone(),
                    t.trim(),
                    c.trim(),
                    secret,
                    authority_host,
                    Self::NAME,
                )?)
            }
            (Some(t), Some(c)) if env.is_set(vars::AZURE_CLIENT_CERTIFICATE_PATH) => {
                let path = PathBuf::from(
                    env.get(vars::AZURE_CLIENT_CERTIFICATE_PATH)
                        .unwrap_or_default(),
                );
                let password = env.get(vars::AZURE_CLIENT_CERTIFICATE_PASSWORD);
                let send_chain = env
                    .get_non_empty(vars::AZURE_CLIENT_SEND_CERTIFICATE_CHAIN)
                    .is_some();
                let cred = ClientCertificateCredential::with_context(
                    ctx.clone(),
                    t.trim(),
                    c.trim(),
                    &path,
                    password.as_deref(),
                    send_chain,
                    authority_host,
                    Self::NAME,
                )?;
                evidence.extend(
                    cred.looked_at()
                        .into_iter()
                        .filter(|e| matches!(e, Evidence::File { .. })),
                );
                Inner::Certificate(cred)
            }
            (_, Some(_))
                if env.is_set(vars::AZURE_USERNAME) && env.is_set(vars::AZURE_PASSWORD) =>
            {
                Inner::UsernamePassword
            }
            _ => Inner::Unconfigured,
        };
        match &inner {
            Inner::Secret(c) => evidence.extend(c.looked_at()),
            Inner::Certificate(c) => evidence.extend(
                c.looked_at()
                    .into_iter()
                    .filter(|e| matches!(e, Evidence::Endpoint { .. })),
            ),
            _ => {}
        }
        Ok(EnvironmentCredential { inner, evidence })
    }

    /// Which flow the environment selected: `"client_secret"`, `"client_certificate"`,
    /// `"username_password"` (refused) or `None`.
    pub fn selected(&self) -> Option<&'static str> {
        match self.inner {
            Inner::Secret(_) => Some("client_secret"),
            Inner::Certificate(_) => Some("client_certificate"),
            Inner::UsernamePassword => Some("username_password"),
            Inner::Unconfigured => None,
        }
    }

    /// Gets a token.
    pub async fn get_token_detailed(
        &self,
        scopes: &[&str],
        options: Option<&TokenRequestOptions<'_>>,
    ) -> Result<Token, IdentityError> {
        match &self.inner {
            Inner::Secret(c) => c.get_token_detailed(scopes, options).await,
            Inner::Certificate(c) => c.get_token_detailed(scopes, options).await,
            Inner::UsernamePassword => Err(IdentityError::failed(
                ErrorKind::Config,
                "username/password authentication (AZURE_USERNAME, AZURE_PASSWORD) is not supported: it is \
deprecated and fails for accounts with multi-factor authentication",
            )
            .with_fix("unset AZURE_USERNAME/AZURE_PASSWORD and use `az login`, or a service principal with AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH")
            .with_credential(Self::NAME)),
            Inner::Unconfigured => Err(IdentityError::unavailable(
                "environment variables are not fully configured (needs AZURE_TENANT_ID, AZURE_CLIENT_ID and \
AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH)",
            )
            .with_fix(
                "set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH) for a service principal",
            )
            .with_credential(Self::NAME)),
        }
    }

    /// The variables it read (names only) and the endpoint it would use.
    pub fn looked_at(&self) -> Vec<Evidence> {
        self.evidence.clone()
    }

    fn may_stall_impl(&self) -> bool {
        false
    }
}

impl_credential!(EnvironmentCredential);
