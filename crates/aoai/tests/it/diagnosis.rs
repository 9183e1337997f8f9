//! The misconfiguration catalogue (`tests/cases/diagnosis.toml`): each case's emulator setup and
//! environment, through `AzureOpenAI::builder().env(..)` (as `from_env` reads it) and one chat
//! completion without retries, yields the expected kind and fix words.

use std::collections::BTreeMap;
use std::path::PathBuf;

use aoai::{AzureOpenAI, RetryPolicy};
use aoai_identity::Env;
use serde::Deserialize;

use crate::support::{
    CLIENT_ID, CLIENT_SECRET, TENANT, closed_port, emulator_with, hello, remove_roles,
};

#[derive(Deserialize)]
struct Catalogue {
    case: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    env: BTreeMap<String, String>,
    #[serde(default)]
    emulator: Switches,
    expect_kind: String,
    expect_in_fix: Vec<String>,
}

#[derive(Default, Deserialize)]
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

fn catalogue() -> Catalogue {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/cases/diagnosis.toml");
    toml::from_str(&std::fs::read_to_string(path).expect("read the catalogue")).expect("parse it")
}

#[tokio::test]
async fn every_catalogue_case_yields_its_kind_and_fix() {
    let cases = catalogue().case;
    assert!(cases.len() >= 12);
    let mut failures = Vec::new();
    for case in cases {
        let s = &case.emulator;
        let emu = emulator_with(|c| {
            c.disable_key_auth = s.disable_key_auth;
            c.rate_limited = s.rate_limited;
            if let Some(p) = &s.principal_without_role {
                remove_roles(c, &p.replace("{client_id}", CLIENT_ID));
            }
        })
        .await;
        // IMDS always points at a closed loopback port (imds_unreachable or not): tests never
        // reach 169.254.169.254. PATH is empty, so no az/azd is found.
        let mut env = Env::from_map([(
            "AZURE_POD_IDENTITY_AUTHORITY_HOST",
            format!("http://127.0.0.1:{}", closed_port()),
        )]);
        for (k, v) in &case.env {
            let v = v
                .replace("{emulator}", emu.url())
                .replace("{tenant}", TENANT)
                .replace("{client_id}", CLIENT_ID)
                .replace("{client_secret}", CLIENT_SECRET);
            env = env.with(k.as_str(), v);
        }
        let _ = s.imds_unreachable;
        let result = match AzureOpenAI::builder()
            .env(env)
            .retry_policy(RetryPolicy::none())
            .build()
        {
            Ok(c) => c.chat().create(hello()).await.map(|_| ()),
            Err(e) => Err(e),
        };
        let Err(err) = result else {
            failures.push(format!("{}: succeeded", case.name));
            continue;
        };
        let fix = err.quick_fix().unwrap_or_default().to_lowercase();
        let missing: Vec<_> = case
            .expect_in_fix
            .iter()
            .filter(|w| !fix.contains(&w.to_lowercase()))
            .collect();
        if err.kind().as_str() != case.expect_kind || !missing.is_empty() {
            failures.push(format!(
                "{}: want {} with {:?}; got {:?}",
                case.name, case.expect_kind, case.expect_in_fix, err
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
