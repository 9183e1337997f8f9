//! App Service / Functions / Container Apps (2019-08-01): `GET $IDENTITY_ENDPOINT?api-version=
//! 2019-08-01&resource=<r>` (+ `client_id` / `object_id` / `mi_res_id`), headers
//! `X-IDENTITY-HEADER: $IDENTITY_HEADER` and `Metadata: true` (spec §6.2).
//!
//! A JSON answer without a token is unavailable; a non-JSON answer or no answer is a hard failure.

use azure_core::credentials::Secret;

use super::{Expiry, ManagedIdentityId, MiBody, id_param};
use crate::credentials::Context;
use crate::error::IdentityError;
use crate::http::{RetryOn, mask_url};
use crate::token::Token;

pub(crate) struct AppService {
    ctx: Context,
    endpoint: String,
    header: Secret,
    id: ManagedIdentityId,
}

impl AppService {
    pub(crate) fn new(
        ctx: &Context,
        endpoint: String,
        header: String,
        id: ManagedIdentityId,
    ) -> Self {
        AppService {
            ctx: ctx.clone(),
            endpoint,
            header: Secret::new(header),
            id,
        }
    }

    pub(crate) fn url(&self) -> String {
        mask_url(&self.endpoint)
    }

    pub(crate) async fn fetch(&self, resource: &str) -> Result<Token, IdentityError> {
        let mut q = vec![("api-version", "2019-08-01"), ("resource", resource)];
        q.extend(id_param(&self.id, "client_id", "object_id", "mi_res_id"));
        let now = self.ctx.clock.now();
        let resp = self
            .ctx
            .http
            .send(
                "the App Service managed identity endpoint",
                RetryOn::Transient,
                |c| {
                    let mut header = reqwest::header::HeaderValue::from_str(self.header.secret())
                        .unwrap_or_else(|_| reqwest::header::HeaderValue::from_static("invalid"));
                    header.set_sensitive(true);
                    c.get(&self.endpoint)
                        .query(&q)
                        .header("X-IDENTITY-HEADER", header)
                        .header("Metadata", "true")
                },
            )
            .await
            .map_err(|e| {
                e.with_fix(
                    "check IDENTITY_ENDPOINT: the App Service identity endpoint did not answer",
                )
            })?;
        let Some(body) = MiBody::parse(&resp) else {
            return Err(super::not_json("App Service", &resp));
        };
        match body.token(now, Expiry::OnFirst) {
            Some(t) if resp.status.is_success() => Ok(t),
            _ => Err(super::json_error(
                "App Service",
                &body,
                resp.status.as_u16(),
                &self.id,
            )),
        }
    }
}
