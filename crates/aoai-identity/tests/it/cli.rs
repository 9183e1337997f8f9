//! The developer CLI credentials against fake `az` / `azd` / `pwsh`, compared with Python.

use std::time::Duration;

use aoai_identity::{
    AzureCliCredential, AzureCliCredentialOptions, AzureDeveloperCliCredential,
    AzureDeveloperCliCredentialOptions, AzurePowerShellCredential,
    AzurePowerShellCredentialOptions, Env, ForceRefresh,
};
use azure_core::credentials::TokenRequestOptions;
use base64::Engine;

use crate::support::*;

fn az(tools: &FakeTools, timeout: Duration, in_chain: bool) -> AzureCliCredential {
    AzureCliCredential::new(AzureCliCredentialOptions {
        env: Env::from_map(base_env(tools)),
        process_timeout: timeout,
        in_chain,
        ..Default::default()
    })
    .unwrap()
}

#[tokio::test]
async fn az_argv_matches_python() {
    let tools = FakeTools::new().with(
        "az",
        Cli::Ok {
            token: "az-token",
            delay_ms: 0,
        },
    );
    let env = base_env(&tools);
    let py = python_peer(
        &env,
        serde_json::json!({"credential": "AzureCliCredential"}),
    );
    assert_eq!(py["ok"], true, "{py}");
    let py_calls = tools.calls("az");
    tools.clear_logs();

    let t = az(&tools, Duration::from_secs(10), false)
        .get_token_detailed(&[SCOPE], None)
        .await
        .unwrap();
    assert_eq!(t.access_token.secret(), "az-token");
    assert_eq!(tools.calls("az"), py_calls);
    assert_eq!(
        py_calls[0],
        [
            "account",
            "get-access-token",
            "--output",
            "json",
            "--resource",
            "https://cognitiveservices.azure.com"
        ]
    );
}

#[tokio::test]
async fn az_tokens_are_cached_and_force_refresh_runs_az_again() {
    let tools = FakeTools::new().with(
        "az",
        Cli::Ok {
            token: "az-token",
            delay_ms: 0,
        },
    );
    let cred = az(&tools, Duration::from_secs(10), false);
    cred.get_token_detailed(&[SCOPE], None).await.unwrap();
    cred.get_token_detailed(&[SCOPE], None).await.unwrap();
    assert_eq!(tools.calls("az").len(), 1);
    let mut o = TokenRequestOptions::default();
    o.method_options.context.insert(ForceRefresh);
    cred.get_token_detailed(&[SCOPE], Some(&o)).await.unwrap();
    assert_eq!(tools.calls("az").len(), 2);
}

#[tokio::test]
async fn az_not_logged_in_is_unavailable_with_az_login_fix() {
    let tools = FakeTools::new().with("az", Cli::NotLoggedIn);
    let e = az(&tools, Duration::from_secs(10), false)
        .get_token_detailed(&[SCOPE], None)
        .await
        .unwrap_err();
    assert!(e.is_unavailable(), "{e:?}");
    assert_eq!(e.kind().as_str(), "credential_unavailable");
    assert!(e.quick_fix().unwrap().contains("az login"));
    assert!(e.message().contains("az login"));
}

#[tokio::test]
async fn az_missing_is_unavailable() {
    let tools = FakeTools::new();
    let e = az(&tools, Duration::from_secs(10), false)
        .get_token_detailed(&[SCOPE], None)
        .await
        .unwrap_err();
    assert!(e.is_unavailable());
    assert!(e.message().contains("not found"), "{e}");
    assert!(e.quick_fix().unwrap().contains("az login"));
}

#[tokio::test]
async fn az_timeout_is_killed_and_classified() {
    let tools = FakeTools::new().with("az", Cli::Hang);
    let t0 = std::time::Instant::now();
    let alone = az(&tools, Duration::from_millis(300), false)
        .get_token_detailed(&[SCOPE], None)
        .await
        .unwrap_err();
    assert!(
        t0.elapsed() < Duration::from_secs(5),
        "the hung az must be abandoned at the timeout"
    );
    assert_eq!(alone.kind().as_str(), "timeout");
    assert!(!alone.is_unavailable());
    assert!(
        alone.message().contains("did not answer within 0.3 s"),
        "{alone}"
    );
    let in_chain = az(&tools, Duration::from_millis(300), true)
        .get_token_detailed(&[SCOPE], None)
        .await
        .unwrap_err();
    assert!(in_chain.is_unavailable());
    assert!(
        in_chain.quick_fix().unwrap().contains("az login"),
        "{:?}",
        in_chain.quick_fix()
    );
}

#[tokio::test]
async fn az_other_errors_are_unavailable_only_in_a_chain() {
    let tools = FakeTools::new().with("az", Cli::Fail("ERROR: Subscription 'nope' not found."));
    let alone = az(&tools, Duration::from_secs(10), false)
        .get_token_detailed(&[SCOPE], None)
        .await
        .unwrap_err();
    assert!(!alone.is_unavailable());
    assert!(alone.message().contains("Subscription 'nope' not found"));
    let chained = az(&tools, Duration::from_secs(10), true)
        .get_token_detailed(&[SCOPE], None)
        .await
        .unwrap_err();
    assert!(chained.is_unavailable());
    // AADSTS errors mentioning az login are not "not logged in".
    let tools = FakeTools::new().with(
        "az",
        Cli::Fail("ERROR: AADSTS70043: The refresh token has expired. Please run 'az login'."),
    );
    let e = az(&tools, Duration::from_secs(10), false)
        .get_token_detailed(&[SCOPE], None)
        .await
        .unwrap_err();
    assert!(e.message().contains("AADSTS70043"));
}

#[tokio::test]
async fn azd_argv_matches_python_and_parses_utc() {
    let tools = FakeTools::new().with(
        "azd",
        Cli::Ok {
            token: "azd-token",
            delay_ms: 0,
        },
    );
    let env = base_env(&tools);
    let py = python_peer(
        &env,
        serde_json::json!({"credential": "AzureDeveloperCliCredential"}),
    );
    assert_eq!(py["ok"], true, "{py}");
    let py_calls = tools.calls("azd");
    tools.clear_logs();
    let cred = AzureDeveloperCliCredential::new(AzureDeveloperCliCredentialOptions {
        env: Env::from_map(env),
        ..Default::default()
    })
    .unwrap();
    let t = cred.get_token_detailed(&[SCOPE], None).await.unwrap();
    assert_eq!(t.access_token.secret(), "azd-token");
    let left = t.expires_on - time::OffsetDateTime::now_utc();
    assert!(
        left > time::Duration::minutes(55) && left < time::Duration::minutes(61),
        "UTC parse: {left}"
    );
    assert_eq!(tools.calls("azd"), py_calls);
    assert_eq!(
        py_calls[0],
        [
            "auth",
            "token",
            "--output",
            "json",
            "--no-prompt",
            "--scope",
            "https://cognitiveservices.azure.com/.default"
        ]
    );
}

#[tokio::test]
async fn azd_not_logged_in_is_unavailable() {
    let tools = FakeTools::new().with("azd", Cli::NotLoggedIn);
    let cred = AzureDeveloperCliCredential::new(AzureDeveloperCliCredentialOptions {
        env: Env::from_map(base_env(&tools)),
        ..Default::default()
    })
    .unwrap();
    let e = cred.get_token_detailed(&[SCOPE], None).await.unwrap_err();
    assert!(e.is_unavailable());
    assert!(e.quick_fix().unwrap().contains("azd auth login"));
}

fn decode_script(argv: &[String]) -> String {
    let b64 = argv.last().unwrap();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    let units: Vec<u16> = bytes
        .chunks(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16(&units).unwrap()
}

#[tokio::test]
async fn pwsh_invocation_matches_python_shape() {
    let tools = FakeTools::new().with(
        "pwsh",
        Cli::Ok {
            token: "pwsh-token",
            delay_ms: 0,
        },
    );
    let env = base_env(&tools);
    let py = python_peer(
        &env,
        serde_json::json!({"credential": "AzurePowerShellCredential"}),
    );
    assert_eq!(py["ok"], true, "{py}");
    let py_calls = tools.calls("pwsh");
    tools.clear_logs();
    let cred = AzurePowerShellCredential::new(AzurePowerShellCredentialOptions {
        env: Env::from_map(env),
        ..Default::default()
    })
    .unwrap();
    let t = cred.get_token_detailed(&[SCOPE], None).await.unwrap();
    assert_eq!(t.access_token.secret(), "pwsh-token");
    let ours = tools.calls("pwsh");
    // Same flags; the script is ours (same job, our own text): compare what it asks for.
    assert_eq!(ours[0][..3], py_calls[0][..3]);
    assert_eq!(
        ours[0][..3],
        ["-NoProfile", "-NonInteractive", "-EncodedCommand"]
    );
    let (py_script, our_script) = (decode_script(&py_calls[0]), decode_script(&ours[0]));
    for needle in [
        "Get-AzAccessToken",
        "Az.Accounts",
        "NO_AZ_ACCOUNT_MODULE",
        "azsdk%",
        "https://cognitiveservices.azure.com",
    ] {
        assert!(
            py_script.contains(needle) && our_script.contains(needle),
            "{needle}"
        );
    }
}

#[tokio::test]
async fn pwsh_failures_are_unavailable() {
    let tools = FakeTools::new().with("pwsh", Cli::NotLoggedIn);
    let cred = AzurePowerShellCredential::new(AzurePowerShellCredentialOptions {
        env: Env::from_map(base_env(&tools)),
        ..Default::default()
    })
    .unwrap();
    let e = cred.get_token_detailed(&[SCOPE], None).await.unwrap_err();
    assert!(e.is_unavailable());
    assert!(e.quick_fix().unwrap().contains("Connect-AzAccount"));
}
