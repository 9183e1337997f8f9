//! Tokens as credentials produce them, and the scope rules every credential shares.

use std::fmt;

use azure_core::credentials::{AccessToken, Secret, TokenRequestOptions};
use time::{Duration, OffsetDateTime};

use crate::{ForceRefresh, IdentityError};

/// An access token with its expiry and, when known, the time a refresh is recommended.
#[derive(Clone)]
pub struct Token {
    /// The bearer token (redacted in `Debug`).
    pub access_token: Secret,
    /// When it expires.
    pub expires_on: OffsetDateTime,
    /// When to refresh it proactively (`refresh_in` from the server, or half-life for long tokens).
    pub refresh_on: Option<OffsetDateTime>,
}

impl Token {
    /// A token without `refresh_on`.
    pub fn new(access_token: impl Into<String>, expires_on: OffsetDateTime) -> Self {
        Token {
            access_token: Secret::new(access_token.into()),
            expires_on,
            refresh_on: None,
        }
    }

    /// Builds a token from a server's relative times, the way the Python peer does: `refresh_in`
    /// when given, else half the lifetime for lifetimes of 2 h or more.
    pub(crate) fn from_lifetime(
        access_token: String,
        issued: OffsetDateTime,
        expires_on: OffsetDateTime,
        refresh_in: Option<i64>,
    ) -> Self {
        let lifetime = expires_on - issued;
        let refresh_on = match refresh_in {
            Some(secs) if secs > 0 => Some(issued + Duration::seconds(secs)),
            _ if lifetime >= Duration::hours(2) => Some(issued + lifetime / 2),
            _ => None,
        };
        Token {
            access_token: Secret::new(access_token),
            expires_on,
            refresh_on,
        }
    }

    /// The `azure_core` form.
    pub fn to_access_token(&self) -> AccessToken {
        AccessToken::new(self.access_token.clone(), self.expires_on)
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("access_token", &"<redacted>")
            .field("expires_on", &self.expires_on)
            .field("refresh_on", &self.refresh_on)
            .finish()
    }
}

/// What a caller asked for besides the scopes.
#[derive(Debug, Clone, Default)]
pub(crate) struct RequestContext {
    /// `ForceRefresh` was in the request context: bypass the cache.
    pub force_refresh: bool,
}

impl RequestContext {
    pub(crate) fn from_options(options: Option<&TokenRequestOptions<'_>>) -> Self {
        let force_refresh = options
            .map(|o| o.method_options.context.value::<ForceRefresh>().is_some())
            .unwrap_or(false);
        RequestContext { force_refresh }
    }
}

/// At least one scope, none empty.
pub(crate) fn check_scopes(scopes: &[&str]) -> Result<(), IdentityError> {
    if scopes.is_empty() || scopes.iter().any(|s| s.trim().is_empty()) {
        return Err(
            IdentityError::config("at least one non-empty scope is required")
                .with_fix("ask for a scope such as https://cognitiveservices.azure.com/.default"),
        );
    }
    Ok(())
}

/// Managed identity and the Azure CLI / PowerShell accept exactly one scope.
pub(crate) fn single_scope<'a>(scopes: &[&'a str]) -> Result<&'a str, IdentityError> {
    check_scopes(scopes)?;
    match scopes {
        [one] => Ok(one),
        _ => Err(IdentityError::config(
            "this credential requires exactly one scope per token request",
        )
        .with_fix("request one scope, e.g. https://cognitiveservices.azure.com/.default")),
    }
}

/// The v1 resource for a scope: only a trailing `/.default` is removed.
pub fn scope_to_resource(scope: &str) -> &str {
    scope.strip_suffix("/.default").unwrap_or(scope)
}

/// Scopes and tenants passed to CLIs are checked against a conservative character set.
pub(crate) fn check_cli_scope(scope: &str) -> Result<(), IdentityError> {
    if scope
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_-.:/".contains(c))
    {
        Ok(())
    } else {
        Err(IdentityError::config(
            "an invalid scope was provided: only letters, digits and _ - . : / are allowed",
        ))
    }
}

/// Tenant ids: letters, digits, `-` and `.`.
pub(crate) fn check_tenant(tenant: &str) -> Result<(), IdentityError> {
    if !tenant.is_empty()
        && tenant
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
    {
        Ok(())
    } else {
        Err(IdentityError::config("invalid tenant id: only letters, digits, '-' and '.' are allowed").with_fix(
            "set AZURE_TENANT_ID to your directory (tenant) id, e.g. from `az account show --query tenantId -o tsv`",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_strips_only_trailing_default() {
        assert_eq!(
            scope_to_resource("https://cognitiveservices.azure.com/.default"),
            "https://cognitiveservices.azure.com"
        );
        assert_eq!(
            scope_to_resource("https://management.core.windows.net//.default"),
            "https://management.core.windows.net/"
        );
        assert_eq!(
            scope_to_resource("https://vault.azure.net"),
            "https://vault.azure.net"
        );
    }

    #[test]
    fn half_life_for_long_tokens_only() {
        let t0 = OffsetDateTime::UNIX_EPOCH;
        let long = Token::from_lifetime("a".into(), t0, t0 + Duration::seconds(86399), None);
        assert_eq!(long.refresh_on, Some(t0 + Duration::seconds(86399) / 2));
        let short = Token::from_lifetime("a".into(), t0, t0 + Duration::seconds(3599), None);
        assert_eq!(short.refresh_on, None);
        let given = Token::from_lifetime("a".into(), t0, t0 + Duration::seconds(3599), Some(1000));
        assert_eq!(given.refresh_on, Some(t0 + Duration::seconds(1000)));
        assert!(!format!("{long:?}").contains("\"a\""));
    }

    #[test]
    fn scope_and_tenant_rules() {
        assert!(single_scope(&["a", "b"]).is_err());
        assert!(single_scope(&[]).is_err());
        assert!(check_cli_scope("https://x/.default").is_ok());
        assert!(check_cli_scope("https://x/.default; rm -rf").is_err());
        assert!(check_tenant("00000000-0000-0000-0000-000000000001").is_ok());
        assert!(check_tenant("contoso.onmicrosoft.com").is_ok());
        assert!(check_tenant("bad/tenant").is_err());
    }
}
