//! `AzureDeveloperCliCredential`: `azd auth token` (spec §11).
//!
//! argv: `<azd> auth token --output json --no-prompt --scope <scope>... [--tenant-id <t>]`,
//! env + `NO_COLOR=true`. `expiresOn` is RFC 3339 UTC (the Python peer reads it as local time,
//! a bug we do not copy).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use azure_core::credentials::TokenRequestOptions;
use serde::Deserialize;
use time::OffsetDateTime;

use super::process::{self, RunError};
use super::{Cached, Context, Source, impl_credential};
use crate::clock::Clock;
use crate::env::Env;
use crate::error::{ErrorKind, IdentityError, fixes};
use crate::http::ClientOptions;
use crate::report::Evidence;
use crate::token::{Token, check_cli_scope, check_tenant};

/// Options for [`AzureDeveloperCliCredential`].
#[derive(Debug, Clone)]
pub struct AzureDeveloperCliCredentialOptions {
    /// Tenant to pass as `--tenant-id`.
    pub tenant_id: Option<String>,
    /// Kill `azd` after this long (default 10 s).
    pub process_timeout: Duration,
    /// Treat every failure as "unavailable" (as inside `DefaultAzureCredential`).
    pub in_chain: bool,
    /// Environment (`PATH` finds `azd`).
    pub env: Env,
    /// Clock.
    pub clock: Option<Arc<dyn Clock>>,
}

impl Default for AzureDeveloperCliCredentialOptions {
    fn default() -> Self {
        AzureDeveloperCliCredentialOptions {
            tenant_id: None,
            process_timeout: Duration::from_secs(10),
            in_chain: false,
            env: Env::default(),
            clock: None,
        }
    }
}

pub(crate) struct AzdSource {
    env: Env,
    tenant_id: Option<String>,
    timeout: Duration,
    in_chain: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AzdToken {
    token: Option<String>,
    expires_on: Option<String>,
}

fn azd_error_text(stdout: &str, stderr: &str) -> Option<String> {
    let all = format!("{stdout}\n{stderr}");
    let mut legacy = None;
    for line in all.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line.trim()) else {
            continue;
        };
        if let Some(e) = v
            .get("error")
            .and_then(|e| e.as_str())
            .filter(|e| !e.is_empty())
        {
            return Some(e.to_string());
        }
        if legacy.is_none() && v.get("type").and_then(|t| t.as_str()) == Some("consoleMessage") {
            legacy = v
                .pointer("/data/message")
                .and_then(|m| m.as_str())
                .map(|m| m.trim().to_string());
        }
    }
    legacy.filter(|m| !m.is_empty())
}

#[async_trait]
impl Source for AzdSource {
    async fn fetch(&self, scopes: &[String]) -> Result<Token, IdentityError> {
        for s in scopes {
            check_cli_scope(s)?;
        }
        let Some(azd) = process::find(&self.env, "azd") else {
            return Err(
                IdentityError::unavailable("Azure Developer CLI (azd) not found on PATH")
                    .with_fix(fixes::AZD_LOGIN),
            );
        };
        let mut args: Vec<String> = ["auth", "token", "--output", "json", "--no-prompt"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        for s in scopes {
            args.extend(["--scope".to_string(), s.clone()]);
        }
        if let Some(t) = &self.tenant_id {
            args.extend(["--tenant-id".to_string(), t.clone()]);
        }
        let classify = |e: IdentityError| {
            if self.in_chain {
                e.into_unavailable()
            } else {
                e
            }
        };
        let out = match process::run(
            &azd,
            &args,
            &self.env,
            &[("NO_COLOR", "true")],
            self.timeout,
        )
        .await
        {
            Ok(o) => o,
            Err(RunError::Timeout(t)) => {
                return Err(classify(
                    IdentityError::failed(
                        ErrorKind::Timeout,
                        format!("Azure Developer CLI did not answer within {} s (killed)", t.as_secs_f32()),
                    )
                    .with_fix("run `azd auth token --output json` to see what azd is waiting for, or raise process_timeout"),
                ));
            }
            Err(RunError::Spawn(e)) => {
                return Err(IdentityError::unavailable(format!(
                    "failed to execute '{}': {e}",
                    azd.display()
                ))
                .with_fix(fixes::AZD_LOGIN));
            }
        };
        let both = format!("{}\n{}", out.stdout, out.stderr);
        if out.code != Some(0) {
            if out.code == Some(127) || both.contains("'azd' is not recognized") {
                return Err(IdentityError::unavailable(
                    "Azure Developer CLI (azd) not found on PATH",
                )
                .with_fix(fixes::AZD_LOGIN));
            }
            if both.contains("not logged in, run `azd auth login` to login")
                && !both.contains("AADSTS")
            {
                return Err(IdentityError::unavailable(
                    "Azure Developer CLI is not logged in: please run 'azd auth login' from a command prompt to authenticate before using this credential",
                )
                .with_fix(fixes::AZD_LOGIN));
            }
            let msg = azd_error_text(&out.stdout, &out.stderr)
                .unwrap_or_else(|| process::redact(out.stderr.trim()));
            let msg = if msg.is_empty() {
                "failed to invoke the Azure Developer CLI".to_string()
            } else {
                msg
            };
            return Err(classify(
                IdentityError::failed(ErrorKind::Authentication, msg)
                    .with_fix("run `azd auth login` again"),
            ));
        }
        let unexpected = || {
            IdentityError::failed(
                ErrorKind::Authentication,
                format!(
                    "unexpected output from Azure Developer CLI: '{}'",
                    process::redact(out.stdout.trim())
                ),
            )
            .with_fix("update azd and run `azd auth login`")
        };
        let t: AzdToken =
            serde_json::from_str(out.stdout.trim()).map_err(|_| classify(unexpected()))?;
        let token = t
            .token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| classify(unexpected()))?;
        let expires = t
            .expires_on
            .as_deref()
            .and_then(|s| {
                OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
            })
            .ok_or_else(|| classify(unexpected()))?;
        Ok(Token::new(token, expires))
    }
}

/// Gets tokens from the Azure Developer CLI (`azd auth login`).
#[derive(Clone)]
pub struct AzureDeveloperCliCredential {
    inner: Cached<AzdSource>,
}

impl std::fmt::Debug for AzureDeveloperCliCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AzureDeveloperCliCredential")
            .field("tenant_id", &self.inner.source.tenant_id)
            .finish_non_exhaustive()
    }
}

impl AzureDeveloperCliCredential {
    /// The name used in reports.
    pub const NAME: &'static str = "AzureDeveloperCliCredential";

    /// A credential running `azd` from the options' `PATH`.
    pub fn new(options: AzureDeveloperCliCredentialOptions) -> Result<Self, IdentityError> {
        if let Some(t) = &options.tenant_id {
            check_tenant(t).map_err(|e| e.with_credential(Self::NAME))?;
        }
        let ctx = Context::new(
            options.env.clone(),
            options.clock.clone(),
            &ClientOptions::default(),
        )?;
        Ok(Self::with_context(&ctx, options))
    }

    pub(crate) fn with_context(ctx: &Context, options: AzureDeveloperCliCredentialOptions) -> Self {
        let source = AzdSource {
            env: ctx.env.clone(),
            tenant_id: options.tenant_id,
            timeout: options.process_timeout,
            in_chain: options.in_chain,
        };
        AzureDeveloperCliCredential {
            inner: Cached::new(Self::NAME, source, ctx.clock.clone()),
        }
    }

    /// Gets a token (cached; `ForceRefresh` runs `azd` again).
    pub async fn get_token_detailed(
        &self,
        scopes: &[&str],
        options: Option<&TokenRequestOptions<'_>>,
    ) -> Result<Token, IdentityError> {
        self.inner.get(scopes, options).await
    }

    /// Where `azd` is.
    pub fn looked_at(&self) -> Vec<Evidence> {
        vec![Evidence::Executable {
            name: "azd".into(),
            path: self.executable(),
        }]
    }

    /// The `azd` that would run.
    pub fn executable(&self) -> Option<PathBuf> {
        process::find(&self.inner.source.env, "azd")
    }

    fn may_stall_impl(&self) -> bool {
        false
    }
}

impl_credential!(AzureDeveloperCliCredential);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extracts_azd_errors() {
        assert_eq!(
            azd_error_text(
                r#"{"error":"fetching token: AADSTS50076: MFA required"}"#,
                ""
            )
            .as_deref(),
            Some("fetching token: AADSTS50076: MFA required")
        );
        assert_eq!(
            azd_error_text(
                r#"{"type":"consoleMessage","data":{"message":"boom\n"}}"#,
                ""
            )
            .as_deref(),
            Some("boom")
        );
        assert_eq!(azd_error_text("plain", "text"), None);
    }
}
