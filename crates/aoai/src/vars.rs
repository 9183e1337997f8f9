//! Every environment variable the client reads, declared once, with the defaults that apply
//! when a variable is not set. The README's reference table is written from this module.
//!
//! The identity chain's own variables (`AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, ...) are declared
//! in [`aoai_identity::vars`].

/// The resource endpoint, an origin such as `https://<resource>.openai.azure.com`.
pub const AZURE_OPENAI_ENDPOINT: &str = "AZURE_OPENAI_ENDPOINT";
/// A resource key (key1 or key2 under "Keys and Endpoint"), sent as the `api-key` header.
pub const AZURE_OPENAI_API_KEY: &str = "AZURE_OPENAI_API_KEY";
/// A static Microsoft Entra access token, sent as `Authorization: Bearer`; it is not refreshed.
pub const AZURE_OPENAI_AD_TOKEN: &str = "AZURE_OPENAI_AD_TOKEN";
/// The `api-version` query parameter of the deployment routes; default [`DEFAULT_API_VERSION`].
pub const OPENAI_API_VERSION: &str = "OPENAI_API_VERSION";
/// The deployment used when a request names none (so `model` can be omitted).
pub const AZURE_OPENAI_DEPLOYMENT: &str = "AZURE_OPENAI_DEPLOYMENT";

/// The api-version used when none is configured: the latest dated GA version of the inference
/// API (`2024-10-21`).
pub const DEFAULT_API_VERSION: &str = "2024-10-21";

/// The scope tokens are requested for when a token credential is used.
pub const DEFAULT_SCOPE: &str = "https://cognitiveservices.azure.com/.default";
