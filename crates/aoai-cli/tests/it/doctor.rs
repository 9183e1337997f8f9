//! `aoai doctor` on every case of the misconfiguration catalogue (`--json`), plus a healthy
//! setup in both output forms.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use crate::snap;
use crate::support::{CLIENT_ID, CLIENT_SECRET, Run, TENANT, World};

#[derive(Debug, Deserialize)]
struct Catalogue {
    case: Vec<Case>,
}

#[derive(Debug, Deserialize)]
struct Case {
    name: String,
    env: BTreeMap<String, String>,
    #[serde(default)]
    emulator: Switches,
    expect_kind: String,
    expect_in_fix: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Switches {
    #[serde(default)]
    disable_key_auth: bool,
    principal_without_role: Option<String>,
    #[serde(default)]
    rate_limited: bool,
    #[serde(default)]
    imds_unreachable: bool,
}

/// The shared catalogue (`<workspace>/../shared/cases/diagnosis.toml`) when present, else the
/// copy kept next to this test; the copy must not drift from the original.
fn catalogue() -> Catalogue {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let copy = here.join("../../tests/cases/diagnosis.toml");
    let shared = here.join("../../../shared/cases/diagnosis.toml");
    let text = std::fs::read_to_string(&copy).expect("read the catalogue copy");
    if let Ok(original) = std::fs::read_to_string(&shared) {
        assert_eq!(
            text,
            original,
            "tests/cases/diagnosis.toml drifted from {}: copy it again",
            shared.display()
        );
    }
    toml::from_str(&text).expect("parse diagnosis.toml")
}

fn world_for(s: &Switches) -> World {
    World::with(|c| {
        c.disable_key_auth = s.disable_key_auth;
        c.rate_limited = s.rate_limited;
        if let Some(principal) = &s.principal_without_role {
            crate::support::remove_roles(c, &principal.replace("{client_id}", CLIENT_ID));
        }
        // imds_unreachable: every sandbox points IMDS at a closed loopback port anyway.
        let _always_unreachable = s.imds_unreachable;
    })
}

/// Every case, keyless ones included: service principals get their tokens from the emulator's
/// Entra side, and IMDS is a closed loopback port in every sandbox.
#[test]
fn every_catalogue_case_is_diagnosed_with_its_kind_and_fix() {
    let all = catalogue().case;
    assert!(all.len() >= 12, "the catalogue has {} cases", all.len());
    assert!(
        all.iter()
            .any(|c| c.env.contains_key("AZURE_AUTHORITY_HOST")),
        "the catalogue has service-principal cases"
    );
    check_cases(all);
}

fn check_cases(cases: Vec<Case>) {
    assert!(!cases.is_empty());
    let mut failures = Vec::new();
    for case in &cases {
        let w = world_for(&case.emulator);
        let mut cmd = w.aoai();
        for (k, v) in &case.env {
            let v = v
                .replace("{emulator}", &w.url())
                .replace("{tenant}", TENANT)
                .replace("{client_id}", CLIENT_ID)
                .replace("{client_secret}", CLIENT_SECRET);
            cmd.env(k, v);
        }
        let r = Run::of(cmd.args(["doctor", "--json"]));
        let v = r.json();
        let failing = v["checks"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["status"] == "fail"))
            .cloned()
            .unwrap_or_default();
        let fix = failing["fix"].as_str().unwrap_or("").to_lowercase();
        let missing: Vec<&String> = case
            .expect_in_fix
            .iter()
            .filter(|w| !fix.contains(&w.to_lowercase()))
            .collect();
        if r.code != 1
            || v["ok"] != false
            || v["kind"] != case.expect_kind.as_str()
            || !missing.is_empty()
            || failing["kind"] != case.expect_kind.as_str()
        {
            failures.push(format!(
                "{}: want kind {} and fix words {:?}; got exit {}, kind {}, fix {:?} (missing {missing:?})\n{}",
                case.name, case.expect_kind, case.expect_in_fix, r.code, v["kind"], failing["fix"], r.stdout
            ));
        }
        // After the failing check, everything is skipped.
        let checks = v["checks"].as_array().unwrap();
        let first_fail = checks
            .iter()
            .position(|c| c["status"] == "fail")
            .unwrap_or(checks.len());
        assert!(
            checks[first_fail + 1..]
                .iter()
                .all(|c| c["status"] == "skip"),
            "{}: {}",
            case.name,
            r.stdout
        );
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases misdiagnosed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn json_follows_the_contract_exactly() {
    let w = World::new();
    let r = Run::of(w.aoai_with_key().args(["doctor", "--json"]));
    assert_eq!(r.code, 0, "{}", r.transcript());
    let v = r.json();
    let top: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(top, ["checks", "kind", "ok"]);
    assert_eq!(v["ok"], true);
    assert!(v["kind"].is_null());
    let names: Vec<&str> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "environment",
            "auth",
            "dns",
            "tcp",
            "tls",
            "credential",
            "token",
            "deployment"
        ]
    );
    for c in v["checks"].as_array().unwrap() {
        let keys: Vec<&String> = c.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["fix", "kind", "message", "name", "status"], "{c}");
        assert!(["pass", "warn", "fail", "skip"].contains(&c["status"].as_str().unwrap()));
        assert!(c["message"].is_string());
    }
    assert_eq!(r.stdout.lines().count(), 1, "one JSON object on one line");
    snap!(
        "doctor_key_ok_json",
        serde_json::to_string_pretty(&v).unwrap()
    );
}

#[test]
fn human_output_has_a_line_per_check_and_the_fix_under_a_failure() {
    let w = World::new();
    let ok = Run::of(w.aoai_with_key().arg("doctor"));
    assert_eq!(ok.code, 0, "{}", ok.transcript());
    snap!("doctor_key_ok", ok.transcript());

    let bad = Run::of(
        w.aoai_with_key()
            .arg("doctor")
            .env("AZURE_OPENAI_DEPLOYMENT", "gpt-4o-2024-08-06"),
    );
    assert_eq!(bad.code, 1, "{}", bad.transcript());
    assert!(bad.stdout.contains("✗ deployment"), "{}", bad.stdout);
    assert!(bad.stdout.contains("kind: not_found"), "{}", bad.stdout);
    snap!("doctor_deployment_missing", bad.transcript());
}

#[test]
fn a_service_principal_setup_passes_with_the_chain_report() {
    let w = World::new();
    let sp = Run::of(w.aoai_with_service_principal(CLIENT_SECRET).arg("doctor"));
    assert_eq!(sp.code, 0, "{}", sp.transcript());
    assert!(sp.stdout.contains("EnvironmentCredential"), "{}", sp.stdout);
    snap!("doctor_service_principal_ok", sp.transcript());
}

#[test]
fn config_failures_exit_one_in_doctor_as_the_contract_says() {
    let w = World::new();
    let r = Run::of(
        w.aoai()
            .args(["doctor", "--json"])
            .env("AZURE_OPENAI_API_KEY", "k"),
    );
    assert_eq!(r.code, 1, "{}", r.transcript());
    assert_eq!(r.json()["kind"], "config_error");
}

/// An unsigned JWT with the given claims (the doctor decodes claims; only the service verifies).
fn jwt(claims: serde_json::Value) -> String {
    use base64::Engine as _;
    let b64 = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    format!(
        "{}.{}.c2ln",
        b64(br#"{"alg":"RS256","typ":"JWT"}"#),
        b64(claims.to_string().as_bytes())
    )
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[test]
fn a_static_token_is_decoded_and_its_claims_checked() {
    let w = World::new();
    let doctor = |token: String, extra: &[(&str, &str)]| {
        let mut cmd = w.aoai();
        cmd.env("AZURE_OPENAI_ENDPOINT", w.url())
            .env("AZURE_OPENAI_DEPLOYMENT", "gpt-4o")
            .env("AZURE_OPENAI_AD_TOKEN", token);
        for (k, v) in extra {
            cmd.env(k, v);
        }
        let r = Run::of(cmd.args(["doctor", "--json"]));
        let v = r.json();
        let token_check = v["checks"][6].clone();
        assert_eq!(token_check["name"], "token");
        (r.code, v, token_check)
    };
    let good = serde_json::json!({"aud": "https://cognitiveservices.azure.com", "tid": TENANT, "oid": "o1", "appid": "a1", "exp": now() + 3600});

    let mut wrong_aud = good.clone();
    wrong_aud["aud"] = "https://management.azure.com".into();
    let (code, v, t) = doctor(jwt(wrong_aud), &[]);
    assert_eq!(
        (code, v["kind"].as_str()),
        (1, Some("authentication_error")),
        "{v}"
    );
    assert_eq!(t["status"], "fail");
    assert!(
        t["message"].as_str().unwrap().contains("wrong audience"),
        "{t}"
    );
    assert!(
        t["fix"]
            .as_str()
            .unwrap()
            .contains("--resource https://cognitiveservices.azure.com"),
        "{t}"
    );

    let mut expired = good.clone();
    expired["exp"] = (now() - 60).into();
    let (code, _, t) = doctor(jwt(expired), &[]);
    assert_eq!((code, t["status"].as_str()), (1, Some("fail")), "{t}");
    assert!(t["message"].as_str().unwrap().contains("expired"), "{t}");
    assert!(
        t["fix"].as_str().unwrap().contains("AZURE_OPENAI_AD_TOKEN"),
        "{t}"
    );

    // Claims fine but another tenant than AZURE_TENANT_ID: a warning, and the run goes on to the
    // deployment (whose answer to an unsigned token is the emulator's Entra side's business).
    let (_, v, t) = doctor(
        jwt(good),
        &[("AZURE_TENANT_ID", "11111111-1111-1111-1111-111111111111")],
    );
    assert_eq!(t["status"], "warn", "{t}");
    assert!(
        t["fix"]
            .as_str()
            .unwrap()
            .contains("az login --tenant 11111111-1111-1111-1111-111111111111"),
        "{t}"
    );
    assert_ne!(v["checks"][7]["status"], "skip", "{v}");
}

#[test]
fn an_unreachable_endpoint_fails_at_tcp_and_names_the_next_step() {
    let w = World::new();
    let closed = crate::support::closed_port_url();
    let r = Run::of(
        w.aoai_with_key()
            .env("AZURE_OPENAI_ENDPOINT", &closed)
            .args(["doctor"]),
    );
    assert_eq!(r.code, 1, "{}", r.transcript());
    assert!(r.stdout.contains("✗ tcp"), "{}", r.stdout);
    assert!(r.stdout.contains("kind: network_error"), "{}", r.stdout);
    assert!(
        r.stdout.contains("- deployment") && r.stdout.contains("skipped: the tcp check failed"),
        "{}",
        r.stdout
    );
    snap!("doctor_tcp_refused", r.transcript());
}

#[test]
fn a_missing_deployment_or_a_bad_chain_selection_is_a_config_error() {
    let w = World::new();
    let r = Run::of(
        w.aoai_with_key()
            .env_remove("AZURE_OPENAI_DEPLOYMENT")
            .args(["doctor", "--json"]),
    );
    let v = r.json();
    assert_eq!(
        (r.code, v["kind"].as_str()),
        (1, Some("config_error")),
        "{v}"
    );
    assert!(
        v["checks"][0]["fix"]
            .as_str()
            .unwrap()
            .contains("AZURE_OPENAI_DEPLOYMENT="),
        "{v}"
    );

    // Entra mode with an AZURE_TOKEN_CREDENTIALS the chain does not know: the auth check fails.
    let r = Run::of(
        w.aoai()
            .env("AZURE_OPENAI_ENDPOINT", w.url())
            .env("AZURE_OPENAI_DEPLOYMENT", "gpt-4o")
            .env("AZURE_TOKEN_CREDENTIALS", "nonsense")
            .args(["doctor", "--json"]),
    );
    let v = r.json();
    assert_eq!(v["checks"][1]["name"], "auth");
    assert_eq!(v["checks"][1]["status"], "fail", "{v}");
    assert_eq!(v["kind"], "config_error");
    assert!(
        v["checks"][1]["fix"]
            .as_str()
            .unwrap()
            .contains("AZURE_TOKEN_CREDENTIALS"),
        "{v}"
    );
}
