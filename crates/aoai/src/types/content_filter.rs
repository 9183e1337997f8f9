//! Azure's content-filter annotations: `prompt_filter_results` on a response and
//! `content_filter_results` on each choice.

use serde::{Deserialize, Serialize};

use super::Extra;

/// A severity-graded category (`hate`, `sexual`, `violence`, `self_harm`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SeverityResult {
    /// Whether the content was filtered for this category.
    #[serde(default)]
    pub filtered: bool,
    /// `safe`, `low`, `medium` or `high`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
}

/// A detected-or-not category (`jailbreak`, `protected_material_text`, ...).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DetectionResult {
    /// Whether the content was filtered for this category.
    #[serde(default)]
    pub filtered: bool,
    /// Whether the category was detected.
    #[serde(default)]
    pub detected: bool,
    /// Other fields (`citation` on protected code).
    #[serde(flatten)]
    pub extra: Extra,
}

/// The content filter's verdict on a prompt or a choice.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContentFilterResults {
    /// Hate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hate: Option<SeverityResult>,
    /// Sexual content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sexual: Option<SeverityResult>,
    /// Violence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub violence: Option<SeverityResult>,
    /// Self-harm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_harm: Option<SeverityResult>,
    /// Jailbreak attempts (prompts only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jailbreak: Option<DetectionResult>,
    /// Profanity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profanity: Option<DetectionResult>,
    /// Protected text (choices only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protected_material_text: Option<DetectionResult>,
    /// Protected code (choices only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protected_material_code: Option<DetectionResult>,
    /// Other categories (`custom_blocklists`, `indirect_attack`, `error`, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

impl ContentFilterResults {
    /// Whether any category says `filtered: true`.
    pub fn is_filtered(&self) -> bool {
        [&self.hate, &self.sexual, &self.violence, &self.self_harm]
            .into_iter()
            .flatten()
            .any(|r| r.filtered)
            || [
                &self.jailbreak,
                &self.profanity,
                &self.protected_material_text,
                &self.protected_material_code,
            ]
            .into_iter()
            .flatten()
            .any(|r| r.filtered)
    }
}

/// The filter's verdict on one prompt of the request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PromptFilterResult {
    /// Which prompt.
    #[serde(default)]
    pub prompt_index: u32,
    /// The verdict.
    #[serde(default)]
    pub content_filter_results: ContentFilterResults,
}
