//! Keyless authentication for Azure: a `DefaultAzureCredential` chain for Rust that is fast,
//! predictable and explains itself.
//!
//! Every credential implements [`azure_core::credentials::TokenCredential`] (so it works with
//! every Azure SDK crate) and this crate's [`ChainLink`] (so it can explain itself in a chain).
//!
//! ```text
//!  get_token(scopes, ForceRefresh?)
//!     │
//!     ▼
//!  DefaultAzureCredential ── chosen before? ──yes──► that credential (no re-walk)
//!     │ no: walk once (concurrent first callers wait for this one walk)
//!     ▼
//!  Environment ─► WorkloadIdentity ─► ManagedIdentity ─┬─► (IMDS probe, bounded)
//!                                                      └─► AzureCli ─► AzurePowerShell ─► AzureDeveloperCli
//!                                                          (run concurrently with the probe; priority kept)
//!     │ each credential:
//!     ▼
//!  TokenCache (per credential; keyed by scopes; single-flight; background refresh 5 min
//!     │        before expiry or at refresh_on / half-life; failed refresh keeps the old token)
//!     ▼
//!  source: Entra v2 token POST │ IMDS / App Service / Arc / Cloud Shell / ML / Service Fabric │ az / azd / pwsh
//!          (one shared reqwest client, rustls, no proxy)                                       (no shell, 10 s limit)
//! ```
//!
//! Errors are one type, [`IdentityError`]: [`is_unavailable`](IdentityError::is_unavailable)
//! (the credential does not apply; a chain goes on) or failed (it applies and failed; a chain
//! stops), a [`kind`](IdentityError::kind) (`credential_unavailable`, `authentication_error`,
//! `network_error`, `timeout`, `config_error`), a [`quick_fix`](IdentityError::quick_fix) and,
//! from chains, a [`ChainReport`]. Through `azure_core` the error arrives as
//! `ErrorKind::Credential` with the `IdentityError` as its source:
//! `IdentityError::from_azure(&err)` (or `err.downcast_ref::<IdentityError>()`) gets it back.
//!
//! Environment and clock are injectable ([`Env`], [`Clock`]): pass
//! `DefaultAzureCredential::with_env(Env::empty().with(..))` to diagnose a controlled environment.
//!
//! ```no_run
//! # async fn run() -> Result<(), aoai_identity::IdentityError> {
//! use aoai_identity::{DefaultAzureCredential, Env};
//!
//! let dac = DefaultAzureCredential::with_env(Env::process())?;
//! match dac.get_token_detailed(&["https://cognitiveservices.azure.com/.default"], None).await {
//!     Ok(_) => println!("using {}", dac.resolution().unwrap().credential),
//!     Err(e) => eprintln!("{e:#}"), // the report and the quick fix
//! }
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

mod cache;
mod clock;
pub mod credentials;
mod env;
mod error;
mod http;
mod report;
mod token;
pub mod vars;

pub use cache::{CacheOptions, TokenCache};
pub use clock::{Clock, ManualClock, SystemClock};
pub use credentials::ChainLink;
pub use credentials::azure_cli::{AzureCliCredential, AzureCliCredentialOptions};
pub use credentials::azure_developer_cli::{
    AzureDeveloperCliCredential, AzureDeveloperCliCredentialOptions,
};
pub use credentials::azure_powershell::{
    AzurePowerShellCredential, AzurePowerShellCredentialOptions,
};
pub use credentials::chained::{ChainedTokenCredential, ForeignCredential};
pub use credentials::client_certificate::{
    ClientCertificateCredential, ClientCertificateCredentialOptions,
};
pub use credentials::client_secret::{ClientSecretCredential, ClientSecretCredentialOptions};
pub use credentials::default::{DefaultAzureCredential, DefaultAzureCredentialOptions, Resolution};
pub use credentials::environment::{EnvironmentCredential, EnvironmentCredentialOptions};
pub use credentials::managed_identity::{
    ManagedIdentityCredential, ManagedIdentityCredentialOptions, ManagedIdentityId,
};
pub use credentials::workload_identity::{
    WorkloadIdentityCredential, WorkloadIdentityCredentialOptions,
};
pub use env::Env;
pub use error::{ErrorKind, IdentityError};
pub use http::{ClientOptions, RetryOptions};
pub use report::{ChainReport, ChainStep, Evidence, StepOutcome};
pub use token::{Token, scope_to_resource};

/// Marker a caller puts in a token request's context to ask for a fresh token, bypassing any
/// cached one (for example after the service answered 401 with the cached token).
///
/// Every credential of this crate honours it; credentials from other crates ignore it.
///
/// ```
/// use azure_core::credentials::TokenRequestOptions;
/// use aoai_identity::ForceRefresh;
///
/// let mut options = TokenRequestOptions::default();
/// options.method_options.context.insert(ForceRefresh);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ForceRefresh;

/// The README's examples, compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
