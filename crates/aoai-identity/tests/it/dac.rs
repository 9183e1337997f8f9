//! DefaultAzureCredential against the recording fake: single-flight, ForceRefresh, background
//! refresh with a manual clock, hard failures that stop the chain, the chain table for identity
//! endpoints (vs Python), and no secret in logs.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aoai_identity::{
    Env, EnvironmentCredential, EnvironmentCredentialOptions, ForceRefresh, ManualClock,
};
use azure_core::credentials::{TokenCredential, TokenRequestOptions};

use crate::fake_idp::*;
use crate::support::*;

fn sp_env(idp: &FakeIdp, tools: &FakeTools, secret: &str) -> BTreeMap<String, String> {
    let mut env = base_env(tools);
    env.insert("AZURE_TENANT_ID".into(), TENANT.into());
    env.insert("AZURE_CLIENT_ID".into(), CLIENT_ID.into());
    env.insert("AZURE_CLIENT_SECRET".into(), secret.into());
    env.insert("AZURE_AUTHORITY_HOST".into(), idp.url.clone());
    env
}

fn token_posts(idp: &FakeIdp) -> usize {
    idp.journal().iter().filter(|r| r.method == "POST").count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thousand_concurrent_callers_make_one_request() {
    let idp = FakeIdp::start_with(
        false,
        Behaviour {
            delay_ms: 100,
            ..Default::default()
        },
    );
    let tools = FakeTools::new();
    let dac = dac(&sp_env(&idp, &tools, CLIENT_SECRET), &refused_url()).unwrap();
    let mut tasks = Vec::new();
    for _ in 0..1000 {
        let dac = dac.clone();
        tasks.push(tokio::spawn(async move {
            dac.get_token(&[SCOPE], None)
                .await
                .map(|t| t.token.secret().to_string())
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), "entra-token");
    }
    assert_eq!(token_posts(&idp), 1, "{:?}", idp.journal());
}

#[tokio::test]
async fn force_refresh_goes_to_the_network_through_the_chain() {
    let idp = FakeIdp::start(false);
    let tools = FakeTools::new();
    let dac = dac(&sp_env(&idp, &tools, CLIENT_SECRET), &refused_url()).unwrap();
    dac.get_token(&[SCOPE], None).await.unwrap();
    dac.get_token(&[SCOPE], None).await.unwrap();
    assert_eq!(token_posts(&idp), 1);
    let mut o = TokenRequestOptions::default();
    o.method_options.context.insert(ForceRefresh);
    dac.get_token(&[SCOPE], Some(o)).await.unwrap();
    assert_eq!(token_posts(&idp), 2);
}

#[tokio::test]
async fn background_refresh_with_a_manual_clock() {
    let idp = FakeIdp::start(false);
    let tools = FakeTools::new();
    let clock = ManualClock::starting_now();
    let cred = EnvironmentCredential::new(EnvironmentCredentialOptions {
        env: Env::from_map(sp_env(&idp, &tools, CLIENT_SECRET)),
        clock: Some(Arc::new(clock.clone())),
        ..Default::default()
    })
    .unwrap();
    let first = cred.get_token_detailed(&[SCOPE], None).await.unwrap();
    clock.advance(time::Duration::seconds(3599 - 240)); // 4 minutes left
    // The caller gets the cached token at once (never waits on the refresh)...
    let again = futures::FutureExt::now_or_never(cred.get_token_detailed(&[SCOPE], None))
        .expect("no caller waits for a background refresh")
        .unwrap();
    assert_eq!(again.expires_on, first.expires_on);
    // ...and the refresh runs in the background.
    let start = std::time::Instant::now();
    while token_posts(&idp) < 2 {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "the background refresh never ran"
        );
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn wrong_secret_stops_the_chain_with_the_fix() {
    let idp = FakeIdp::start(false);
    let tools = FakeTools::new().with(
        "az",
        Cli::Ok {
            token: "az-token",
            delay_ms: 0,
        },
    );
    let dac = dac(&sp_env(&idp, &tools, "not-the-secret"), &refused_url()).unwrap();
    let err = dac.get_token_detailed(&[SCOPE], None).await.unwrap_err();
    assert!(!err.is_unavailable());
    assert_eq!(err.kind().as_str(), "authentication_error");
    assert_eq!(err.code(), Some("AADSTS7000215"));
    assert!(
        err.quick_fix().unwrap().contains("AZURE_CLIENT_SECRET"),
        "{:?}",
        err.quick_fix()
    );
    let report = err.report().unwrap();
    assert_eq!(report.failed().unwrap().credential, "EnvironmentCredential");
    assert_eq!(
        report.steps.len(),
        1,
        "the chain stops at the failing credential"
    );
    assert!(
        tools.calls("az").is_empty(),
        "az is never run after a hard failure"
    );
    // Through azure_core the kind and the fix survive.
    let az_err: azure_core::Error = err.clone().into();
    assert_eq!(*az_err.kind(), azure_core::error::ErrorKind::Credential);
    let back = az_err
        .downcast_ref::<aoai_identity::IdentityError>()
        .unwrap();
    assert_eq!(back.kind().as_str(), "authentication_error");
    assert!(!format!("{back:#}{back:?}").contains("not-the-secret"));
}

#[tokio::test]
async fn the_diagnosis_catalogue_entra_cases() {
    // service-principal-wrong-secret and principal-without-role use AZURE_AUTHORITY_HOST={emulator}
    // (plain http on loopback, accepted for local emulators).
    let idp = FakeIdp::start(false);
    let tools = FakeTools::new();
    let ok = dac(&sp_env(&idp, &tools, CLIENT_SECRET), &refused_url()).unwrap();
    assert_eq!(
        ok.get_token_detailed(&[SCOPE], None)
            .await
            .unwrap()
            .access_token
            .secret(),
        "entra-token"
    );
    assert_eq!(ok.resolution().unwrap().credential, "EnvironmentCredential");
    // no-credential-anywhere: IMDS refused, no CLI.
    let none = dac(&base_env(&tools), &refused_url()).unwrap();
    let e = none.get_token_detailed(&[SCOPE], None).await.unwrap_err();
    assert_eq!(e.kind().as_str(), "credential_unavailable");
    assert!(e.quick_fix().unwrap().contains("az login"));
}

/// Chain selection for identity endpoints, ours vs Python, on the same fakes.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn chain_picks_the_same_credential_as_python_with_endpoints() {
    let tls = FakeIdp::start(true);
    let plain = FakeIdp::start(false);
    let tools = FakeTools::new().with(
        "az",
        Cli::Ok {
            token: "az-token",
            delay_ms: 0,
        },
    );
    let token_file = tools.path().join("sa-token");
    std::fs::write(&token_file, "k8s-token").unwrap();
    let sp = |secret: &str| -> Vec<(String, String)> {
        vec![
            ("AZURE_TENANT_ID".into(), TENANT.into()),
            ("AZURE_CLIENT_ID".into(), CLIENT_ID.into()),
            ("AZURE_CLIENT_SECRET".into(), secret.into()),
            ("AZURE_AUTHORITY_HOST".into(), tls.url.clone()),
        ]
    };
    let wi = vec![
        ("AZURE_TENANT_ID".to_string(), TENANT.to_string()),
        ("AZURE_CLIENT_ID".into(), CLIENT_ID.into()),
        (
            "AZURE_FEDERATED_TOKEN_FILE".into(),
            token_file.display().to_string(),
        ),
        ("AZURE_AUTHORITY_HOST".into(), tls.url.clone()),
    ];
    let app_service = vec![
        (
            "IDENTITY_ENDPOINT".to_string(),
            format!("{}/msi/token", plain.url),
        ),
        ("IDENTITY_HEADER".into(), APP_SERVICE_HEADER.into()),
    ];
    let mut wi_mi_only = wi.clone();
    wi_mi_only.push((
        "AZURE_TOKEN_CREDENTIALS".into(),
        "ManagedIdentityCredential".into(),
    ));
    // (name, vars, IMDS url, expected pick)
    type EndpointRow<'a> = (&'a str, Vec<(String, String)>, String, Option<&'a str>);
    let rows: Vec<EndpointRow> = vec![
        (
            "service_principal_secret",
            sp(CLIENT_SECRET),
            refused_url(),
            Some("EnvironmentCredential"),
        ),
        (
            "service_principal_wrong_secret_stops",
            sp("wrong"),
            refused_url(),
            None,
        ),
        (
            "workload_identity",
            wi.clone(),
            refused_url(),
            Some("WorkloadIdentityCredential"),
        ),
        (
            "app_service_before_az",
            app_service,
            refused_url(),
            Some("ManagedIdentityCredential"),
        ),
        (
            "cloud_shell_before_az",
            vec![(
                "MSI_ENDPOINT".into(),
                format!("{}/cloudshell/token", plain.url),
            )],
            refused_url(),
            Some("ManagedIdentityCredential"),
        ),
        (
            "imds_answers_before_az",
            vec![],
            plain.url.clone(),
            Some("ManagedIdentityCredential"),
        ),
        (
            "mi_only_uses_imds_not_workload_identity",
            wi_mi_only,
            plain.url.clone(),
            Some("ManagedIdentityCredential"),
        ),
    ];
    let mut failures = Vec::new();
    for (name, vars, imds, expect) in rows {
        let mut env = base_env(&tools);
        env.extend(vars);
        let mut py_env = env.clone();
        py_env.insert(
            "REQUESTS_CA_BUNDLE".into(),
            tls.ca_file.as_ref().unwrap().display().to_string(),
        );
        let req = serde_json::json!({"imds_after_construct": imds});
        let py = tokio::task::spawn_blocking(move || python_peer(&py_env, req))
            .await
            .unwrap();
        let py_pick = (py["ok"] == true).then(|| py["credential"].as_str().unwrap().to_string());
        env.insert(
            "AOAI_IDENTITY_EXTRA_CA_FILE".into(),
            tls.ca_file.as_ref().unwrap().display().to_string(),
        );
        let d = dac(&env, &imds).unwrap();
        let ours = match d.get_token_detailed(&[SCOPE], None).await {
            Ok(_) => Some(d.resolution().unwrap().credential),
            Err(_) => None,
        };
        let expect = expect.map(str::to_string);
        if ours != expect || py_pick != expect {
            failures.push(format!(
                "{name}: expected {expect:?}, ours {ours:?}, python {py_pick:?} ({py})"
            ));
        }
        if name == "mi_only_uses_imds_not_workload_identity" {
            let last = plain.journal();
            assert!(
                last.iter()
                    .any(|r| r.path == "/metadata/identity/oauth2/token"),
                "IMDS, not token exchange"
            );
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A writer collecting every log line (all targets, TRACE).
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn no_secret_in_trace_logs_debug_or_errors() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    // Other tests of this binary hit the same callsites on other threads: recompute every
    // callsite's interest now that this thread's subscriber exists, so none stays "never".
    tracing::callsite::rebuild_interest_cache();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let idp = FakeIdp::start(false);
    let tools = FakeTools::new();
    let mut texts = Vec::new();
    rt.block_on(async {
        // Success, then a wrong secret, then App Service with its header secret.
        let good = dac(&sp_env(&idp, &tools, CLIENT_SECRET), &refused_url()).unwrap();
        let t = good.get_token_detailed(&[SCOPE], None).await.unwrap();
        texts.push(format!("{good:?} {t:?} {:?}", good.last_report()));
        let bad = dac(&sp_env(&idp, &tools, "wrong-secret-value"), &refused_url()).unwrap();
        let e = bad.get_token_detailed(&[SCOPE], None).await.unwrap_err();
        texts.push(format!("{e} {e:#} {e:?} {bad:?}"));
        let mut env = base_env(&tools);
        env.insert("IDENTITY_ENDPOINT".into(), format!("{}/msi/token", idp.url));
        env.insert("IDENTITY_HEADER".into(), APP_SERVICE_HEADER.into());
        let mi = dac(&env, &refused_url()).unwrap();
        mi.get_token_detailed(&[SCOPE], None).await.unwrap();
        texts.push(format!("{mi:?} {:?}", mi.last_report()));
    });
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("DefaultAzureCredential"),
        "the capture works: {logs}"
    );
    let all = format!("{logs}\n{}", texts.join("\n"));
    for secret in [
        CLIENT_SECRET,
        "wrong-secret-value",
        APP_SERVICE_HEADER,
        "entra-token",
        "app-service-token",
    ] {
        assert_no_secret(&all, secret);
    }
}

#[tokio::test]
async fn service_fabric_pins_the_server_certificate() {
    let idp = FakeIdp::start(true);
    let tools = FakeTools::new();
    let cred = |thumbprint: &str| {
        let mut env = base_env(&tools);
        env.insert("IDENTITY_ENDPOINT".into(), format!("{}/sf/token", idp.url));
        env.insert("IDENTITY_HEADER".into(), APP_SERVICE_HEADER.into());
        env.insert("IDENTITY_SERVER_THUMBPRINT".into(), thumbprint.into());
        let mut o = aoai_identity::ManagedIdentityCredentialOptions {
            env: Env::from_map(env),
            ..Default::default()
        };
        o.client.retry = aoai_identity::RetryOptions::none();
        aoai_identity::ManagedIdentityCredential::new(o).unwrap()
    };
    let good = cred(idp.leaf_sha1.as_deref().unwrap());
    assert_eq!(good.source_name(), "Service Fabric");
    assert_eq!(
        good.get_token_detailed(&[SCOPE], None)
            .await
            .unwrap()
            .access_token
            .secret(),
        "sf-token"
    );
    let r = &idp.journal()[0];
    assert_eq!(
        r.query,
        [
            ("api-version".to_string(), "2019-07-01-preview".to_string()),
            (
                "resource".into(),
                "https://cognitiveservices.azure.com".into()
            )
        ]
    );
    idp.clear();
    let bad = cred(&"ab".repeat(20));
    let e = bad.get_token_detailed(&[SCOPE], None).await.unwrap_err();
    assert!(!e.is_unavailable(), "{e:?}");
    assert!(
        idp.journal().is_empty(),
        "the secret header never reaches a server with another certificate"
    );
}

#[tokio::test]
async fn workload_identity_rereads_the_token_file_after_600s() {
    let idp = FakeIdp::start(false);
    let tools = FakeTools::new();
    let file = tools.path().join("sa-token");
    std::fs::write(&file, "first").unwrap();
    let mut env = base_env(&tools);
    env.insert("AZURE_TENANT_ID".into(), TENANT.into());
    env.insert("AZURE_CLIENT_ID".into(), CLIENT_ID.into());
    env.insert(
        "AZURE_FEDERATED_TOKEN_FILE".into(),
        file.display().to_string(),
    );
    env.insert("AZURE_AUTHORITY_HOST".into(), idp.url.clone());
    let clock = ManualClock::starting_now();
    let cred = aoai_identity::WorkloadIdentityCredential::new(
        aoai_identity::WorkloadIdentityCredentialOptions {
            env: Env::from_map(env),
            clock: Some(Arc::new(clock.clone())),
            ..Default::default()
        },
    )
    .unwrap();
    let mut force = TokenRequestOptions::default();
    force.method_options.context.insert(ForceRefresh);
    cred.get_token_detailed(&[SCOPE], None).await.unwrap();
    std::fs::write(&file, "second").unwrap();
    clock.advance(time::Duration::seconds(300));
    cred.get_token_detailed(&[SCOPE], Some(&force))
        .await
        .unwrap();
    clock.advance(time::Duration::seconds(400));
    cred.get_token_detailed(&[SCOPE], Some(&force))
        .await
        .unwrap();
    let sent: Vec<String> = idp
        .journal()
        .iter()
        .filter_map(|r| r.form_value("client_assertion").map(str::to_string))
        .collect();
    assert_eq!(sent, ["first", "first", "second"]);
}

#[tokio::test]
async fn username_password_is_refused_with_a_fix() {
    let tools = FakeTools::new();
    let mut env = base_env(&tools);
    env.insert("AZURE_CLIENT_ID".into(), CLIENT_ID.into());
    env.insert("AZURE_USERNAME".into(), "user@contoso.com".into());
    env.insert("AZURE_PASSWORD".into(), "p@ss-secret".into());
    let e = dac(&env, &refused_url())
        .unwrap()
        .get_token_detailed(&[SCOPE], None)
        .await
        .unwrap_err();
    assert!(!e.is_unavailable());
    assert_eq!(e.kind().as_str(), "config_error");
    assert!(e.quick_fix().unwrap().contains("az login"));
    assert_no_secret(&format!("{e:#}{e:?}"), "p@ss-secret");
}
