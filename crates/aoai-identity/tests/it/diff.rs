//! Differential tests: the same environment is given to Python azure-identity and to our
//! credential, both against the same recording fake; the requests must match (method, path,
//! query, form fields, required headers; nonces and times aside).
//!
//! Requests we intentionally do not make: MSAL's OIDC discovery GET
//! (`/{tenant}/v2.0/.well-known/openid-configuration`) before the secret and certificate token
//! POSTs. Its only use is to learn the token endpoint, which is `/{tenant}/oauth2/v2.0/token` in
//! every Entra cloud, so we POST there directly (one round trip less per cold start). MSAL's
//! instance discovery (a GET to login.microsoftonline.com for unknown authorities) is never made
//! either; the peer runs with `disable_instance_discovery=True`.

use std::collections::BTreeMap;

use aoai_identity::{
    ClientOptions, DefaultAzureCredential, Env, EnvironmentCredential,
    EnvironmentCredentialOptions, ManagedIdentityCredential, ManagedIdentityCredentialOptions,
    WorkloadIdentityCredential, WorkloadIdentityCredentialOptions,
};
use base64::Engine;

use crate::fake_idp::*;
use crate::support::*;

/// The comparable part of a request.
#[derive(Debug, PartialEq, Eq)]
struct Shape {
    method: String,
    path: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    form: Vec<(String, String)>,
}

const VARIABLE_FORM_FIELDS: &[&str] = &["client_assertion"];

fn shape(r: &Recorded, required_headers: &[&str]) -> Shape {
    Shape {
        method: r.method.clone(),
        path: r.path.clone(),
        query: r.query.clone(),
        headers: required_headers
            .iter()
            .filter_map(|h| {
                r.header(h)
                    .map(|v| (h.to_string(), v.split(';').next().unwrap_or("").to_string()))
            })
            .collect(),
        form: r
            .form
            .iter()
            .filter(|(k, _)| k != "client_info")
            .map(|(k, v)| {
                (
                    k.clone(),
                    if VARIABLE_FORM_FIELDS.contains(&k.as_str()) {
                        "<variable>".into()
                    } else {
                        v.clone()
                    },
                )
            })
            .collect(),
    }
}

fn shapes(journal: &[Recorded], required_headers: &[&str]) -> Vec<Shape> {
    journal.iter().map(|r| shape(r, required_headers)).collect()
}

fn is_discovery(r: &Recorded) -> bool {
    r.path.ends_with("/v2.0/.well-known/openid-configuration")
}

/// Runs the peer with `env` (+ the CA for TLS fakes), then `ours`, and returns both journals.
async fn both<F, Fut>(
    idp: &FakeIdp,
    env: &BTreeMap<String, String>,
    request: serde_json::Value,
    ours: F,
) -> (Vec<Recorded>, Vec<Recorded>)
where
    F: FnOnce(BTreeMap<String, String>) -> Fut,
    Fut: std::future::Future<Output = String>,
{
    let mut py_env = env.clone();
    if let Some(ca) = &idp.ca_file {
        py_env.insert("REQUESTS_CA_BUNDLE".into(), ca.display().to_string());
        py_env.insert("SSL_CERT_FILE".into(), ca.display().to_string());
    }
    idp.clear();
    let py = tokio::task::spawn_blocking(move || python_peer(&py_env, request))
        .await
        .unwrap();
    assert_eq!(py["ok"], true, "the Python peer failed: {py}");
    let py_journal = idp.journal();
    idp.clear();
    let mut our_env = env.clone();
    if let Some(ca) = &idp.ca_file {
        // Our documented test hook for extra roots (ClientOptions::extra_root_ca_pem is the API form).
        our_env.insert(
            "AOAI_IDENTITY_EXTRA_CA_FILE".into(),
            ca.display().to_string(),
        );
    }
    let token = ours(our_env).await;
    assert_eq!(
        token,
        py["token"].as_str().unwrap(),
        "same token from the same fake"
    );
    (py_journal, idp.journal())
}

fn sp_env(idp: &FakeIdp, tools: &FakeTools) -> BTreeMap<String, String> {
    let mut env = base_env(tools);
    env.insert("AZURE_TENANT_ID".into(), TENANT.into());
    env.insert("AZURE_CLIENT_ID".into(), CLIENT_ID.into());
    env.insert("AZURE_AUTHORITY_HOST".into(), idp.url.clone());
    env
}

async fn env_credential_token(env: BTreeMap<String, String>) -> String {
    let cred = EnvironmentCredential::new(EnvironmentCredentialOptions {
        env: Env::from_map(env),
        ..Default::default()
    })
    .expect("configured");
    cred.get_token_detailed(&[SCOPE], None)
        .await
        .expect("token")
        .access_token
        .secret()
        .to_string()
}

#[tokio::test]
async fn client_secret_requests_match_python() {
    let idp = FakeIdp::start(true);
    let tools = FakeTools::new();
    let mut env = sp_env(&idp, &tools);
    env.insert("AZURE_CLIENT_SECRET".into(), CLIENT_SECRET.into());
    let (py, ours) = both(
        &idp,
        &env,
        serde_json::json!({"credential": "EnvironmentCredential"}),
        env_credential_token,
    )
    .await;
    assert!(is_discovery(&py[0]), "MSAL discovers first: {py:?}");
    let py_posts: Vec<_> = py.iter().filter(|r| !is_discovery(r)).cloned().collect();
    let h = ["content-type"];
    assert_eq!(shapes(&ours, &h), shapes(&py_posts, &h));
    assert_eq!(ours[0].form_value("client_secret"), Some(CLIENT_SECRET));
    assert_eq!(ours[0].form_value("client_info"), Some("1"));
    assert_eq!(ours.len(), 1, "no discovery request from us");
}

/// The test certificate (RSA 2048, self-signed) as PEM and as a password-protected PKCS#12,
/// made by the peer's own `cryptography` package.
fn make_certificates(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let pem = dir.join("cert.pem");
    let pfx = dir.join("cert.pfx");
    let script = format!(
        r#"
import datetime
from cryptography import x509
from cryptography.x509.oid import NameOID
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "aoai-identity test sp")])
now = datetime.datetime.now(datetime.timezone.utc)
cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30)).sign(key, hashes.SHA256()))
with open(r"{pem}", "wb") as f:
    f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    f.write(cert.public_bytes(serialization.Encoding.PEM))
with open(r"{pfx}", "wb") as f:
    f.write(pkcs12.serialize_key_and_certificates(b"sp", key, cert, None, serialization.BestAvailableEncryption(b"pfx-password")))
"#,
        pem = pem.display(),
        pfx = pfx.display()
    );
    let out = std::process::Command::new(python())
        .arg("-c")
        .arg(script)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (pem, pfx)
}

fn jwt_parts(jwt: &str) -> (serde_json::Value, serde_json::Value) {
    let mut it = jwt.split('.');
    let dec = |s: &str| -> serde_json::Value {
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(s)
                .unwrap(),
        )
        .unwrap()
    };
    let h = dec(it.next().unwrap());
    let c = dec(it.next().unwrap());
    (h, c)
}

/// Verifies the RS256 signature of `jwt` with the certificate's public key (done by Python's
/// `cryptography`, independently of our signing code).
fn verify_with_python(jwt: &str, cert_pem: &std::path::Path) {
    let script = format!(
        r#"
import base64, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
cert = x509.load_pem_x509_certificate(open(r"{p}", "rb").read())
h, c, s = sys.argv[1].split(".")
sig = base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
cert.public_key().verify(sig, (h + "." + c).encode(), padding.PKCS1v15(), hashes.SHA256())
print("ok")
"#,
        p = cert_pem.display()
    );
    let out = std::process::Command::new(python())
        .arg("-c")
        .arg(script)
        .arg(jwt)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "signature does not verify: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn certificate_case(use_pfx: bool) {
    let idp = FakeIdp::start(true);
    let tools = FakeTools::new();
    let (pem, pfx) = make_certificates(tools.path());
    let mut env = sp_env(&idp, &tools);
    if use_pfx {
        env.insert(
            "AZURE_CLIENT_CERTIFICATE_PATH".into(),
            pfx.display().to_string(),
        );
        env.insert(
            "AZURE_CLIENT_CERTIFICATE_PASSWORD".into(),
            "pfx-password".into(),
        );
    } else {
        env.insert(
            "AZURE_CLIENT_CERTIFICATE_PATH".into(),
            pem.display().to_string(),
        );
    }
    let (py, ours) = both(
        &idp,
        &env,
        serde_json::json!({"credential": "EnvironmentCredential"}),
        env_credential_token,
    )
    .await;
    let py_posts: Vec<_> = py.iter().filter(|r| !is_discovery(r)).cloned().collect();
    let h = ["content-type"];
    assert_eq!(shapes(&ours, &h), shapes(&py_posts, &h));
    let (py_h, py_c) = jwt_parts(py_posts[0].form_value("client_assertion").unwrap());
    let our_jwt = ours[0].form_value("client_assertion").unwrap();
    let (our_h, our_c) = jwt_parts(our_jwt);
    assert_eq!(our_h, py_h, "identical JWT header (alg, typ, padded x5t)");
    assert!(
        our_h["x5t"].as_str().unwrap().ends_with('='),
        "x5t is padded"
    );
    for k in ["aud", "iss", "sub"] {
        assert_eq!(our_c[k], py_c[k], "claim {k}");
    }
    let keys = |c: &serde_json::Value| {
        let mut k: Vec<String> = c.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&our_c), keys(&py_c));
    let lifetime = our_c["exp"].as_f64().unwrap() - our_c["iat"].as_f64().unwrap();
    assert!((lifetime - 600.0).abs() < 0.01, "exp = iat + 600");
    assert!(our_c["iat"].is_f64(), "fractional iat as MSAL sends it");
    verify_with_python(our_jwt, &pem);
}

#[tokio::test]
async fn certificate_pem_requests_match_python() {
    certificate_case(false).await;
}

#[tokio::test]
async fn certificate_pkcs12_requests_match_python() {
    certificate_case(true).await;
}

#[tokio::test]
async fn workload_identity_requests_match_python() {
    let idp = FakeIdp::start(true);
    let tools = FakeTools::new();
    let file = tools.path().join("sa-token");
    std::fs::write(&file, "eyJhbGciOiJSUzI1NiJ9.fake-k8s-sa-token.sig\n").unwrap();
    let mut env = sp_env(&idp, &tools);
    env.insert(
        "AZURE_FEDERATED_TOKEN_FILE".into(),
        file.display().to_string(),
    );
    let (py, ours) = both(
        &idp,
        &env,
        serde_json::json!({"credential": "WorkloadIdentityCredential"}),
        |env| async move {
            let c = WorkloadIdentityCredential::new(WorkloadIdentityCredentialOptions {
                env: Env::from_map(env),
                ..Default::default()
            })
            .unwrap();
            c.get_token_detailed(&[SCOPE], None)
                .await
                .unwrap()
                .access_token
                .secret()
                .to_string()
        },
    )
    .await;
    let h = ["content-type"];
    assert_eq!(shapes(&ours, &h), shapes(&py, &h));
    assert_eq!(
        ours[0].form_value("client_assertion"),
        Some("eyJhbGciOiJSUzI1NiJ9.fake-k8s-sa-token.sig\n"),
        "sent verbatim"
    );
}

async fn mi_token(env: BTreeMap<String, String>, arc_dir: Option<std::path::PathBuf>) -> String {
    let c = ManagedIdentityCredential::new(ManagedIdentityCredentialOptions {
        env: Env::from_map(env),
        arc_key_directory: arc_dir,
        ..Default::default()
    })
    .unwrap();
    c.get_token_detailed(&[SCOPE], None)
        .await
        .unwrap()
        .access_token
        .secret()
        .to_string()
}

#[tokio::test]
async fn imds_requests_match_python() {
    let idp = FakeIdp::start(false);
    let tools = FakeTools::new();
    let mut env = base_env(&tools);
    env.insert("AZURE_POD_IDENTITY_AUTHORITY_HOST".into(), idp.url.clone());
    let (py, ours) = both(
        &idp,
        &env,
        serde_json::json!({"credential": "ManagedIdentityCredential"}),
        |e| mi_token(e, None),
    )
    .await;
    let h = ["metadata"];
    assert_eq!(shapes(&ours, &h), shapes(&py, &h));
    assert_eq!(ours.len(), 1);
}

#[tokio::test]
async fn imds_probe_and_user_assigned_id_in_dac_match_python() {
    let idp = FakeIdp::start(false);
    let tools = FakeTools::new();
    let mut env = base_env(&tools);
    env.insert(
        "AZURE_CLIENT_ID".into(),
        "dddddddd-0000-0000-0000-000000000000".into(),
    );
    let request = serde_json::json!({"imds_after_construct": idp.url});
    let url = idp.url.clone();
    let (py, ours) = both(&idp, &env, request, |e| async move {
        let dac = DefaultAzureCredential::with_options(dac_options(&e, &url)).unwrap();
        let t = dac.get_token_detailed(&[SCOPE], None).await.unwrap();
        assert_eq!(
            dac.resolution().unwrap().credential,
            "ManagedIdentityCredential"
        );
        t.access_token.secret().to_string()
    })
    .await;
    let h = ["metadata"];
    assert_eq!(shapes(&ours, &h), shapes(&py, &h));
    assert_eq!(
        ours.len(),
        2,
        "probe (no Metadata header) then the token request"
    );
    assert_eq!(ours[0].header("metadata"), None);
    assert!(ours[1].query.contains(&(
        "client_id".into(),
        "dddddddd-0000-0000-0000-000000000000".into()
    )));
}

#[tokio::test]
async fn app_service_requests_match_python() {
    let idp = FakeIdp::start(false);
    let tools = FakeTools::new();
    let mut env = base_env(&tools);
    env.insert("IDENTITY_ENDPOINT".into(), format!("{}/msi/token", idp.url));
    env.insert("IDENTITY_HEADER".into(), APP_SERVICE_HEADER.into());
    let (py, ours) = both(
        &idp,
        &env,
        serde_json::json!({"credential": "ManagedIdentityCredential"}),
        |e| mi_token(e, None),
    )
    .await;
    let h = ["metadata", "x-identity-header"];
    assert_eq!(shapes(&ours, &h), shapes(&py, &h));
}

#[tokio::test]
async fn azure_arc_requests_match_python() {
    let idp = FakeIdp::start(false);
    // MSAL reads the key from its fixed directory; we are pointed at the fake's copy.
    let fixed = std::path::Path::new("/var/opt/azcmagent/tokens");
    if std::fs::create_dir_all(fixed)
        .and_then(|_| std::fs::write(fixed.join("abc123.key"), ARC_KEY))
        .is_err()
    {
        panic!(
            "this test needs write access to /var/opt/azcmagent/tokens for the Python peer (MSAL's fixed Arc key directory)"
        );
    }
    let tools = FakeTools::new();
    let mut env = base_env(&tools);
    env.insert("IDENTITY_ENDPOINT".into(), format!("{}/arc/token", idp.url));
    env.insert("IMDS_ENDPOINT".into(), idp.url.clone());
    let dir = idp.arc_key_dir.clone();
    let (py, ours) = both(
        &idp,
        &env,
        serde_json::json!({"credential": "ManagedIdentityCredential"}),
        |e| mi_token(e, Some(dir)),
    )
    .await;
    let h = ["metadata", "authorization"];
    assert_eq!(shapes(&ours, &h), shapes(&py, &h));
    assert_eq!(ours.len(), 2, "challenge, then the request with the key");
}

#[tokio::test]
async fn cloud_shell_requests_match_python() {
    let idp = FakeIdp::start(false);
    let tools = FakeTools::new();
    let mut env = base_env(&tools);
    env.insert(
        "MSI_ENDPOINT".into(),
        format!("{}/cloudshell/token", idp.url),
    );
    let (py, ours) = both(
        &idp,
        &env,
        serde_json::json!({"credential": "ManagedIdentityCredential"}),
        |e| mi_token(e, None),
    )
    .await;
    let h = ["metadata", "content-type"];
    assert_eq!(shapes(&ours, &h), shapes(&py, &h));
}

#[tokio::test]
async fn azure_ml_requests_match_python() {
    let idp = FakeIdp::start(false);
    let tools = FakeTools::new();
    let mut env = base_env(&tools);
    env.insert("MSI_ENDPOINT".into(), format!("{}/ml/token", idp.url));
    env.insert("MSI_SECRET".into(), ML_SECRET.into());
    let (py, ours) = both(
        &idp,
        &env,
        serde_json::json!({"credential": "ManagedIdentityCredential"}),
        |e| mi_token(e, None),
    )
    .await;
    let h = ["secret"];
    assert_eq!(shapes(&ours, &h), shapes(&py, &h));
}

#[tokio::test]
async fn extra_root_ca_option_works_like_the_env_hook() {
    let idp = FakeIdp::start(true);
    let tools = FakeTools::new();
    let mut env = sp_env(&idp, &tools);
    env.insert("AZURE_CLIENT_SECRET".into(), CLIENT_SECRET.into());
    let opts = |pem: Option<Vec<u8>>| EnvironmentCredentialOptions {
        env: Env::from_map(env.clone()),
        client: ClientOptions {
            extra_root_ca_pem: pem,
            retry: aoai_identity::RetryOptions::none(),
            ..Default::default()
        },
        ..Default::default()
    };
    let without = EnvironmentCredential::new(opts(None))
        .unwrap()
        .get_token_detailed(&[SCOPE], None)
        .await;
    let e = without.expect_err("the fake's CA is not trusted by default");
    assert_eq!(e.kind().as_str(), "network_error");
    let with =
        EnvironmentCredential::new(opts(idp.ca_pem.clone().map(String::into_bytes))).unwrap();
    assert_eq!(
        with.get_token_detailed(&[SCOPE], None)
            .await
            .unwrap()
            .access_token
            .secret(),
        "entra-token"
    );
}
