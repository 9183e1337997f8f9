//! Azure ML (2017-09-01): `GET $MSI_ENDPOINT?api-version=2017-09-01&resource=<r>[&clientid=<id>]`
//! with header `secret: $MSI_SECRET` (spec §6.5). Only a client id can select a user-assigned
//! identity (`clientid`, no underscore).

use azure_core::credentials::Secret;

use super::{Expiry, ManagedIdentityId, MiBody};
use crate::credentials::Context;
use crate::error::IdentityError;
use crate::http::{RetryOn, mask_url};
use crate::token::Token;

pub(crate) struct AzureMl {
    ctx: Context,
    endpoint: String,
    secret: Secret,
    id: ManagedIdentityId,
}

impl AzureMl {
    pub(crate) fn new(
        ctx: &Context,
        endpoint: String,
        secret: String,
        id: ManagedIdentityId,
    ) -> Result<Self, IdentityError> {
        if matches!(
            id,
            ManagedIdentityId::ObjectId(_) | ManagedIdentityId::ResourceId(_)
        ) {
            return Err(IdentityError::config(
                "Azure ML managed identity selects a user-assigned identity by client id only",
            )
            .with_fix("use ManagedIdentityId::ClientId (AZURE_CLIENT_ID)"));
        }
        Ok(AzureMl {
            ctx: ctx.clone(),
            endpoint,
            secret: Secret::new(secret),
            id,
        })
    }

    pub(crate) fn url(&self) -> String {
        mask_url(&self.endpoint)
    }

    pub(crate) async fn fetch(&self, resource: &str) -> Result<Token, IdentityError> {
        let mut q = vec![("api-version", "2017-09-01"), ("resource", resource)];
        if let ManagedIdentityId::ClientId(c) = &self.id {
            q.push(("clientid", c.as_str()));
        }
        let now = self.ctx.clock.now();
        let resp = self
            .ctx
            .http
            .send(
                "the Azure ML managed identity endpoint",
                RetryOn::Transient,
                |c| {
                    let mut h = reqwest::header::HeaderValue::from_str(self.secret.secret())
                        .unwrap_or_else(|_| reqwest::header::HeaderValue::from_static("invalid"));
                    h.set_sensitive(true);
                    c.get(&self.endpoint).query(&q).header("secret", h)
                },
            )
            .await
            .map_err(|e| {
                e.with_fix("check MSI_ENDPOINT: the Azure ML identity endpoint did not answer")
            })?;
        let Some(body) = MiBody::parse(&resp) else {
            return Err(super::not_json("Azure ML", &resp));
        };
        match body.token(now, Expiry::OnFirst) {
            Some(t) if resp.status.is_success() => Ok(t),
            _ => Err(super::json_error(
                "Azure ML",
                &body,
                resp.status.as_u16(),
                &self.id,
            )),
        }
    }
}
