//! The doctor's checks that are not about the network: configuration, auth mode, credential,
//! token claims, and the deployment itself.

use std::time::Instant;

use aoai_identity::{DefaultAzureCredential, Env, vars};
use time::OffsetDateTime;

use super::Check;
use crate::claims::Claims;
use crate::failure::Failure;
use crate::settings::{self, Auth, Settings};

/// The environment, validated by the library exactly as `AzureOpenAI::from_env()` validates it.
pub fn environment(env: &Env) -> Result<(Check, Settings), Box<Check>> {
    let settings = Settings::resolve(env).map_err(|f| Box::new(Check::failed("environment", f)))?;
    let Some(deployment) = settings.deployment() else {
        return Err(Box::new(Check::fail(
            "environment",
            "config_error",
            "AZURE_OPENAI_DEPLOYMENT is not set: the doctor needs a deployment to try",
            "set AZURE_OPENAI_DEPLOYMENT=<deployment name> (the name under Deployments of your \
             resource, not the model name)",
        )));
    };
    let message = format!(
        "endpoint {}, deployment {deployment}, api-version {}",
        settings.endpoint_display(),
        settings.api_version_display(),
    );
    let check = match settings.key_warning() {
        Some((what, fix)) => Check::warn("environment", format!("{message}; {what}"), fix),
        None => Check::pass("environment", message),
    };
    Ok((check, settings))
}

/// Which auth mode will be used and why; builds the credential chain in Entra mode.
pub fn auth(settings: &Settings, env: &Env) -> (Check, Option<DefaultAzureCredential>) {
    match settings.auth() {
        Auth::ApiKey => (
            Check::pass(
                "auth",
                "API key from AZURE_OPENAI_API_KEY (a key, when set, is used instead of Entra ID)",
            ),
            None,
        ),
        Auth::Token => (
            Check::pass(
                "auth",
                "static Microsoft Entra token from AZURE_OPENAI_AD_TOKEN (no refresh: it stops \
                 working when it expires)",
            ),
            None,
        ),
        Auth::Entra => match DefaultAzureCredential::with_env(env.clone()) {
            Ok(dac) => {
                let names = dac.credential_names().join(" → ");
                (
                    Check::pass(
                        "auth",
                        format!(
                            "Microsoft Entra ID through DefaultAzureCredential (neither \
                             AZURE_OPENAI_API_KEY nor AZURE_OPENAI_AD_TOKEN is set); chain: {names}"
                        ),
                    ),
                    Some(dac),
                )
            }
            Err(e) => (Check::failed("auth", Failure::from_identity(&e)), None),
        },
    }
}

/// Entra mode: walks the chain and keeps its report. Returns the token for the claims check.
pub async fn credential(
    settings: &Settings,
    dac: Option<&DefaultAzureCredential>,
) -> (Check, Option<String>) {
    let Some(dac) = dac else {
        return match settings.auth() {
            Auth::Token => (
                Check::skip(
                    "credential",
                    "a static token is configured: no credential chain",
                ),
                settings.static_token(),
            ),
            _ => (
                Check::skip("credential", "key auth: no credential chain"),
                None,
            ),
        };
    };
    match dac.get_token_detailed(&[settings.scope()], None).await {
        Ok(token) => {
            let used = dac
                .resolution()
                .map(|r| r.credential)
                .unwrap_or_else(|| "a credential".into());
            let report = dac.last_report().map(|r| r.to_string()).unwrap_or_default();
            let mut lines = report.lines();
            let summary = lines.next().unwrap_or("").to_string();
            let rest: Vec<&str> = lines.collect();
            let check = Check::pass("credential", format!("token from {used}: {summary}"))
                .with_detail(rest.join("\n"));
            (check, Some(token.access_token.secret().to_string()))
        }
        Err(e) => {
            let f = Failure::from_identity(&e);
            (Check::failed("credential", f), None)
        }
    }
}

/// Decodes the token's claims and checks audience, expiry and tenant.
pub fn token(settings: &Settings, env: &Env, token: Option<&str>) -> Check {
    let Some(token) = token else {
        return Check::skip("token", "no token: key auth");
    };
    let from_var = matches!(settings.auth(), Auth::Token);
    let new_token_fix = if from_var {
        "get a new token: export AZURE_OPENAI_AD_TOKEN=$(az account get-access-token --resource \
         https://cognitiveservices.azure.com --query accessToken -o tsv), or unset it to use \
         DefaultAzureCredential, which refreshes tokens"
    } else {
        "run `aoai token --explain` to see which credential produced it"
    };
    let claims = match Claims::decode(token) {
        Ok(c) => c,
        Err(e) => {
            return Check::warn(
                "token",
                format!("{e}: its claims cannot be checked here (the service may still accept it)"),
                new_token_fix,
            );
        }
    };
    let now = OffsetDateTime::now_utc();
    let mut facts = vec![
        format!("for {}", claims.principal()),
        format!("tenant {}", claims.tenant.as_deref().unwrap_or("-")),
        format!("audience {}", claims.audience.as_deref().unwrap_or("-")),
    ];
    if let Some(exp) = claims.expires {
        facts.push(format!(
            "expires {}",
            crate::commands::token::when(exp, now)
        ));
    }
    if !claims.roles.is_empty() {
        facts.push(format!("roles {}", claims.roles.join(",")));
    }
    let message = facts.join(", ");
    if !claims.audience_ok() {
        let fix = if from_var {
            "get a token for Azure OpenAI: az account get-access-token --resource \
             https://cognitiveservices.azure.com"
                .to_string()
        } else {
            format!(
                "request the scope {} (the audience must be https://cognitiveservices.azure.com \
                 or https://ai.azure.com)",
                settings::DEFAULT_SCOPE
            )
        };
        return Check::fail(
            "token",
            "authentication_error",
            format!("wrong audience: {message}"),
            fix,
        );
    }
    if let Some(exp) = claims.expires
        && exp <= now
    {
        return Check::fail(
            "token",
            "authentication_error",
            format!("the token has expired: {message}"),
            new_token_fix,
        );
    }
    if let (Some(want), Some(tid)) = (env.get_non_empty(vars::AZURE_TENANT_ID), &claims.tenant)
        && !want.trim().eq_ignore_ascii_case(tid)
    {
        return Check::warn(
            "token",
            format!(
                "the token's tenant {tid} is not AZURE_TENANT_ID ({}): {message}",
                want.trim()
            ),
            format!(
                "if the resource lives in tenant {0}, sign in there: az login --tenant {0}",
                want.trim()
            ),
        );
    }
    Check::pass("token", message)
}

/// One minimal chat request (max_tokens 1, retries disabled) to the configured deployment.
pub async fn deployment(settings: &Settings, dac: Option<DefaultAzureCredential>) -> Check {
    let t0 = Instant::now();
    match settings::ping(settings, dac).await {
        Ok(what) => Check::pass(
            "deployment",
            format!("{what} ({} ms)", t0.elapsed().as_millis()),
        ),
        Err(f) => Check::failed("deployment", f),
    }
}
