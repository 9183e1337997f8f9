//! Entra and managed-identity stand-ins: every grant and AADSTS error of the token endpoint,
//! discovery documents, each managed-identity protocol, and the tokens they issue used against
//! the data plane.

use std::sync::OnceLock;

use aoai_emulator::{EmulatorConfig, EmulatorHandle};
use base64::{Engine, engine::general_purpose::STANDARD, engine::general_purpose::URL_SAFE};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use sha2::Digest;

use crate::support::{chat_url, client, header, hello, parts, start, start_toml, start_with};

const TENANT: &str = "00000000-0000-0000-0000-000000000001";
const OTHER_TENANT: &str = "99999999-0000-0000-0000-000000000000";
const SCOPE: &str = "https://cognitiveservices.azure.com/.default";
const AOAI: &str = "https://cognitiveservices.azure.com";
const UAMI_CLIENT: &str = "30000000-0000-0000-0000-000000000001";
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

fn token_url(emu: &EmulatorHandle, tenant: &str) -> String {
    format!("{}/{tenant}/oauth2/v2.0/token", emu.url())
}

async fn post_form(url: &str, form: &[(&str, &str)]) -> (u16, HeaderMap, Value) {
    parts(client().post(url).form(form).send().await.unwrap()).await
}

async fn secret_grant(
    emu: &EmulatorHandle,
    tenant: &str,
    id: &str,
    secret: &str,
) -> (u16, HeaderMap, Value) {
    post_form(
        &token_url(emu, tenant),
        &[
            ("client_id", id),
            ("grant_type", "client_credentials"),
            ("client_info", "1"),
            ("client_secret", secret),
            ("scope", SCOPE),
        ],
    )
    .await
}

/// Asserts Entra's error shape and returns `error_description`.
fn assert_aadsts(status: u16, body: &Value, want_status: u16, error: &str, code: u64) -> String {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["error"], error, "{body}");
    assert_eq!(body["error_codes"], json!([code]), "{body}");
    let d = body["error_description"].as_str().unwrap().to_owned();
    assert!(d.starts_with(&format!("AADSTS{code}: ")), "{d}");
    assert!(
        d.contains("\r\nTrace ID: ") && d.contains("\r\nCorrelation ID: "),
        "{d}"
    );
    for f in ["timestamp", "trace_id", "correlation_id", "error_uri"] {
        assert!(body[f].is_string(), "{f} in {body}");
    }
    d
}

async fn chat_with_token(emu: &EmulatorHandle, token: &str) -> (u16, Value) {
    let res = client()
        .post(chat_url(emu, "gpt-4o"))
        .bearer_auth(token)
        .json(&hello())
        .send()
        .await
        .unwrap();
    let (s, _, b) = parts(res).await;
    (s, b)
}

#[tokio::test]
async fn client_secret_grant_issues_a_token_the_data_plane_accepts() {
    let emu = start().await;
    let (status, headers, body) =
        secret_grant(&emu, TENANT, "emulator-client", "emulator-secret").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3599);
    assert_eq!(body["ext_expires_in"], 3599);
    assert_eq!(
        header(&headers, "cache-control"),
        Some("no-store, no-cache")
    );
    let token = body["access_token"].as_str().unwrap();
    let claims = emu.state().issuer.verify(token).unwrap();
    assert_eq!(claims.aud, AOAI);
    assert_eq!(claims.tid, TENANT);
    assert_eq!(claims.iss, format!("https://sts.windows.net/{TENANT}/"));
    assert_eq!(claims.appid, "emulator-client");
    assert_eq!(claims.oid, "10000000-0000-0000-0000-000000000001");
    let (s, b) = chat_with_token(&emu, token).await;
    assert_eq!(s, 200, "{b}");
}

#[tokio::test]
async fn sp_wrong_secret_is_aadsts7000215_with_the_callers_correlation_id() {
    let emu = start().await;
    let correlation = "75bf3d9b-c0ea-496f-b0fa-cba914f27b69";
    let res = client()
        .post(token_url(&emu, TENANT))
        .header("client-request-id", correlation)
        .form(&[
            ("client_id", "emulator-client"),
            ("grant_type", "client_credentials"),
            ("client_secret", "wrong"),
            ("scope", SCOPE),
        ])
        .send()
        .await
        .unwrap();
    let (status, _, body) = parts(res).await;
    let d = assert_aadsts(status, &body, 401, "invalid_client", 7000215);
    assert!(d.contains("Invalid client secret provided"), "{d}");
    assert_eq!(body["correlation_id"], correlation);
    assert!(
        !body.to_string().contains("wrong\""),
        "the secret is not echoed"
    );
}

#[tokio::test]
async fn token_endpoint_request_errors() {
    let emu = start().await;
    // Unknown client.
    let (s, _, b) = secret_grant(&emu, TENANT, "nobody", "x").await;
    let d = assert_aadsts(s, &b, 400, "unauthorized_client", 700016);
    assert!(d.contains("'nobody' was not found in the directory"), "{d}");
    // Unknown tenant (token endpoint and discovery).
    let (s, _, b) = secret_grant(&emu, OTHER_TENANT, "emulator-client", "emulator-secret").await;
    let d = assert_aadsts(s, &b, 400, "invalid_tenant", 90002);
    assert!(
        d.contains(&format!("Tenant '{OTHER_TENANT}' not found")),
        "{d}"
    );
    let res = client()
        .get(format!(
            "{}/{OTHER_TENANT}/v2.0/.well-known/openid-configuration",
            emu.url()
        ))
        .send()
        .await
        .unwrap();
    let (s, _, b) = parts(res).await;
    assert_aadsts(s, &b, 400, "invalid_tenant", 90002);
    // Scope: missing, without /.default, two resources.
    let base = [
        ("client_id", "emulator-client"),
        ("grant_type", "client_credentials"),
        ("client_secret", "emulator-secret"),
    ];
    for scope in [
        None,
        Some(AOAI),
        Some("https://a/.default https://b/.default"),
    ] {
        let mut form = base.to_vec();
        if let Some(s) = scope {
            form.push(("scope", s));
        }
        let (s, _, b) = post_form(&token_url(&emu, TENANT), &form).await;
        assert_aadsts(s, &b, 400, "invalid_scope", 70011);
    }
    // No credential.
    let (s, _, b) = post_form(
        &token_url(&emu, TENANT),
        &[
            ("client_id", "emulator-client"),
            ("grant_type", "client_credentials"),
            ("scope", SCOPE),
        ],
    )
    .await;
    assert_aadsts(s, &b, 401, "invalid_client", 7000218);
    // Grant types.
    let (s, _, b) = post_form(
        &token_url(&emu, TENANT),
        &[("client_id", "emulator-client")],
    )
    .await;
    assert_aadsts(s, &b, 400, "invalid_request", 900144);
    let (s, _, b) = post_form(
        &token_url(&emu, TENANT),
        &[("grant_type", "password"), ("client_id", "emulator-client")],
    )
    .await;
    assert_aadsts(s, &b, 400, "unsupported_grant_type", 70003);
    // GET.
    let (s, _, b) = parts(client().get(token_url(&emu, TENANT)).send().await.unwrap()).await;
    assert_aadsts(s, &b, 400, "invalid_request", 900561);
}

#[tokio::test]
async fn v1_endpoint_takes_resource_and_answers_strings() {
    let emu = start().await;
    let (s, _, b) = post_form(
        &format!("{}/{TENANT}/oauth2/token", emu.url()),
        &[
            ("client_id", "emulator-client"),
            ("grant_type", "client_credentials"),
            ("client_secret", "emulator-secret"),
            ("resource", AOAI),
        ],
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["expires_in"], "3599");
    assert_eq!(b["resource"], AOAI);
    assert!(b["expires_on"].as_str().unwrap().parse::<i64>().is_ok());
    emu.state()
        .issuer
        .verify(b["access_token"].as_str().unwrap())
        .unwrap();
}

// ---- client assertions ---------------------------------------------------------------------

struct TestCert {
    key_pem: String,
    cert_pem: String,
    der: Vec<u8>,
}

fn make_cert() -> TestCert {
    use rsa::pkcs8::EncodePrivateKey;
    let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
    let der = key.to_pkcs8_der().unwrap();
    let key_pem = key
        .to_pkcs8_pem(rsa::pkcs8::LineEnding::LF)
        .unwrap()
        .to_string();
    let kp = rcgen::KeyPair::try_from(der.as_bytes()).unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "emulator-cert-client");
    let cert = params.self_signed(&kp).unwrap();
    TestCert {
        key_pem,
        cert_pem: cert.pem(),
        der: cert.der().to_vec(),
    }
}

/// Two RSA certificates, generated once for all tests (RSA key generation is slow in debug).
fn certs() -> &'static (TestCert, TestCert) {
    static CERTS: OnceLock<(TestCert, TestCert)> = OnceLock::new();
    CERTS.get_or_init(|| (make_cert(), make_cert()))
}

#[derive(Clone, Copy)]
enum Shape {
    /// MSAL: RS256 + padded `x5t`, float times.
    Msal,
    /// azure-identity's own builder: PS256 + `x5t#S256`, integer times.
    Ps256,
}

fn assertion(cert: &TestCert, shape: Shape, claims: Value, x5c: bool) -> String {
    let mut header = match shape {
        Shape::Msal => {
            let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
            h.x5t = Some(URL_SAFE.encode(sha1::Sha1::digest(&cert.der)));
            h
        }
        Shape::Ps256 => {
            let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::PS256);
            h.x5t_s256 = Some(URL_SAFE.encode(sha2::Sha256::digest(&cert.der)));
            h
        }
    };
    if x5c {
        header.x5c = Some(vec![STANDARD.encode(&cert.der)]);
    }
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(cert.key_pem.as_bytes()).unwrap();
    jsonwebtoken::encode(&header, &claims, &key).unwrap()
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

fn claims(emu: &EmulatorHandle, client_id: &str) -> Value {
    let t = now();
    json!({"aud": token_url(emu, TENANT), "iss": client_id, "sub": client_id,
           "iat": t, "exp": t + 600.0, "jti": uuid::Uuid::new_v4().to_string()})
}

async fn assertion_grant(emu: &EmulatorHandle, client_id: &str, assertion: &str) -> (u16, Value) {
    let (s, _, b) = post_form(
        &token_url(emu, TENANT),
        &[
            ("client_id", client_id),
            ("grant_type", "client_credentials"),
            ("client_assertion", assertion),
            ("client_info", "1"),
            ("client_assertion_type", JWT_BEARER),
            ("scope", SCOPE),
        ],
    )
    .await;
    (s, b)
}

async fn cert_emulator(certificate: &str) -> EmulatorHandle {
    start_toml(&format!(
        r#"
        [[entra.principals]]
        client_id = "cert-client"
        certificate = """{certificate}"""
        roles = ["Cognitive Services OpenAI User"]
        [[entra.principals]]
        client_id = "fed-client"
        federated_token = "eyJhbGciOiJSUzI1NiJ9.fake-k8s-sa-token.sig"
        roles = ["Cognitive Services OpenAI User"]
        "#
    ))
    .await
}

#[tokio::test]
async fn certificate_assertions_msal_and_ps256_shapes() {
    let (good, _) = certs();
    let emu = cert_emulator(&good.cert_pem).await;
    for shape in [Shape::Msal, Shape::Ps256] {
        let a = assertion(good, shape, claims(&emu, "cert-client"), false);
        let (s, b) = assertion_grant(&emu, "cert-client", &a).await;
        assert_eq!(s, 200, "{b}");
        let token = b["access_token"].as_str().unwrap();
        assert_eq!(
            emu.state().issuer.verify(token).unwrap().appid,
            "cert-client"
        );
        assert_eq!(chat_with_token(&emu, token).await.0, 200);
    }
    // Integer times work too.
    let mut c = claims(&emu, "cert-client");
    c["exp"] = json!(now() as i64 + 600);
    let (s, b) =
        assertion_grant(&emu, "cert-client", &assertion(good, Shape::Msal, c, false)).await;
    assert_eq!(s, 200, "{b}");
}

#[tokio::test]
async fn certificate_assertion_failures_have_their_aadsts_codes() {
    let (good, other) = certs();
    let emu = cert_emulator(&good.cert_pem).await;
    // Signed with an unregistered certificate.
    let a = assertion(other, Shape::Msal, claims(&emu, "cert-client"), false);
    let (s, b) = assertion_grant(&emu, "cert-client", &a).await;
    let d = assert_aadsts(s, &b, 401, "invalid_client", 700027);
    assert!(d.contains("The key was not found"), "{d}");
    // Registered thumbprint, but the signature does not verify.
    let a = assertion(good, Shape::Msal, claims(&emu, "cert-client"), false);
    let other_signed = assertion(other, Shape::Msal, claims(&emu, "cert-client"), false);
    let other_sig = other_signed.rsplit('.').next().unwrap();
    let forged = format!("{}.{other_sig}", a.rsplit_once('.').unwrap().0);
    let (s, b) = assertion_grant(&emu, "cert-client", &forged).await;
    let d = assert_aadsts(s, &b, 401, "invalid_client", 700027);
    assert!(
        d.contains("Key was found, but use of the key to verify the signature failed"),
        "{d}"
    );
    // Expired.
    let mut c = claims(&emu, "cert-client");
    c["exp"] = json!(now() - 10.0);
    let (s, b) =
        assertion_grant(&emu, "cert-client", &assertion(good, Shape::Msal, c, false)).await;
    assert_aadsts(s, &b, 401, "invalid_client", 700024);
    // Wrong audience.
    let mut c = claims(&emu, "cert-client");
    c["aud"] = json!("https://login.microsoftonline.com/common/oauth2/v2.0/authorize");
    let (s, b) =
        assertion_grant(&emu, "cert-client", &assertion(good, Shape::Msal, c, false)).await;
    let d = assert_aadsts(s, &b, 401, "invalid_client", 700027);
    assert!(d.contains("audience"), "{d}");
    // iss/sub not the client id.
    let c = claims(&emu, "someone-else");
    let (s, b) =
        assertion_grant(&emu, "cert-client", &assertion(good, Shape::Msal, c, false)).await;
    assert_aadsts(s, &b, 401, "invalid_client", 700021);
    // Not a JWT at all.
    let (s, b) = assertion_grant(&emu, "cert-client", "not-a-jwt").await;
    assert_aadsts(s, &b, 400, "invalid_request", 50027);
}

#[tokio::test]
async fn thumbprint_only_registration_needs_x5c() {
    let (good, _) = certs();
    let thumbprint: String = sha1::Sha1::digest(&good.der)
        .iter()
        .map(|b| format!("{b:02X}:"))
        .collect();
    let emu = cert_emulator(thumbprint.trim_end_matches(':')).await;
    let with_chain = assertion(good, Shape::Msal, claims(&emu, "cert-client"), true);
    let (s, b) = assertion_grant(&emu, "cert-client", &with_chain).await;
    assert_eq!(s, 200, "{b}");
    let without = assertion(good, Shape::Msal, claims(&emu, "cert-client"), false);
    let (s, b) = assertion_grant(&emu, "cert-client", &without).await;
    assert_aadsts(s, &b, 401, "invalid_client", 700027);
}

#[tokio::test]
async fn federated_token_matches_exactly_up_to_a_trailing_newline() {
    let (good, _) = certs();
    let emu = cert_emulator(&good.cert_pem).await;
    for presented in [
        "eyJhbGciOiJSUzI1NiJ9.fake-k8s-sa-token.sig",
        "eyJhbGciOiJSUzI1NiJ9.fake-k8s-sa-token.sig\n",
    ] {
        // Workload identity's field order (spec §5.2).
        let (s, _, b) = post_form(
            &token_url(&emu, TENANT),
            &[
                ("client_assertion", presented),
                ("client_assertion_type", JWT_BEARER),
                ("client_id", "fed-client"),
                ("grant_type", "client_credentials"),
                ("scope", SCOPE),
            ],
        )
        .await;
        assert_eq!(s, 200, "{b}");
        let claims = emu
            .state()
            .issuer
            .verify(b["access_token"].as_str().unwrap())
            .unwrap();
        assert_eq!(claims.appid, "fed-client");
    }
    let (s, b) = assertion_grant(&emu, "fed-client", "eyJhbGciOiJSUzI1NiJ9.other.sig").await;
    let d = assert_aadsts(s, &b, 400, "invalid_client", 700213);
    assert!(d.contains("No matching federated identity record"), "{d}");
}

// ---- discovery -----------------------------------------------------------------------------

async fn get_json(url: &str) -> (u16, Value) {
    let (s, _, b) = parts(client().get(url).send().await.unwrap()).await;
    (s, b)
}

#[tokio::test]
async fn discovery_documents_point_back_at_the_emulator() {
    let emu = start().await;
    let base = emu.url();
    let (s, v2) = get_json(&format!(
        "{base}/{TENANT}/v2.0/.well-known/openid-configuration"
    ))
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        v2["token_endpoint"],
        format!("{base}/{TENANT}/oauth2/v2.0/token")
    );
    assert_eq!(v2["issuer"], format!("{base}/{TENANT}/v2.0"));
    for k in [
        "authorization_endpoint",
        "device_authorization_endpoint",
        "jwks_uri",
        "end_session_endpoint",
    ] {
        assert!(v2[k].as_str().unwrap().starts_with(base), "{k}: {}", v2[k]);
    }
    let (s, v1) = get_json(&format!("{base}/{TENANT}/.well-known/openid-configuration")).await;
    assert_eq!(s, 200);
    assert_eq!(
        v1["token_endpoint"],
        format!("{base}/{TENANT}/oauth2/token")
    );
    assert_eq!(v1["issuer"], format!("https://sts.windows.net/{TENANT}/"));

    let authorize = format!("{base}/{TENANT}/oauth2/v2.0/authorize");
    let res = client()
        .get(format!("{base}/common/discovery/instance"))
        .query(&[
            ("api-version", "1.1"),
            ("authorization_endpoint", authorize.as_str()),
        ])
        .send()
        .await
        .unwrap();
    let (s, _, inst) = parts(res).await;
    assert_eq!(s, 200, "{inst}");
    assert_eq!(
        inst["tenant_discovery_endpoint"],
        format!("{base}/{TENANT}/v2.0/.well-known/openid-configuration")
    );
    let host = base.trim_start_matches("http://");
    assert_eq!(inst["metadata"][0]["preferred_network"], host);

    // The JWKS verifies issued tokens.
    let (s, jwks) = get_json(v2["jwks_uri"].as_str().unwrap()).await;
    assert_eq!(s, 200);
    let set: jsonwebtoken::jwk::JwkSet = serde_json::from_value(jwks).unwrap();
    let key = jsonwebtoken::DecodingKey::from_jwk(&set.keys[0]).unwrap();
    let (_, _, b) = secret_grant(&emu, TENANT, "emulator-client", "emulator-secret").await;
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    v.set_audience(&[AOAI]);
    jsonwebtoken::decode::<Value>(b["access_token"].as_str().unwrap(), &key, &v).unwrap();
}

// ---- managed identity ----------------------------------------------------------------------

fn imds_url(emu: &EmulatorHandle, extra: &str) -> String {
    format!(
        "{}/metadata/identity/oauth2/token?api-version=2018-02-01&resource={AOAI}{extra}",
        emu.url()
    )
}

#[tokio::test]
async fn imds_requires_metadata_and_answers_strings() {
    let emu = start().await;
    // The probe: no Metadata header.
    let (s, _, b) = parts(client().get(imds_url(&emu, "")).send().await.unwrap()).await;
    assert_eq!(s, 400);
    assert_eq!(
        b,
        json!({"error": "invalid_request", "error_description": "Required metadata header not specified"})
    );
    let get = |url: String| async move {
        parts(
            client()
                .get(url)
                .header("Metadata", "true")
                .send()
                .await
                .unwrap(),
        )
        .await
    };
    let (s, _, b) = get(imds_url(&emu, "")).await;
    assert_eq!(s, 200, "{b}");
    for f in ["expires_in", "expires_on", "ext_expires_in", "not_before"] {
        assert!(
            b[f].as_str().unwrap().parse::<i64>().is_ok(),
            "{f} is a string: {b}"
        );
    }
    assert_eq!(b["expires_in"], "86399");
    assert_eq!(b["resource"], AOAI);
    assert_eq!(b["client_id"], "20000000-0000-0000-0000-000000000001");
    let token = b["access_token"].as_str().unwrap();
    let claims = emu.state().issuer.verify(token).unwrap();
    assert_eq!(claims.oid, "20000000-0000-0000-0000-000000000002");
    assert!(claims.xms_mirid.unwrap().contains("virtualMachines"));
    assert_eq!(chat_with_token(&emu, token).await.0, 200);
    // User-assigned by each id kind.
    for extra in [
        format!("&client_id={UAMI_CLIENT}"),
        "&object_id=30000000-0000-0000-0000-000000000002".to_owned(),
        "&msi_res_id=/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/emulator/providers/Microsoft.ManagedIdentity/userAssignedIdentities/emulator-uami".to_owned(),
    ] {
        let (s, _, b) = get(imds_url(&emu, &extra)).await;
        assert_eq!(s, 200, "{extra}: {b}");
        assert_eq!(b["client_id"], UAMI_CLIENT);
    }
    // Encoded resource works the same.
    let (s, _, b) = get(format!(
        "{}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fcognitiveservices.azure.com",
        emu.url()
    ))
    .await;
    assert_eq!((s, b["resource"].as_str()), (200, Some(AOAI)));
    // Errors.
    let (s, _, b) = get(imds_url(&emu, "&client_id=unknown")).await;
    assert_eq!(
        (s, b["error_description"].as_str()),
        (400, Some("Identity not found"))
    );
    let (s, _, b) = get(format!(
        "{}/metadata/identity/oauth2/token?api-version=2018-02-01",
        emu.url()
    ))
    .await;
    assert_eq!(s, 400, "{b}");
    assert_eq!(b["error"], "invalid_request");
}

#[tokio::test]
async fn app_service_checks_the_identity_header() {
    let emu = start().await;
    let url = format!(
        "{}/msi/token?api-version=2019-08-01&resource={AOAI}",
        emu.url()
    );
    let (s, _, b) = parts(
        client()
            .get(&url)
            .header("Metadata", "true")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(b["statusCode"], 400);
    assert!(b["message"].as_str().unwrap().contains("X-IDENTITY-HEADER"));
    let with = |h: &'static str, url: String| async move {
        parts(
            client()
                .get(url)
                .header("X-IDENTITY-HEADER", h)
                .header("Metadata", "true")
                .send()
                .await
                .unwrap(),
        )
        .await
    };
    let (s, _, b) = with("wrong", url.clone()).await;
    assert_eq!((s, b["statusCode"].as_u64()), (401, Some(401)));
    let (s, _, b) = with("emulator-identity-header", url.clone()).await;
    assert_eq!(s, 200, "{b}");
    let expires_on: i64 = b["expires_on"].as_str().unwrap().parse().unwrap();
    assert!(expires_on > 0);
    assert_eq!(b["token_type"], "Bearer");
    emu.state()
        .issuer
        .verify(b["access_token"].as_str().unwrap())
        .unwrap();
    let (s, _, b) = with(
        "emulator-identity-header",
        format!("{url}&client_id={UAMI_CLIENT}"),
    )
    .await;
    assert_eq!((s, b["client_id"].as_str()), (200, Some(UAMI_CLIENT)));
    let (s, _, b) = with("emulator-identity-header", format!("{url}&client_id=nope")).await;
    assert_eq!(s, 400);
    assert!(
        b["message"]
            .as_str()
            .unwrap()
            .starts_with("No User Assigned")
    );
}

#[tokio::test]
async fn arc_challenge_then_basic_key_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = EmulatorConfig::default();
    config.entra.arc_key_dir = Some(dir.path().to_owned());
    let emu = start_with(config).await;
    for url in [
        format!(
            "{}/arc/token?api-version=2020-06-01&resource={AOAI}",
            emu.url()
        ),
        format!(
            "{}/metadata/identity/oauth2/token?api-version=2020-06-01&resource={AOAI}",
            emu.url()
        ),
    ] {
        let (s, h, _) = parts(
            client()
                .get(&url)
                .header("Metadata", "true")
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(s, 401);
        let challenge = header(&h, "www-authenticate").unwrap();
        let path = challenge.strip_prefix("Basic realm=").unwrap();
        assert!(
            path.ends_with(".key") && path.starts_with(dir.path().to_str().unwrap()),
            "{path}"
        );
        let secret = std::fs::read_to_string(path).unwrap();
        let (s, _, b) = parts(
            client()
                .get(&url)
                .header("Metadata", "true")
                .header("Authorization", format!("Basic {secret}"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["expires_in"], "86399");
        emu.state()
            .issuer
            .verify(b["access_token"].as_str().unwrap())
            .unwrap();
        let (s, h, _) = parts(
            client()
                .get(&url)
                .header("Metadata", "true")
                .header("Authorization", "Basic nope")
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(s, 401);
        assert!(header(&h, "www-authenticate").is_some());
    }
    // A user-assigned id is echoed (MSAL checks it).
    let url = format!(
        "{}/arc/token?api-version=2020-06-01&resource={AOAI}&client_id={UAMI_CLIENT}",
        emu.url()
    );
    let (_, h, _) = parts(
        client()
            .get(&url)
            .header("Metadata", "true")
            .send()
            .await
            .unwrap(),
    )
    .await;
    let path = header(&h, "www-authenticate")
        .unwrap()
        .strip_prefix("Basic realm=")
        .unwrap()
        .to_owned();
    let secret = std::fs::read_to_string(&path).unwrap();
    let (s, _, b) = parts(
        client()
            .get(&url)
            .header("Metadata", "true")
            .header("Authorization", format!("Basic {secret}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, b["client_id"].as_str()), (200, Some(UAMI_CLIENT)));
    drop(emu);
}

#[tokio::test]
async fn cloud_shell_azure_ml_and_service_fabric() {
    let emu = start().await;
    // Cloud Shell (A.4): POST form with Metadata.
    for path in ["/cloudshell/token", "/oauth2/token"] {
        let url = format!("{}{path}", emu.url());
        let form = [("resource", AOAI), ("client_id", UAMI_CLIENT)];
        let (s, _, _) = parts(client().post(&url).form(&form).send().await.unwrap()).await;
        assert_eq!(s, 400);
        let (s, _, b) = parts(
            client()
                .post(&url)
                .header("Metadata", "true")
                .form(&form)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["resource"], AOAI);
        assert!(b["expires_on"].as_str().unwrap().parse::<i64>().is_ok());
        emu.state()
            .issuer
            .verify(b["access_token"].as_str().unwrap())
            .unwrap();
    }
    // Azure ML: `secret` header, `clientid` parameter.
    let url = format!(
        "{}/ml/token?api-version=2017-09-01&resource={AOAI}&clientid={UAMI_CLIENT}",
        emu.url()
    );
    let (s, _, _) = parts(
        client()
            .get(&url)
            .header("secret", "wrong")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 401);
    let (s, _, b) = parts(
        client()
            .get(&url)
            .header("secret", "emulator-msi-secret")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (s, b["client_id"].as_str()),
        (200, Some(UAMI_CLIENT)),
        "{b}"
    );
    assert!(b["expires_on"].as_str().unwrap().parse::<i64>().is_ok());
    // Service Fabric: `Secret` header, `expires_on` a number.
    let url = format!(
        "{}/sf/token?api-version=2019-07-01-preview&resource={AOAI}",
        emu.url()
    );
    let (s, _, b) = parts(client().get(&url).send().await.unwrap()).await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (401, Some("SecretHeaderNotFound"))
    );
    let (s, _, b) = parts(
        client()
            .get(&url)
            .header("Secret", "emulator-identity-header")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert!(b["expires_on"].is_i64());
    let (s, _, b) = parts(
        client()
            .get(format!(
                "{}/sf/token?api-version=2019-07-01-preview",
                emu.url()
            ))
            .header("Secret", "emulator-identity-header")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (400, Some("ArgumentNullOrEmpty"))
    );
}

// ---- minted tokens against the data plane ---------------------------------------------------

async fn mint(emu: &EmulatorHandle, body: Value) -> String {
    let res = client()
        .post(format!("{}/_emulator/tokens", emu.url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    let (s, _, b) = parts(res).await;
    assert_eq!(s, 200, "{b}");
    b["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn minted_tokens_drive_each_data_plane_auth_answer() {
    let emu = start().await;
    let ok = mint(&emu, json!({})).await;
    assert_eq!(chat_with_token(&emu, &ok).await.0, 200);
    let expired = mint(&emu, json!({"expires_in": -60})).await;
    assert_eq!(chat_with_token(&emu, &expired).await.0, 401);
    let wrong_aud = mint(&emu, json!({"audience": "https://management.azure.com"})).await;
    assert_eq!(chat_with_token(&emu, &wrong_aud).await.0, 401);
    let other_tenant = mint(&emu, json!({"tenant_id": OTHER_TENANT})).await;
    let (s, b) = chat_with_token(&emu, &other_tenant).await;
    assert_eq!(s, 400, "{b}");
    let no_role = mint(
        &emu,
        json!({"object_id": "unknown-oid", "client_id": "unknown-app"}),
    )
    .await;
    let (s, b) = chat_with_token(&emu, &no_role).await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (401, Some("PermissionDenied")),
        "{b}"
    );
    let claims = emu
        .state()
        .issuer
        .verify(&mint(&emu, json!({"roles": ["r"]})).await)
        .unwrap();
    assert_eq!(claims.roles, vec!["r"]);
    // Bad body.
    let res = client()
        .post(format!("{}/_emulator/tokens", emu.url()))
        .body("{\"nope\":1}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
}

#[tokio::test]
async fn configured_tenant_and_extra_tenants() {
    let emu = start_toml(
        r#"
        [entra]
        tenant_id = "11111111-2222-3333-4444-555555555555"
        extra_tenants = ["99999999-0000-0000-0000-000000000000"]
        [[entra.principals]]
        client_id = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
        secret = "s3cr3t~value"
        roles = ["Cognitive Services OpenAI User"]
        [[entra.principals]]
        client_id = "guest-app"
        tenant_id = "99999999-0000-0000-0000-000000000000"
        secret = "guest"
        roles = ["Cognitive Services OpenAI User"]
        "#,
    )
    .await;
    let t = "11111111-2222-3333-4444-555555555555";
    let (s, _, b) = secret_grant(
        &emu,
        t,
        "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
        "s3cr3t~value",
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        chat_with_token(&emu, b["access_token"].as_str().unwrap())
            .await
            .0,
        200
    );
    // The guest app exists only in the extra tenant: its token gets A4 at the resource.
    let (s, _, b) = secret_grant(&emu, t, "guest-app", "guest").await;
    assert_aadsts(s, &b, 400, "unauthorized_client", 700016);
    let (s, _, b) = secret_grant(&emu, OTHER_TENANT, "guest-app", "guest").await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        chat_with_token(&emu, b["access_token"].as_str().unwrap())
            .await
            .0,
        400
    );
}
