//! DefaultAzureCredential: which credential the chain picks (the same as Python for the same
//! environment), how fast, and how it reports itself.

use std::collections::BTreeMap;
use std::time::Duration;

use aoai_identity::{DefaultAzureCredential, Env, StepOutcome};

use crate::support::*;

/// One row: a situation, the environment, the fake tools, and the expected pick.
struct Row {
    name: &'static str,
    vars: &'static [(&'static str, &'static str)],
    tools: &'static [(&'static str, Cli)],
    /// `Some(credential)` or `None` for "no token" (error).
    expect: Option<&'static str>,
    /// The error is raised by the constructor (both languages).
    construct_error: bool,
    /// Python `process_timeout` / ours, seconds.
    process_timeout: u64,
}

const OK_AZ: (&str, Cli) = (
    "az",
    Cli::Ok {
        token: "az-token",
        delay_ms: 0,
    },
);
const OK_AZD: (&str, Cli) = (
    "azd",
    Cli::Ok {
        token: "azd-token",
        delay_ms: 0,
    },
);
const OK_PWSH: (&str, Cli) = (
    "pwsh",
    Cli::Ok {
        token: "pwsh-token",
        delay_ms: 0,
    },
);

fn rows() -> Vec<Row> {
    let r = |name, vars, tools, expect| Row {
        name,
        vars,
        tools,
        expect,
        construct_error: false,
        process_timeout: 10,
    };
    vec![
        r("nothing_configured_anywhere", &[], &[], None),
        r("az_logged_in", &[], &[OK_AZ], Some("AzureCliCredential")),
        r(
            "only_azd_logged_in",
            &[],
            &[OK_AZD],
            Some("AzureDeveloperCliCredential"),
        ),
        r(
            "only_pwsh_logged_in",
            &[],
            &[OK_PWSH],
            Some("AzurePowerShellCredential"),
        ),
        r(
            "az_not_logged_in_falls_to_azd",
            &[],
            &[("az", Cli::NotLoggedIn), OK_AZD],
            Some("AzureDeveloperCliCredential"),
        ),
        r(
            "az_not_logged_in_pwsh_before_azd",
            &[],
            &[("az", Cli::NotLoggedIn), OK_PWSH, OK_AZD],
            Some("AzurePowerShellCredential"),
        ),
        r(
            "az_before_pwsh_and_azd",
            &[],
            &[OK_AZ, OK_PWSH, OK_AZD],
            Some("AzureCliCredential"),
        ),
        r(
            "az_other_error_is_unavailable_in_dac",
            &[],
            &[
                ("az", Cli::Fail("ERROR: Subscription 'nope' not found.")),
                OK_AZD,
            ],
            Some("AzureDeveloperCliCredential"),
        ),
        r(
            "token_credentials_dev_uses_az",
            &[("AZURE_TOKEN_CREDENTIALS", "dev")],
            &[OK_AZ],
            Some("AzureCliCredential"),
        ),
        r(
            "token_credentials_prod_skips_az",
            &[("AZURE_TOKEN_CREDENTIALS", "prod")],
            &[OK_AZ],
            None,
        ),
        r(
            "token_credentials_names_azd",
            &[("AZURE_TOKEN_CREDENTIALS", " AzureDeveloperCliCredential ")],
            &[OK_AZ, OK_AZD],
            Some("AzureDeveloperCliCredential"),
        ),
        r(
            "token_credentials_names_az_not_logged_in",
            &[("AZURE_TOKEN_CREDENTIALS", "azureclicredential")],
            &[("az", Cli::NotLoggedIn), OK_AZD],
            None,
        ),
        Row {
            construct_error: true,
            ..r(
                "token_credentials_bogus",
                &[("AZURE_TOKEN_CREDENTIALS", "bogus")],
                &[OK_AZ],
                None,
            )
        },
        r(
            "partial_service_principal_falls_to_az",
            &[
                ("AZURE_TENANT_ID", "00000000-0000-0000-0000-000000000001"),
                ("AZURE_CLIENT_ID", "c"),
            ],
            &[OK_AZ],
            Some("AzureCliCredential"),
        ),
        Row {
            construct_error: true,
            ..r(
                "empty_client_secret_is_a_constructor_error",
                &[
                    ("AZURE_TENANT_ID", "00000000-0000-0000-0000-000000000001"),
                    ("AZURE_CLIENT_ID", "c"),
                    ("AZURE_CLIENT_SECRET", ""),
                ],
                &[OK_AZ],
                None,
            )
        },
        Row {
            construct_error: true,
            ..r(
                "invalid_tenant_is_a_constructor_error",
                &[
                    ("AZURE_TENANT_ID", "bad/tenant"),
                    ("AZURE_CLIENT_ID", "c"),
                    ("AZURE_CLIENT_SECRET", "s"),
                ],
                &[OK_AZ],
                None,
            )
        },
        Row {
            construct_error: true,
            ..r(
                "http_authority_is_a_constructor_error",
                &[
                    ("AZURE_TENANT_ID", "00000000-0000-0000-0000-000000000001"),
                    ("AZURE_CLIENT_ID", "c"),
                    ("AZURE_CLIENT_SECRET", "s"),
                    ("AZURE_AUTHORITY_HOST", "http://login.example.com"),
                ],
                &[OK_AZ],
                None,
            )
        },
        r(
            "identity_endpoint_without_header_falls_to_az",
            &[("IDENTITY_ENDPOINT", "http://127.0.0.1:9/msi/token")],
            &[OK_AZ],
            Some("AzureCliCredential"),
        ),
        r(
            "federated_token_file_without_tenant_falls_to_az",
            &[
                ("AZURE_FEDERATED_TOKEN_FILE", "/nonexistent/token"),
                ("AZURE_CLIENT_ID", "c"),
            ],
            &[OK_AZ],
            Some("AzureCliCredential"),
        ),
        Row {
            process_timeout: 1,
            ..r(
                "az_hangs_past_timeout_falls_to_azd",
                &[],
                &[("az", Cli::Hang), OK_AZD],
                Some("AzureDeveloperCliCredential"),
            )
        },
        Row {
            construct_error: true,
            ..r(
                "managed_identity_only_excludes_everything_else_ok",
                &[("AZURE_TOKEN_CREDENTIALS", "BrokerCredential")],
                &[OK_AZ],
                None,
            )
        },
    ]
}

async fn run_row(row: &Row) -> Result<(), String> {
    let mut tools = FakeTools::new();
    for (tool, cli) in row.tools {
        tools = tools.with(tool, cli.clone());
    }
    let imds = refused_url();
    let mut env = base_env(&tools);
    for (k, v) in row.vars {
        env.insert(k.to_string(), v.to_string());
    }
    // Python: IMDS pointed at the refusing port after construction, so the probe happens.
    let py_env = env.clone();
    let req = serde_json::json!({
        "kwargs": {"process_timeout": row.process_timeout},
        "imds_after_construct": imds,
    });
    let py = tokio::task::spawn_blocking(move || python_peer(&py_env, req))
        .await
        .unwrap();
    let py_pick = if py["ok"] == true {
        Some(py["credential"].as_str().unwrap_or("").to_string())
    } else {
        None
    };
    let py_construct_error = py["phase"] == "construct";

    let mut options = dac_options(&env, &imds);
    options.process_timeout = Duration::from_secs(row.process_timeout);
    let (our_pick, our_construct_error) = match DefaultAzureCredential::with_options(options) {
        Err(e) => {
            if !row.construct_error {
                return Err(format!("{}: unexpected constructor error {e:#}", row.name));
            }
            assert_eq!(e.kind().as_str(), "config_error");
            (None, true)
        }
        Ok(dac) => match dac.get_token_detailed(&[SCOPE], None).await {
            Ok(_) => (Some(dac.resolution().unwrap().credential), false),
            Err(e) => {
                assert!(
                    e.report().is_some(),
                    "{}: a chain error carries its report",
                    row.name
                );
                assert!(
                    e.quick_fix().is_some(),
                    "{}: a chain error carries a quick fix",
                    row.name
                );
                (None, false)
            }
        },
    };
    let expected = row.expect.map(str::to_string);
    let mut problems = Vec::new();
    if our_pick != expected || our_construct_error != row.construct_error {
        problems.push(format!(
            "ours: {our_pick:?} (construct error {our_construct_error})"
        ));
    }
    if py_pick != expected || py_construct_error != row.construct_error {
        problems.push(format!(
            "python: {py_pick:?} (construct error {py_construct_error}): {py}"
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} expected {:?}: {}",
            row.name,
            row.expect,
            problems.join("; ")
        ))
    }
}

/// At least 15 environments; ours and Python must pick the same credential.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn chain_picks_the_same_credential_as_python() {
    let rows = rows();
    assert!(rows.len() >= 15);
    let mut failures = Vec::new();
    // Rows in parallel batches (each Python start costs ~1 s).
    for chunk in rows.chunks(6) {
        let results = futures::future::join_all(chunk.iter().map(run_row)).await;
        failures.extend(results.into_iter().filter_map(Result::err));
    }
    assert!(
        failures.is_empty(),
        "chain selection differs:\n{}",
        failures.join("\n")
    );
}

#[tokio::test]
async fn no_credential_fix_names_az_login_and_the_service_principal_vars() {
    let tools = FakeTools::new();
    let e = dac(&base_env(&tools), &refused_url())
        .unwrap()
        .get_token_detailed(&[SCOPE], None)
        .await
        .unwrap_err();
    assert!(e.is_unavailable());
    assert_eq!(e.kind().as_str(), "credential_unavailable");
    let fix = e.quick_fix().unwrap();
    for needle in [
        "az login",
        "AZURE_TENANT_ID",
        "AZURE_CLIENT_ID",
        "AZURE_CLIENT_SECRET",
    ] {
        assert!(fix.contains(needle), "fix lacks {needle}: {fix}");
    }
    let report = e.report().unwrap();
    assert_eq!(report.steps.len(), 6);
    assert!(
        report
            .steps
            .iter()
            .all(|s| s.outcome == StepOutcome::Unavailable)
    );
    // Through azure_core, the identity error is recoverable.
    let az: azure_core::Error = e.clone().into();
    assert!(
        aoai_identity::IdentityError::from_azure(&az)
            .unwrap()
            .report()
            .is_some()
    );
}

/// The snapshot of a failed chain's report (times filtered).
#[tokio::test]
async fn failed_chain_report_wording() {
    let tools = FakeTools::new()
        .with("az", Cli::NotLoggedIn)
        .with("azd", Cli::NotLoggedIn);
    let imds = refused_url();
    let mut env = base_env(&tools);
    env.insert(
        "AZURE_CLIENT_ID".into(),
        "11111111-2222-3333-4444-555555555555".into(),
    );
    let e = dac(&env, &imds)
        .unwrap()
        .get_token_detailed(&[SCOPE], None)
        .await
        .unwrap_err();
    let text = format!("{e:#}")
        .replace(&tools.path().display().to_string(), "[TOOLS]")
        .replace(&imds, "http://127.0.0.1:[PORT]");
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r" +\d+(\.\d+)? ms", " [T] ms");
    settings.add_filter(r"\(os error \d+\)", "(os error)");
    settings.bind(|| insta::assert_snapshot!("failed_chain_report", text));
}

/// Requirement: with IMDS silent, DAC returns within az's own time + 100 ms.
#[tokio::test]
async fn silent_imds_costs_at_most_100ms_over_az() {
    for (label, imds) in [("blackhole", blackhole().url), ("refused", refused_url())] {
        let tools = FakeTools::new().with(
            "az",
            Cli::Ok {
                token: "az-token",
                delay_ms: 300,
            },
        );
        let dac = dac(&base_env(&tools), &imds).unwrap();
        let t0 = std::time::Instant::now();
        dac.get_token_detailed(&[SCOPE], None).await.unwrap();
        let wall = t0.elapsed();
        let report = dac.last_report().unwrap();
        let az = report.step("AzureCliCredential").unwrap();
        assert_eq!(az.outcome, StepOutcome::Used);
        assert!(az.elapsed >= Duration::from_millis(300));
        assert!(
            report.elapsed <= az.elapsed + Duration::from_millis(100),
            "{label}: chain {:?} vs az {:?}\n{report}",
            report.elapsed,
            az.elapsed
        );
        assert!(wall < Duration::from_secs(2), "{label}: {wall:?}");
        let mi = report.step("ManagedIdentityCredential").unwrap();
        assert_eq!(mi.outcome, StepOutcome::Unavailable, "{label}");
        // Remembered: the second call does not walk (or probe) again.
        dac.get_token_detailed(&[SCOPE], None).await.unwrap();
        assert_eq!(tools.calls("az").len(), 1);
    }
}

#[tokio::test]
async fn silent_imds_alone_is_bounded_by_the_probe_timeout() {
    let tools = FakeTools::new();
    let mut o = dac_options(&base_env(&tools), &blackhole().url);
    o.imds_probe_timeout = Duration::from_millis(300);
    let dac = DefaultAzureCredential::with_options(o).unwrap();
    let e = dac.get_token_detailed(&[SCOPE], None).await.unwrap_err();
    let report = e.report().unwrap();
    let mi = report.step("ManagedIdentityCredential").unwrap();
    assert_eq!(mi.outcome, StepOutcome::Unavailable);
    assert!(
        mi.reason.contains("no response from the IMDS endpoint"),
        "{}",
        mi.reason
    );
    assert!(mi.elapsed < Duration::from_secs(2), "{:?}", mi.elapsed);
}

#[tokio::test]
async fn excluded_credentials_are_reported_as_skipped() {
    let tools = FakeTools::new().with(
        "az",
        Cli::Ok {
            token: "az-token",
            delay_ms: 0,
        },
    );
    let mut env: BTreeMap<String, String> = base_env(&tools);
    env.insert("AZURE_TOKEN_CREDENTIALS".into(), "dev".into());
    let mut o = dac_options(&env, &refused_url());
    o.exclude_managed_identity_credential = Some(false);
    let dac = DefaultAzureCredential::with_options(o).unwrap();
    assert_eq!(
        dac.credential_names(),
        [
            "ManagedIdentityCredential",
            "AzureCliCredential",
            "AzurePowerShellCredential",
            "AzureDeveloperCliCredential"
        ]
    );
    dac.get_token_detailed(&[SCOPE], None).await.unwrap();
    let r = dac.resolution().unwrap();
    assert_eq!(r.credential, "AzureCliCredential");
    assert!(
        r.evidence
            .iter()
            .any(|e| e.to_string().starts_with("az at "))
    );
    let env_step = r.report.step("EnvironmentCredential").unwrap();
    assert_eq!(env_step.outcome, StepOutcome::Skipped);
    assert_eq!(env_step.reason, "excluded by AZURE_TOKEN_CREDENTIALS=dev");
    assert_eq!(
        r.report.selection.as_deref(),
        Some("AZURE_TOKEN_CREDENTIALS=dev")
    );
}

#[tokio::test]
async fn with_env_is_hermetic() {
    // A map environment: nothing from the process (whatever the developer has set).
    let dac =
        DefaultAzureCredential::with_env(Env::empty().with("AZURE_TOKEN_CREDENTIALS", "prod"))
            .unwrap();
    assert_eq!(
        dac.credential_names(),
        [
            "EnvironmentCredential",
            "WorkloadIdentityCredential",
            "ManagedIdentityCredential"
        ]
    );
}

#[tokio::test]
async fn pod_identity_host_variable_is_probed_not_retried() {
    // How the client's diagnosis cases point IMDS at the emulator: the variable, no option.
    let tools = FakeTools::new();
    let mut env = base_env(&tools);
    env.insert("AZURE_POD_IDENTITY_AUTHORITY_HOST".into(), refused_url());
    let dac = DefaultAzureCredential::with_env(Env::from_map(env)).unwrap();
    let t0 = std::time::Instant::now();
    let e = dac.get_token_detailed(&[SCOPE], None).await.unwrap_err();
    assert!(
        t0.elapsed() < Duration::from_secs(1),
        "no connect-retry schedule: {:?}",
        t0.elapsed()
    );
    assert_eq!(e.kind().as_str(), "credential_unavailable");
    assert!(
        e.report()
            .unwrap()
            .step("ManagedIdentityCredential")
            .unwrap()
            .reason
            .contains("no response from the IMDS endpoint")
    );
}
