//! The `[entra]` table: tenants, service principals, managed identities and the secrets of the
//! managed-identity endpoints.
//!
//! ```toml
//! [entra]
//! tenant_id = "00000000-0000-0000-0000-000000000001"
//! extra_tenants = ["99999999-0000-0000-0000-000000000000"]
//! token_lifetime_secs = 3599
//! managed_identity_token_lifetime_secs = 86399
//! identity_header = "emulator-identity-header"   # App Service X-IDENTITY-HEADER, Service Fabric Secret
//! msi_secret = "emulator-msi-secret"             # Azure ML `secret`
//! arc_key_dir = "/tmp/aoai-emulator-arc"         # where the Arc challenge key files are written
//!
//! [[entra.principals]]                           # giving any replaces the default principal
//! client_id = "emulator-client"
//! object_id = "10000000-0000-0000-0000-000000000001"
//! secret = "emulator-secret"
//! certificate = "-----BEGIN CERTIFICATE-----..." # or a SHA-1 / SHA-256 thumbprint (hex)
//! federated_token = "eyJ..."                     # the exact workload-identity assertion accepted
//! roles = ["Cognitive Services OpenAI User"]
//!
//! [entra.system_identity]                        # IMDS & co. without an id
//! client_id = "20000000-0000-0000-0000-000000000001"
//! object_id = "20000000-0000-0000-0000-000000000002"
//! resource_id = "/subscriptions/.../virtualMachines/emulator-vm"
//! roles = ["Cognitive Services OpenAI User"]
//!
//! [[entra.user_identities]]                      # selected by client_id, object_id or resource id
//! client_id = "30000000-0000-0000-0000-000000000001"
//! object_id = "30000000-0000-0000-0000-000000000002"
//! resource_id = "/subscriptions/.../userAssignedIdentities/emulator-uami"
//! roles = ["Cognitive Services OpenAI User"]
//! ```

use std::path::PathBuf;

use serde::Deserialize;

/// The role the default identities hold on the emulated resource.
pub const OPENAI_USER: &str = "Cognitive Services OpenAI User";

/// The default tenant id.
pub const DEFAULT_TENANT: &str = "00000000-0000-0000-0000-000000000001";

/// The `[entra]` table of the emulator configuration. `Debug` redacts every secret.
#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EntraConfig {
    /// The resource's (and the default principals') tenant. Tokens from other tenants get A4.
    /// Default `00000000-0000-0000-0000-000000000001`.
    pub tenant_id: String,
    /// More tenants the authority knows (their token endpoints work; their tokens get A4 at the
    /// data plane). Any other tenant in a path gets AADSTS90002. Default none.
    pub extra_tenants: Vec<String>,
    /// `expires_in` of tokens from the Entra token endpoint and of minted tokens. Default 3599.
    pub token_lifetime_secs: u64,
    /// `expires_in` of managed-identity tokens (IMDS, App Service, Arc, ...). Default 86399.
    pub managed_identity_token_lifetime_secs: u64,
    /// Service principals (app registrations). Giving any replaces the default
    /// `emulator-client` / `emulator-secret` principal.
    pub principals: Vec<PrincipalConfig>,
    /// The system-assigned managed identity (used when a managed-identity request names no id).
    pub system_identity: ManagedIdentityConfig,
    /// User-assigned managed identities. Giving any replaces the default one.
    pub user_identities: Vec<ManagedIdentityConfig>,
    /// The value App Service expects in `X-IDENTITY-HEADER` (`IDENTITY_HEADER`), also the
    /// Service Fabric `Secret`. Default `emulator-identity-header`.
    pub identity_header: String,
    /// The Azure ML `secret` header value (`MSI_SECRET`). Default `emulator-msi-secret`.
    pub msi_secret: String,
    /// Directory where the Azure Arc challenge writes its `*.key` files. Default
    /// `<temp dir>/aoai-emulator-arc-<pid>`.
    pub arc_key_dir: Option<PathBuf>,
}

/// One `[[entra.principals]]` entry: a service principal that can use the token endpoint.
/// `Debug` redacts the secret and the federated token.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrincipalConfig {
    /// Application (client) id, sent as `client_id`.
    pub client_id: String,
    /// Object id of the service principal (`oid` of its tokens). Default: a UUID derived from the
    /// client id.
    #[serde(default)]
    pub object_id: String,
    /// Tenant of the app registration. Default: `entra.tenant_id`.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Client secret accepted in `client_secret`. Absent: secrets are refused (AADSTS7000215).
    #[serde(default)]
    pub secret: Option<String>,
    /// Certificate for client assertions: the public certificate as PEM, or its SHA-1 (40 hex
    /// digits) or SHA-256 (64 hex digits) thumbprint. With only a thumbprint the assertion must
    /// carry the certificate in `x5c` (its thumbprint must match) so the signature can be checked.
    #[serde(default)]
    pub certificate: Option<String>,
    /// The workload-identity (federated) assertion accepted as `client_assertion`, compared
    /// exactly (a trailing newline, as a token file may have, is ignored on both sides).
    #[serde(default)]
    pub federated_token: Option<String>,
    /// Azure RBAC roles the principal holds on the emulated resource.
    #[serde(default)]
    pub roles: Vec<String>,
}

/// `Some("***")` for a configured secret, `None` otherwise.
fn redact(secret: &Option<String>) -> Option<&'static str> {
    secret.as_ref().map(|_| "***")
}

impl std::fmt::Debug for PrincipalConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrincipalConfig")
            .field("client_id", &self.client_id)
            .field("object_id", &self.object_id)
            .field("tenant_id", &self.tenant_id)
            .field("secret", &redact(&self.secret))
            .field(
                "certificate",
                &self.certificate.as_ref().map(|_| "<certificate>"),
            )
            .field("federated_token", &redact(&self.federated_token))
            .field("roles", &self.roles)
            .finish()
    }
}

impl std::fmt::Debug for EntraConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EntraConfig")
            .field("tenant_id", &self.tenant_id)
            .field("extra_tenants", &self.extra_tenants)
            .field("token_lifetime_secs", &self.token_lifetime_secs)
            .field(
                "managed_identity_token_lifetime_secs",
                &self.managed_identity_token_lifetime_secs,
            )
            .field("principals", &self.principals)
            .field("system_identity", &self.system_identity)
            .field("user_identities", &self.user_identities)
            .field("identity_header", &"***")
            .field("msi_secret", &"***")
            .field("arc_key_dir", &self.arc_key_dir)
            .finish()
    }
}

impl PrincipalConfig {
    /// The object id: the configured one, else a stable UUID derived from the client id.
    pub fn oid(&self) -> String {
        if self.object_id.is_empty() {
            derived_object_id(&self.client_id)
        } else {
            self.object_id.clone()
        }
    }
}

/// A managed identity (system- or user-assigned).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManagedIdentityConfig {
    /// Client id (`client_id` in requests and `appid` in tokens).
    pub client_id: String,
    /// Object (principal) id.
    pub object_id: String,
    /// ARM resource id (`msi_res_id` / `mi_res_id` in requests, `xms_mirid` in tokens).
    pub resource_id: String,
    /// Azure RBAC roles the identity holds on the emulated resource.
    #[serde(default)]
    pub roles: Vec<String>,
}

impl Default for EntraConfig {
    fn default() -> Self {
        Self {
            tenant_id: DEFAULT_TENANT.to_owned(),
            extra_tenants: Vec::new(),
            token_lifetime_secs: 3599,
            managed_identity_token_lifetime_secs: 86399,
            principals: vec![PrincipalConfig {
                client_id: "emulator-client".to_owned(),
                object_id: "10000000-0000-0000-0000-000000000001".to_owned(),
                tenant_id: None,
                secret: Some("emulator-secret".to_owned()),
                certificate: None,
                federated_token: None,
                roles: vec![OPENAI_USER.to_owned()],
            }],
            system_identity: ManagedIdentityConfig {
                client_id: "20000000-0000-0000-0000-000000000001".to_owned(),
                object_id: "20000000-0000-0000-0000-000000000002".to_owned(),
                resource_id: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/emulator/providers/Microsoft.Compute/virtualMachines/emulator-vm".to_owned(),
                roles: vec![OPENAI_USER.to_owned()],
            },
            user_identities: vec![ManagedIdentityConfig {
                client_id: "30000000-0000-0000-0000-000000000001".to_owned(),
                object_id: "30000000-0000-0000-0000-000000000002".to_owned(),
                resource_id: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/emulator/providers/Microsoft.ManagedIdentity/userAssignedIdentities/emulator-uami".to_owned(),
                roles: vec![OPENAI_USER.to_owned()],
            }],
            identity_header: "emulator-identity-header".to_owned(),
            msi_secret: "emulator-msi-secret".to_owned(),
            arc_key_dir: None,
        }
    }
}

/// How a managed-identity request names the identity it wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentitySelector<'a> {
    /// No id: the system-assigned identity.
    System,
    /// `client_id` (`clientid` on Azure ML).
    ClientId(&'a str),
    /// `object_id` / `principal_id`.
    ObjectId(&'a str),
    /// `msi_res_id` / `mi_res_id`.
    ResourceId(&'a str),
}

impl EntraConfig {
    /// The resource's tenant id (A4 when a token's `tid` differs).
    pub fn resource_tenant(&self) -> Option<&str> {
        Some(self.tenant_id.as_str())
    }

    /// Whether the authority knows `tenant` (the default tenant or one of `extra_tenants`).
    pub fn knows_tenant(&self, tenant: &str) -> bool {
        self.tenant_id.eq_ignore_ascii_case(tenant)
            || self
                .extra_tenants
                .iter()
                .any(|t| t.eq_ignore_ascii_case(tenant))
    }

    /// The tenant of `principal` (its own, else the default tenant).
    pub fn tenant_of<'a>(&'a self, principal: &'a PrincipalConfig) -> &'a str {
        principal.tenant_id.as_deref().unwrap_or(&self.tenant_id)
    }

    /// The service principal with this client id.
    pub fn principal(&self, client_id: &str) -> Option<&PrincipalConfig> {
        self.principals
            .iter()
            .find(|p| p.client_id.eq_ignore_ascii_case(client_id))
    }

    /// The managed identity a request selects, if configured.
    pub fn managed_identity(
        &self,
        selector: IdentitySelector<'_>,
    ) -> Option<&ManagedIdentityConfig> {
        let all = std::iter::once(&self.system_identity).chain(&self.user_identities);
        match selector {
            IdentitySelector::System => Some(&self.system_identity),
            IdentitySelector::ClientId(id) => all
                .into_iter()
                .find(|m| m.client_id.eq_ignore_ascii_case(id)),
            IdentitySelector::ObjectId(id) => all
                .into_iter()
                .find(|m| m.object_id.eq_ignore_ascii_case(id)),
            IdentitySelector::ResourceId(id) => all
                .into_iter()
                .find(|m| m.resource_id.eq_ignore_ascii_case(id)),
        }
    }

    /// Role names assigned on the resource to the principal (service principal or managed
    /// identity) with this object id or client id. `None`: no such principal (= no roles).
    pub fn roles_of(&self, oid_or_appid: &str) -> Option<&[String]> {
        let matches = |a: &str| !a.is_empty() && a.eq_ignore_ascii_case(oid_or_appid);
        if let Some(p) = self
            .principals
            .iter()
            .find(|p| matches(&p.oid()) || matches(&p.client_id))
        {
            return Some(&p.roles);
        }
        std::iter::once(&self.system_identity)
            .chain(&self.user_identities)
            .find(|m| matches(&m.object_id) || matches(&m.client_id))
            .map(|m| m.roles.as_slice())
    }

    /// Same as [`EntraConfig::roles_of`] (the name the Entra brief uses).
    pub fn principal_roles(&self, oid_or_client_id: &str) -> Option<&[String]> {
        self.roles_of(oid_or_client_id)
    }

    /// Checks what serde cannot (called by [`crate::config::EmulatorConfig::validate`]).
    pub fn validate(&self) -> Result<(), String> {
        if self.tenant_id.trim().is_empty() {
            return Err("`entra.tenant_id` is empty; give the tenant a GUID".into());
        }
        if self.token_lifetime_secs == 0 || self.managed_identity_token_lifetime_secs == 0 {
            return Err("`entra.token_lifetime_secs` and `entra.managed_identity_token_lifetime_secs` must be positive (e.g. 3599)".into());
        }
        let mut seen = std::collections::HashSet::new();
        for p in &self.principals {
            if p.client_id.trim().is_empty() {
                return Err("an [[entra.principals]] entry has an empty `client_id`".into());
            }
            if !seen.insert(p.client_id.to_ascii_lowercase()) {
                return Err(format!(
                    "principal `{}` is listed twice in [[entra.principals]]",
                    p.client_id
                ));
            }
            if let Some(cert) = &p.certificate {
                super::assertion::CertificateKey::parse(cert).map_err(|e| {
                    format!(
                        "principal `{}`: `certificate` is neither a PEM certificate nor a SHA-1/SHA-256 thumbprint: {e}",
                        p.client_id
                    )
                })?;
            }
        }
        Ok(())
    }
}

/// A stable UUID-shaped object id for a principal configured without one.
fn derived_object_id(client_id: &str) -> String {
    use sha2::Digest;
    let d = sha2::Sha256::digest(client_id.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&d[..16]);
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_lookups() {
        let c = EntraConfig::default();
        assert_eq!(c.resource_tenant(), Some(DEFAULT_TENANT));
        assert_eq!(c.roles_of("emulator-client").unwrap(), [OPENAI_USER]);
        assert_eq!(
            c.roles_of("10000000-0000-0000-0000-000000000001").unwrap(),
            [OPENAI_USER]
        );
        assert_eq!(
            c.principal_roles("20000000-0000-0000-0000-000000000002")
                .unwrap(),
            [OPENAI_USER]
        );
        assert!(c.roles_of("nobody").is_none());
        assert!(c.roles_of("").is_none());
        assert_eq!(
            c.managed_identity(IdentitySelector::ClientId(
                "30000000-0000-0000-0000-000000000001"
            ))
            .unwrap()
            .object_id,
            "30000000-0000-0000-0000-000000000002"
        );
        assert!(
            c.managed_identity(IdentitySelector::ObjectId("x"))
                .is_none()
        );
        assert!(c.knows_tenant(&DEFAULT_TENANT.to_uppercase()));
        assert!(!c.knows_tenant("99999999-0000-0000-0000-000000000000"));
    }

    #[test]
    fn debug_redacts_secrets() {
        let mut c = EntraConfig::default();
        c.principals[0].federated_token = Some("fed-token-value".into());
        let text = format!("{c:?}");
        for secret in [
            "emulator-secret",
            "fed-token-value",
            "emulator-identity-header",
            "emulator-msi-secret",
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert!(text.contains("emulator-client"));
    }

    #[test]
    fn toml_table_parses_and_validates() {
        let c: EntraConfig = toml::from_str(
            r#"
            tenant_id = "t1"
            extra_tenants = ["t2"]
            [[principals]]
            client_id = "app"
            roles = ["Cognitive Services OpenAI Contributor"]
            federated_token = "fed"
            "#,
        )
        .unwrap();
        c.validate().unwrap();
        assert_eq!(c.principals.len(), 1);
        assert_eq!(c.principals[0].oid().len(), 36);
        assert_eq!(c.roles_of(&c.principals[0].oid()).unwrap().len(), 1);
        assert!(c.knows_tenant("T2"));
        assert!(toml::from_str::<EntraConfig>("nope = 1").is_err());
        let bad: EntraConfig =
            toml::from_str("[[principals]]\nclient_id = \"a\"\ncertificate = \"not a cert\"")
                .unwrap();
        assert!(bad.validate().unwrap_err().contains("thumbprint"));
    }
}
