//! `ManagedIdentityCredential`: the identity of the Azure host (spec §6).
//!
//! The source is chosen once, from the environment, in this order:
//!
//! | # | variables (non-empty)                                         | source          |
//! |---|---------------------------------------------------------------|-----------------|
//! | 1 | `IDENTITY_ENDPOINT` + `IDENTITY_HEADER` + `IDENTITY_SERVER_THUMBPRINT` | Service Fabric |
//! | 2 | `IDENTITY_ENDPOINT` + `IDENTITY_HEADER`                        | App Service / Functions / Container Apps |
//! | 3 | `IDENTITY_ENDPOINT` + `IMDS_ENDPOINT`                          | Azure Arc       |
//! | 4 | `MSI_ENDPOINT` + `MSI_SECRET`                                  | Azure ML        |
//! | 5 | `MSI_ENDPOINT`                                                 | Cloud Shell     |
//! | 6 | `AZURE_AUTHORITY_HOST` + `AZURE_TENANT_ID` + `AZURE_FEDERATED_TOKEN_FILE` | workload identity |
//! | 7 | otherwise                                                      | IMDS            |
//!
//! In a chain the IMDS source first probes (a GET without `Metadata`; any HTTP answer means
//! "IMDS is here"), bounded by `imds_probe_timeout` (2 s total; the Python peer bounds only the
//! connect, so a listener that never answers holds it for 300 s).

mod app_service;
mod arc;
mod azure_ml;
mod cloud_shell;
mod imds;
mod service_fabric;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use azure_core::credentials::TokenRequestOptions;
use serde::Deserialize;
use time::OffsetDateTime;

use super::workload_identity::WorkloadIdentityCredential;
use super::{Cached, Context, Source, impl_credential};
use crate::clock::Clock;
use crate::env::Env;
use crate::error::{ErrorKind, IdentityError};
use crate::http::{ClientOptions, HttpResponse};
use crate::report::Evidence;
use crate::token::Token;
use crate::vars;

/// Which managed identity to use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ManagedIdentityId {
    /// The host's system-assigned identity.
    #[default]
    SystemAssigned,
    /// A user-assigned identity by client (application) id.
    ClientId(String),
    /// A user-assigned identity by object (principal) id.
    ObjectId(String),
    /// A user-assigned identity by ARM resource id.
    ResourceId(String),
}

impl ManagedIdentityId {
    fn describe(&self) -> String {
        match self {
            ManagedIdentityId::SystemAssigned => "system-assigned".into(),
            ManagedIdentityId::ClientId(id) => format!("user-assigned, client id {id}"),
            ManagedIdentityId::ObjectId(id) => format!("user-assigned, object id {id}"),
            ManagedIdentityId::ResourceId(id) => format!("user-assigned, resource id {id}"),
        }
    }
}

/// Options for [`ManagedIdentityCredential`].
#[derive(Debug, Clone)]
pub struct ManagedIdentityCredentialOptions {
    /// System- or user-assigned identity (default system-assigned; `DefaultAzureCredential` uses
    /// `AZURE_CLIENT_ID` when set).
    pub id: ManagedIdentityId,
    /// Probe IMDS before the first request (as inside a chain). Default false.
    pub probe_imds: bool,
    /// Limit for the whole probe (connect and answer). Default 2 s.
    pub imds_probe_timeout: Duration,
    /// IMDS base URL (default `AZURE_POD_IDENTITY_AUTHORITY_HOST`, else `http://169.254.169.254`).
    pub imds_endpoint: Option<String>,
    /// Allow the workload identity ("token exchange") source (default true).
    pub allow_workload_identity: bool,
    /// Directory of Azure Arc key files (default `/var/opt/azcmagent/tokens`).
    pub arc_key_directory: Option<PathBuf>,
    /// Environment.
    pub env: Env,
    /// Clock.
    pub clock: Option<Arc<dyn Clock>>,
    /// HTTP options.
    pub client: ClientOptions,
}

impl Default for ManagedIdentityCredentialOptions {
    fn default() -> Self {
        ManagedIdentityCredentialOptions {
            id: ManagedIdentityId::SystemAssigned,
            probe_imds: false,
            imds_probe_timeout: Duration::from_secs(2),
            imds_endpoint: None,
            allow_workload_identity: true,
            arc_key_directory: None,
            env: Env::default(),
            clock: None,
            client: ClientOptions::default(),
        }
    }
}

/// The fields managed identity endpoints answer with (numbers may be strings).
#[derive(Deserialize, Default)]
pub(crate) struct MiBody {
    access_token: Option<String>,
    expires_in: Option<serde_json::Value>,
    expires_on: Option<serde_json::Value>,
    refresh_in: Option<serde_json::Value>,
    error: Option<serde_json::Value>,
    error_description: Option<String>,
    message: Option<String>,
    #[serde(rename = "statusCode")]
    status_code: Option<serde_json::Value>,
    pub(crate) client_id: Option<String>,
    pub(crate) object_id: Option<String>,
    pub(crate) msi_res_id: Option<String>,
    pub(crate) mi_res_id: Option<String>,
}

/// How a source reads times.
#[derive(Clone, Copy)]
pub(crate) enum Expiry {
    /// `expires_in` first (IMDS, Arc: MSAL ignores `expires_on`).
    InFirst,
    /// `expires_on` first (App Service, Azure ML, Cloud Shell, Service Fabric).
    OnFirst,
}

fn parse_expires_on(v: &serde_json::Value) -> Option<OffsetDateTime> {
    if let Some(n) = super::entra::num(&Some(v.clone())) {
        return OffsetDateTime::from_unix_timestamp(n).ok();
    }
    let s = v.as_str()?;
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}

impl MiBody {
    pub(crate) fn parse(resp: &HttpResponse) -> Option<MiBody> {
        serde_json::from_slice(&resp.body).ok()
    }

    pub(crate) fn token(&self, now: OffsetDateTime, expiry: Expiry) -> Option<Token> {
        let token = self.access_token.clone().filter(|t| !t.is_empty())?;
        let by_in =
            || super::entra::num(&self.expires_in).map(|s| now + time::Duration::seconds(s));
        let by_on = || self.expires_on.as_ref().and_then(parse_expires_on);
        let expires = match expiry {
            Expiry::InFirst => by_in().or_else(by_on),
            Expiry::OnFirst => by_on().or_else(by_in),
        }?;
        Some(Token::from_lifetime(
            token,
            now,
            expires,
            super::entra::num(&self.refresh_in),
        ))
    }

    /// `(error) description` from whichever error shape the endpoint used.
    pub(crate) fn error_text(&self) -> String {
        let error = match &self.error {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Object(o)) => {
                let code = o.get("code").and_then(|c| c.as_str()).unwrap_or("error");
                let msg = o.get("message").and_then(|c| c.as_str()).unwrap_or("");
                return format!("({code}) {msg}");
            }
            Some(v) => v.to_string(),
            None => "invalid_request".into(),
        };
        let desc = self
            .error_description
            .clone()
            .or_else(|| {
                self.message.clone().map(|m| match &self.status_code {
                    Some(c) => format!("{c}, {m}"),
                    None => m,
                })
            })
            .unwrap_or_default();
        format!("({error}) {}", desc.lines().next().unwrap_or(""))
    }
}

/// The fix for "this managed identity does not exist / has no access here".
pub(crate) fn identity_fix(id: &ManagedIdentityId) -> String {
    match id {
        ManagedIdentityId::SystemAssigned => {
            "enable a managed identity on this Azure resource (`az vm identity assign` / `az webapp identity assign`), \
or set AZURE_CLIENT_ID to a user-assigned identity attached to it"
                .into()
        }
        _ => "attach that user-assigned identity to this Azure resource (`az vm identity assign --identities <id>`), \
or fix AZURE_CLIENT_ID"
            .into(),
    }
}

enum Kind {
    Imds(imds::Imds),
    AppService(app_service::AppService),
    Arc(arc::Arc),
    AzureMl(azure_ml::AzureMl),
    CloudShell(cloud_shell::CloudShell),
    ServiceFabric(service_fabric::ServiceFabric),
}

pub(crate) struct MiSource {
    kind: Kind,
}

#[async_trait]
impl Source for MiSource {
    async fn fetch(&self, scopes: &[String]) -> Result<Token, IdentityError> {
        let refs: Vec<&str> = scopes.iter().map(String::as_str).collect();
        let scope = crate::token::single_scope(&refs)?;
        let resource = crate::token::scope_to_resource(scope);
        match &self.kind {
            Kind::Imds(s) => s.fetch(resource).await,
            Kind::AppService(s) => s.fetch(resource).await,
            Kind::Arc(s) => s.fetch(resource).await,
            Kind::AzureMl(s) => s.fetch(resource).await,
            Kind::CloudShell(s) => s.fetch(resource).await,
            Kind::ServiceFabric(s) => s.fetch(resource).await,
        }
    }
}

#[derive(Clone)]
enum Inner {
    Http(Cached<MiSource>, &'static str),
    Workload(WorkloadIdentityCredential),
    Nothing(String),
}

/// The managed identity of the Azure host.
#[derive(Clone)]
pub struct ManagedIdentityCredential {
    inner: Inner,
    evidence: Vec<Evidence>,
}

impl std::fmt::Debug for ManagedIdentityCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManagedIdentityCredential")
            .field("source", &self.source_name())
            .finish_non_exhaustive()
    }
}

const LOOKED_AT: &[&str] = &[
    vars::IDENTITY_ENDPOINT,
    vars::IDENTITY_HEADER,
    vars::IDENTITY_SERVER_THUMBPRINT,
    vars::IMDS_ENDPOINT,
    vars::MSI_ENDPOINT,
    vars::MSI_SECRET,
];

impl ManagedIdentityCredential {
    /// The name used in reports.
    pub const NAME: &'static str = "ManagedIdentityCredential";

    /// Chooses the source from the environment now.
    pub fn new(options: ManagedIdentityCredentialOptions) -> Result<Self, IdentityError> {
        let ctx = Context::new(options.env.clone(), options.clock.clone(), &options.client)?;
        Self::with_context(ctx, options)
    }

    pub(crate) fn with_context(
        ctx: Context,
        o: ManagedIdentityCredentialOptions,
    ) -> Result<Self, IdentityError> {
        let env = ctx.env.clone();
        let mut evidence = ctx.evidence_vars(LOOKED_AT);
        let get = |n: &str| env.get_non_empty(n);
        let id = o.id.clone();
        let named = |e: IdentityError| e.with_credential(Self::NAME);
        let kind = match (
            get(vars::IDENTITY_ENDPOINT),
            get(vars::IDENTITY_HEADER),
            get(vars::IDENTITY_SERVER_THUMBPRINT),
            get(vars::IMDS_ENDPOINT),
            get(vars::MSI_ENDPOINT),
            get(vars::MSI_SECRET),
        ) {
            (Some(ep), Some(h), Some(tp), ..) => Some(Kind::ServiceFabric(
                service_fabric::ServiceFabric::new(&ctx, ep, h, tp, id.clone()).map_err(named)?,
            )),
            (Some(ep), Some(h), None, ..) => Some(Kind::AppService(app_service::AppService::new(
                &ctx,
                ep,
                h,
                id.clone(),
            ))),
            (Some(ep), None, _, Some(_), ..) => Some(Kind::Arc(arc::Arc::new(
                &ctx,
                ep,
                id.clone(),
                o.arc_key_directory.clone(),
            ))),
            (None, _, _, _, Some(ep), Some(secret)) => Some(Kind::AzureMl(
                azure_ml::AzureMl::new(&ctx, ep, secret, id.clone()).map_err(named)?,
            )),
            (None, _, _, _, Some(ep), None) => Some(Kind::CloudShell(
                cloud_shell::CloudShell::new(&ctx, ep, id.clone()).map_err(named)?,
            )),
            (Some(_), None, _, None, ..) => None,
            _ => {
                let wi_vars = [
                    vars::AZURE_AUTHORITY_HOST,
                    vars::AZURE_TENANT_ID,
                    vars::AZURE_FEDERATED_TOKEN_FILE,
                ];
                if o.allow_workload_identity && wi_vars.iter().all(|v| get(v).is_some()) {
                    let client_id = match &id {
                        ManagedIdentityId::ClientId(c) => Some(c.clone()),
                        _ => get(vars::AZURE_CLIENT_ID),
                    };
                    if client_id.is_none() {
                        return Err(named(
                            IdentityError::config(
                                "workload identity was selected but no client id was provided",
                            )
                            .with_fix("set AZURE_CLIENT_ID to the workload identity's client id"),
                        ));
                    }
                    let wi = WorkloadIdentityCredential::with_context(
                        ctx.clone(),
                        None,
                        client_id,
                        None,
                    )?;
                    evidence.extend(wi.looked_at());
                    evidence.push(Evidence::Note("workload identity (token exchange)".into()));
                    return Ok(ManagedIdentityCredential {
                        inner: Inner::Workload(wi),
                        evidence,
                    });
                }
                let pod_host = env.get_non_empty(vars::AZURE_POD_IDENTITY_AUTHORITY_HOST);
                evidence.push(Evidence::EnvVar {
                    name: vars::AZURE_POD_IDENTITY_AUTHORITY_HOST,
                    set: pod_host.is_some(),
                });
                // Unlike the Python peer (which skips the probe when this variable is set at
                // construction), a chain always probes: one cheap GET when IMDS is there, and no
                // ~5 s connect-retry schedule when it is not.
                let base = match (&o.imds_endpoint, pod_host) {
                    (Some(ep), _) => ep.clone(),
                    (None, Some(h)) => h,
                    (None, None) => imds::DEFAULT_BASE.to_string(),
                };
                let probe = o.probe_imds;
                Some(Kind::Imds(imds::Imds::new(
                    &ctx,
                    &base,
                    id.clone(),
                    probe,
                    o.imds_probe_timeout,
                )))
            }
        };
        let inner = match kind {
            Some(kind) => {
                let name = match &kind {
                    Kind::Imds(s) => {
                        evidence.push(Evidence::Endpoint { url: s.url() });
                        "IMDS"
                    }
                    Kind::AppService(s) => {
                        evidence.push(Evidence::Endpoint { url: s.url() });
                        "App Service"
                    }
                    Kind::Arc(s) => {
                        evidence.push(Evidence::Endpoint { url: s.url() });
                        "Azure Arc"
                    }
                    Kind::AzureMl(s) => {
                        evidence.push(Evidence::Endpoint { url: s.url() });
                        "Azure ML"
                    }
                    Kind::CloudShell(s) => {
                        evidence.push(Evidence::Endpoint { url: s.url() });
                        "Cloud Shell"
                    }
                    Kind::ServiceFabric(s) => {
                        evidence.push(Evidence::Endpoint { url: s.url() });
                        "Service Fabric"
                    }
                };
                evidence.push(Evidence::Note(format!("{name}, {}", id.describe())));
                Inner::Http(Cached::new(Self::NAME, MiSource { kind }, ctx.clock.clone()), name)
            }
            None => Inner::Nothing(
                "no managed identity endpoint found: IDENTITY_ENDPOINT is set without IDENTITY_HEADER or IMDS_ENDPOINT"
                    .into(),
            ),
        };
        Ok(ManagedIdentityCredential { inner, evidence })
    }

    /// The chosen source: `IMDS`, `App Service`, `Azure Arc`, `Azure ML`, `Cloud Shell`,
    /// `Service Fabric`, `workload identity`, or `none`.
    pub fn source_name(&self) -> &'static str {
        match &self.inner {
            Inner::Http(_, n) => n,
            Inner::Workload(_) => "workload identity",
            Inner::Nothing(_) => "none",
        }
    }

    /// Gets a token (cached; `ForceRefresh` bypasses the cache).
    pub async fn get_token_detailed(
        &self,
        scopes: &[&str],
        options: Option<&TokenRequestOptions<'_>>,
    ) -> Result<Token, IdentityError> {
        match &self.inner {
            Inner::Http(c, _) => c.get(scopes, options).await,
            Inner::Workload(w) => w
                .get_token_detailed(scopes, options)
                .await
                .map_err(|e| e.with_credential(Self::NAME)),
            Inner::Nothing(msg) => Err(IdentityError::unavailable(msg.clone())
                .with_fix(identity_fix(&ManagedIdentityId::SystemAssigned))
                .with_credential(Self::NAME)),
        }
    }

    /// Variables (names), endpoint and identity.
    pub fn looked_at(&self) -> Vec<Evidence> {
        self.evidence.clone()
    }

    fn may_stall_impl(&self) -> bool {
        match &self.inner {
            Inner::Http(c, _) => match &c.source.kind {
                Kind::Imds(i) => i.may_stall(),
                _ => false,
            },
            _ => false,
        }
    }
}

impl_credential!(ManagedIdentityCredential);

/// Turns a non-2xx or token-less JSON answer into the source's error (unavailable or hard).
pub(crate) fn json_error(
    source: &str,
    body: &MiBody,
    status: u16,
    id: &ManagedIdentityId,
) -> IdentityError {
    IdentityError::unavailable(format!(
        "{source} managed identity answered HTTP {status} without a token: {}",
        body.error_text()
    ))
    .with_status(status)
    .with_fix(identity_fix(id))
}

/// A non-JSON answer (hard failure for App Service, Arc, ML).
pub(crate) fn not_json(source: &str, resp: &HttpResponse) -> IdentityError {
    IdentityError::failed(
        ErrorKind::Network,
        format!(
            "{source} managed identity endpoint answered HTTP {} with a body that is not JSON ({})",
            resp.status.as_u16(),
            resp.header("content-type").unwrap_or("no content type")
        ),
    )
    .with_status(resp.status.as_u16())
    .with_fix("check the managed identity endpoint variables (IDENTITY_ENDPOINT / MSI_ENDPOINT); is something else listening there?")
}

/// The query parameter names a source uses for user-assigned ids.
pub(crate) fn id_param<'a>(
    id: &'a ManagedIdentityId,
    client: &'static str,
    object: &'static str,
    resource: &'static str,
) -> Option<(&'static str, &'a str)> {
    match id {
        ManagedIdentityId::SystemAssigned => None,
        ManagedIdentityId::ClientId(v) => Some((client, v)),
        ManagedIdentityId::ObjectId(v) => Some((object, v)),
        ManagedIdentityId::ResourceId(v) => Some((resource, v)),
    }
}
