//! IMDS: `GET <base>/metadata/identity/oauth2/token?api-version=2018-02-01&resource=<r>`
//! (+ `client_id` / `object_id` / `msi_res_id`), header `Metadata: true` (spec §6.1).
//!
//! In a chain, a probe comes first: the same GET without `Metadata`, no retry, bounded by the
//! probe timeout. Any HTTP answer means "IMDS is here" (and is remembered); no answer means
//! unavailable. Every error of the token request is "unavailable" too (spec §6.9).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::{Expiry, ManagedIdentityId, MiBody, id_param, identity_fix};
use crate::credentials::Context;
use crate::error::IdentityError;
use crate::http::{Http, RetryOn};
use crate::token::Token;

pub(crate) const DEFAULT_BASE: &str = "http://169.254.169.254";
const PATH: &str = "/metadata/identity/oauth2/token";

pub(crate) struct Imds {
    ctx: Context,
    http: Http,
    url: String,
    id: ManagedIdentityId,
    probe: bool,
    probe_timeout: Duration,
    confirmed: AtomicBool,
}

/// IMDS gets its own client: a 2 s connect timeout (as in the Python peer), no proxy, plain HTTP.
fn imds_client() -> Option<reqwest::Client> {
    static C: OnceLock<Option<reqwest::Client>> = OnceLock::new();
    C.get_or_init(|| {
        reqwest::Client::builder()
            .no_proxy()
            .connect_timeout(Duration::from_secs(2))
            .build()
            .ok()
    })
    .clone()
}

impl Imds {
    pub(crate) fn new(
        ctx: &Context,
        base: &str,
        id: ManagedIdentityId,
        probe: bool,
        probe_timeout: Duration,
    ) -> Self {
        let base = base.trim().trim_matches('/');
        let base = if base.contains("://") {
            base.to_string()
        } else {
            format!("http://{base}")
        };
        let http = match imds_client() {
            Some(c) => ctx.http.with_client(c),
            None => (*ctx.http).clone(),
        };
        Imds {
            ctx: ctx.clone(),
            http,
            url: format!("{base}{PATH}"),
            id,
            probe,
            probe_timeout,
            confirmed: AtomicBool::new(false),
        }
    }

    pub(crate) fn url(&self) -> String {
        self.url.clone()
    }

    pub(crate) fn may_stall(&self) -> bool {
        self.probe && !self.confirmed.load(Ordering::Relaxed)
    }

    fn query<'a>(&'a self, resource: &'a str) -> Vec<(&'static str, &'a str)> {
        let mut q = vec![("api-version", "2018-02-01"), ("resource", resource)];
        q.extend(id_param(&self.id, "client_id", "object_id", "msi_res_id"));
        q
    }

    async fn probe(&self, resource: &str) -> Result<(), IdentityError> {
        let q = self.query(resource);
        let sent = self
            .http
            .client()
            .get(&self.url)
            .query(&q)
            .timeout(self.probe_timeout)
            .header("x-ms-client-request-id", uuid::Uuid::new_v4().to_string())
            .send()
            .await;
        match sent {
            Ok(resp) => {
                tracing::debug!(status = resp.status().as_u16(), "IMDS probe answered");
                self.confirmed.store(true, Ordering::Relaxed);
                Ok(())
            }
            Err(e) => {
                let why = if e.is_timeout() {
                    format!("no answer within {} ms", self.probe_timeout.as_millis())
                } else if e.is_connect() {
                    "connection failed".to_string()
                } else {
                    "request failed".to_string()
                };
                Err(IdentityError::unavailable(format!(
                    "no response from the IMDS endpoint ({why})"
                ))
                .with_fix(identity_fix(&self.id)))
            }
        }
    }

    pub(crate) async fn fetch(&self, resource: &str) -> Result<Token, IdentityError> {
        if self.probe && !self.confirmed.load(Ordering::Relaxed) {
            self.probe(resource).await?;
        }
        let q = self.query(resource);
        let now = self.ctx.clock.now();
        let resp = self
            .http
            .send("IMDS", RetryOn::Imds, |c| {
                c.get(&self.url).query(&q).header("Metadata", "true")
            })
            .await
            .map_err(|e| {
                IdentityError::unavailable(format!(
                    "no response from the IMDS endpoint: {}",
                    e.message()
                ))
                .with_fix(identity_fix(&self.id))
            })?;
        let status = resp.status.as_u16();
        let Some(body) = MiBody::parse(&resp) else {
            return Err(IdentityError::unavailable(format!(
                "IMDS answered HTTP {status} with a body that is not JSON"
            ))
            .with_status(status)
            .with_fix(identity_fix(&self.id)));
        };
        match body.token(now, Expiry::InFirst) {
            Some(t) if resp.status.is_success() => Ok(t),
            _ => Err(super::json_error("IMDS", &body, status, &self.id)),
        }
    }
}
