//! `api-version` checks (spec §1.4, §7.1).
//!
//! Classic routes require a version from [`GA_VERSIONS`] or [`PREVIEW_VERSIONS`]; missing (or
//! `preview`/`v1`) → 404 `Resource not found`; any other string → 400 `API version not supported`;
//! `2022-12-01` has no chat completions → 404, and only `2022-12-01` lists deployments. On `/openai/v1/` the version is optional and may
//! only be `v1`, `preview` or `latest`.

/// Dated GA versions accepted on classic routes.
pub const GA_VERSIONS: &[&str] = &[
    "2022-12-01",
    "2023-05-15",
    "2024-02-01",
    "2024-06-01",
    "2024-10-21",
];

/// Preview versions accepted on classic routes (2024-02-15-preview and later).
pub const PREVIEW_VERSIONS: &[&str] = &[
    "2024-02-15-preview",
    "2024-03-01-preview",
    "2024-04-01-preview",
    "2024-05-01-preview",
    "2024-07-01-preview",
    "2024-08-01-preview",
    "2024-09-01-preview",
    "2024-10-01-preview",
    "2024-12-01-preview",
    "2025-01-01-preview",
    "2025-02-01-preview",
    "2025-03-01-preview",
    "2025-04-01-preview",
];

/// The operation a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// Chat completions.
    Chat,
    /// Embeddings.
    Embeddings,
    /// List models.
    Models,
    /// List deployments (the old authoring API: `2022-12-01` only).
    Deployments,
}

/// Outcome of the check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionCheck {
    /// Go on.
    Ok,
    /// 404 `Resource not found`.
    NotFound,
    /// 400 `API version not supported`.
    Unsupported,
}

/// Checks `version` (the decoded `api-version` query value) for a classic or v1 route.
pub fn check(v1: bool, version: Option<&str>, op: Operation) -> VersionCheck {
    if v1 {
        return match version {
            None | Some("v1" | "preview" | "latest") => VersionCheck::Ok,
            Some(_) => VersionCheck::Unsupported,
        };
    }
    let Some(version) = version else {
        return VersionCheck::NotFound;
    };
    if matches!(version, "preview" | "v1" | "latest" | "") {
        return VersionCheck::NotFound;
    }
    if !GA_VERSIONS.contains(&version) && !PREVIEW_VERSIONS.contains(&version) {
        return VersionCheck::Unsupported;
    }
    if version == "2022-12-01" && op == Operation::Chat {
        return VersionCheck::NotFound;
    }
    if op == Operation::Deployments && version != "2022-12-01" {
        return VersionCheck::NotFound;
    }
    VersionCheck::Ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classic_rules() {
        use Operation::*;
        assert_eq!(check(false, None, Chat), VersionCheck::NotFound);
        assert_eq!(check(false, Some("preview"), Chat), VersionCheck::NotFound);
        assert_eq!(check(false, Some("2024-10-21"), Chat), VersionCheck::Ok);
        assert_eq!(
            check(false, Some("2024-02-15-preview"), Chat),
            VersionCheck::Ok
        );
        assert_eq!(
            check(false, Some("2023-12-01-preview"), Chat),
            VersionCheck::Unsupported
        );
        assert_eq!(
            check(false, Some("2099-01-01"), Chat),
            VersionCheck::Unsupported
        );
        assert_eq!(
            check(false, Some("2022-12-01"), Chat),
            VersionCheck::NotFound
        );
        assert_eq!(
            check(false, Some("2022-12-01"), Embeddings),
            VersionCheck::Ok
        );
    }

    #[test]
    fn v1_rules() {
        assert_eq!(check(true, None, Operation::Chat), VersionCheck::Ok);
        assert_eq!(
            check(true, Some("preview"), Operation::Chat),
            VersionCheck::Ok
        );
        assert_eq!(
            check(true, Some("2024-10-21"), Operation::Chat),
            VersionCheck::Unsupported
        );
    }
}
