//! A local, faithful stand-in for Azure OpenAI and Microsoft Entra ID, as a library (the `aoai
//! emulator` command is a thin entry point over it).
//!
//! It answers the Azure OpenAI data plane (`/openai/deployments/{d}/chat/completions`,
//! `/embeddings`, `/openai/v1/...`, `/openai/models`) with Azure's exact bodies, headers and error
//! shapes (`specs/aoai-wire.md`), the Entra / managed-identity token endpoints (module
//! [`entra`]), and a control API under `/_emulator/` to read the request journal and script
//! faults.
//!
//! ```text
//!             ┌──────────────────────── one tokio task per connection ───────────────────────┐
//! client ─► TCP ─► [TLS] ─► hyper h1/h2 ─► journal ─► fault? ─► Router ─┬─ openai::routes
//!                                           (masked)   reply/reset/...  ├─ entra::routes
//!                                                                       ├─ admin (/_emulator/*)
//!                                                                       └─ 404 Resource not found
//! openai:  api-version ─► auth (key/Entra, A1..A5) ─► deployment ─► validate ─► rate limit
//!          ─► content filter ─► deterministic answer (JSON or SSE)
//! ```
//!
//! ```no_run
//! # async fn demo() -> Result<(), aoai_emulator::EmulatorError> {
//! use aoai_emulator::{Emulator, EmulatorConfig, Fault};
//! let emu = Emulator::start(EmulatorConfig::default()).await?;
//! println!("{}/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21", emu.url());
//! emu.push_fault(Fault::reply("/openai/deployments/gpt-4o/chat/completions", 503).times(2));
//! // ... send requests with `api-key: emulator-key` ...
//! let seen = emu.journal();
//! # let _ = seen; Ok(()) }
//! ```
#![warn(missing_docs)]

pub mod admin;
pub mod config;
pub mod entra;
pub mod faults;
pub mod journal;
pub mod jwt;
pub mod openai;
pub mod server;
pub mod state;
pub mod tls;

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};

use tokio::sync::watch;

pub use config::{ConfigError, DeploymentConfig, DeploymentKind, EmulatorConfig};
pub use faults::{Fault, FaultKind};
pub use journal::JournalEntry;
pub use state::AppState;

/// Why the emulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The listen address could not be bound.
    #[error(
        "cannot listen on {addr} (is another process using the port? try `--listen 127.0.0.1:0`)"
    )]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The TLS certificate could not be generated or written.
    #[error("TLS setup failed: {0}")]
    Tls(String),
}

/// Entry point.
pub struct Emulator;

impl Emulator {
    /// Validates `config`, binds its `listen` address and serves until the handle is dropped.
    pub async fn start(config: EmulatorConfig) -> Result<EmulatorHandle, EmulatorError> {
        config.validate()?;
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|source| EmulatorError::Bind {
                addr: config.listen,
                source,
            })?;
        let addr = listener
            .local_addr()
            .map_err(|source| EmulatorError::Bind {
                addr: config.listen,
                source,
            })?;
        let (tls, ca) = if config.tls {
            let material = tls::generate().map_err(EmulatorError::Tls)?;
            let (path, temp) = match &config.ca_out {
                Some(p) => (p.clone(), false),
                None => (
                    std::env::temp_dir().join(format!(
                        "aoai-emulator-ca-{}-{}.pem",
                        std::process::id(),
                        addr.port()
                    )),
                    true,
                ),
            };
            std::fs::write(&path, &material.ca_pem).map_err(|e| {
                EmulatorError::Tls(format!("cannot write the CA to {}: {e}", path.display()))
            })?;
            (
                Some(material.server_config),
                Some(CaFile {
                    pem: material.ca_pem,
                    path,
                    temp,
                }),
            )
        } else {
            (None, None)
        };
        let host = if addr.ip().is_unspecified() {
            "127.0.0.1".to_owned()
        } else if addr.is_ipv6() {
            format!("[{}]", addr.ip())
        } else {
            addr.ip().to_string()
        };
        let scheme = if tls.is_some() { "https" } else { "http" };
        let url = format!("{scheme}://{host}:{}", addr.port());
        let state = AppState::new(config);
        let (shutdown, rx) = watch::channel(false);
        tokio::spawn(server::serve(listener, tls, state.clone(), rx));
        tracing::info!(%url, "emulator listening");
        Ok(EmulatorHandle {
            url,
            addr,
            state,
            ca,
            shutdown,
        })
    }
}

struct CaFile {
    pem: String,
    path: PathBuf,
    temp: bool,
}

/// A running emulator. Dropping it stops the server and closes its connections.
pub struct EmulatorHandle {
    url: String,
    addr: SocketAddr,
    state: AppState,
    ca: Option<CaFile>,
    shutdown: watch::Sender<bool>,
}

impl EmulatorHandle {
    /// Base URL without a trailing slash, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The configuration in use.
    pub fn config(&self) -> &EmulatorConfig {
        &self.state.config
    }

    /// The shared state (journal, faults, token issuer).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Requests received so far, oldest first.
    pub fn journal(&self) -> Vec<JournalEntry> {
        self.state.journal.entries()
    }

    /// Forgets the recorded requests.
    pub fn clear_journal(&self) {
        self.state.journal.clear();
    }

    /// Queues a scripted fault.
    pub fn push_fault(&self, fault: Fault) {
        self.state.faults.push(fault);
    }

    /// Removes all queued faults.
    pub fn clear_faults(&self) {
        self.state.faults.clear();
    }

    /// TLS mode: the CA certificate (PEM) that signed the server certificate.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca.as_ref().map(|c| c.pem.as_str())
    }

    /// TLS mode: where the CA certificate was written.
    pub fn ca_pem_path(&self) -> Option<&Path> {
        self.ca.as_ref().map(|c| c.path.as_path())
    }

    /// Stops the server (same as dropping the handle).
    pub fn shutdown(self) {}
}

impl Drop for EmulatorHandle {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(ca) = &self.ca
            && ca.temp
        {
            let _ = std::fs::remove_file(&ca.path);
        }
    }
}
