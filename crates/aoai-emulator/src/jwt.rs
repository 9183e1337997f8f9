//! Entra-style access tokens: issued by the token endpoints, verified by the data plane.
//!
//! Ownership: the Entra side implements this file; the data plane only calls [`TokenIssuer::verify`].

/// Claims of an access token the emulator issued (the subset the data plane checks).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
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

/// Signs and verifies the emulator's tokens with a key generated at start-up.
pub struct TokenIssuer {
    _private: (),
}

impl TokenIssuer {
    /// Creates the issuer for `config` (key generated here, once per emulator).
    ///
    /// Added by the data-plane side only so `AppState::new` compiles; the Entra side owns this
    /// and may change it (then update the one call in `state.rs`).
    pub fn new(_config: &crate::config::EmulatorConfig) -> Self {
        Self { _private: () }
    }

    /// Verifies signature, `exp`/`nbf` and audience. The tenant check (A4) and the role check (A3)
    /// are the data plane's, done on the returned claims.
    pub fn verify(&self, _token: &str) -> Result<AccessClaims, TokenRejection> {
        todo!("implemented by the Entra side")
    }
}
