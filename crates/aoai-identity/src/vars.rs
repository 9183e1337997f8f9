//! Every environment variable this crate reads, declared once.
//!
//! Credentials never call `std::env::var`; they read an [`Env`](crate::Env) value, so tests and
//! tools can hand them a controlled environment. The README's reference table is written from
//! this module.

/// Microsoft Entra tenant (directory) id of the service principal or workload identity.
pub const AZURE_TENANT_ID: &str = "AZURE_TENANT_ID";
/// Application (client) id of the service principal or workload identity; also the client id
/// of a user-assigned managed identity when `DefaultAzureCredential` falls through to managed
/// identity.
pub const AZURE_CLIENT_ID: &str = "AZURE_CLIENT_ID";
/// Client secret *value* (not its id) of the service principal.
pub const AZURE_CLIENT_SECRET: &str = "AZURE_CLIENT_SECRET";
/// Path of a PEM or PKCS#12 file holding the service principal's certificate and RSA key.
pub const AZURE_CLIENT_CERTIFICATE_PATH: &str = "AZURE_CLIENT_CERTIFICATE_PATH";
/// Password of the PKCS#12 file (or of an encrypted PEM key).
pub const AZURE_CLIENT_CERTIFICATE_PASSWORD: &str = "AZURE_CLIENT_CERTIFICATE_PASSWORD";
/// Any non-empty value sends the certificate chain (`x5c`) in the client assertion.
pub const AZURE_CLIENT_SEND_CERTIFICATE_CHAIN: &str = "AZURE_CLIENT_SEND_CERTIFICATE_CHAIN";
/// User name for the (deprecated, refused) username/password flow.
pub const AZURE_USERNAME: &str = "AZURE_USERNAME";
/// Password for the (deprecated, refused) username/password flow.
pub const AZURE_PASSWORD: &str = "AZURE_PASSWORD";
/// Path of the federated (Kubernetes service account) token for workload identity.
pub const AZURE_FEDERATED_TOKEN_FILE: &str = "AZURE_FEDERATED_TOKEN_FILE";
/// Entra authority host, default `https://login.microsoftonline.com`.
pub const AZURE_AUTHORITY_HOST: &str = "AZURE_AUTHORITY_HOST";
/// Selects credentials of `DefaultAzureCredential`: `dev`, `prod`, or one credential's name.
pub const AZURE_TOKEN_CREDENTIALS: &str = "AZURE_TOKEN_CREDENTIALS";
/// IMDS base URL override (AKS pod identity), default `http://169.254.169.254`.
pub const AZURE_POD_IDENTITY_AUTHORITY_HOST: &str = "AZURE_POD_IDENTITY_AUTHORITY_HOST";
/// Managed identity endpoint of App Service / Functions / Container Apps, Azure Arc and
/// Service Fabric.
pub const IDENTITY_ENDPOINT: &str = "IDENTITY_ENDPOINT";
/// Secret header value for App Service (`X-IDENTITY-HEADER`) and Service Fabric (`Secret`).
pub const IDENTITY_HEADER: &str = "IDENTITY_HEADER";
/// SHA-1 thumbprint of the Service Fabric identity endpoint's certificate (pinned).
pub const IDENTITY_SERVER_THUMBPRINT: &str = "IDENTITY_SERVER_THUMBPRINT";
/// Set on Azure Arc machines (with `IDENTITY_ENDPOINT`).
pub const IMDS_ENDPOINT: &str = "IMDS_ENDPOINT";
/// Managed identity endpoint of Azure ML (with `MSI_SECRET`) and Cloud Shell (alone).
pub const MSI_ENDPOINT: &str = "MSI_ENDPOINT";
/// Secret header value for the Azure ML managed identity endpoint.
pub const MSI_SECRET: &str = "MSI_SECRET";
/// Search path for `az`, `azd` and `pwsh`.
pub const PATH: &str = "PATH";
/// Extra PEM root certificates trusted by this crate's HTTP client, in addition to the
/// platform's (a test hook for HTTPS emulators; the same role as Python's `REQUESTS_CA_BUNDLE`).
pub const AOAI_IDENTITY_EXTRA_CA_FILE: &str = "AOAI_IDENTITY_EXTRA_CA_FILE";

/// All variables above, in documentation order (used by reports and tests).
pub const ALL: &[&str] = &[
    AZURE_TENANT_ID,
    AZURE_CLIENT_ID,
    AZURE_CLIENT_SECRET,
    AZURE_CLIENT_CERTIFICATE_PATH,
    AZURE_CLIENT_CERTIFICATE_PASSWORD,
    AZURE_CLIENT_SEND_CERTIFICATE_CHAIN,
    AZURE_USERNAME,
    AZURE_PASSWORD,
    AZURE_FEDERATED_TOKEN_FILE,
    AZURE_AUTHORITY_HOST,
    AZURE_TOKEN_CREDENTIALS,
    AZURE_POD_IDENTITY_AUTHORITY_HOST,
    IDENTITY_ENDPOINT,
    IDENTITY_HEADER,
    IDENTITY_SERVER_THUMBPRINT,
    IMDS_ENDPOINT,
    MSI_ENDPOINT,
    MSI_SECRET,
    PATH,
    AOAI_IDENTITY_EXTRA_CA_FILE,
];

#[cfg(test)]
mod tests {
    #[test]
    fn readme_documents_every_variable() {
        let readme = include_str!("../README.md");
        for v in super::ALL {
            assert!(readme.contains(&format!("| `{v}` |")), "README lacks {v}");
        }
    }
}
