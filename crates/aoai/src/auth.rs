//! How each request proves who sends it: an `api-key` header, a static bearer token, or a
//! token from any [`TokenCredential`], fetched per attempt (so a refreshed token applies to the
//! retry) and marked sensitive so no logger prints it.

use std::fmt;
use std::sync::Arc;

use aoai_identity::{ForceRefresh, IdentityError};
use azure_core::credentials::{Secret, TokenCredential, TokenRequestOptions};
use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue};

use crate::error::{Error, ErrorKind};

/// Which kind of credential a client uses (never the secret itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthMode {
    /// A resource key in the `api-key` header.
    ApiKey,
    /// A static Microsoft Entra token.
    StaticToken,
    /// Tokens from a token credential (DefaultAzureCredential or any other).
    TokenCredential,
}

/// The credential of a client. Keys and static tokens are turned into their (sensitive) header
/// once, at build time, so the hot path only clones it.
#[derive(Clone)]
pub(crate) enum Auth {
    Key(HeaderValue),
    Token(HeaderValue),
    Credential {
        credential: Arc<dyn TokenCredential>,
        scope: String,
    },
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::Key(_) => f.write_str("ApiKey(****)"),
            Auth::Token(_) => f.write_str("StaticToken(****)"),
            Auth::Credential { scope, .. } => write!(f, "TokenCredential(scope {scope})"),
        }
    }
}

static API_KEY: HeaderName = HeaderName::from_static("api-key");

fn sensitive(value: String) -> Result<HeaderValue, Error> {
    let mut v = HeaderValue::try_from(value).map_err(|_| {
        Error::config(
            "the key or token holds characters not allowed in an HTTP header",
            "copy the key or token again, without line breaks or quotes",
        )
    })?;
    v.set_sensitive(true);
    Ok(v)
}

impl Auth {
    /// `api-key: <key>`.
    pub(crate) fn key(key: &Secret) -> Result<Auth, Error> {
        Ok(Auth::Key(sensitive(key.secret().to_string())?))
    }

    /// `Authorization: Bearer <token>`.
    pub(crate) fn token(token: &Secret) -> Result<Auth, Error> {
        Ok(Auth::Token(sensitive(format!(
            "Bearer {}",
            token.secret()
        ))?))
    }

    pub(crate) fn mode(&self) -> AuthMode {
        match self {
            Auth::Key(_) => AuthMode::ApiKey,
            Auth::Token(_) => AuthMode::StaticToken,
            Auth::Credential { .. } => AuthMode::TokenCredential,
        }
    }

    /// The header for one attempt; `fresh` asks the credential to bypass its cache.
    pub(crate) async fn header(&self, fresh: bool) -> Result<(HeaderName, HeaderValue), Error> {
        match self {
            Auth::Key(value) => Ok((API_KEY.clone(), value.clone())),
            Auth::Token(value) => Ok((AUTHORIZATION, value.clone())),
            Auth::Credential { credential, scope } => {
                let mut options = TokenRequestOptions::default();
                if fresh {
                    options.method_options.context.insert(ForceRefresh);
                }
                let token = credential
                    .get_token(&[scope.as_str()], Some(options))
                    .await
                    .map_err(|e| match IdentityError::from_azure(&e) {
                        Some(ie) => Error::from(ie.clone()),
                        None => Error::new(
                            ErrorKind::Authentication,
                            format!("the token credential failed: {e}"),
                        )
                        .with_fix("check the credential's configuration (`aoai token --explain` shows the chain)"),
                    })?;
                Ok((
                    AUTHORIZATION,
                    sensitive(format!("Bearer {}", token.token.secret()))?,
                ))
            }
        }
    }
}
