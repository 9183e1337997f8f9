//! `aoai token`: a token through `DefaultAzureCredential`, and who it is for.

use aoai_identity::{DefaultAzureCredential, Env};
use owo_colors::OwoColorize;
use time::OffsetDateTime;

use crate::claims::Claims;
use crate::cli::TokenArgs;
use crate::failure::Failure;
use crate::ui::{self, Spinner};

/// Runs `aoai token` with the given environment.
pub async fn run(args: &TokenArgs, env: &Env) -> Result<(), Failure> {
    let dac = DefaultAzureCredential::with_env(env.clone())?;
    let mut spinner = Spinner::start("getting a token through DefaultAzureCredential");
    let result = dac.get_token_detailed(&[args.scope.as_str()], None).await;
    spinner.stop();
    let token = result?;
    let secret = token.access_token.secret();
    let report = dac.last_report();
    if args.raw {
        anstream::println!("{secret}");
        if args.explain
            && let Some(r) = &report
        {
            ui::note(&r.to_string());
        }
        return Ok(());
    }
    let from = dac
        .resolution()
        .map(|r| r.credential)
        .unwrap_or_else(|| "DefaultAzureCredential".to_string());
    let rows = describe(secret, &from, token.expires_on, OffsetDateTime::now_utc());
    for (label, value) in rows {
        anstream::println!("{:<10} {value}", label.bold());
    }
    if args.explain
        && let Some(r) = &report
    {
        anstream::println!();
        anstream::println!("{r}");
    }
    Ok(())
}

/// The lines `aoai token` prints, as (label, value).
pub fn describe(
    token: &str,
    from: &str,
    expires_on: OffsetDateTime,
    now: OffsetDateTime,
) -> Vec<(&'static str, String)> {
    let mut rows = Vec::new();
    match Claims::decode(token) {
        Ok(c) => {
            rows.push(("for", c.principal()));
            rows.push(("tenant", c.tenant.clone().unwrap_or_else(|| "-".into())));
            let mut aud = c.audience.clone().unwrap_or_else(|| "-".into());
            if !c.audience_ok() {
                aud.push_str("  (not an Azure OpenAI audience)");
            }
            rows.push(("audience", aud));
            if !c.roles.is_empty() {
                rows.push(("roles", c.roles.join(", ")));
            }
            if let Some(scp) = &c.scopes {
                rows.push(("scopes", scp.clone()));
            }
        }
        Err(e) => rows.push(("for", format!("unknown: {e}"))),
    }
    rows.push(("from", from.to_string()));
    rows.push(("expires", when(expires_on, now)));
    rows
}

/// `2026-11-22 15:04:05 UTC (in 59 min)`.
pub fn when(t: OffsetDateTime, now: OffsetDateTime) -> String {
    let utc = t.to_offset(time::UtcOffset::UTC);
    let fmt =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    let abs = utc.format(&fmt).unwrap_or_else(|_| utc.to_string());
    format!("{abs} ({})", ui::relative((t - now).whole_seconds()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    #[test]
    fn describes_who_from_where_and_until_when() {
        let payload = r#"{"aud":"https://management.azure.com","tid":"t","appid":"a","oid":"o"}"#;
        let token = format!("e30.{}.s", URL_SAFE_NO_PAD.encode(payload));
        let now = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let rows = describe(
            &token,
            "AzureCliCredential",
            now + time::Duration::hours(1),
            now,
        );
        let text: Vec<String> = rows.iter().map(|(l, v)| format!("{l}: {v}")).collect();
        assert_eq!(
            text,
            [
                "for: application a (oid o)",
                "tenant: t",
                "audience: https://management.azure.com  (not an Azure OpenAI audience)",
                "from: AzureCliCredential",
                "expires: 2023-11-14 23:13:20 UTC (in 60 min)",
            ]
        );
    }
}
