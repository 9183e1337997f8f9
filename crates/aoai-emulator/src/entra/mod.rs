//! Microsoft Entra ID and managed-identity stand-ins (token endpoint, discovery, IMDS, App Service,
//! Arc, ...). Ownership: the Entra side.

use serde::Deserialize;

/// The `[entra]` table of the emulator configuration.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EntraConfig {}

/// Routes served on the emulator's origin for Entra and managed identity.
pub fn routes() -> axum::Router<crate::state::AppState> {
    axum::Router::new()
}
