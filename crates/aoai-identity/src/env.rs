//! The environment credentials read: the process environment, or a map given by a test or tool.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// An environment: where credentials look up [`vars`](crate::vars).
///
/// `Env::process()` reads the real process environment at lookup time; `Env::from_map` /
/// `Env::empty().with(..)` is a fixed map (nothing inherited), so chain selection can be tested
/// without touching the process environment. Child processes (`az`, `azd`, `pwsh`) receive exactly
/// this environment: the process one, or only the map's variables.
///
/// `Debug` prints variable names only, never values.
///
/// ```
/// use aoai_identity::Env;
/// let env = Env::empty().with("AZURE_TENANT_ID", "t").with("PATH", "/usr/bin");
/// assert_eq!(env.get("AZURE_TENANT_ID").as_deref(), Some("t"));
/// assert!(env.get("AZURE_CLIENT_ID").is_none());
/// ```
#[derive(Clone, Default)]
pub struct Env(Repr);

#[derive(Clone, Default)]
enum Repr {
    #[default]
    Process,
    Map(Arc<BTreeMap<String, String>>),
}

impl Env {
    /// The process environment, read at lookup time.
    pub fn process() -> Self {
        Env(Repr::Process)
    }

    /// An empty map environment (nothing inherited from the process).
    pub fn empty() -> Self {
        Env(Repr::Map(Arc::new(BTreeMap::new())))
    }

    /// A map environment with exactly these variables.
    pub fn from_map<K: Into<String>, V: Into<String>>(
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Env(Repr::Map(Arc::new(
            vars.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )))
    }

    /// A copy with `name` set to `value` (a process environment is snapshotted into a map first).
    pub fn with(self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let mut map = self.to_map();
        map.insert(name.into(), value.into());
        Env(Repr::Map(Arc::new(map)))
    }

    /// A copy without `name`.
    pub fn without(self, name: &str) -> Self {
        let mut map = self.to_map();
        map.remove(name);
        Env(Repr::Map(Arc::new(map)))
    }

    /// True for the process environment.
    pub fn is_process(&self) -> bool {
        matches!(self.0, Repr::Process)
    }

    /// The value of `name`, if set (an empty value counts as set).
    pub fn get(&self, name: &str) -> Option<String> {
        match &self.0 {
            Repr::Process => std::env::var_os(name).map(|v| v.to_string_lossy().into_owned()),
            Repr::Map(map) => map.get(name).cloned(),
        }
    }

    /// The value of `name` if set and not empty after trimming.
    pub fn get_non_empty(&self, name: &str) -> Option<String> {
        self.get(name).filter(|v| !v.trim().is_empty())
    }

    /// Whether `name` is set (possibly empty).
    pub fn is_set(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// All variables (a snapshot, for the process environment).
    pub fn to_map(&self) -> BTreeMap<String, String> {
        match &self.0 {
            Repr::Process => std::env::vars_os()
                .map(|(k, v)| {
                    (
                        k.to_string_lossy().into_owned(),
                        v.to_string_lossy().into_owned(),
                    )
                })
                .collect(),
            Repr::Map(map) => (**map).clone(),
        }
    }
}

impl fmt::Debug for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Process => f.write_str("Env::process()"),
            Repr::Map(map) => f
                .debug_tuple("Env::map")
                .field(&map.keys().collect::<Vec<_>>())
                .finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_names_not_values() {
        let env = Env::empty().with("AZURE_CLIENT_SECRET", "hunter2");
        let dbg = format!("{env:?}");
        assert!(dbg.contains("AZURE_CLIENT_SECRET"));
        assert!(!dbg.contains("hunter2"));
    }

    #[test]
    fn empty_value_is_set_but_not_non_empty() {
        let env = Env::empty().with("X", " ");
        assert!(env.is_set("X"));
        assert!(env.get_non_empty("X").is_none());
        assert!(env.clone().without("X").get("X").is_none());
    }
}
