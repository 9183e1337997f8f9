//! Differential tests: the same environment is given to Python azure-identity and to our
//! credential, both against the same emulator (`aoai_emulator`, its Entra and managed-identity
//! stand-ins); the requests in its journal must match (method, path, query, form field names and
//! non-secret values, required headers). Secrets are masked in the journal, so for them the
//! presence is compared; that they were right is shown by the emulator answering with a token,
//! which is verified with the emulator's issuer for both sides (same app id, object id, audience).
//!
//! Certificate and workload identity requests also pass through a [`Tap`] (a recording TLS
//! pass-through in front of the emulator), because the journal masks `client_assertion` on
//! purpose and these tests compare the assertion itself: JWT header (`alg`, `typ`, `x5t`) and
//! claims (`aud`, `iss`, `sub`; nonces and times aside), or the federated token as sent.
//!
//! Requests we intentionally do not make: MSAL's OIDC discovery GET
//! (`/{tenant}/v2.0/.well-known/openid-configuration`) before the secret and certificate token
//! POSTs. Its only use is to learn the token endpoint, which is `/{tenant}/oauth2/v2.0/token` in
//! every Entra cloud, so we POST there directly (one round trip less per cold start). MSAL's
//! instance discovery (a GET to login.microsoftonline.com for unknown authorities) is never made
//! either; the peer runs with `disable_instance_discovery=True`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use aoai_emulator::entra::{EntraConfig, PrincipalConfig};
use aoai_emulator::{Emulator, EmulatorConfig, EmulatorHandle, JournalEntry};
use aoai_identity::{
    ClientOptions, DefaultAzureCredential, Env, EnvironmentCredential,
    EnvironmentCredentialOptions, ManagedIdentityCredential, ManagedIdentityCredentialOptions,
    WorkloadIdentityCredential, WorkloadIdentityCredentialOptions,
};
use base64::Engine;

use crate::support::*;
use crate::tap::{Tap, Tapped};

const TENANT: &str = aoai_emulator::entra::DEFAULT_TENANT;
const CLIENT_ID: &str = "diff-client";
const CLIENT_SECRET: &str = "diff-client-secret";
const IDENTITY_HEADER: &str = "diff-identity-header";
const MSI_SECRET: &str = "diff-msi-secret";
const FEDERATED_TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.fake-k8s-sa-token.sig";
/// A user-assigned identity the emulator knows (its default one).
const USER_ASSIGNED_ID: &str = "30000000-0000-0000-0000-000000000001";
/// MSAL and azure-identity accept Azure Arc key files only from this directory (on Linux).
const ARC_KEY_DIR: &str = "/var/opt/azcmagent/tokens";
/// The value the journal shows instead of a secret.
const MASKED: &str = aoai_emulator::journal::MASK;

/// An emulator for one test: TLS or not, our service principal with a secret, the federated
/// token and (when given) the certificate, the managed-identity secrets, and where Arc writes its
/// key files.
async fn emulator(
    tls: bool,
    certificate: Option<String>,
    arc_key_dir: Option<PathBuf>,
) -> EmulatorHandle {
    let mut entra = EntraConfig::default();
    entra.principals.push(PrincipalConfig {
        client_id: CLIENT_ID.into(),
        object_id: "10000000-0000-0000-0000-0000000000d1".into(),
        tenant_id: None,
        secret: Some(CLIENT_SECRET.into()),
        certificate,
        federated_token: Some(FEDERATED_TOKEN.into()),
        roles: vec![aoai_emulator::entra::OPENAI_USER.into()],
    });
    entra.identity_header = IDENTITY_HEADER.into();
    entra.msi_secret = MSI_SECRET.into();
    entra.arc_key_dir = arc_key_dir;
    Emulator::start(EmulatorConfig {
        tls,
        entra,
        ..Default::default()
    })
    .await
    .expect("start the emulator")
}

/// The comparable part of a request.
#[derive(Debug, PartialEq, Eq)]
struct Shape {
    method: String,
    path: String,
    query: BTreeMap<String, String>,
    headers: BTreeMap<String, String>,
    /// Form fields; a secret's value is the mask on both sides, so its presence is compared.
    form: BTreeMap<String, String>,
}

fn text(v: &serde_json::Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

fn header<'a>(r: &'a JournalEntry, name: &str) -> Option<&'a str> {
    r.headers.get(name).and_then(|v| v.as_str())
}

fn form_value<'a>(r: &'a JournalEntry, name: &str) -> Option<&'a str> {
    r.body.get(name).and_then(|v| v.as_str())
}

fn shape(r: &JournalEntry, required_headers: &[&str]) -> Shape {
    Shape {
        method: r.method.clone(),
        path: r.path.clone(),
        query: r.query.iter().map(|(k, v)| (k.clone(), text(v))).collect(),
        headers: required_headers
            .iter()
            .filter_map(|h| {
                header(r, h).map(|v| (h.to_string(), v.split(';').next().unwrap_or("").to_string()))
            })
            .collect(),
        form: r
            .body
            .as_object()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), text(v))).collect())
            .unwrap_or_default(),
    }
}

fn shapes(journal: &[JournalEntry], required_headers: &[&str]) -> Vec<Shape> {
    journal.iter().map(|r| shape(r, required_headers)).collect()
}

fn is_discovery(r: &JournalEntry) -> bool {
    r.path.ends_with("/v2.0/.well-known/openid-configuration")
}

/// Where the clients connect: the emulator itself, or a tap in front of it.
struct Target<'a> {
    url: String,
    ca_file: Option<PathBuf>,
    emu: &'a EmulatorHandle,
}

impl<'a> Target<'a> {
    fn emulator(emu: &'a EmulatorHandle) -> Self {
        Target {
            url: emu.url().to_string(),
            ca_file: emu.ca_pem_path().map(Path::to_path_buf),
            emu,
        }
    }

    fn tap(emu: &'a EmulatorHandle, tap: &Tap) -> Self {
        Target {
            url: tap.url.clone(),
            ca_file: Some(tap.ca_file.clone()),
            emu,
        }
    }
}

/// What one side sent: the emulator's journal (and, behind a tap, the unmasked form values).
struct Run {
    journal: Vec<JournalEntry>,
    tapped: Vec<Tapped>,
}

/// Runs the peer with `env` (+ the CA of a TLS target), then `ours`, and returns what each sent.
/// Both tokens must be the emulator's, for the same identity and audience.
async fn both<F, Fut>(
    target: &Target<'_>,
    tap: Option<&Tap>,
    env: &BTreeMap<String, String>,
    request: serde_json::Value,
    ours: F,
) -> (Run, Run)
where
    F: FnOnce(BTreeMap<String, String>) -> Fut,
    Fut: std::future::Future<Output = String>,
{
    let emu = target.emu;
    let run = |tapped: Vec<Tapped>| Run {
        journal: emu.journal(),
        tapped,
    };
    let mut py_env = env.clone();
    if let Some(ca) = &target.ca_file {
        py_env.insert("REQUESTS_CA_BUNDLE".into(), ca.display().to_string());
        py_env.insert("SSL_CERT_FILE".into(), ca.display().to_string());
    }
    emu.clear_journal();
    tap.inspect(|t| t.clear());
    let py = tokio::task::spawn_blocking(move || python_peer(&py_env, request))
        .await
        .unwrap();
    assert_eq!(py["ok"], true, "the Python peer failed: {py}");
    let py_run = run(tap.map(Tap::seen).unwrap_or_default());
    emu.clear_journal();
    tap.inspect(|t| t.clear());
    let mut our_env = env.clone();
    if let Some(ca) = &target.ca_file {
        // Our documented test hook for extra roots (ClientOptions::extra_root_ca_pem is the API form).
        our_env.insert(
            "AOAI_IDENTITY_EXTRA_CA_FILE".into(),
            ca.display().to_string(),
        );
    }
    let token = ours(our_env).await;
    let our_run = run(tap.map(Tap::seen).unwrap_or_default());
    let claims = |t: &str| {
        let c = emu
            .state()
            .issuer
            .verify(t)
            .unwrap_or_else(|e| panic!("not a token of this emulator ({e:?})"));
        (c.appid, c.oid, c.aud, c.tid)
    };
    assert_eq!(
        claims(&token),
        claims(py["token"].as_str().unwrap()),
        "tokens for the same identity and audience"
    );
    (py_run, our_run)
}

fn sp_env(authority: &str, tools: &FakeTools) -> BTreeMap<String, String> {
    let mut env = base_env(tools);
    env.insert("AZURE_TENANT_ID".into(), TENANT.into());
    env.insert("AZURE_CLIENT_ID".into(), CLIENT_ID.into());
    env.insert("AZURE_AUTHORITY_HOST".into(), authority.into());
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
    let emu = emulator(true, None, None).await;
    let tools = FakeTools::new();
    let target = Target::emulator(&emu);
    let mut env = sp_env(&target.url, &tools);
    env.insert("AZURE_CLIENT_SECRET".into(), CLIENT_SECRET.into());
    let (py, ours) = both(
        &target,
        None,
        &env,
        serde_json::json!({"credential": "EnvironmentCredential"}),
        env_credential_token,
    )
    .await;
    let (py, ours) = (py.journal, ours.journal);
    assert!(is_discovery(&py[0]), "MSAL discovers first: {py:?}");
    let py_posts: Vec<_> = py.iter().filter(|r| !is_discovery(r)).cloned().collect();
    let h = ["content-type"];
    assert_eq!(shapes(&ours, &h), shapes(&py_posts, &h));
    assert_eq!(ours.len(), 1, "no discovery request from us");
    assert_eq!(form_value(&ours[0], "client_secret"), Some(MASKED));
    assert_eq!(
        form_value(&ours[0], "grant_type"),
        Some("client_credentials")
    );
    assert_eq!(form_value(&ours[0], "scope"), Some(SCOPE));
    assert_eq!(ours[0].path, format!("/{TENANT}/oauth2/v2.0/token"));
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
    let tools = FakeTools::new();
    let (pem, pfx) = make_certificates(tools.path());
    let emu = emulator(true, Some(std::fs::read_to_string(&pem).unwrap()), None).await;
    let tap = Tap::start(emu.url(), emu.ca_pem()).await;
    let target = Target::tap(&emu, &tap);
    let mut env = sp_env(&target.url, &tools);
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
        &target,
        Some(&tap),
        &env,
        serde_json::json!({"credential": "EnvironmentCredential"}),
        env_credential_token,
    )
    .await;
    let py_posts: Vec<_> = py
        .journal
        .iter()
        .filter(|r| !is_discovery(r))
        .cloned()
        .collect();
    let h = ["content-type"];
    assert_eq!(shapes(&ours.journal, &h), shapes(&py_posts, &h));
    assert_eq!(ours.journal.len(), 1, "no discovery request from us");
    assert_eq!(
        form_value(&ours.journal[0], "client_assertion_type"),
        Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
    );
    let assertion = |run: &Run| {
        run.tapped
            .iter()
            .find_map(|t| t.form_value("client_assertion").map(str::to_string))
            .expect("a client assertion went through the tap")
    };
    let (py_h, py_c) = jwt_parts(&assertion(&py));
    let our_jwt = assertion(&ours);
    let (our_h, our_c) = jwt_parts(&our_jwt);
    assert_eq!(our_h, py_h, "identical JWT header (alg, typ, padded x5t)");
    assert_eq!(our_h["alg"], "RS256");
    assert!(
        our_h["x5t"].as_str().unwrap().ends_with('='),
        "x5t is padded"
    );
    for k in ["aud", "iss", "sub"] {
        assert_eq!(our_c[k], py_c[k], "claim {k}");
    }
    assert_eq!(
        our_c["aud"],
        format!("{}/{TENANT}/oauth2/v2.0/token", tap.url),
        "aud is the token endpoint"
    );
    assert_eq!(our_c["iss"], CLIENT_ID);
    let keys = |c: &serde_json::Value| {
        let mut k: Vec<String> = c.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&our_c), keys(&py_c));
    let lifetime = our_c["exp"].as_f64().unwrap() - our_c["iat"].as_f64().unwrap();
    assert!((lifetime - 600.0).abs() < 0.01, "exp = iat + 600");
    assert!(our_c["iat"].is_f64(), "fractional iat as MSAL sends it");
    verify_with_python(&our_jwt, &pem);
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
    let emu = emulator(true, None, None).await;
    let tap = Tap::start(emu.url(), emu.ca_pem()).await;
    let target = Target::tap(&emu, &tap);
    let tools = FakeTools::new();
    let file = tools.path().join("sa-token");
    std::fs::write(&file, format!("{FEDERATED_TOKEN}\n")).unwrap();
    let mut env = sp_env(&target.url, &tools);
    env.insert(
        "AZURE_FEDERATED_TOKEN_FILE".into(),
        file.display().to_string(),
    );
    let (py, ours) = both(
        &target,
        Some(&tap),
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
    assert_eq!(shapes(&ours.journal, &h), shapes(&py.journal, &h));
    assert_eq!(
        form_value(&ours.journal[0], "client_assertion"),
        Some(MASKED)
    );
    let sent = |run: &Run| -> Vec<String> {
        run.tapped
            .iter()
            .filter_map(|t| t.form_value("client_assertion").map(str::to_string))
            .collect()
    };
    assert_eq!(sent(&ours), sent(&py));
    assert_eq!(
        sent(&ours),
        [format!("{FEDERATED_TOKEN}\n")],
        "sent verbatim"
    );
}

async fn mi_token(env: BTreeMap<String, String>, arc_dir: Option<PathBuf>) -> String {
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

/// Runs one managed-identity source: `vars` (with `{emu}` replaced by the emulator URL) for
/// Python's `ManagedIdentityCredential` and ours; returns both journals.
async fn mi_case(
    emu: &EmulatorHandle,
    vars: &[(&str, &str)],
    arc_dir: Option<PathBuf>,
) -> (Vec<JournalEntry>, Vec<JournalEntry>) {
    let tools = FakeTools::new();
    let mut env = base_env(&tools);
    for (k, v) in vars {
        env.insert(k.to_string(), v.replace("{emu}", emu.url()));
    }
    let (py, ours) = both(
        &Target::emulator(emu),
        None,
        &env,
        serde_json::json!({"credential": "ManagedIdentityCredential"}),
        |e| mi_token(e, arc_dir),
    )
    .await;
    (py.journal, ours.journal)
}

#[tokio::test]
async fn imds_requests_match_python() {
    let emu = emulator(false, None, None).await;
    let (py, ours) = mi_case(
        &emu,
        &[("AZURE_POD_IDENTITY_AUTHORITY_HOST", "{emu}")],
        None,
    )
    .await;
    let h = ["metadata"];
    assert_eq!(shapes(&ours, &h), shapes(&py, &h));
    assert_eq!(ours.len(), 1);
    assert_eq!(ours[0].path, "/metadata/identity/oauth2/token");
    assert_eq!(header(&ours[0], "metadata"), Some("true"));
}

#[tokio::test]
async fn imds_probe_and_user_assigned_id_in_dac_match_python() {
    let emu = emulator(false, None, None).await;
    let tools = FakeTools::new();
    let mut env = base_env(&tools);
    env.insert("AZURE_CLIENT_ID".into(), USER_ASSIGNED_ID.into());
    let request = serde_json::json!({"imds_after_construct": emu.url()});
    let url = emu.url().to_string();
    let (py, ours) = both(
        &Target::emulator(&emu),
        None,
        &env,
        request,
        |e| async move {
            let dac = DefaultAzureCredential::with_options(dac_options(&e, &url)).unwrap();
            let t = dac.get_token_detailed(&[SCOPE], None).await.unwrap();
            assert_eq!(
                dac.resolution().unwrap().credential,
                "ManagedIdentityCredential"
            );
            t.access_token.secret().to_string()
        },
    )
    .await;
    let (py, ours) = (py.journal, ours.journal);
    let h = ["metadata"];
    assert_eq!(shapes(&ours, &h), shapes(&py, &h));
    assert_eq!(
        ours.len(),
        2,
        "probe (no Metadata header) then the token request"
    );
    assert_eq!(header(&ours[0], "metadata"), None);
    assert_eq!(
        ours[1].query.get("client_id").and_then(|v| v.as_str()),
        Some(USER_ASSIGNED_ID)
    );
}

#[tokio::test]
async fn app_service_requests_match_python() {
    let emu = emulator(false, None, None).await;
    let (py, ours) = mi_case(
        &emu,
        &[
            ("IDENTITY_ENDPOINT", "{emu}/msi/token"),
            ("IDENTITY_HEADER", IDENTITY_HEADER),
        ],
        None,
    )
    .await;
    let h = ["metadata", "x-identity-header"];
    assert_eq!(shapes(&ours, &h), shapes(&py, &h));
    assert_eq!(header(&ours[0], "x-identity-header"), Some(MASKED));
}

/// The Arc key directory when this process may write it (MSAL and azure-identity read key files
/// only from there), else `None`.
fn writable_arc_key_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(ARC_KEY_DIR);
    std::fs::create_dir_all(&dir).ok()?;
    let probe = dir.join(format!("aoai-identity-probe-{}", std::process::id()));
    std::fs::write(&probe, b"").ok()?;
    std::fs::remove_file(&probe).ok()?;
    Some(dir)
}

#[tokio::test]
async fn azure_arc_requests_match_python() {
    let Some(dir) = writable_arc_key_dir() else {
        // Only root may create /var/opt/azcmagent/tokens, and the peer accepts key files from
        // nowhere else; the emulator writes its challenge files there (entra.arc_key_dir).
        eprintln!("skipped: Azure Arc needs write access to {ARC_KEY_DIR} (run as root)");
        return;
    };
    let emu = emulator(false, None, Some(dir.clone())).await;
    let (py, ours) = mi_case(
        &emu,
        &[
            ("IDENTITY_ENDPOINT", "{emu}/arc/token"),
            ("IMDS_ENDPOINT", "{emu}"),
        ],
        Some(dir),
    )
    .await;
    let h = ["metadata", "authorization"];
    assert_eq!(shapes(&ours, &h), shapes(&py, &h));
    assert_eq!(ours.len(), 2, "challenge, then the request with the key");
    assert_eq!(header(&ours[0], "authorization"), None);
    assert_eq!(header(&ours[1], "authorization"), Some("Basic ***"));
}

#[tokio::test]
async fn cloud_shell_requests_match_python() {
    let emu = emulator(false, None, None).await;
    let (py, ours) = mi_case(&emu, &[("MSI_ENDPOINT", "{emu}/cloudshell/token")], None).await;
    let h = ["metadata", "content-type"];
    assert_eq!(shapes(&ours, &h), shapes(&py, &h));
    assert_eq!(ours[0].method, "POST");
    assert_eq!(
        form_value(&ours[0], "resource"),
        Some("https://cognitiveservices.azure.com")
    );
}

#[tokio::test]
async fn azure_ml_requests_match_python() {
    let emu = emulator(false, None, None).await;
    let (py, ours) = mi_case(
        &emu,
        &[
            ("MSI_ENDPOINT", "{emu}/ml/token"),
            ("MSI_SECRET", MSI_SECRET),
        ],
        None,
    )
    .await;
    let h = ["secret"];
    assert_eq!(shapes(&ours, &h), shapes(&py, &h));
    assert_eq!(header(&ours[0], "secret"), Some(MASKED));
}

#[tokio::test]
async fn extra_root_ca_option_works_like_the_env_hook() {
    let emu = emulator(true, None, None).await;
    let tools = FakeTools::new();
    let mut env = sp_env(emu.url(), &tools);
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
    let e = without.expect_err("the emulator's CA is not trusted by default");
    assert_eq!(e.kind().as_str(), "network_error");
    let with =
        EnvironmentCredential::new(opts(emu.ca_pem().map(|p| p.as_bytes().to_vec()))).unwrap();
    let token = with.get_token_detailed(&[SCOPE], None).await.unwrap();
    let claims = emu
        .state()
        .issuer
        .verify(token.access_token.secret())
        .unwrap();
    assert_eq!(claims.appid, CLIENT_ID);
}
