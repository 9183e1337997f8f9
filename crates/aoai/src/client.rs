//! [`AzureOpenAI`] and its builder: settings from code and the environment, validated once.

use std::sync::Arc;
use std::time::Duration;

use aoai_identity::{DefaultAzureCredential, Env};
use azure_core::credentials::{Secret, TokenCredential};
use bytes::Bytes;
use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use crate::auth::{Auth, AuthMode};
use crate::error::{Error, ErrorKind};
use crate::pipeline::{Call, Pipeline, Received, Timeouts};
use crate::retry::RetryPolicy;
use crate::vars::{
    AZURE_OPENAI_AD_TOKEN, AZURE_OPENAI_API_KEY, AZURE_OPENAI_DEPLOYMENT, AZURE_OPENAI_ENDPOINT,
    DEFAULT_API_VERSION, DEFAULT_SCOPE, OPENAI_API_VERSION,
};
use crate::{Chat, Embeddings, config};

/// The only api-version whose authoring API lists deployments.
const LISTING_API_VERSION: &str = "2022-12-01";
/// How long a failed call waits for the deployment listing that improves its quick fix.
const LISTING_TIMEOUT: Duration = Duration::from_secs(3);

/// Which URL family requests use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Route {
    /// `/openai/deployments/{deployment}/...?api-version=...` (works on every resource).
    #[default]
    Deployments,
    /// `/openai/v1/...` with the deployment as the body's `model` (no api-version).
    V1,
}

/// A client of one Azure OpenAI resource. Cheap to clone: clones share one connection pool and
/// one credential (and so one token cache).
///
/// ```no_run
/// # async fn run() -> Result<(), aoai::Error> {
/// use aoai::types::{ChatCompletionRequest, ChatMessage};
///
/// // AZURE_OPENAI_ENDPOINT, AZURE_OPENAI_DEPLOYMENT, and a key, a token or nothing
/// // (then DefaultAzureCredential is used).
/// let client = aoai::AzureOpenAI::from_env()?;
/// let answer = client
///     .chat()
///     .create(ChatCompletionRequest::new(vec![ChatMessage::user("Hello!")]))
///     .await?;
/// println!("{}", answer.text());
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct AzureOpenAI {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    pipeline: Pipeline,
    endpoint: Url,
    api_version: String,
    deployment: Option<String>,
    route: Route,
    /// The chain the builder created when nothing else was configured.
    default_credential: Option<DefaultAzureCredential>,
}

impl AzureOpenAI {
    /// A builder with nothing set (the environment is read only with
    /// [`AzureOpenAIBuilder::from_env`]).
    pub fn builder() -> AzureOpenAIBuilder {
        AzureOpenAIBuilder::default()
    }

    /// A client configured from the process environment: `AZURE_OPENAI_ENDPOINT`,
    /// `AZURE_OPENAI_API_KEY` or `AZURE_OPENAI_AD_TOKEN` (else `DefaultAzureCredential`),
    /// `OPENAI_API_VERSION`, `AZURE_OPENAI_DEPLOYMENT`.
    pub fn from_env() -> Result<AzureOpenAI, Error> {
        AzureOpenAI::builder().from_env().build()
    }

    /// Chat completions.
    pub fn chat(&self) -> Chat<'_> {
        Chat::new(self)
    }

    /// Embeddings.
    pub fn embeddings(&self) -> Embeddings<'_> {
        Embeddings::new(self)
    }

    /// The endpoint (an origin).
    pub fn endpoint(&self) -> &Url {
        &self.inner.endpoint
    }

    /// The api-version sent on deployment routes.
    pub fn api_version(&self) -> &str {
        &self.inner.api_version
    }

    /// The default deployment.
    pub fn deployment(&self) -> Option<&str> {
        self.inner.deployment.as_deref()
    }

    /// How requests authenticate.
    pub fn auth_mode(&self) -> AuthMode {
        self.inner.pipeline.auth.mode()
    }

    /// The `DefaultAzureCredential` the builder created because no key, token or credential
    /// was configured: its [`DefaultAzureCredential::resolution`] and
    /// [`DefaultAzureCredential::last_report`] tell which credential serves and why.
    pub fn default_credential(&self) -> Option<&DefaultAzureCredential> {
        self.inner.default_credential.as_ref()
    }

    /// The route family.
    pub fn route(&self) -> Route {
        self.inner.route
    }

    /// The deployment of a request: its own, else the client's default.
    pub(crate) fn resolve_deployment(&self, requested: Option<&str>) -> Result<String, Error> {
        let d = requested
            .filter(|d| !d.trim().is_empty())
            .or(self.inner.deployment.as_deref())
            .ok_or_else(|| {
                Error::config(
                    "no deployment given",
                    format!(
                        "set {AZURE_OPENAI_DEPLOYMENT}=<deployment name> or name it in the \
                         request's model"
                    ),
                )
            })?;
        if d == "." || d == ".." {
            return Err(Error::config(
                format!("{d:?} is not a deployment name"),
                format!("set {AZURE_OPENAI_DEPLOYMENT}=<deployment name>"),
            ));
        }
        Ok(d.to_string())
    }

    /// The URL of an operation (`chat/completions`, `embeddings`) of a deployment.
    pub(crate) fn operation_url(&self, deployment: &str, operation: &str) -> Url {
        let mut url = self.inner.endpoint.clone();
        {
            // An origin always takes path segments (checked at build time).
            if let Ok(mut segments) = url.path_segments_mut() {
                segments.clear().push("openai");
                match self.inner.route {
                    Route::Deployments => {
                        segments.extend(["deployments", deployment]);
                    }
                    Route::V1 => {
                        segments.push("v1");
                    }
                }
                segments.extend(operation.split('/'));
            }
        }
        if self.inner.route == Route::Deployments {
            url.query_pairs_mut()
                .append_pair("api-version", &self.inner.api_version);
        }
        url
    }

    /// The URL of a path under `/openai/` (for [`AzureOpenAI::get_json`]/[`AzureOpenAI::post_json`]).
    fn raw_url(&self, path: &str) -> Result<Url, Error> {
        let path = path.trim_start_matches('/');
        let mut url = self
            .inner
            .endpoint
            .join(&format!("openai/{path}"))
            .map_err(|e| {
                Error::config(
                    format!("{path:?} is not a path"),
                    "pass a path such as \"models\"",
                )
                .with_source(e)
            })?;
        if self.inner.route == Route::Deployments
            && !url.query_pairs().any(|(k, _)| k == "api-version")
        {
            url.query_pairs_mut()
                .append_pair("api-version", &self.inner.api_version);
        }
        Ok(url)
    }

    /// Sends a JSON body and returns the response body (or stream). A wrong deployment's
    /// error lists the deployments that exist, when the resource can list them.
    pub(crate) async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<Bytes>,
        deployment: &str,
        stream: bool,
    ) -> Result<Received, Error> {
        let call = Call {
            method,
            url,
            body,
            deployment,
        };
        match self.inner.pipeline.send(&call, stream).await {
            Err(e) if e.code() == Some("DeploymentNotFound") => {
                let known = tokio::time::timeout(LISTING_TIMEOUT, self.deployments()).await;
                match known {
                    Ok(Ok(names)) if !names.is_empty() => Err(e.with_fix(format!(
                        "the deployment name {deployment:?} is wrong (use the deployment name, \
                         not the model name): these deployments exist: {}; set \
                         AZURE_OPENAI_DEPLOYMENT to one of them",
                        names.join(", ")
                    ))),
                    _ => Err(e),
                }
            }
            other => other,
        }
    }

    /// The names of the resource's deployments, from the old authoring API
    /// (`GET /openai/deployments?api-version=2022-12-01`, one attempt). Resources that no
    /// longer serve it answer `not_found`; `az cognitiveservices account deployment list`
    /// always works.
    pub async fn deployments(&self) -> Result<Vec<String>, Error> {
        #[derive(serde::Deserialize)]
        struct Listing {
            data: Vec<Entry>,
        }
        #[derive(serde::Deserialize)]
        struct Entry {
            id: String,
        }
        let mut url = self.inner.endpoint.clone();
        url.set_path("openai/deployments");
        url.query_pairs_mut()
            .append_pair("api-version", LISTING_API_VERSION);
        let call = Call {
            method: Method::GET,
            url,
            body: None,
            deployment: "",
        };
        let received = self
            .inner
            .pipeline
            .send_with(&call, false, &RetryPolicy::none())
            .await?;
        let listing: Listing = decode(received)?;
        Ok(listing.data.into_iter().map(|d| d.id).collect())
    }

    pub(crate) fn stream_idle_timeout(&self) -> Duration {
        self.inner.pipeline.timeouts.stream_idle
    }

    /// `GET /openai/{path}` as raw JSON, for endpoints this crate does not type.
    ///
    /// ```no_run
    /// # async fn run(client: aoai::AzureOpenAI) -> Result<(), aoai::Error> {
    /// let models = client.get_json("models").await?;
    /// # Ok(()) }
    /// ```
    pub async fn get_json(&self, path: &str) -> Result<serde_json::Value, Error> {
        let url = self.raw_url(path)?;
        let received = self.send(Method::GET, url, None, "", false).await?;
        decode(received)
    }

    /// `POST /openai/{path}` with a JSON body, returning raw JSON.
    pub async fn post_json(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, Error> {
        let url = self.raw_url(path)?;
        let received = self
            .send(Method::POST, url, Some(encode(body)?), "", false)
            .await?;
        decode(received)
    }
}

/// Serialises a request body.
pub(crate) fn encode(body: &impl Serialize) -> Result<Bytes, Error> {
    serde_json::to_vec(body).map(Bytes::from).map_err(|e| {
        Error::new(ErrorKind::BadRequest, "the request cannot be serialised")
            .with_fix("check the request's extra fields")
            .with_source(e)
    })
}

/// Parses a JSON answer.
pub(crate) fn decode<T: DeserializeOwned>(received: Received) -> Result<T, Error> {
    serde_json::from_slice(&received.into_body()?).map_err(|e| {
        Error::new(
            ErrorKind::Server,
            "the service's answer is not the expected JSON",
        )
        .with_fix("check that AZURE_OPENAI_ENDPOINT is an Azure OpenAI resource (`aoai doctor`)")
        .with_source(e)
    })
}

/// Builds an [`AzureOpenAI`]. Explicit settings beat the environment; nothing is checked until
/// [`AzureOpenAIBuilder::build`], which reports the first problem with its fix.
///
/// ```
/// let client = aoai::AzureOpenAI::builder()
///     .endpoint("https://my-resource.openai.azure.com")
///     .api_key("0123456789abcdef")
///     .deployment("gpt-4o")
///     .build()
///     .unwrap();
/// assert_eq!(client.api_version(), aoai::vars::DEFAULT_API_VERSION);
/// ```
#[derive(Default)]
pub struct AzureOpenAIBuilder {
    endpoint: Option<String>,
    api_key: Option<Secret>,
    ad_token: Option<Secret>,
    credential: Option<Arc<dyn TokenCredential>>,
    scope: Option<String>,
    api_version: Option<String>,
    deployment: Option<String>,
    route: Route,
    accept_endpoint_path: bool,
    retry: RetryPolicy,
    timeouts: Timeouts,
    env: Option<Env>,
    root_ca_pem: Option<Vec<u8>>,
}

impl std::fmt::Debug for AzureOpenAIBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AzureOpenAIBuilder")
            .field("endpoint", &self.endpoint)
            .field("api_key", &self.api_key.as_ref().map(|_| "****"))
            .field("ad_token", &self.ad_token.as_ref().map(|_| "****"))
            .field("credential", &self.credential.is_some())
            .field("api_version", &self.api_version)
            .field("deployment", &self.deployment)
            .field("route", &self.route)
            .finish_non_exhaustive()
    }
}

impl AzureOpenAIBuilder {
    /// The resource endpoint, `https://<resource>.openai.azure.com`.
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// Authenticates with a resource key (`api-key` header).
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(Secret::new(key.into()));
        self
    }

    /// Authenticates with a static Microsoft Entra token (never refreshed).
    pub fn ad_token(mut self, token: impl Into<String>) -> Self {
        self.ad_token = Some(Secret::new(token.into()));
        self
    }

    /// Authenticates with tokens from any credential, such as
    /// [`aoai_identity::DefaultAzureCredential`] or an `azure_identity` credential.
    pub fn credential(mut self, credential: Arc<dyn TokenCredential>) -> Self {
        self.credential = Some(credential);
        self
    }

    /// The token scope (default `https://cognitiveservices.azure.com/.default`).
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// The api-version of deployment routes (default [`DEFAULT_API_VERSION`]).
    pub fn api_version(mut self, version: impl Into<String>) -> Self {
        self.api_version = Some(version.into());
        self
    }

    /// The deployment used when a request names none.
    pub fn deployment(mut self, deployment: impl Into<String>) -> Self {
        self.deployment = Some(deployment.into());
        self
    }

    /// The route family (default [`Route::Deployments`]).
    pub fn route(mut self, route: Route) -> Self {
        self.route = route;
        self
    }

    /// Accepts an endpoint with a pasted path (`.../openai/deployments/...?api-version=...`)
    /// by keeping only its origin, instead of refusing it.
    pub fn accept_endpoint_path(mut self, accept: bool) -> Self {
        self.accept_endpoint_path = accept;
        self
    }

    /// Retries after the first attempt (default 2).
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.retry.max_retries = retries;
        self
    }

    /// The whole retry policy.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// All time limits.
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// Also trusts these PEM root certificates (an HTTPS emulator's CA).
    pub fn add_root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_ca_pem = Some(pem.into());
        self
    }

    /// Fills unset settings from the process environment at build time.
    pub fn from_env(self) -> Self {
        self.env(Env::process())
    }

    /// Fills unset settings from `env` at build time (tests and tools pass a controlled one);
    /// with no key or token there, `DefaultAzureCredential` reads the same `env`.
    pub fn env(mut self, env: Env) -> Self {
        self.env = Some(env);
        self
    }

    fn env_var(&self, name: &str) -> Option<String> {
        self.env
            .as_ref()
            .and_then(|e| e.get_non_empty(name))
            .map(|v| v.trim().to_string())
    }

    /// The auth to use: explicit settings, else the environment's key or token, else
    /// `DefaultAzureCredential` on the environment (returned too, for
    /// [`AzureOpenAI::default_credential`]).
    fn resolve_auth(&mut self) -> Result<(Auth, Option<DefaultAzureCredential>), Error> {
        if let Some(auth) = self.configured_auth()? {
            return Ok((auth, None));
        }
        let Some(env) = self.env.clone() else {
            return Err(Error::config(
                "no credential is given",
                format!(
                    "set {AZURE_OPENAI_API_KEY}, or pass .api_key(..), .ad_token(..) or \
                     .credential(Arc::new(DefaultAzureCredential::new()?)) to the builder"
                ),
            ));
        };
        let default_credential = DefaultAzureCredential::with_env(env)?;
        let auth = Auth::Credential {
            credential: Arc::new(default_credential.clone()),
            scope: self.take_scope(),
        };
        Ok((auth, Some(default_credential)))
    }

    fn take_scope(&mut self) -> String {
        self.scope
            .take()
            .unwrap_or_else(|| DEFAULT_SCOPE.to_string())
    }

    /// A key, token or credential given to the builder, else a key or token from the
    /// environment; `None` when there is none.
    fn configured_auth(&mut self) -> Result<Option<Auth>, Error> {
        let explicit = [
            self.api_key.is_some().then_some("api_key"),
            self.ad_token.is_some().then_some("ad_token"),
            self.credential.is_some().then_some("credential"),
        ];
        let given: Vec<&str> = explicit.into_iter().flatten().collect();
        if given.len() > 1 {
            return Err(Error::config(
                format!("more than one credential is given ({})", given.join(", ")),
                format!("keep one: drop the builder's .{}(...) call", given[1]),
            ));
        }
        if let Some(key) = self.api_key.take() {
            config::api_key(key.secret())?;
            return Auth::key(&key).map(Some);
        }
        if let Some(token) = self.ad_token.take() {
            return Auth::token(&token).map(Some);
        }
        if let Some(credential) = self.credential.take() {
            let scope = self.take_scope();
            return Ok(Some(Auth::Credential { credential, scope }));
        }
        match (
            self.env_var(AZURE_OPENAI_API_KEY),
            self.env_var(AZURE_OPENAI_AD_TOKEN),
        ) {
            (Some(_), Some(_)) => Err(Error::config(
                format!("both {AZURE_OPENAI_API_KEY} and {AZURE_OPENAI_AD_TOKEN} are set"),
                format!(
                    "unset one: `unset {AZURE_OPENAI_AD_TOKEN}` to use the key, or `unset \
                     {AZURE_OPENAI_API_KEY}` to use the token"
                ),
            )),
            (Some(key), None) => {
                config::api_key(&key)?;
                Auth::key(&Secret::new(key)).map(Some)
            }
            (None, Some(token)) => Auth::token(&Secret::new(token)).map(Some),
            (None, None) => Ok(None),
        }
    }

    /// Checks every setting and builds the client.
    pub fn build(mut self) -> Result<AzureOpenAI, Error> {
        let raw_endpoint = self
            .endpoint
            .take()
            .or_else(|| self.env_var(AZURE_OPENAI_ENDPOINT))
            .unwrap_or_default();
        let endpoint = config::endpoint(&raw_endpoint, self.accept_endpoint_path)?;
        let api_version = match self
            .api_version
            .take()
            .or_else(|| self.env_var(OPENAI_API_VERSION))
        {
            Some(v) => config::api_version(&v)?,
            None => DEFAULT_API_VERSION.to_string(),
        };
        let deployment = self
            .deployment
            .take()
            .or_else(|| self.env_var(AZURE_OPENAI_DEPLOYMENT))
            .filter(|d| !d.trim().is_empty());
        let (auth, default_credential) = self.resolve_auth()?;
        let mut http = reqwest::Client::builder()
            .connect_timeout(self.timeouts.connect)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("aoai-rust/", env!("CARGO_PKG_VERSION")))
            .tcp_nodelay(true)
            .pool_idle_timeout(Duration::from_secs(90));
        if let Some(pem) = &self.root_ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| {
                Error::config(
                    "the extra root certificates are not valid PEM",
                    "pass the CA file the emulator wrote (aoai emulator --tls --ca-out PATH)",
                )
                .with_source(e)
            })?;
            http = http.tls_certs_merge(certs);
        }
        let http = http.build().map_err(|e| {
            Error::new(ErrorKind::Config, "cannot set up the HTTP client")
                .with_fix("report this as a bug with the error's source")
                .with_source(e)
        })?;
        Ok(AzureOpenAI {
            inner: Arc::new(Inner {
                pipeline: Pipeline {
                    http,
                    auth,
                    retry: self.retry,
                    timeouts: self.timeouts,
                },
                endpoint,
                api_version,
                deployment,
                route: self.route,
                default_credential,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_map(pairs.iter().copied())
    }

    fn build(pairs: &[(&str, &str)]) -> Result<AzureOpenAI, Error> {
        AzureOpenAI::builder().env(env(pairs)).build()
    }

    const E: (&str, &str) = ("AZURE_OPENAI_ENDPOINT", "https://r.openai.azure.com");

    #[test]
    fn explicit_settings_beat_the_environment() {
        let c = AzureOpenAI::builder()
            .env(env(&[
                E,
                ("AZURE_OPENAI_API_KEY", "envkey"),
                ("AZURE_OPENAI_DEPLOYMENT", "env-dep"),
                ("OPENAI_API_VERSION", "2024-06-01"),
            ]))
            .deployment("mine")
            .api_version("2025-04-01-preview")
            .ad_token("tok")
            .build()
            .unwrap();
        assert_eq!(c.deployment(), Some("mine"));
        assert_eq!(c.api_version(), "2025-04-01-preview");
        assert_eq!(c.auth_mode(), AuthMode::StaticToken);
        assert!(!format!("{c:?}").contains("tok"));
    }

    #[test]
    fn auth_comes_from_the_environment_with_a_chain_as_the_last_resort() {
        assert_eq!(
            build(&[E, ("AZURE_OPENAI_API_KEY", "k")])
                .unwrap()
                .auth_mode(),
            AuthMode::ApiKey
        );
        assert_eq!(
            build(&[E, ("AZURE_OPENAI_AD_TOKEN", "t")])
                .unwrap()
                .auth_mode(),
            AuthMode::StaticToken
        );
        assert_eq!(build(&[E]).unwrap().auth_mode(), AuthMode::TokenCredential);
        let both = build(&[
            E,
            ("AZURE_OPENAI_API_KEY", "k"),
            ("AZURE_OPENAI_AD_TOKEN", "t"),
        ])
        .unwrap_err();
        assert!(both.quick_fix().unwrap().contains("unset"));
        let none = AzureOpenAI::builder().endpoint(E.1).build().unwrap_err();
        assert_eq!(none.kind(), ErrorKind::Config);
        let two = AzureOpenAI::builder()
            .endpoint(E.1)
            .api_key("k")
            .ad_token("t")
            .build()
            .unwrap_err();
        assert!(two.quick_fix().unwrap().contains(".ad_token"));
        let sk = build(&[E, ("AZURE_OPENAI_API_KEY", "sk-abc")]).unwrap_err();
        assert!(sk.to_string().contains("OpenAI key"));
        assert!(!format!("{sk:?}").contains("sk-abc"));
    }

    #[test]
    fn urls_follow_the_route_family() {
        let c = build(&[
            ("AZURE_OPENAI_ENDPOINT", "http://127.0.0.1:9/"),
            ("AZURE_OPENAI_API_KEY", "k"),
        ])
        .unwrap();
        assert_eq!(
            c.operation_url("dep a/b", "chat/completions").as_str(),
            "http://127.0.0.1:9/openai/deployments/dep%20a%2Fb/chat/completions?api-version=2024-10-21"
        );
        assert_eq!(
            c.raw_url("models").unwrap().as_str(),
            "http://127.0.0.1:9/openai/models?api-version=2024-10-21"
        );
        let v1 = AzureOpenAI::builder()
            .endpoint("http://127.0.0.1:9")
            .api_key("k")
            .route(Route::V1)
            .build()
            .unwrap();
        assert_eq!(
            v1.operation_url("d", "embeddings").as_str(),
            "http://127.0.0.1:9/openai/v1/embeddings"
        );
        assert!(c.resolve_deployment(None).is_err());
        assert!(c.resolve_deployment(Some("..")).is_err());
    }
}
