//! `DefaultAzureCredential`: the chain Python and .NET users know, fast and self-explaining.
//!
//! Order: EnvironmentCredential, WorkloadIdentityCredential, ManagedIdentityCredential,
//! AzureCliCredential, AzurePowerShellCredential, AzureDeveloperCliCredential (the Python chain
//! without SharedTokenCache, VisualStudioCode and Broker, which need a desktop broker).
//!
//! - `AZURE_TOKEN_CREDENTIALS` (read once, trimmed, case-insensitive): `dev` (the CLIs), `prod`
//!   (environment, workload identity, managed identity) or one credential's name; anything else
//!   is a constructor error. Explicit `exclude_*` options override it.
//! - Managed identity probes IMDS (bounded, 2 s) while the developer credentials run
//!   concurrently; priority is kept (see [`chained`](super::chained)).
//! - The first credential that works is remembered: later calls (refreshes) go straight to it,
//!   and its errors are returned as they are (with a one-step report).
//! - Every failure carries a [`ChainReport`] and a quick fix; a success is inspectable through
//!   [`DefaultAzureCredential::resolution`].

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use azure_core::credentials::TokenRequestOptions;

use super::azure_cli::{AzureCliCredential, AzureCliCredentialOptions};
use super::azure_developer_cli::{AzureDeveloperCliCredential, AzureDeveloperCliCredentialOptions};
use super::azure_powershell::{AzurePowerShellCredential, AzurePowerShellCredentialOptions};
use super::chained::{chain_error, walk};
use super::environment::EnvironmentCredential;
use super::managed_identity::{
    ManagedIdentityCredential, ManagedIdentityCredentialOptions, ManagedIdentityId,
};
use super::workload_identity::WorkloadIdentityCredential;
use super::{ChainLink, Context};
use crate::clock::Clock;
use crate::env::Env;
use crate::error::{IdentityError, fixes};
use crate::http::ClientOptions;
use crate::report::{ChainReport, ChainStep, Evidence, StepOutcome};
use crate::token::Token;
use crate::vars;

/// Options for [`DefaultAzureCredential`]. `Default` reads the process environment.
///
/// ```
/// use aoai_identity::{DefaultAzureCredential, DefaultAzureCredentialOptions, Env};
/// // A controlled environment: nothing inherited from the process.
/// let env = Env::empty().with("AZURE_TOKEN_CREDENTIALS", "dev").with("PATH", "/nonexistent");
/// let dac = DefaultAzureCredential::with_env(env).unwrap();
/// assert_eq!(dac.credential_names(), ["AzureCliCredential", "AzurePowerShellCredential", "AzureDeveloperCliCredential"]);
/// ```
#[derive(Debug, Clone)]
pub struct DefaultAzureCredentialOptions {
    /// Where every credential reads its variables (default: the process environment).
    pub env: Env,
    /// Clock for expiry and refresh decisions.
    pub clock: Option<Arc<dyn Clock>>,
    /// HTTP options (extra root certificates, retries).
    pub client: ClientOptions,
    /// Authority host for the environment credential; default `AZURE_AUTHORITY_HOST`.
    pub authority_host: Option<String>,
    /// Managed identity to use; default: `AZURE_CLIENT_ID` as a user-assigned client id, else
    /// system-assigned. `Some(ManagedIdentityId::SystemAssigned)` forces system-assigned.
    pub managed_identity_id: Option<ManagedIdentityId>,
    /// Workload identity client id; default the managed identity client id, else `AZURE_CLIENT_ID`.
    pub workload_identity_client_id: Option<String>,
    /// Workload identity tenant; default `AZURE_TENANT_ID`.
    pub workload_identity_tenant_id: Option<String>,
    /// Exclude (`Some(true)`) or force-include (`Some(false)`) the environment credential.
    pub exclude_environment_credential: Option<bool>,
    /// Same for workload identity (also turns off managed identity's token exchange).
    pub exclude_workload_identity_credential: Option<bool>,
    /// Same for managed identity.
    pub exclude_managed_identity_credential: Option<bool>,
    /// Same for the Azure CLI.
    pub exclude_cli_credential: Option<bool>,
    /// Same for Azure PowerShell.
    pub exclude_powershell_credential: Option<bool>,
    /// Same for the Azure Developer CLI.
    pub exclude_developer_cli_credential: Option<bool>,
    /// Time limit of each CLI call (default 10 s).
    pub process_timeout: Duration,
    /// Time limit of the IMDS probe, connect and answer (default 2 s).
    pub imds_probe_timeout: Duration,
    /// IMDS base URL (default `AZURE_POD_IDENTITY_AUTHORITY_HOST`, else `http://169.254.169.254`).
    pub imds_endpoint: Option<String>,
    /// How long a stalling IMDS probe may still answer once a lower-priority credential has a
    /// token (default 20 ms; the probe has already had the whole time the lower credential took).
    pub imds_grace: Duration,
    /// Fail construction when `AZURE_TOKEN_CREDENTIALS` is unset or empty.
    pub require_envvar: bool,
    /// Directory of Azure Arc key files (default `/var/opt/azcmagent/tokens`).
    pub arc_key_directory: Option<PathBuf>,
}

impl Default for DefaultAzureCredentialOptions {
    fn default() -> Self {
        DefaultAzureCredentialOptions {
            env: Env::process(),
            clock: None,
            client: ClientOptions::default(),
            authority_host: None,
            managed_identity_id: None,
            workload_identity_client_id: None,
            workload_identity_tenant_id: None,
            exclude_environment_credential: None,
            exclude_workload_identity_credential: None,
            exclude_managed_identity_credential: None,
            exclude_cli_credential: None,
            exclude_powershell_credential: None,
            exclude_developer_cli_credential: None,
            process_timeout: Duration::from_secs(10),
            imds_probe_timeout: Duration::from_secs(2),
            imds_endpoint: None,
            imds_grace: Duration::from_millis(20),
            require_envvar: false,
            arc_key_directory: None,
        }
    }
}

/// Which credential a successful walk used, and why.
#[derive(Debug, Clone)]
pub struct Resolution {
    /// The credential's name, e.g. `AzureCliCredential`.
    pub credential: String,
    /// What it looked at (the evidence for choosing it).
    pub evidence: Vec<Evidence>,
    /// The full walk.
    pub report: ChainReport,
}

const ORDER: [&str; 6] = [
    EnvironmentCredential::NAME,
    WorkloadIdentityCredential::NAME,
    ManagedIdentityCredential::NAME,
    AzureCliCredential::NAME,
    AzurePowerShellCredential::NAME,
    AzureDeveloperCliCredential::NAME,
];

const VALID_VALUES: &str = "dev, prod, azureclicredential, azuredeveloperclicredential, azurepowershellcredential, \
environmentcredential, managedidentitycredential, workloadidentitycredential";

/// Include flags after `AZURE_TOKEN_CREDENTIALS` and the `exclude_*` options.
struct Selection {
    include: [bool; 6],
    why_excluded: [Option<String>; 6],
    label: Option<String>,
    mi_only: bool,
}

fn select(o: &DefaultAzureCredentialOptions) -> Result<Selection, IdentityError> {
    let raw = o
        .env
        .get(vars::AZURE_TOKEN_CREDENTIALS)
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    if o.require_envvar && raw.is_empty() {
        return Err(IdentityError::config(
            "AZURE_TOKEN_CREDENTIALS is required but is not set or is empty",
        )
        .with_fix("set AZURE_TOKEN_CREDENTIALS to 'dev', 'prod', or a credential name such as ManagedIdentityCredential"));
    }
    let mut include = [true; 6];
    let mut label = None;
    let mut mi_only = false;
    if !raw.is_empty() {
        include = match raw.as_str() {
            "dev" => [false, false, false, true, true, true],
            "prod" => [true, true, true, false, false, false],
            other => match ORDER.iter().position(|n| n.to_ascii_lowercase() == other) {
                Some(i) => {
                    mi_only = i == 2;
                    let mut v = [false; 6];
                    v[i] = true;
                    v
                }
                None if matches!(
                    other,
                    "visualstudiocodecredential" | "interactivebrowsercredential"
                ) =>
                {
                    return Err(IdentityError::config(format!(
                        "AZURE_TOKEN_CREDENTIALS={} names a credential aoai-identity does not implement (it needs a desktop broker)",
                        other
                    ))
                    .with_fix("use AZURE_TOKEN_CREDENTIALS=AzureCliCredential (after `az login`) or dev")
                    .with_credential("DefaultAzureCredential"));
                }
                None => {
                    let original = o.env.get(vars::AZURE_TOKEN_CREDENTIALS).unwrap_or_default();
                    return Err(IdentityError::config(format!(
                        "invalid value for AZURE_TOKEN_CREDENTIALS: {}. Valid values are: {VALID_VALUES}",
                        original.trim()
                    ))
                    .with_fix("set AZURE_TOKEN_CREDENTIALS to dev, prod, or one credential name (e.g. AzureCliCredential), or unset it")
                    .with_credential("DefaultAzureCredential"));
                }
            },
        };
        label = Some(format!("AZURE_TOKEN_CREDENTIALS={}", raw));
    }
    let mut why_excluded: [Option<String>; 6] = Default::default();
    for (i, inc) in include.iter().enumerate() {
        if !inc {
            why_excluded[i] = label.as_ref().map(|l| format!("excluded by {l}"));
        }
    }
    let explicit = [
        o.exclude_environment_credential,
        o.exclude_workload_identity_credential,
        o.exclude_managed_identity_credential,
        o.exclude_cli_credential,
        o.exclude_powershell_credential,
        o.exclude_developer_cli_credential,
    ];
    for (i, e) in explicit.iter().enumerate() {
        if let Some(exclude) = e {
            include[i] = !exclude;
            why_excluded[i] = exclude.then(|| "excluded by options".to_string());
        }
    }
    if !include.iter().any(|x| *x) {
        return Err(IdentityError::config(
            "at least one credential is required: every credential is excluded",
        )
        .with_fix("remove an exclude_* option or change AZURE_TOKEN_CREDENTIALS")
        .with_credential("DefaultAzureCredential"));
    }
    Ok(Selection {
        include,
        why_excluded,
        label,
        mi_only,
    })
}

struct Inner {
    links: Vec<Arc<dyn ChainLink>>,
    excluded: Vec<(usize, String)>,
    positions: Vec<usize>,
    label: Option<String>,
    grace: Duration,
    chosen: Mutex<Option<usize>>,
    resolving: tokio::sync::Mutex<()>,
    last: Mutex<Option<ChainReport>>,
    resolution: Mutex<Option<Resolution>>,
}

/// The default credential chain. Cheap to clone (shared state: the remembered credential and
/// every credential's token cache).
///
/// ```no_run
/// # async fn f() -> Result<(), aoai_identity::IdentityError> {
/// use aoai_identity::DefaultAzureCredential;
/// let dac = DefaultAzureCredential::new()?;
/// let token = dac.get_token_detailed(&["https://cognitiveservices.azure.com/.default"], None).await?;
/// println!("{}", dac.resolution().unwrap().credential);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct DefaultAzureCredential(Arc<Inner>);

impl std::fmt::Debug for DefaultAzureCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DefaultAzureCredential")
            .field("credentials", &self.credential_names())
            .field("selected", &self.resolution().map(|r| r.credential))
            .finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The quick fix when nothing applied, adapted to what was found.
pub(crate) fn fix_for_nothing(report: &ChainReport) -> String {
    let az_found = report.steps.iter().any(|s| {
        s.looked_at
            .iter()
            .any(|e| matches!(e, Evidence::Executable { name, path: Some(_) } if name == "az"))
    });
    if az_found {
        format!(
            "`az` is installed but gave no token: {}",
            fixes::NO_CREDENTIAL
        )
    } else {
        fixes::NO_CREDENTIAL.to_string()
    }
}

impl DefaultAzureCredential {
    /// The name used in reports.
    pub const NAME: &'static str = "DefaultAzureCredential";

    /// The chain for the process environment.
    pub fn new() -> Result<Self, IdentityError> {
        Self::with_options(DefaultAzureCredentialOptions::default())
    }

    /// The chain for a given environment (everything else default).
    pub fn with_env(env: Env) -> Result<Self, IdentityError> {
        Self::with_options(DefaultAzureCredentialOptions {
            env,
            ..Default::default()
        })
    }

    /// The chain with explicit options. Fails on a malformed configuration (invalid
    /// `AZURE_TOKEN_CREDENTIALS`, empty secret, invalid tenant or authority, unreadable
    /// certificate): construction errors are not chain errors.
    pub fn with_options(o: DefaultAzureCredentialOptions) -> Result<Self, IdentityError> {
        let sel = select(&o)?;
        let ctx = Context::new(o.env.clone(), o.clock.clone(), &o.client)?;
        let env = &ctx.env;
        let mi_id = o.managed_identity_id.clone().unwrap_or_else(|| {
            match env.get_non_empty(vars::AZURE_CLIENT_ID) {
                Some(c) => ManagedIdentityId::ClientId(c.trim().to_string()),
                None => ManagedIdentityId::SystemAssigned,
            }
        });
        let mut links: Vec<Arc<dyn ChainLink>> = Vec::new();
        let mut positions = Vec::new();
        let mut excluded = Vec::new();
        for (i, name) in ORDER.iter().enumerate() {
            if !sel.include[i] {
                excluded.push((
                    i,
                    sel.why_excluded[i]
                        .clone()
                        .unwrap_or_else(|| "excluded".into()),
                ));
                continue;
            }
            let link: Arc<dyn ChainLink> = match *name {
                EnvironmentCredential::NAME => Arc::new(EnvironmentCredential::with_context(
                    ctx.clone(),
                    o.authority_host.as_deref(),
                )?),
                WorkloadIdentityCredential::NAME => {
                    let client = o
                        .workload_identity_client_id
                        .clone()
                        .or_else(|| match &mi_id {
                            ManagedIdentityId::ClientId(c) => Some(c.clone()),
                            _ => None,
                        });
                    Arc::new(WorkloadIdentityCredential::with_context(
                        ctx.clone(),
                        o.workload_identity_tenant_id.clone(),
                        client,
                        None,
                    )?)
                }
                ManagedIdentityCredential::NAME => {
                    Arc::new(ManagedIdentityCredential::with_context(
                        ctx.clone(),
                        ManagedIdentityCredentialOptions {
                            id: mi_id.clone(),
                            probe_imds: !sel.mi_only,
                            imds_probe_timeout: o.imds_probe_timeout,
                            imds_endpoint: o.imds_endpoint.clone(),
                            allow_workload_identity: sel.include[1] && !sel.mi_only,
                            arc_key_directory: o.arc_key_directory.clone(),
                            env: ctx.env.clone(),
                            clock: Some(ctx.clock.clone()),
                            client: o.client.clone(),
                        },
                    )?)
                }
                AzureCliCredential::NAME => Arc::new(AzureCliCredential::with_context(
                    &ctx,
                    AzureCliCredentialOptions {
                        process_timeout: o.process_timeout,
                        in_chain: true,
                        ..Default::default()
                    },
                )),
                AzurePowerShellCredential::NAME => {
                    Arc::new(AzurePowerShellCredential::with_context(
                        &ctx,
                        AzurePowerShellCredentialOptions {
                            process_timeout: o.process_timeout,
                            ..Default::default()
                        },
                    ))
                }
                _ => Arc::new(AzureDeveloperCliCredential::with_context(
                    &ctx,
                    AzureDeveloperCliCredentialOptions {
                        process_timeout: o.process_timeout,
                        in_chain: true,
                        ..Default::default()
                    },
                )),
            };
            links.push(link);
            positions.push(i);
        }
        Ok(DefaultAzureCredential(Arc::new(Inner {
            links,
            excluded,
            positions,
            label: sel.label,
            grace: o.imds_grace,
            chosen: Mutex::new(None),
            resolving: tokio::sync::Mutex::new(()),
            last: Mutex::new(None),
            resolution: Mutex::new(None),
        })))
    }

    /// The credentials in the chain, in order (excluded ones left out).
    pub fn credential_names(&self) -> Vec<&str> {
        self.0.links.iter().map(|l| l.name()).collect()
    }

    /// Which credential was chosen and from what evidence (after the first success).
    pub fn resolution(&self) -> Option<Resolution> {
        lock(&self.0.resolution).clone()
    }

    /// The report of the last walk (or, once a credential is chosen, of the last call).
    pub fn last_report(&self) -> Option<ChainReport> {
        lock(&self.0.last).clone()
    }

    fn finish_report(&self, mut report: ChainReport) -> ChainReport {
        // Excluded credentials appear as skipped, in chain order.
        let mut steps: Vec<(usize, ChainStep)> = Vec::new();
        for step in report.steps.drain(..) {
            let pos = ORDER
                .iter()
                .position(|n| *n == step.credential)
                .unwrap_or(usize::MAX);
            steps.push((pos, step));
        }
        for (pos, why) in &self.0.excluded {
            steps.push((
                *pos,
                ChainStep {
                    credential: ORDER[*pos].to_string(),
                    looked_at: Vec::new(),
                    outcome: StepOutcome::Skipped,
                    reason: why.clone(),
                    started: Duration::ZERO,
                    elapsed: Duration::ZERO,
                },
            ));
        }
        steps.sort_by_key(|(p, _)| *p);
        report.steps = steps.into_iter().map(|(_, s)| s).collect();
        report.selection = self.0.label.clone();
        report
    }

    /// Gets a token: from the remembered credential, or by walking the chain once (concurrent
    /// first callers wait for that one walk).
    pub async fn get_token_detailed(
        &self,
        scopes: &[&str],
        options: Option<&TokenRequestOptions<'_>>,
    ) -> Result<Token, IdentityError> {
        let chosen = *lock(&self.0.chosen);
        if let Some(i) = chosen {
            return self.call_chosen(i, scopes, options).await;
        }
        let _guard = self.0.resolving.lock().await;
        let chosen = *lock(&self.0.chosen);
        if let Some(i) = chosen {
            return self.call_chosen(i, scopes, options).await;
        }
        let w = walk(Self::NAME, &self.0.links, scopes, options, self.0.grace).await;
        let report = self.finish_report(w.report);
        *lock(&self.0.last) = Some(report.clone());
        match w.result {
            Ok((i, token)) => {
                let link = &self.0.links[i];
                tracing::info!(
                    credential = link.name(),
                    "DefaultAzureCredential chose a credential"
                );
                *lock(&self.0.resolution) = Some(Resolution {
                    credential: link.name().to_string(),
                    evidence: link.looked_at(),
                    report,
                });
                *lock(&self.0.chosen) = Some(i);
                Ok(token)
            }
            Err(e) => {
                let err = chain_error(Self::NAME, report, e);
                tracing::warn!(error = %err, "DefaultAzureCredential found no credential");
                Err(err)
            }
        }
    }

    async fn call_chosen(
        &self,
        i: usize,
        scopes: &[&str],
        options: Option<&TokenRequestOptions<'_>>,
    ) -> Result<Token, IdentityError> {
        let link = &self.0.links[i];
        let t0 = Instant::now();
        let result = link.token(scopes, options).await;
        if let Err(e) = &result {
            let step = ChainStep {
                credential: link.name().to_string(),
                looked_at: link.looked_at(),
                outcome: StepOutcome::Failed,
                reason: e.message().to_string(),
                started: Duration::ZERO,
                elapsed: t0.elapsed(),
            };
            let report = ChainReport {
                chain: Self::NAME.to_string(),
                steps: vec![step],
                elapsed: t0.elapsed(),
                selection: Some(format!(
                    "{} was chosen earlier; the chain is not walked again",
                    link.name()
                )),
            };
            *lock(&self.0.last) = Some(report.clone());
            return Err(e.clone().with_report(report));
        }
        result
    }

    /// Forgets the chosen credential: the next call walks the chain again.
    pub fn reset(&self) {
        *lock(&self.0.chosen) = None;
        *lock(&self.0.resolution) = None;
    }

    /// Everything every credential looks at.
    pub fn looked_at(&self) -> Vec<Evidence> {
        self.0.links.iter().flat_map(|l| l.looked_at()).collect()
    }

    fn may_stall_impl(&self) -> bool {
        false
    }

    #[allow(dead_code)]
    fn positions(&self) -> &[usize] {
        &self.0.positions
    }
}

super::impl_credential!(DefaultAzureCredential);
