//! The OpenAI-compatible gateway (`aoai proxy`): not implemented yet.
//!
//! Issue 5 says the proxy has its own issue, which has not been filed; this crate only reserves
//! its place in the workspace layout (issue 2) and holds no code.
