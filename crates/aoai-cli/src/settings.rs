//! Configuration, resolved once from the environment exactly as the aoai library reads it.

/// The scope Azure OpenAI tokens are requested for.
pub const DEFAULT_SCOPE: &str = "https://cognitiveservices.azure.com/.default";
