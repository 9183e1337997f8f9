//! The credentials, one file per source, and the plumbing they share.
//!
//! Every credential is a thin public type over a [`Source`] (what to send, how to parse) wrapped
//! in a [`Cached`] (the shared [`TokenCache`] logic, `ForceRefresh`, error naming). Each one
//! implements `azure_core`'s `TokenCredential` and this crate's [`ChainLink`].

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use azure_core::credentials::TokenRequestOptions;

use crate::cache::TokenCache;
use crate::clock::{self, Clock};
use crate::env::Env;
use crate::error::IdentityError;
use crate::http::{ClientOptions, Http};
use crate::report::Evidence;
use crate::token::{RequestContext, Token, check_scopes};

pub mod azure_cli;
pub mod azure_developer_cli;
pub mod azure_powershell;
pub mod chained;
pub mod client_certificate;
pub mod client_secret;
pub mod default;
pub(crate) mod entra;
pub mod environment;
pub mod managed_identity;
pub(crate) mod process;
pub mod workload_identity;

/// Environment, clock and HTTP client shared by the credentials of one chain.
#[derive(Clone, Debug)]
pub(crate) struct Context {
    pub env: Env,
    pub clock: Arc<dyn Clock>,
    pub http: Arc<Http>,
}

impl Context {
    pub(crate) fn new(
        env: Env,
        clock: Option<Arc<dyn Clock>>,
        client: &ClientOptions,
    ) -> Result<Self, IdentityError> {
        let http = Http::new(client, &env)?;
        Ok(Context {
            env,
            clock: clock.unwrap_or_else(clock::system),
            http: Arc::new(http),
        })
    }

    pub(crate) fn evidence_vars(&self, names: &[&'static str]) -> Vec<Evidence> {
        names
            .iter()
            .map(|n| Evidence::EnvVar {
                name: n,
                set: self.env.is_set(n),
            })
            .collect()
    }
}

/// A credential that can take part in a chain and describe what it looked at.
///
/// Implemented by every credential of this crate. Foreign `TokenCredential`s join a
/// [`ChainedTokenCredential`](chained::ChainedTokenCredential) through
/// [`ForeignCredential`](chained::ForeignCredential).
#[async_trait]
pub trait ChainLink: Send + Sync + fmt::Debug {
    /// The credential's name, e.g. `AzureCliCredential`.
    fn name(&self) -> &str;
    /// What the credential looks at (variables by name, endpoints, executables, files).
    fn looked_at(&self) -> Vec<Evidence>;
    /// True when finding out that this credential is unavailable may take a while (an IMDS
    /// probe). A chain then runs the links after it concurrently, keeping their priority.
    fn may_stall(&self) -> bool {
        false
    }
    /// Gets a token, with this crate's error.
    async fn token(
        &self,
        scopes: &[&str],
        options: Option<&TokenRequestOptions<'_>>,
    ) -> Result<Token, IdentityError>;
}

/// What a source does: one token request, no caching.
#[async_trait]
pub(crate) trait Source: Send + Sync + 'static {
    /// One request for `scopes`.
    async fn fetch(&self, scopes: &[String]) -> Result<Token, IdentityError>;
}

/// A source behind the shared token cache.
pub(crate) struct Cached<S> {
    pub source: Arc<S>,
    pub cache: TokenCache,
    pub name: &'static str,
}

impl<S> Clone for Cached<S> {
    fn clone(&self) -> Self {
        Cached {
            source: self.source.clone(),
            cache: self.cache.clone(),
            name: self.name,
        }
    }
}

impl<S: Source> Cached<S> {
    pub(crate) fn new(name: &'static str, source: S, clock: Arc<dyn Clock>) -> Self {
        Cached {
            source: Arc::new(source),
            cache: TokenCache::new(clock),
            name,
        }
    }

    pub(crate) async fn get(
        &self,
        scopes: &[&str],
        options: Option<&TokenRequestOptions<'_>>,
    ) -> Result<Token, IdentityError> {
        check_scopes(scopes).map_err(|e| e.with_credential(self.name))?;
        let ctx = RequestContext::from_options(options);
        let source = self.source.clone();
        let owned: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
        self.cache
            .get_or_fetch(scopes, None, ctx.force_refresh, move || async move {
                source.fetch(&owned).await
            })
            .await
            .map_err(|e| e.with_credential(self.name))
    }
}

/// Implements `TokenCredential` and `ChainLink` for a credential type with inherent
/// `get_token_detailed`, `looked_at` and a `NAME` constant.
macro_rules! impl_credential {
    ($ty:ty) => {
        #[async_trait::async_trait]
        impl azure_core::credentials::TokenCredential for $ty {
            async fn get_token(
                &self,
                scopes: &[&str],
                options: Option<azure_core::credentials::TokenRequestOptions<'_>>,
            ) -> azure_core::Result<azure_core::credentials::AccessToken> {
                self.get_token_detailed(scopes, options.as_ref())
                    .await
                    .map(|t| t.to_access_token())
                    .map_err(azure_core::Error::from)
            }
        }

        #[async_trait::async_trait]
        impl $crate::credentials::ChainLink for $ty {
            fn name(&self) -> &str {
                <$ty>::NAME
            }
            fn looked_at(&self) -> Vec<$crate::report::Evidence> {
                <$ty>::looked_at(self)
            }
            fn may_stall(&self) -> bool {
                <$ty>::may_stall_impl(self)
            }
            async fn token(
                &self,
                scopes: &[&str],
                options: Option<&azure_core::credentials::TokenRequestOptions<'_>>,
            ) -> Result<$crate::token::Token, $crate::error::IdentityError> {
                self.get_token_detailed(scopes, options).await
            }
        }
    };
}
pub(crate) use impl_credential;
