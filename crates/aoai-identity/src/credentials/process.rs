//! Running a developer CLI (`az`, `azd`, `pwsh`): lookup on the `Env`'s `PATH`, no shell,
//! `cwd=/bin`, stdin closed, a time limit after which the child is killed.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use crate::env::Env;
use crate::vars;

/// What the child printed.
#[derive(Debug)]
pub(crate) struct Output {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Why no output.
#[derive(Debug)]
pub(crate) enum RunError {
    /// Killed after the time limit.
    Timeout(Duration),
    /// Could not start.
    Spawn(std::io::Error),
}

/// Looks `name` up on the environment's `PATH`.
pub(crate) fn find(env: &Env, name: &str) -> Option<PathBuf> {
    let path = env.get(vars::PATH)?;
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    which::which_in(name, Some(path), cwd).ok()
}

/// Runs `program args...` with the environment `env` plus `extra`.
pub(crate) async fn run(
    program: &Path,
    args: &[String],
    env: &Env,
    extra: &[(&str, &str)],
    timeout: Duration,
) -> Result<Output, RunError> {
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let cwd = if cfg!(windows) {
        env.get("SYSTEMROOT")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("C:\\"))
    } else {
        PathBuf::from("/bin")
    };
    if cwd.is_dir() {
        cmd.current_dir(cwd);
    }
    if !env.is_process() {
        cmd.env_clear();
        cmd.envs(env.to_map());
    }
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let child = cmd.spawn().map_err(RunError::Spawn)?;
    match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Err(_) => Err(RunError::Timeout(timeout)),
        Ok(Err(e)) => Err(RunError::Spawn(e)),
        Ok(Ok(out)) => Ok(Output {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }),
    }
}

/// Replaces the values of JSON string fields named like tokens with `****`.
pub(crate) fn redact(text: &str) -> String {
    let mut out = text.to_string();
    for field in [
        "accessToken",
        "access_token",
        "token",
        "refresh_token",
        "refreshToken",
    ] {
        let pat = format!("\"{field}\"");
        let mut from = 0;
        while let Some(i) = out[from..].find(&pat) {
            let start = from + i + pat.len();
            let rest = &out[start..];
            let Some(q1) = rest.find('"') else { break };
            if !rest[..q1].trim().trim_start_matches(':').trim().is_empty() {
                from = start;
                continue;
            }
            let val_start = start + q1 + 1;
            let Some(q2) = out[val_start..].find('"') else {
                break;
            };
            out.replace_range(val_start..val_start + q2, "****");
            from = val_start + 4;
        }
    }
    // A bare JWT anywhere (eyJ...): mask it too.
    let mut result = String::with_capacity(out.len());
    for word in out.split_inclusive(|c: char| c.is_whitespace() || c == '"' || c == '\'') {
        if word.starts_with("eyJ") && word.len() > 40 {
            let tail: String = word
                .chars()
                .rev()
                .take_while(|c| c.is_whitespace() || *c == '"' || *c == '\'')
                .collect();
            result.push_str("****");
            result.extend(tail.chars().rev());
        } else {
            result.push_str(word);
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_tokens() {
        let s = r#"{"accessToken": "abc.def", "expiresOn": "x", "token":"zzz"}"#;
        let r = redact(s);
        assert!(!r.contains("abc.def") && !r.contains("zzz"), "{r}");
        assert!(r.contains("expiresOn"));
        let jwt = format!("oops eyJ{} end", "a".repeat(60));
        assert!(!redact(&jwt).contains("aaaa"));
    }
}
