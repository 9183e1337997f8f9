//! `WorkloadIdentityCredential`: a Kubernetes service account token exchanged for an Entra token
//! (spec §5).
//!
//! One POST (no discovery): `client_assertion=<file content, verbatim>`,
//! `client_assertion_type=...jwt-bearer`, `client_id`, `grant_type=client_credentials`, `scope`.
//! The file is re-read when more than 600 s have passed since the last read (projected tokens
//! rotate). A missing file at request time is a hard failure.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use azure_core::credentials::TokenRequestOptions;
use time::{Duration, OffsetDateTime};

use super::entra::{self, Flavor};
use super::{Cached, Context, Source, impl_credential};
use crate::clock::Clock;
use crate::env::Env;
use crate::error::IdentityError;
use crate::http::ClientOptions;
use crate::report::Evidence;
use crate::token::{Token, check_tenant};
use crate::vars;

/// Options for [`WorkloadIdentityCredential`]; unset fields come from the environment.
#[derive(Debug, Clone, Default)]
pub struct WorkloadIdentityCredentialOptions {
    /// Tenant; default `AZURE_TENANT_ID`.
    pub tenant_id: Option<String>,
    /// Client id; default `AZURE_CLIENT_ID`.
    pub client_id: Option<String>,
    /// Token file; default `AZURE_FEDERATED_TOKEN_FILE`.
    pub token_file_path: Option<PathBuf>,
    /// Environment.
    pub env: Env,
    /// Clock.
    pub clock: Option<Arc<dyn Clock>>,
    /// HTTP options.
    pub client: ClientOptions,
}

const FILE_TTL: Duration = Duration::seconds(600);

pub(crate) struct WiSource {
    ctx: Context,
    token_url: String,
    client_id: String,
    file: PathBuf,
    assertion: Mutex<Option<(String, OffsetDateTime)>>,
}

impl WiSource {
    fn read_assertion(&self) -> Result<String, IdentityError> {
        let now = self.ctx.clock.now();
        let mut slot = self.assertion.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((content, read_at)) = slot.as_ref()
            && now - *read_at <= FILE_TTL
        {
            return Ok(content.clone());
        }
        let content = std::fs::read_to_string(&self.file).map_err(|e| {
            IdentityError::config(format!("cannot read the federated token file {}: {e}", self.file.display()))
                .with_fix("check AZURE_FEDERATED_TOKEN_FILE and the pod's projected service account token volume")
        })?;
        *slot = Some((content.clone(), now));
        Ok(content)
    }
}

#[async_trait]
impl Source for WiSource {
    async fn fetch(&self, scopes: &[String]) -> Result<Token, IdentityError> {
        let assertion = self.read_assertion()?;
        let scope = scopes.join(" ");
        let form = [
            ("client_assertion", assertion.as_str()),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_id", self.client_id.as_str()),
            ("grant_type", "client_credentials"),
            ("scope", scope.as_str()),
        ];
        let now = self.ctx.clock.now();
        entra::request_token(
            &self.ctx.http,
            now,
            &self.token_url,
            &form,
            false,
            Flavor::Workload,
        )
        .await
    }
}

#[derive(Clone)]
enum Inner {
    Ready(Cached<WiSource>),
    Missing(Vec<&'static str>),
}

/// Workload identity (AKS, or any OIDC federation through a token file).
#[derive(Clone)]
pub struct WorkloadIdentityCredential {
    inner: Inner,
    evidence: Vec<Evidence>,
}

impl std::fmt::Debug for WorkloadIdentityCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("WorkloadIdentityCredential");
        match &self.inner {
            Inner::Ready(c) => d
                .field("client_id", &c.source.client_id)
                .field("file", &c.source.file),
            Inner::Missing(m) => d.field("missing", m),
        };
        d.finish_non_exhaustive()
    }
}

impl WorkloadIdentityCredential {
    /// The name used in reports.
    pub const NAME: &'static str = "WorkloadIdentityCredential";

    /// Reads tenant, client id and file from the options, else the environment. Missing values
    /// make the credential unavailable (not a constructor error).
    pub fn new(options: WorkloadIdentityCredentialOptions) -> Result<Self, IdentityError> {
        let ctx = Context::new(options.env.clone(), options.clock.clone(), &options.client)?;
        Self::with_context(
            ctx,
            options.tenant_id,
            options.client_id,
            options.token_file_path,
        )
    }

    pub(crate) fn with_context(
        ctx: Context,
        tenant_id: Option<String>,
        client_id: Option<String>,
        file: Option<PathBuf>,
    ) -> Result<Self, IdentityError> {
        let env = &ctx.env;
        let mut evidence = ctx.evidence_vars(&[
            vars::AZURE_TENANT_ID,
            vars::AZURE_CLIENT_ID,
            vars::AZURE_FEDERATED_TOKEN_FILE,
        ]);
        let tenant = tenant_id.or_else(|| env.get_non_empty(vars::AZURE_TENANT_ID));
        let client = client_id.or_else(|| env.get_non_empty(vars::AZURE_CLIENT_ID));
        let file = file.or_else(|| {
            env.get_non_empty(vars::AZURE_FEDERATED_TOKEN_FILE)
                .map(PathBuf::from)
        });
        let (Some(tenant), Some(client), Some(file)) =
            (tenant.clone(), client.clone(), file.clone())
        else {
            let mut missing = Vec::new();
            if tenant.is_none() {
                missing.push("tenant_id (AZURE_TENANT_ID)");
            }
            if client.is_none() {
                missing.push("client_id (AZURE_CLIENT_ID)");
            }
            if file.is_none() {
                missing.push("token_file_path (AZURE_FEDERATED_TOKEN_FILE)");
            }
            return Ok(WorkloadIdentityCredential {
                inner: Inner::Missing(missing),
                evidence,
            });
        };
        check_tenant(tenant.trim()).map_err(|e| e.with_credential(Self::NAME))?;
        let authority =
            entra::authority_from(None, env).map_err(|e| e.with_credential(Self::NAME))?;
        let token_url = entra::token_url(&authority, tenant.trim());
        evidence.push(Evidence::File {
            exists: file.exists(),
            path: file.clone(),
        });
        evidence.push(Evidence::Endpoint {
            url: token_url.clone(),
        });
        let clock = ctx.clock.clone();
        let source = WiSource {
            ctx,
            token_url,
            client_id: client.trim().to_string(),
            file,
            assertion: Mutex::new(None),
        };
        Ok(WorkloadIdentityCredential {
            inner: Inner::Ready(Cached::new(Self::NAME, source, clock)),
            evidence,
        })
    }

    /// Whether tenant, client id and token file are all known.
    pub fn is_configured(&self) -> bool {
        matches!(self.inner, Inner::Ready(_))
    }

    /// Gets a token (cached; `ForceRefresh` bypasses the cache).
    pub async fn get_token_detailed(
        &self,
        scopes: &[&str],
        options: Option<&TokenRequestOptions<'_>>,
    ) -> Result<Token, IdentityError> {
        match &self.inner {
            Inner::Ready(c) => c.get(scopes, options).await,
            Inner::Missing(m) => Err(IdentityError::unavailable(format!(
                "the workload options are not fully configured; missing: {}",
                m.join(", ")
            ))
            .with_fix("on AKS, enable workload identity for the pod (label azure.workload.identity/use: \"true\"), which sets AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_FEDERATED_TOKEN_FILE")
            .with_credential(Self::NAME)),
        }
    }

    /// Variables, token file and endpoint.
    pub fn looked_at(&self) -> Vec<Evidence> {
        self.evidence.clone()
    }

    fn may_stall_impl(&self) -> bool {
        false
    }
}

impl_credential!(WorkloadIdentityCredential);
