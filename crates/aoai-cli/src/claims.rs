//! What a Microsoft Entra access token says about itself: its claims, decoded (not verified —
//! only the service can verify a token; we read it to explain it).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use time::OffsetDateTime;

/// Audiences Azure OpenAI accepts (with or without a trailing `/`).
pub const OPENAI_AUDIENCES: &[&str] = &[
    "https://cognitiveservices.azure.com",
    "https://ai.azure.com",
];

/// The claims `aoai` shows and checks. Missing claims are `None`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Claims {
    /// `aud`: the resource the token is for.
    pub audience: Option<String>,
    /// `tid`: the tenant.
    pub tenant: Option<String>,
    /// `oid`: the principal's object id.
    pub object_id: Option<String>,
    /// `appid` (v1) or `azp` (v2): the application (client) id.
    pub app_id: Option<String>,
    /// `upn`, `unique_name` or `preferred_username`: a user's name.
    pub user: Option<String>,
    /// `exp`.
    pub expires: Option<OffsetDateTime>,
    /// `roles` (application permissions; not Azure RBAC role assignments).
    pub roles: Vec<String>,
    /// `scp` (delegated permissions).
    pub scopes: Option<String>,
}

/// Why a token could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotAJwt(pub &'static str);

impl std::fmt::Display for NotAJwt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the token is not a readable JWT ({})", self.0)
    }
}

fn string(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Array(a) => a.first().and_then(|x| x.as_str()).map(str::to_string),
        _ => None,
    }
}

impl Claims {
    /// Decodes the payload of a JWT (`header.payload.signature`).
    pub fn decode(token: &str) -> Result<Claims, NotAJwt> {
        let mut parts = token.trim().split('.');
        let (_, payload) = match (parts.next(), parts.next()) {
            (Some(h), Some(p)) if !h.is_empty() && !p.is_empty() => (h, p),
            _ => return Err(NotAJwt("it has no header.payload.signature form")),
        };
        let bytes = URL_SAFE_NO_PAD
            .decode(payload.trim_end_matches('='))
            .map_err(|_| NotAJwt("its payload is not base64url"))?;
        let v: Value =
            serde_json::from_slice(&bytes).map_err(|_| NotAJwt("its payload is not JSON"))?;
        if !v.is_object() {
            return Err(NotAJwt("its payload is not a JSON object"));
        }
        let expires = v
            .get("exp")
            .and_then(|e| e.as_i64().or_else(|| e.as_f64().map(|f| f as i64)))
            .and_then(|e| OffsetDateTime::from_unix_timestamp(e).ok());
        let roles = match v.get("roles") {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|r| r.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        };
        Ok(Claims {
            audience: string(&v, "aud"),
            tenant: string(&v, "tid"),
            object_id: string(&v, "oid"),
            app_id: string(&v, "appid").or_else(|| string(&v, "azp")),
            user: string(&v, "upn")
                .or_else(|| string(&v, "unique_name"))
                .or_else(|| string(&v, "preferred_username")),
            expires,
            roles,
            scopes: string(&v, "scp"),
        })
    }

    /// Whether the audience is one Azure OpenAI accepts.
    pub fn audience_ok(&self) -> bool {
        self.audience
            .as_deref()
            .map(|a| OPENAI_AUDIENCES.contains(&a.trim_end_matches('/')))
            .unwrap_or(false)
    }

    /// Who the token is for, in one phrase: `user alice@contoso.com (oid ...)`, `app <appid> (oid ...)`.
    pub fn principal(&self) -> String {
        let mut out = match (&self.user, &self.app_id) {
            (Some(u), _) => format!("user {u}"),
            (None, Some(a)) => format!("application {a}"),
            (None, None) => "an unnamed principal".to_string(),
        };
        if let Some(oid) = &self.object_id {
            out.push_str(&format!(" (oid {oid})"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(payload: &str) -> String {
        format!(
            "{}.{}.sig",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256"}"#),
            URL_SAFE_NO_PAD.encode(payload)
        )
    }

    #[test]
    fn decodes_an_application_token() {
        let c = Claims::decode(&jwt(
            r#"{"aud":"https://cognitiveservices.azure.com","tid":"t1","oid":"o1","appid":"a1","exp":1700000000,"roles":["r1"]}"#,
        ))
        .unwrap();
        assert_eq!(c.tenant.as_deref(), Some("t1"));
        assert_eq!(c.principal(), "application a1 (oid o1)");
        assert_eq!(c.expires.unwrap().unix_timestamp(), 1_700_000_000);
        assert_eq!(c.roles, ["r1"]);
        assert!(c.audience_ok());
    }

    #[test]
    fn user_names_win_and_audiences_allow_a_trailing_slash() {
        let c = Claims::decode(&jwt(
            r#"{"aud":"https://ai.azure.com/","upn":"alice@contoso.com","azp":"x"}"#,
        ))
        .unwrap();
        assert_eq!(c.principal(), "user alice@contoso.com");
        assert!(c.audience_ok());
        let c = Claims::decode(&jwt(r#"{"aud":"https://management.azure.com"}"#)).unwrap();
        assert!(!c.audience_ok());
    }

    #[test]
    fn rejects_what_is_not_a_jwt() {
        assert!(Claims::decode("opaque").is_err());
        assert!(Claims::decode("a.%%%.c").is_err());
        assert!(Claims::decode(&format!("a.{}.c", URL_SAFE_NO_PAD.encode("[1]"))).is_err());
    }
}
