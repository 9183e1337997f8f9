//! `AzurePowerShellCredential`: `Get-AzAccessToken` through `pwsh` (spec §10).
//!
//! Runs `/bin/sh -c "pwsh -NoProfile -NonInteractive -EncodedCommand <base64 UTF-16LE script>"`.
//! The script (ours, doing what spec §10.2 describes) imports Az.Accounts ≥ 2.2.0 (else prints
//! `NO_AZ_ACCOUNT_MODULE`), calls `Get-AzAccessToken -ResourceUrl <resource>` (+ `-TenantId`),
//! unwraps a SecureString token, and prints `azsdk%<token>%<expires, unix seconds>`. Every
//! process failure is "unavailable" (as in the Python peer).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use azure_core::credentials::TokenRequestOptions;
use base64::Engine;
use time::OffsetDateTime;

use super::process::{self, RunError};
use super::{Cached, Context, Source, impl_credential};
use crate::clock::Clock;
use crate::env::Env;
use crate::error::{IdentityError, fixes};
use crate::http::ClientOptions;
use crate::report::Evidence;
use crate::token::{Token, check_cli_scope, check_tenant, scope_to_resource, single_scope};

/// Options for [`AzurePowerShellCredential`].
#[derive(Debug, Clone)]
pub struct AzurePowerShellCredentialOptions {
    /// Tenant to pass as `-TenantId`.
    pub tenant_id: Option<String>,
    /// Kill PowerShell after this long (default 10 s).
    pub process_timeout: Duration,
    /// Environment (`PATH` finds `pwsh`).
    pub env: Env,
    /// Clock.
    pub clock: Option<Arc<dyn Clock>>,
}

impl Default for AzurePowerShellCredentialOptions {
    fn default() -> Self {
        AzurePowerShellCredentialOptions {
            tenant_id: None,
            process_timeout: Duration::from_secs(10),
            env: Env::default(),
            clock: None,
        }
    }
}

/// The PowerShell script for `resource` (+ tenant).
pub(crate) fn script(resource: &str, tenant: Option<&str>) -> String {
    let tenant_line = tenant
        .map(|t| format!("$params['TenantId'] = '{t}'\n"))
        .unwrap_or_default();
    format!(
        r#"$ErrorActionPreference = 'Stop'
[version]$minimumVersion = '2.2.0'
$mod = Import-Module Az.Accounts -MinimumVersion $minimumVersion -PassThru -ErrorAction SilentlyContinue
if (-not $mod) {{
    Write-Output 'NO_AZ_ACCOUNT_MODULE'
    exit
}}
$params = @{{ ResourceUrl = '{resource}'; WarningAction = 'Ignore' }}
{tenant_line}if ($mod.Version -ge [version]'2.17.0' -and $mod.Version -lt [version]'5.0.0') {{
    $params['AsSecureString'] = $true
}}
$token = Get-AzAccessToken @params
$value = $token.Token
if ($value -is [System.Security.SecureString]) {{
    if ($PSVersionTable.PSVersion.Major -lt 7) {{
        $ptr = [System.Runtime.InteropServices.Marshal]::SecureStringToBSTR($value)
        try {{ $value = [System.Runtime.InteropServices.Marshal]::PtrToStringBSTR($ptr) }}
        finally {{ [System.Runtime.InteropServices.Marshal]::ZeroFreeBSTR($ptr) }}
    }} else {{
        $value = $value | ConvertFrom-SecureString -AsPlainText
    }}
}}
Write-Output "`nazsdk%$($value)%$($token.ExpiresOn.ToUnixTimeSeconds())`n"
"#
    )
}

/// `-EncodedCommand` takes base64 of UTF-16LE.
pub(crate) fn encode(script: &str) -> String {
    let bytes: Vec<u8> = script
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub(crate) struct PwshSource {
    env: Env,
    tenant_id: Option<String>,
    timeout: Duration,
}

fn failed_to_invoke() -> IdentityError {
    IdentityError::unavailable("failed to invoke PowerShell").with_fix(fixes::PWSH_LOGIN)
}

#[async_trait]
impl Source for PwshSource {
    async fn fetch(&self, scopes: &[String]) -> Result<Token, IdentityError> {
        let refs: Vec<&str> = scopes.iter().map(String::as_str).collect();
        let scope = single_scope(&refs)?;
        check_cli_scope(scope)?;
        if process::find(&self.env, "pwsh").is_none() {
            return Err(IdentityError::unavailable(
                "PowerShell is not installed (pwsh not on PATH)",
            )
            .with_fix(fixes::PWSH_LOGIN));
        }
        let encoded = encode(&script(scope_to_resource(scope), self.tenant_id.as_deref()));
        let command = format!("pwsh -NoProfile -NonInteractive -EncodedCommand {encoded}");
        let args = vec!["-c".to_string(), command];
        let out = match process::run(
            std::path::Path::new("/bin/sh"),
            &args,
            &self.env,
            &[],
            self.timeout,
        )
        .await
        {
            Ok(o) => o,
            Err(RunError::Timeout(t)) => {
                return Err(IdentityError::unavailable(format!(
                    "PowerShell did not answer within {} s (killed)",
                    t.as_secs_f32()
                ))
                .with_fix("run `pwsh -Command Get-AzAccessToken` to see what it waits for, or raise process_timeout"));
            }
            Err(RunError::Spawn(_)) => return Err(failed_to_invoke()),
        };
        if out.code == Some(0) && out.stdout.contains("NO_AZ_ACCOUNT_MODULE") {
            return Err(
                IdentityError::unavailable("Az.Accounts module >= 2.2.0 is not installed")
                    .with_fix(
                        "run `Install-Module Az.Accounts` in PowerShell, then `Connect-AzAccount`",
                    ),
            );
        }
        if out.code != Some(0) {
            let stderr = out.stderr.as_str();
            if out.code == Some(127) || stderr.contains("' is not recognized") {
                return Err(IdentityError::unavailable("PowerShell is not installed")
                    .with_fix(fixes::PWSH_LOGIN));
            }
            if stderr.contains("Run Connect-AzAccount to login") {
                return Err(IdentityError::unavailable(
                    "please run \"Connect-AzAccount\" to set up an account",
                )
                .with_fix(fixes::PWSH_LOGIN));
            }
            if stderr.contains("AuthorizationManager check failed") {
                return Err(IdentityError::unavailable(
                    "execution policy prevented invoking Azure PowerShell",
                )
                .with_fix("allow scripts: `Set-ExecutionPolicy -Scope CurrentUser RemoteSigned`"));
            }
            return Err(failed_to_invoke());
        }
        for word in out.stdout.split_whitespace() {
            if let Some(rest) = word.strip_prefix("azsdk%") {
                let mut parts = rest.splitn(2, '%');
                let token = parts.next().unwrap_or("");
                let exp = parts.next().and_then(|e| e.trim().parse::<i64>().ok());
                if let (false, Some(exp)) = (token.is_empty(), exp)
                    && let Ok(expires) = OffsetDateTime::from_unix_timestamp(exp)
                {
                    return Ok(Token::new(token, expires));
                }
            }
        }
        Err(IdentityError::unavailable(format!(
            "unexpected output from Get-AzAccessToken: \"{}\"",
            process::redact(out.stdout.trim())
        ))
        .with_fix(fixes::PWSH_LOGIN))
    }
}

/// Gets tokens from Azure PowerShell (`Connect-AzAccount`).
#[derive(Clone)]
pub struct AzurePowerShellCredential {
    inner: Cached<PwshSource>,
}

impl std::fmt::Debug for AzurePowerShellCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AzurePowerShellCredential")
            .field("tenant_id", &self.inner.source.tenant_id)
            .finish_non_exhaustive()
    }
}

impl AzurePowerShellCredential {
    /// The name used in reports.
    pub const NAME: &'static str = "AzurePowerShellCredential";

    /// A credential running `pwsh` from the options' `PATH`.
    pub fn new(options: AzurePowerShellCredentialOptions) -> Result<Self, IdentityError> {
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

    pub(crate) fn with_context(ctx: &Context, options: AzurePowerShellCredentialOptions) -> Self {
        let source = PwshSource {
            env: ctx.env.clone(),
            tenant_id: options.tenant_id,
            timeout: options.process_timeout,
        };
        AzurePowerShellCredential {
            inner: Cached::new(Self::NAME, source, ctx.clock.clone()),
        }
    }

    /// Gets a token (cached; `ForceRefresh` runs PowerShell again).
    pub async fn get_token_detailed(
        &self,
        scopes: &[&str],
        options: Option<&TokenRequestOptions<'_>>,
    ) -> Result<Token, IdentityError> {
        self.inner.get(scopes, options).await
    }

    /// Where `pwsh` is.
    pub fn looked_at(&self) -> Vec<Evidence> {
        vec![Evidence::Executable {
            name: "pwsh".into(),
            path: process::find(&self.inner.source.env, "pwsh"),
        }]
    }

    fn may_stall_impl(&self) -> bool {
        false
    }
}

impl_credential!(AzurePowerShellCredential);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_utf16le_base64() {
        let e = encode("ab");
        assert_eq!(
            e,
            base64::engine::general_purpose::STANDARD.encode([b'a', 0, b'b', 0])
        );
        let s = script("https://cognitiveservices.azure.com", Some("t1"));
        assert!(s.contains("ResourceUrl = 'https://cognitiveservices.azure.com'"));
        assert!(s.contains("$params['TenantId'] = 't1'"));
    }
}
