//! Shared state handed to every route handler.

use std::sync::Arc;

use crate::{
    config::EmulatorConfig, faults::FaultQueue, journal::Journal, jwt::TokenIssuer,
    openai::ratelimit::RateLimits,
};

/// Cheap-to-clone state shared by all routes.
#[derive(Clone)]
pub struct AppState {
    /// The configuration the emulator was started with.
    pub config: Arc<EmulatorConfig>,
    /// Signs and verifies the emulator's Entra access tokens.
    pub issuer: Arc<TokenIssuer>,
    /// Every request received (see [`crate::journal`]).
    pub journal: Arc<Journal>,
    /// Scripted faults (see [`crate::faults`]).
    pub faults: Arc<FaultQueue>,
    /// Per-deployment rate limiters.
    pub limits: Arc<RateLimits>,
    /// Run-time state of the Entra / managed identity endpoints (Arc key files).
    pub entra: Arc<crate::entra::EntraState>,
}

impl AppState {
    /// State for `config`, with a fresh token issuer, an empty journal and no faults.
    pub fn new(config: EmulatorConfig) -> Self {
        let issuer = TokenIssuer::new(&config);
        Self {
            journal: Arc::new(Journal::new(config.journal, config.journal_limit)),
            faults: Arc::new(FaultQueue::default()),
            limits: Arc::new(RateLimits::new(&config.deployments)),
            issuer: Arc::new(issuer),
            entra: crate::entra::EntraState::new(),
            config: Arc::new(config),
        }
    }
}
