//! Entra-style access tokens: issued by the token endpoints, verified by the data plane.
//!
//! The emulator signs with an ECDSA P-256 key (ES256) generated at start-up (milliseconds, also in
//! debug builds); the public half is served as a JWKS (see [`TokenIssuer::jwks`]). Tokens carry the
//! claims of Entra v1 app-only access tokens, e.g. for a service principal:
//!
//! ```text
//! header  {"typ":"JWT","alg":"ES256","kid":"<key id>"}
//! claims  {"aud":"https://cognitiveservices.azure.com","iss":"https://sts.windows.net/{tid}/",
//!          "iat":..,"nbf":..,"exp":..,"aio":"..","appid":"emulator-client","appidacr":"1",
//!          "idp":"https://sts.windows.net/{tid}/","idtyp":"app","oid":"..","sub":"..",
//!          "tid":"..","uti":"..","ver":"1.0"[,"roles":[..]][,"xms_mirid":"/subscriptions/.."]}
//! ```
//!
//! [`TokenIssuer::verify`] checks the signature, `exp` (no leeway: a token is expired from its
//! `exp` second on), `nbf` (5 s leeway), the issuer shape and the audience
//! ([`ACCEPTED_AUDIENCES`]). Tenant (A4) and role (A3) checks are the data plane's.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Audiences the data plane accepts (Azure OpenAI takes both Cognitive Services spellings and the
/// Azure AI Foundry audience).
pub const ACCEPTED_AUDIENCES: &[&str] = &[
    "https://cognitiveservices.azure.com",
    "https://cognitiveservices.azure.com/",
    "https://ai.azure.com",
];

/// The resource of Azure OpenAI tokens (the default audience of minted tokens).
pub const COGNITIVE_SERVICES: &str = "https://cognitiveservices.azure.com";

/// Seconds a token's `nbf` may lie in the future and still be accepted.
pub const NBF_LEEWAY_SECS: i64 = 5;

/// Claims of an access token the emulator issued (the subset the data plane checks).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// Audience, e.g. `https://cognitiveservices.azure.com`.
    pub aud: String,
    /// Issuer, `https://sts.windows.net/{tenant}/`.
    pub iss: String,
    /// Tenant id.
    pub tid: String,
    /// Object id of the principal.
    pub oid: String,
    /// Application (client) id of the principal.
    pub appid: String,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Not before, seconds since the epoch.
    pub nbf: i64,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// Subject (the object id for app-only tokens).
    #[serde(default)]
    pub sub: String,
    /// `app` for app-only tokens (service principals and managed identities).
    #[serde(default)]
    pub idtyp: String,
    /// App roles carried in the token (only minted tokens have them; Azure RBAC roles such as
    /// "Cognitive Services OpenAI User" are never in tokens — the data plane looks them up in
    /// [`crate::entra::EntraConfig::roles_of`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// Managed identities only: the ARM resource id of the identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xms_mirid: Option<String>,
}

/// Why a bearer token was rejected (all map to the spec's A2 401 body).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenRejection {
    /// Not a JWT, or the signature does not verify against the emulator's key.
    #[error("token is malformed or its signature is invalid")]
    Invalid,
    /// `exp` is in the past (or `nbf` in the future).
    #[error("token has expired")]
    Expired,
    /// `aud` is not an Azure OpenAI audience.
    #[error("token audience is not accepted")]
    WrongAudience,
}

/// What to put in a token. [`TokenIssuer::issue`] fills in the times, issuer and ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSpec {
    /// `tid` (and the issuer's tenant).
    pub tenant_id: String,
    /// `oid` and `sub`.
    pub object_id: String,
    /// `appid`.
    pub client_id: String,
    /// `aud`.
    pub audience: String,
    /// Seconds from now to `exp`; negative gives an already expired token.
    pub expires_in: i64,
    /// `roles` (omitted when empty).
    pub roles: Vec<String>,
    /// `appidacr`: `1` = secret, `2` = certificate / federated / managed identity.
    pub appidacr: &'static str,
    /// `xms_mirid` (managed identities).
    pub mi_resource_id: Option<String>,
}

/// A signed token and its times, for the token endpoints to build their answers from.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The JWT.
    pub access_token: String,
    /// Lifetime in seconds (as requested; may be negative for minted tokens).
    pub expires_in: i64,
    /// `exp`, seconds since the epoch.
    pub expires_on: i64,
    /// `nbf`, seconds since the epoch.
    pub not_before: i64,
}

/// Options of [`TokenIssuer::mint`]; `None` fields take the emulator's defaults (default tenant,
/// the first configured principal, the Cognitive Services audience, the configured lifetime).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MintOptions {
    /// `tid`.
    pub tenant_id: Option<String>,
    /// `oid` / `sub`.
    pub object_id: Option<String>,
    /// `appid`.
    pub client_id: Option<String>,
    /// `aud`.
    pub audience: Option<String>,
    /// Seconds until `exp`; may be negative.
    pub expires_in: Option<i64>,
    /// `roles`.
    pub roles: Option<Vec<String>>,
}

/// Signs and verifies the emulator's tokens with a key generated at start-up.
pub struct TokenIssuer {
    encoding: EncodingKey,
    decoding: DecodingKey,
    kid: String,
    x: String,
    y: String,
    default_tenant: String,
    default_client_id: String,
    default_object_id: String,
    lifetime: i64,
    /// Tokens whose signature and issuer were already checked, with their claims: a bearer
    /// token is presented on every request, and an ECDSA verification costs more than the rest
    /// of a chat answer (it made the emulator the bottleneck of Entra benchmarks). Expiry and
    /// audience are still checked on every use, so answers are the same as without the cache.
    verified: Mutex<HashMap<String, AccessClaims>>,
}

/// How many verified tokens are remembered (the cache is emptied when full).
const VERIFIED_CAPACITY: usize = 1024;

impl std::fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenIssuer")
            .field("kid", &self.kid)
            .field("default_tenant", &self.default_tenant)
            .finish_non_exhaustive()
    }
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// `https://sts.windows.net/{tenant}/`.
pub fn issuer_for(tenant: &str) -> String {
    format!("https://sts.windows.net/{tenant}/")
}

impl TokenIssuer {
    /// Creates the issuer for `config` (key generated here, once per emulator).
    pub fn new(config: &crate::config::EmulatorConfig) -> Self {
        let entra = &config.entra;
        let (client_id, object_id) = entra
            .principals
            .first()
            .map(|p| (p.client_id.clone(), p.oid()))
            .unwrap_or_default();
        Self::with_defaults(
            &entra.tenant_id,
            &client_id,
            &object_id,
            entra.token_lifetime_secs as i64,
        )
    }

    fn with_defaults(tenant: &str, client_id: &str, object_id: &str, lifetime: i64) -> Self {
        // Generating a P-256 key only fails if the system RNG is unusable; nothing can be served
        // then, and this runs once at start-up, not on input.
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
            .expect("the system random number generator works (P-256 key generation)");
        let encoding = EncodingKey::from_ec_der(&key.serialize_der());
        let raw = key.public_key_raw();
        // Uncompressed point: 0x04 || x (32 bytes) || y (32 bytes).
        let (x, y) = (&raw[1..33], &raw[33..65]);
        let x = URL_SAFE_NO_PAD.encode(x);
        let y = URL_SAFE_NO_PAD.encode(y);
        let decoding = DecodingKey::from_ec_components(&x, &y)
            .expect("a freshly generated P-256 point is a valid public key");
        let kid = {
            use sha2::Digest;
            let digest = sha2::Sha256::digest(raw);
            URL_SAFE_NO_PAD.encode(&digest[..20])
        };
        Self {
            verified: Mutex::new(HashMap::new()),
            encoding,
            decoding,
            kid,
            x,
            y,
            default_tenant: tenant.to_owned(),
            default_client_id: client_id.to_owned(),
            default_object_id: object_id.to_owned(),
            lifetime,
        }
    }

    /// The `kid` of the signing key.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The default token lifetime (`expires_in`) in seconds.
    pub fn lifetime(&self) -> i64 {
        self.lifetime
    }

    /// The public key as a JWKS document (`{"keys":[{...}]}`).
    pub fn jwks(&self, issuer: Option<&str>) -> Value {
        let mut key = json!({
            "kty": "EC",
            "use": "sig",
            "kid": self.kid,
            "crv": "P-256",
            "alg": "ES256",
            "x": self.x,
            "y": self.y,
        });
        if let Some(iss) = issuer {
            key["issuer"] = json!(iss);
        }
        json!({ "keys": [key] })
    }

    /// Signs a token for `spec`.
    pub fn issue(&self, spec: &TokenSpec) -> IssuedToken {
        let now = now_secs();
        let exp = now + spec.expires_in;
        let iss = issuer_for(&spec.tenant_id);
        let mut claims = json!({
            "aud": spec.audience,
            "iss": iss,
            "iat": now,
            "nbf": now,
            "exp": exp,
            "aio": random_id(),
            "appid": spec.client_id,
            "appidacr": spec.appidacr,
            "idp": iss,
            "idtyp": "app",
            "oid": spec.object_id,
            "rh": random_id(),
            "sub": spec.object_id,
            "tid": spec.tenant_id,
            "uti": random_id(),
            "ver": "1.0",
        });
        if !spec.roles.is_empty() {
            claims["roles"] = json!(spec.roles);
        }
        if let Some(mirid) = &spec.mi_resource_id {
            claims["xms_mirid"] = json!(mirid);
        }
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        // The JSON above always serialises and the key is ours: signing cannot fail.
        let access_token = jsonwebtoken::encode(&header, &claims, &self.encoding)
            .expect("signing with the emulator's own ES256 key");
        IssuedToken {
            access_token,
            expires_in: spec.expires_in,
            expires_on: exp,
            not_before: now,
        }
    }

    /// Signs a token with the given overrides (the Rust side of `POST /_emulator/tokens`): lets
    /// tests make expired, wrong-audience or other-tenant tokens.
    pub fn mint(&self, options: MintOptions) -> IssuedToken {
        self.issue(&TokenSpec {
            tenant_id: options
                .tenant_id
                .unwrap_or_else(|| self.default_tenant.clone()),
            object_id: options
                .object_id
                .unwrap_or_else(|| self.default_object_id.clone()),
            client_id: options
                .client_id
                .unwrap_or_else(|| self.default_client_id.clone()),
            audience: options
                .audience
                .unwrap_or_else(|| COGNITIVE_SERVICES.to_owned()),
            expires_in: options.expires_in.unwrap_or(self.lifetime),
            roles: options.roles.unwrap_or_default(),
            appidacr: "1",
            mi_resource_id: None,
        })
    }

    /// Verifies signature, `exp`/`nbf` and audience. The tenant check (A4) and the role check (A3)
    /// are the data plane's, done on the returned claims.
    pub fn verify(&self, token: &str) -> Result<AccessClaims, TokenRejection> {
        let cached = self.verified_cache().get(token).cloned();
        let claims = match cached {
            Some(claims) => claims,
            None => {
                let claims = self.verify_signature(token)?;
                let mut cache = self.verified_cache();
                if cache.len() >= VERIFIED_CAPACITY {
                    cache.clear();
                }
                cache.insert(token.to_owned(), claims.clone());
                claims
            }
        };
        let now = now_secs();
        if now >= claims.exp || claims.nbf > now + NBF_LEEWAY_SECS {
            return Err(TokenRejection::Expired);
        }
        if !ACCEPTED_AUDIENCES.contains(&claims.aud.as_str()) {
            return Err(TokenRejection::WrongAudience);
        }
        Ok(claims)
    }

    fn verified_cache(&self) -> std::sync::MutexGuard<'_, HashMap<String, AccessClaims>> {
        self.verified.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Header, signature and issuer: what does not change over a token's life.
    fn verify_signature(&self, token: &str) -> Result<AccessClaims, TokenRejection> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenRejection::Invalid)?;
        if header.alg != Algorithm::ES256 || header.kid.as_deref() != Some(self.kid.as_str()) {
            return Err(TokenRejection::Invalid);
        }
        let mut validation = Validation::new(Algorithm::ES256);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        let data = jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &validation)
            .map_err(|_| TokenRejection::Invalid)?;
        if data.claims.iss != issuer_for(&data.claims.tid) {
            return Err(TokenRejection::Invalid);
        }
        Ok(data.claims)
    }
}

/// A random URL-safe id like Entra's `aio`/`uti`/`rh` values.
fn random_id() -> String {
    URL_SAFE_NO_PAD.encode(uuid::Uuid::new_v4().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TENANT: &str = "00000000-0000-0000-0000-000000000001";

    fn issuer() -> TokenIssuer {
        TokenIssuer::with_defaults(TENANT, "emulator-client", "oid-1", 3599)
    }

    #[test]
    fn issued_token_verifies_with_entra_claims() {
        let iss = issuer();
        let t = iss.mint(MintOptions::default());
        assert_eq!(t.expires_in, 3599);
        let c = iss.verify(&t.access_token).unwrap();
        assert_eq!(c.aud, COGNITIVE_SERVICES);
        assert_eq!(c.iss, format!("https://sts.windows.net/{TENANT}/"));
        assert_eq!(c.tid, TENANT);
        assert_eq!(c.appid, "emulator-client");
        assert_eq!((c.oid.as_str(), c.sub.as_str()), ("oid-1", "oid-1"));
        assert_eq!(c.idtyp, "app");
        assert_eq!(c.exp - c.iat, 3599);
        let header = jsonwebtoken::decode_header(&t.access_token).unwrap();
        assert_eq!(header.alg, Algorithm::ES256);
        assert_eq!(header.typ.as_deref(), Some("JWT"));
        assert_eq!(header.kid.as_deref(), Some(iss.kid()));
    }

    #[test]
    fn expired_token_is_rejected() {
        let iss = issuer();
        for expires_in in [0, -1, -3600] {
            let t = iss.mint(MintOptions {
                expires_in: Some(expires_in),
                ..Default::default()
            });
            assert_eq!(
                iss.verify(&t.access_token).unwrap_err(),
                TokenRejection::Expired,
                "{expires_in}"
            );
        }
    }

    #[test]
    fn audiences() {
        let iss = issuer();
        for aud in ACCEPTED_AUDIENCES {
            let t = iss.mint(MintOptions {
                audience: Some((*aud).to_owned()),
                ..Default::default()
            });
            assert_eq!(iss.verify(&t.access_token).unwrap().aud, *aud);
        }
        for aud in [
            "https://management.azure.com",
            "https://vault.azure.net",
            "",
        ] {
            let t = iss.mint(MintOptions {
                audience: Some(aud.to_owned()),
                ..Default::default()
            });
            assert_eq!(
                iss.verify(&t.access_token).unwrap_err(),
                TokenRejection::WrongAudience
            );
        }
    }

    #[test]
    fn other_tenant_verifies_the_data_plane_checks_it() {
        let iss = issuer();
        let t = iss.mint(MintOptions {
            tenant_id: Some("99999999-0000-0000-0000-000000000000".into()),
            roles: Some(vec!["r1".into()]),
            ..Default::default()
        });
        let c = iss.verify(&t.access_token).unwrap();
        assert_eq!(c.tid, "99999999-0000-0000-0000-000000000000");
        assert_eq!(c.roles, vec!["r1"]);
    }

    #[test]
    fn bad_signature_other_key_and_garbage_are_invalid() {
        let iss = issuer();
        let t = iss.mint(MintOptions::default()).access_token;
        // Flip one character of the signature.
        let mut tampered = t.clone().into_bytes();
        let last = tampered.len() - 5;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert_eq!(iss.verify(&tampered), Err(TokenRejection::Invalid));
        // Changed claims with the original signature.
        let parts: Vec<&str> = t.split('.').collect();
        let forged_claims = URL_SAFE_NO_PAD.encode(
            serde_json::to_vec(
                &json!({"aud": COGNITIVE_SERVICES, "iss": issuer_for(TENANT),
                "tid": TENANT, "oid": "x", "appid": "x", "exp": now_secs() + 99,
                "nbf": 0, "iat": 0}),
            )
            .unwrap(),
        );
        let forged = format!("{}.{}.{}", parts[0], forged_claims, parts[2]);
        assert_eq!(iss.verify(&forged), Err(TokenRejection::Invalid));
        // Signed by another emulator's key (same kid would still fail; here the kid differs).
        let other = issuer().mint(MintOptions::default()).access_token;
        assert_eq!(iss.verify(&other), Err(TokenRejection::Invalid));
        for junk in ["", "a.b.c", "not a token", "eyJhbGciOiJub25lIn0.e30."] {
            assert_eq!(iss.verify(junk), Err(TokenRejection::Invalid), "{junk}");
        }
    }

    #[test]
    fn jwks_key_verifies_tokens() {
        let iss = issuer();
        let jwks: jsonwebtoken::jwk::JwkSet =
            serde_json::from_value(iss.jwks(Some("https://x/"))).unwrap();
        let key = DecodingKey::from_jwk(&jwks.keys[0]).unwrap();
        let t = iss.mint(MintOptions::default()).access_token;
        let mut v = Validation::new(Algorithm::ES256);
        v.validate_aud = false;
        jsonwebtoken::decode::<Value>(&t, &key, &v).unwrap();
    }
}
