//! `aoai token` with a service principal whose authority is the emulator.

use base64::Engine as _;

use crate::snap;
use crate::support::{CLIENT_SECRET, Run, World};

fn claims(jwt: &str) -> serde_json::Value {
    let payload = jwt.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

#[test]
fn says_who_the_token_is_for_where_it_came_from_and_when_it_expires() {
    let w = World::new();
    let r = Run::of(w.aoai_with_service_principal(CLIENT_SECRET).arg("token"));
    assert_eq!(r.code, 0, "{}", r.transcript());
    for words in [
        "for ",
        "tenant ",
        "audience ",
        "https://cognitiveservices.azure.com",
        "from ",
        "EnvironmentCredential",
        "expires ",
    ] {
        assert!(r.stdout.contains(words), "missing {words:?}:\n{}", r.stdout);
    }
    assert!(
        !r.stdout.contains("eyJ"),
        "the token itself is not printed without --raw"
    );
    snap!("token_service_principal", r.transcript());
}

#[test]
fn raw_prints_only_the_token() {
    let w = World::new();
    let r = Run::of(
        w.aoai_with_service_principal(CLIENT_SECRET)
            .args(["token", "--raw"]),
    );
    assert_eq!(r.code, 0, "{}", r.transcript());
    assert_eq!(r.stdout.lines().count(), 1, "{}", r.stdout);
    let c = claims(r.stdout.trim());
    assert_eq!(
        c["aud"].as_str().map(|a| a.trim_end_matches('/')),
        Some("https://cognitiveservices.azure.com")
    );
    assert_eq!(c["tid"], crate::support::TENANT);
    assert!(r.stderr.is_empty(), "{}", r.stderr);
    // Another scope, another audience.
    let r = Run::of(w.aoai_with_service_principal(CLIENT_SECRET).args([
        "token",
        "--raw",
        "--scope",
        "https://ai.azure.com/.default",
    ]));
    assert_eq!(r.code, 0, "{}", r.transcript());
    assert_eq!(
        claims(r.stdout.trim())["aud"]
            .as_str()
            .map(|a| a.trim_end_matches('/')),
        Some("https://ai.azure.com")
    );
}

#[test]
fn explain_prints_the_chain_report_on_success() {
    let w = World::new();
    let r = Run::of(
        w.aoai_with_service_principal(CLIENT_SECRET)
            .args(["token", "--explain"]),
    );
    assert_eq!(r.code, 0, "{}", r.transcript());
    assert!(
        r.stdout.contains("DefaultAzureCredential tried"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("used EnvironmentCredential"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("AZURE_CLIENT_SECRET set"), "{}", r.stdout);
    assert!(!r.stdout.contains(CLIENT_SECRET) && !r.stderr.contains(CLIENT_SECRET));
    // With --raw the report goes to stderr, stdout stays the token.
    let raw =
        Run::of(
            w.aoai_with_service_principal(CLIENT_SECRET)
                .args(["token", "--raw", "--explain"]),
        );
    assert_eq!(raw.stdout.lines().count(), 1);
    assert!(
        raw.stderr.contains("used EnvironmentCredential"),
        "{}",
        raw.stderr
    );
}

#[test]
fn a_wrong_secret_stops_the_chain_and_names_the_variable() {
    let w = World::new();
    let r = Run::of(w.aoai_with_service_principal("not-the-secret").arg("token"));
    assert_eq!(r.code, 1, "{}", r.transcript());
    assert!(r.stderr.contains("(authentication_error)"), "{}", r.stderr);
    assert!(
        r.stderr.contains("fix: ") && r.stderr.contains("AZURE_CLIENT_SECRET"),
        "{}",
        r.stderr
    );
    assert!(
        !r.stderr.contains("not-the-secret"),
        "the secret never appears"
    );
    // -vv: trace logs on stderr, still without the secret.
    let v = Run::of(
        w.aoai_with_service_principal("not-the-secret")
            .args(["-vvv", "token"]),
    );
    assert!(
        v.stderr.contains("DEBUG") || v.stderr.contains("TRACE"),
        "{}",
        v.stderr
    );
    assert!(
        !v.stderr.contains("not-the-secret"),
        "the secret never appears in logs"
    );
    snap!("token_wrong_secret", r.transcript());
}
