//! Cloud Shell: `POST $MSI_ENDPOINT` with form `resource=<r>[&client_id=<id>]` and
//! `Metadata: true` (spec §6.6).
//!
//! The reverse of App Service: a non-JSON answer is unavailable, a JSON answer without a token
//! (and no answer at all) is a hard failure. `expires_on` wins over `expires_in`.

use super::{Expiry, ManagedIdentityId, MiBody};
use crate::credentials::Context;
use crate::error::{ErrorKind, IdentityError};
use crate::http::{RetryOn, mask_url};
use crate::token::Token;

pub(crate) struct CloudShell {
    ctx: Context,
    endpoint: String,
    id: ManagedIdentityId,
}

impl CloudShell {
    pub(crate) fn new(
        ctx: &Context,
        endpoint: String,
        id: ManagedIdentityId,
    ) -> Result<Self, IdentityError> {
        if matches!(
            id,
            ManagedIdentityId::ObjectId(_) | ManagedIdentityId::ResourceId(_)
        ) {
            return Err(IdentityError::config(
                "Cloud Shell selects a user-assigned identity by client id only",
            )
            .with_fix("use ManagedIdentityId::ClientId, or the system-assigned identity"));
        }
        Ok(CloudShell {
            ctx: ctx.clone(),
            endpoint,
            id,
        })
    }

    pub(crate) fn url(&self) -> String {
        mask_url(&self.endpoint)
    }

    pub(crate) async fn fetch(&self, resource: &str) -> Result<Token, IdentityError> {
        let mut form = vec![("resource", resource)];
        if let ManagedIdentityId::ClientId(c) = &self.id {
            form.push(("client_id", c.as_str()));
        }
        let body = serde_urlencoded::to_string(&form).unwrap_or_default();
        let now = self.ctx.clock.now();
        let resp = self
            .ctx
            .http
            .send(
                "the Cloud Shell identity endpoint",
                RetryOn::Transient,
                |c| {
                    c.post(&self.endpoint)
                        .header("Metadata", "true")
                        .header("Content-Type", "application/x-www-form-urlencoded")
                        .body(body.clone())
                },
            )
            .await
            .map_err(|e| {
                e.with_fix("check MSI_ENDPOINT: the Cloud Shell identity endpoint did not answer")
            })?;
        let Some(parsed) = MiBody::parse(&resp) else {
            return Err(IdentityError::unavailable(format!(
                "unexpected content type \"{}\" from Cloud Shell",
                resp.header("content-type").unwrap_or("none")
            ))
            .with_status(resp.status.as_u16()));
        };
        match parsed.token(now, Expiry::OnFirst) {
            Some(t) if resp.status.is_success() => Ok(t),
            _ => Err(IdentityError::failed(
                ErrorKind::Authentication,
                format!(
                    "unexpected response from Cloud Shell (HTTP {}): {}",
                    resp.status.as_u16(),
                    parsed.error_text()
                ),
            )
            .with_status(resp.status.as_u16())
            .with_fix(
                "run `az login` inside Cloud Shell again, or restart the Cloud Shell session",
            )),
        }
    }
}
