//! `AzureCliCredential`: `az account get-access-token` (spec §9).
//!
//! argv: `<az> account get-access-token --output json --resource <resource> [--tenant <t>]
//! [--subscription <s>]`, no shell, `cwd=/bin`, env + `AZURE_CORE_NO_COLOR=true`, killed after
//! `process_timeout` (10 s). Unlike the Python peer, tokens are cached (the shared cache).
//!
//! Classification: `az` missing (or exit 127) and "run az login" (without `AADSTS`) are
//! unavailable with the quick fix `az login`. Other failures are unavailable inside a chain
//! (`in_chain`), hard failures alone.

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
use crate::token::{Token, check_cli_scope, check_tenant, scope_to_resource, single_scope};

/// Options for [`AzureCliCredential`].
#[derive(Debug, Clone)]
pub struct AzureCliCredentialOptions {
    /// Tenant to pass as `--tenant`.
    pub tenant_id: Option<String>,
    /// Subscription to pass as `--subscription`.
    pub subscription: Option<String>,
    /// Kill `az` after this long (default 10 s).
    pub process_timeout: Duration,
    /// Treat every failure as "unavailable" (as inside `DefaultAzureCredential`).
    pub in_chain: bool,
    /// Environment (`PATH` finds `az`; the child gets this environment).
    pub env: Env,
    /// Clock.
    pub clock: Option<Arc<dyn Clock>>,
}

impl Default for AzureCliCredentialOptions {
    fn default() -> Self {
        AzureCliCredentialOptions {
            tenant_id: None,
            subscription: None,
            process_timeout: Duration::from_secs(10),
            in_chain: false,
            env: Env::default(),
            clock: None,
        }
    }
}

pub(crate) struct CliSource {
    env: Env,
    clock: Arc<dyn Clock>,
    tenant_id: Option<String>,
    subscription: Option<String>,
    timeout: Duration,
    in_chain: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CliToken {
    access_token: Option<String>,
    expires_on: Option<String>,
    #[serde(rename = "expires_on")]
    expires_on_epoch: Option<serde_json::Value>,
}

fn az_login() -> IdentityError {
    IdentityError::unavailable(
        "Azure CLI is not logged in: please run 'az login' to set up an account",
    )
    .with_fix(fixes::AZ_LOGIN)
}

impl CliSource {
    fn classify(&self, e: IdentityError) -> IdentityError {
        if self.in_chain {
            e.into_unavailable()
        } else {
            e
        }
    }
}

#[async_trait]
impl Source for CliSource {
    async fn fetch(&self, scopes: &[String]) -> Result<Token, IdentityError> {
        let refs: Vec<&str> = scopes.iter().map(String::as_str).collect();
        let scope = single_scope(&refs)?;
        check_cli_scope(scope)?;
        let Some(az) = process::find(&self.env, "az") else {
            return Err(
                IdentityError::unavailable("Azure CLI not found on PATH").with_fix(fixes::AZ_LOGIN)
            );
        };
        let mut args: Vec<String> = [
            "account",
            "get-access-token",
            "--output",
            "json",
            "--resource",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.push(scope_to_resource(scope).to_string());
        if let Some(t) = &self.tenant_id {
            args.extend(["--tenant".to_string(), t.clone()]);
        }
        if let Some(s) = &self.subscription {
            args.extend(["--subscription".to_string(), s.clone()]);
        }
        let out = match process::run(
            &az,
            &args,
            &self.env,
            &[("AZURE_CORE_NO_COLOR", "true")],
            self.timeout,
        )
        .await
        {
            Ok(o) => o,
            Err(RunError::Timeout(t)) => {
                return Err(self.classify(
                    IdentityError::failed(
                        ErrorKind::Timeout,
                        format!("Azure CLI did not answer within {} s (killed)", t.as_secs_f32()),
                    )
                    .with_fix(format!(
                        "run `az login` (an expired session makes az prompt and hang), then `az account get-access-token --resource {}` to check it answers quickly; or raise process_timeout",
                        scope_to_resource(scope)
                    )),
                ));
            }
            Err(RunError::Spawn(e)) => {
                return Err(IdentityError::unavailable(format!(
                    "failed to execute '{}': {e}",
                    az.display()
                ))
                .with_fix(fixes::AZ_LOGIN));
            }
        };
        if out.code != Some(0) {
            let stderr = process::redact(out.stderr.trim());
            if out.code == Some(127) || stderr.starts_with("'az' is not recognized") {
                return Err(IdentityError::unavailable("Azure CLI not found on PATH")
                    .with_fix(fixes::AZ_LOGIN));
            }
            if (stderr.contains("az login") || stderr.contains("az account set"))
                && !stderr.contains("AADSTS")
            {
                return Err(az_login());
            }
            let msg = if stderr.is_empty() {
                "failed to invoke the Azure CLI".to_string()
            } else {
                stderr
            };
            return Err(self.classify(
                IdentityError::failed(ErrorKind::Authentication, msg)
                    .with_fix("run `az login` again (the error above comes from az)"),
            ));
        }
        parse_output(&out.stdout, self.clock.now()).map_err(|e| self.classify(e))
    }
}

/// Parses `az account get-access-token` JSON: `accessToken` and `expires_on` (epoch, az ≥ 2.54)
/// or, for older versions, `expiresOn` (local time without zone; read as UTC here — an offset
/// error only changes when the cache refreshes).
fn parse_output(stdout: &str, now: OffsetDateTime) -> Result<Token, IdentityError> {
    let unexpected = || {
        IdentityError::failed(
            ErrorKind::Authentication,
            format!(
                "unexpected output from Azure CLI: '{}'",
                process::redact(stdout.trim())
            ),
        )
        .with_fix("update the Azure CLI (`az upgrade`) and run `az login`")
    };
    let t: CliToken = serde_json::from_str(stdout).map_err(|_| unexpected())?;
    let token = t
        .access_token
        .filter(|t| !t.is_empty())
        .ok_or_else(unexpected)?;
    let expires = match super::entra::num(&t.expires_on_epoch) {
        Some(epoch) => OffsetDateTime::from_unix_timestamp(epoch).ok(),
        None => t.expires_on.as_deref().and_then(parse_local_datetime),
    }
    .ok_or_else(unexpected)?;
    let _ = now;
    Ok(Token::new(token, expires))
}

fn parse_local_datetime(s: &str) -> Option<OffsetDateTime> {
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    let base = s.split('.').next()?;
    time::PrimitiveDateTime::parse(base, &fmt)
        .ok()
        .map(|p| p.assume_utc())
}

/// Gets tokens from the Azure CLI (`az login`).
#[derive(Clone)]
pub struct AzureCliCredential {
    inner: Cached<CliSource>,
}

impl std::fmt::Debug for AzureCliCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AzureCliCredential")
            .field("tenant_id", &self.inner.source.tenant_id)
            .field("process_timeout", &self.inner.source.timeout)
            .finish_non_exhaustive()
    }
}

impl AzureCliCredential {
    /// The name used in reports.
    pub const NAME: &'static str = "AzureCliCredential";

    /// A credential running `az` from the options' `PATH`.
    pub fn new(options: AzureCliCredentialOptions) -> Result<Self, IdentityError> {
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

    pub(crate) fn with_context(ctx: &Context, options: AzureCliCredentialOptions) -> Self {
        let source = CliSource {
            env: ctx.env.clone(),
            clock: ctx.clock.clone(),
            tenant_id: options.tenant_id,
            subscription: options.subscription,
            timeout: options.process_timeout,
            in_chain: options.in_chain,
        };
        AzureCliCredential {
            inner: Cached::new(Self::NAME, source, ctx.clock.clone()),
        }
    }

    /// Gets a token (cached; `ForceRefresh` runs `az` again).
    pub async fn get_token_detailed(
        &self,
        scopes: &[&str],
        options: Option<&TokenRequestOptions<'_>>,
    ) -> Result<Token, IdentityError> {
        self.inner.get(scopes, options).await
    }

    /// Where `az` is (or that it is not on `PATH`).
    pub fn looked_at(&self) -> Vec<Evidence> {
        vec![Evidence::Executable {
            name: "az".into(),
            path: self.executable(),
        }]
    }

    /// The `az` that would run.
    pub fn executable(&self) -> Option<PathBuf> {
        process::find(&self.inner.source.env, "az")
    }

    fn may_stall_impl(&self) -> bool {
        false
    }
}

impl_credential!(AzureCliCredential);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_epoch_and_legacy_output() {
        let now = OffsetDateTime::now_utc();
        let t = parse_output(
            r#"{"accessToken":"tok","expiresOn":"2026-01-01 10:00:00.000000","expires_on":1767261600,"tokenType":"Bearer"}"#,
            now,
        )
        .unwrap();
        assert_eq!(t.expires_on.unix_timestamp(), 1767261600);
        let t = parse_output(
            r#"{"accessToken":"tok","expiresOn":"2026-01-01 10:00:00.123456"}"#,
            now,
        )
        .unwrap();
        assert_eq!(t.expires_on.unix_timestamp(), 1767261600);
        let e = parse_output("not json accessToken", now).unwrap_err();
        assert!(e.message().starts_with("unexpected output"));
    }
}
