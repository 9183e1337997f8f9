//! `ClientSecretCredential`: a service principal with a client secret (spec §4.1).
//!
//! One POST to `<authority>/<tenant>/oauth2/v2.0/token` with the form fields MSAL sends, in
//! its order: `client_id`, `grant_type=client_credentials`, `client_info=1`, `client_secret`,
//! `scope`.

use std::sync::Arc;

use async_trait::async_trait;
use azure_core::credentials::{Secret, TokenRequestOptions};

use super::entra::{self, Flavor};
use super::{Cached, Context, Source, impl_credential};
use crate::clock::Clock;
use crate::env::Env;
use crate::error::IdentityError;
use crate::http::ClientOptions;
use crate::report::Evidence;
use crate::token::{Token, check_tenant};

/// Options for [`ClientSecretCredential`].
#[derive(Debug, Clone, Default)]
pub struct ClientSecretCredentialOptions {
    /// Authority host; default `AZURE_AUTHORITY_HOST` from `env`, else the public cloud.
    pub authority_host: Option<String>,
    /// Environment (only `AZURE_AUTHORITY_HOST` and `AOAI_IDENTITY_EXTRA_CA_FILE` are read).
    pub env: Env,
    /// Clock for expiry decisions.
    pub clock: Option<Arc<dyn Clock>>,
    /// HTTP options.
    pub client: ClientOptions,
}

/// A service principal authenticating with a client secret.
#[derive(Clone)]
pub struct ClientSecretCredential {
    inner: Cached<SecretSource>,
    endpoint: String,
}

impl std::fmt::Debug for ClientSecretCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientSecretCredential")
            .field("client_id", &self.inner.source.client_id)
            .field("token_url", &self.endpoint)
            .finish_non_exhaustive()
    }
}

pub(crate) struct SecretSource {
    ctx: Context,
    token_url: String,
    client_id: String,
    secret: Secret,
}

#[async_trait]
impl Source for SecretSource {
    async fn fetch(&self, scopes: &[String]) -> Result<Token, IdentityError> {
        let scope = scopes.join(" ");
        let form = [
            ("client_id", self.client_id.as_str()),
            ("grant_type", "client_credentials"),
            ("client_info", "1"),
            ("client_secret", self.secret.secret()),
            ("scope", scope.as_str()),
        ];
        let now = self.ctx.clock.now();
        entra::request_token(
            &self.ctx.http,
            now,
            &self.token_url,
            &form,
            true,
            Flavor::Secret,
        )
        .await
    }
}

impl ClientSecretCredential {
    /// The name used in reports.
    pub const NAME: &'static str = "ClientSecretCredential";

    /// A credential for `client_id` in `tenant_id` with `secret`. Fails on an invalid tenant id,
    /// an empty secret or an invalid authority.
    pub fn new(
        tenant_id: &str,
        client_id: &str,
        secret: impl Into<Secret>,
        options: ClientSecretCredentialOptions,
    ) -> Result<Self, IdentityError> {
        let ctx = Context::new(options.env.clone(), options.clock.clone(), &options.client)?;
        Self::with_context(
            ctx,
            tenant_id,
            client_id,
            secret.into(),
            options.authority_host.as_deref(),
            Self::NAME,
        )
    }

    pub(crate) fn with_context(
        ctx: Context,
        tenant_id: &str,
        client_id: &str,
        secret: Secret,
        authority_host: Option<&str>,
        name: &'static str,
    ) -> Result<Self, IdentityError> {
        check_tenant(tenant_id).map_err(|e| e.with_credential(name))?;
        if secret.secret().is_empty() {
            return Err(IdentityError::config("the client secret is empty")
                .with_fix("set AZURE_CLIENT_SECRET to the secret's Value from the app registration")
                .with_credential(name));
        }
        if client_id.trim().is_empty() {
            return Err(IdentityError::config("the client id is empty")
                .with_fix("set AZURE_CLIENT_ID to the app's application (client) id")
                .with_credential(name));
        }
        let authority =
            entra::authority_from(authority_host, &ctx.env).map_err(|e| e.with_credential(name))?;
        let token_url = entra::token_url(&authority, tenant_id);
        let clock = ctx.clock.clone();
        let source = SecretSource {
            ctx,
            token_url: token_url.clone(),
            client_id: client_id.to_string(),
            secret,
        };
        Ok(ClientSecretCredential {
            inner: Cached::new(name, source, clock),
            endpoint: token_url,
        })
    }

    /// Gets a token (cached; `ForceRefresh` in the options bypasses the cache).
    pub async fn get_token_detailed(
        &self,
        scopes: &[&str],
        options: Option<&TokenRequestOptions<'_>>,
    ) -> Result<Token, IdentityError> {
        self.inner.get(scopes, options).await
    }

    /// The token endpoint it posts to.
    pub fn looked_at(&self) -> Vec<Evidence> {
        vec![Evidence::Endpoint {
            url: self.endpoint.clone(),
        }]
    }

    fn may_stall_impl(&self) -> bool {
        false
    }

    /// The token cache of this credential.
    pub fn cache(&self) -> &crate::TokenCache {
        &self.inner.cache
    }
}

impl_credential!(ClientSecretCredential);
