//! Azure Arc (2020-06-01): a challenge, then the token (spec §6.3).
//!
//! 1. `GET $IDENTITY_ENDPOINT?api-version=2020-06-01&resource=<r>` with `Metadata: true` →
//!    401 with `WWW-Authenticate: Basic realm=<path>`.
//! 2. The key file `<key dir>/<realm file stem>.key` (≤ 4096 bytes; the directory is fixed, as
//!    in MSAL: `/var/opt/azcmagent/tokens` on Linux) is read and sent verbatim as
//!    `Authorization: Basic <content>` on the same GET.
//!
//! A user-assigned id must be echoed in the answer, otherwise the agent returned the
//! system-assigned identity: hard failure.

use std::path::{Path, PathBuf};

use super::{Expiry, ManagedIdentityId, MiBody, id_param};
use crate::credentials::Context;
use crate::error::{ErrorKind, IdentityError};
use crate::http::{RetryOn, mask_url};
use crate::token::Token;

pub(crate) struct Arc {
    ctx: Context,
    endpoint: String,
    id: ManagedIdentityId,
    key_dir: PathBuf,
}

fn default_key_dir() -> PathBuf {
    if cfg!(windows) {
        let pd = std::env::var_os("ProgramData")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("C:\\ProgramData"));
        pd.join("AzureConnectedMachineAgent").join("Tokens")
    } else {
        PathBuf::from("/var/opt/azcmagent/tokens")
    }
}

fn hard(msg: impl Into<String>) -> IdentityError {
    IdentityError::failed(ErrorKind::Authentication, msg)
        .with_fix("check the Azure Connected Machine agent (`azcmagent show`) and that this process may read its token directory")
}

impl Arc {
    pub(crate) fn new(
        ctx: &Context,
        endpoint: String,
        id: ManagedIdentityId,
        key_dir: Option<PathBuf>,
    ) -> Self {
        Arc {
            ctx: ctx.clone(),
            endpoint,
            id,
            key_dir: key_dir.unwrap_or_else(default_key_dir),
        }
    }

    pub(crate) fn url(&self) -> String {
        mask_url(&self.endpoint)
    }

    fn key_path(&self, realm_path: &str) -> Result<PathBuf, IdentityError> {
        let stem = Path::new(realm_path.trim())
            .file_stem()
            .and_then(|s| s.to_str())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                hard(format!(
                    "Azure Arc challenge names no key file: realm '{realm_path}'"
                ))
            })?;
        Ok(self.key_dir.join(format!("{stem}.key")))
    }

    pub(crate) async fn fetch(&self, resource: &str) -> Result<Token, IdentityError> {
        let mut q = vec![("api-version", "2020-06-01"), ("resource", resource)];
        q.extend(id_param(&self.id, "client_id", "object_id", "msi_res_id"));
        let what = "the Azure Arc identity endpoint";
        let fix = "check IDENTITY_ENDPOINT and that the Azure Connected Machine agent is running (`azcmagent show`)";
        let challenge = self
            .ctx
            .http
            .send(what, RetryOn::Never, |c| {
                c.get(&self.endpoint).query(&q).header("Metadata", "true")
            })
            .await
            .map_err(|e| e.with_fix(fix))?;
        if challenge.status.as_u16() != 401 {
            let body = MiBody::parse(&challenge).unwrap_or_default();
            return Err(IdentityError::unavailable(format!(
                "Azure Arc answered HTTP {} instead of the expected 401 challenge: {}",
                challenge.status.as_u16(),
                body.error_text()
            ))
            .with_status(challenge.status.as_u16())
            .with_fix(fix));
        }
        let realm = challenge
            .header("www-authenticate")
            .and_then(|h| {
                h.split_once('=')
                    .map(|(_, v)| v.trim().trim_matches('"').to_string())
            })
            .ok_or_else(|| {
                hard("Azure Arc's 401 has no usable WWW-Authenticate: Basic realm=<path> header")
            })?;
        let key_path = self.key_path(&realm)?;
        let meta = std::fs::metadata(&key_path).map_err(|e| {
            hard(format!(
                "cannot read the Azure Arc key file {}: {e}",
                key_path.display()
            ))
        })?;
        if meta.len() > 4096 {
            return Err(hard(format!(
                "the Azure Arc key file {} is larger than 4096 bytes",
                key_path.display()
            )));
        }
        let key = std::fs::read_to_string(&key_path).map_err(|e| {
            hard(format!(
                "cannot read the Azure Arc key file {}: {e}",
                key_path.display()
            ))
        })?;
        let now = self.ctx.clock.now();
        let resp = self
            .ctx
            .http
            .send(what, RetryOn::Transient, |c| {
                let mut auth = reqwest::header::HeaderValue::from_str(&format!("Basic {key}"))
                    .unwrap_or_else(|_| reqwest::header::HeaderValue::from_static("Basic invalid"));
                auth.set_sensitive(true);
                c.get(&self.endpoint)
                    .query(&q)
                    .header("Metadata", "true")
                    .header("Authorization", auth)
            })
            .await
            .map_err(|e| e.with_fix(fix))?;
        let Some(body) = MiBody::parse(&resp) else {
            return Err(super::not_json("Azure Arc", &resp));
        };
        let token = match body.token(now, Expiry::InFirst) {
            Some(t) if resp.status.is_success() => t,
            _ => {
                return Err(super::json_error(
                    "Azure Arc",
                    &body,
                    resp.status.as_u16(),
                    &self.id,
                ));
            }
        };
        if let Some((_, wanted)) = id_param(&self.id, "", "", "") {
            let echoed = [
                &body.client_id,
                &body.object_id,
                &body.msi_res_id,
                &body.mi_res_id,
            ]
            .iter()
            .any(|v| v.as_deref().is_some_and(|v| v.eq_ignore_ascii_case(wanted)));
            if !echoed {
                return Err(hard(
                    "Azure Arc did not confirm the requested user-assigned managed identity in the token response; \
the agent likely returned the system-assigned identity",
                ));
            }
        }
        Ok(token)
    }
}
