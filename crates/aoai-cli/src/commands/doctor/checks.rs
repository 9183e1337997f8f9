//! The doctor's checks that are not about the network: configuration, auth mode, credential,
//! token claims, and the deployment itself.

use std::time::Instant;

use aoai::types::{ChatCompletionRequest, ChatMessage};
use aoai::{AuthMode, AzureOpenAI};
use aoai_identity::{Env, vars};
use time::OffsetDateTime;

use super::Check;
use crate::claims::Claims;
use crate::failure::Failure;
use crate::settings::{self, Settings};

/// The environment, validated by the library exactly as `AzureOpenAI::from_env()` validates it
/// (`resolved` is that validation's outcome), plus the doctor's own need for a deployment.
///
/// When only the credential chain could not be built, the endpoint and api-version were
/// accepted (the library checks them first): this check passes and [`auth`] reports the chain.
pub fn environment(env: &Env, resolved: &Result<Settings, aoai::Error>) -> Check {
    let from_env = settings::api_version_from_env(env);
    match resolved {
        Ok(s) => describe(s.client(), from_env),
        Err(e) if settings::is_credential_error(e) => {
            // The same settings with the chain out of the way (an explicit token wins over
            // the environment's auth; nothing is sent): what the environment says.
            match AzureOpenAI::builder()
                .env(env.clone())
                .ad_token("unused")
                .build()
            {
                Ok(client) => describe(&client, from_env),
                Err(e) => Check::failed("environment", e.into()),
            }
        }
        Err(e) => Check::failed("environment", Failure::from_ref(e)),
    }
}

fn describe(client: &AzureOpenAI, api_version_from_env: bool) -> Check {
    let Some(deployment) = client.deployment() else {
        return Check::fail(
            "environment",
            "config_error",
            "AZURE_OPENAI_DEPLOYMENT is not set: the doctor needs a deployment to try",
            "set AZURE_OPENAI_DEPLOYMENT=<deployment name> (the name under Deployments of your \
             resource, not the model name)",
        );
    };
    Check::pass(
        "environment",
        format!(
            "endpoint {}, deployment {deployment}, api-version {}",
            settings::endpoint_display(client),
            settings::api_version_display(client, api_version_from_env),
        ),
    )
}

/// Which auth mode will be used and why (in Entra mode, the chain's members).
pub fn auth(resolved: &Result<Settings, aoai::Error>) -> Check {
    let settings = match resolved {
        Ok(s) => s,
        Err(e) => {
            let failure = match e.identity() {
                Some(ie) => Failure::from_identity(ie),
                None => Failure::from_ref(e),
            };
            return Check::failed("auth", failure);
        }
    };
    match (settings.auth(), settings.credential()) {
        (AuthMode::ApiKey, _) => Check::pass(
            "auth",
            "API key from AZURE_OPENAI_API_KEY (a key, when set, is used instead of Entra ID)",
        ),
        (AuthMode::StaticToken, _) => Check::pass(
            "auth",
            "static Microsoft Entra token from AZURE_OPENAI_AD_TOKEN (no refresh: it stops \
             working when it expires)",
        ),
        (_, Some(dac)) => Check::pass(
            "auth",
            format!(
                "Microsoft Entra ID through DefaultAzureCredential (neither \
                 AZURE_OPENAI_API_KEY nor AZURE_OPENAI_AD_TOKEN is set); chain: {}",
                dac.credential_names().join(" → ")
            ),
        ),
        (mode, None) => Check::pass("auth", format!("{mode:?} authentication")),
    }
}

/// Entra mode: walks the chain and keeps its report. Returns the token for the claims check
/// (in static-token mode, `AZURE_OPENAI_AD_TOKEN` itself).
pub async fn credential(settings: &Settings, env: &Env) -> (Check, Option<String>) {
    let Some(dac) = settings.credential() else {
        return match settings.auth() {
            AuthMode::StaticToken => (
                Check::skip(
                    "credential",
                    "a static token is configured: no credential chain",
                ),
                env.get_non_empty(aoai::vars::AZURE_OPENAI_AD_TOKEN)
                    .map(|t| t.trim().to_string()),
            ),
            _ => (
                Check::skip("credential", "key auth: no credential chain"),
                None,
            ),
        };
    };
    match dac
        .get_token_detailed(&[aoai::vars::DEFAULT_SCOPE], None)
        .await
    {
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
    let from_var = settings.auth() == AuthMode::StaticToken;
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
                aoai::vars::DEFAULT_SCOPE
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
pub async fn deployment(settings: &Settings) -> Check {
    let t0 = Instant::now();
    let request = ChatCompletionRequest::new(vec![ChatMessage::user("ping")]).max_tokens(1);
    match settings.client().chat().create(request).await {
        Ok(answer) => Check::pass(
            "deployment",
            format!(
                "deployment {} answered (model {}) ({} ms)",
                settings.deployment().unwrap_or("?"),
                answer.model,
                t0.elapsed().as_millis()
            ),
        ),
        Err(e) => Check::failed("deployment", e.into()),
    }
}
