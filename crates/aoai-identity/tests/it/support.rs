//! Test helpers, in one place: fake `az`/`azd`/`pwsh`, loopback listeners that refuse or never
//! answer, environments, and the Python peer runner.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::Duration;

use aoai_identity::{DefaultAzureCredential, DefaultAzureCredentialOptions, Env, RetryOptions};

pub const SCOPE: &str = "https://cognitiveservices.azure.com/.default";

/// What a fake CLI does.
#[derive(Clone, Debug)]
pub enum Cli {
    /// Print a token after `delay_ms`.
    Ok { token: &'static str, delay_ms: u64 },
    /// Exit 1 with the tool's "not logged in" text.
    NotLoggedIn,
    /// Exit 1 with this stderr.
    Fail(&'static str),
    /// Sleep far longer than any timeout.
    Hang,
}

/// A temp directory on `PATH` holding fake CLIs that log their argv.
pub struct FakeTools {
    pub dir: tempfile::TempDir,
}

impl FakeTools {
    pub fn new() -> Self {
        FakeTools {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `PATH` value: the fake dir, then the system dirs (no real az/azd/pwsh there).
    pub fn path_var(&self) -> String {
        format!("{}:/usr/bin:/bin", self.path().display())
    }

    pub fn log(&self, tool: &str) -> PathBuf {
        self.path().join(format!("{tool}.log"))
    }

    /// The argv of each invocation of `tool` (one Vec per run).
    pub fn calls(&self, tool: &str) -> Vec<Vec<String>> {
        let text = std::fs::read_to_string(self.log(tool)).unwrap_or_default();
        text.split("\n--end--\n")
            .filter(|c| !c.trim().is_empty())
            .map(|c| c.lines().map(str::to_string).collect())
            .collect()
    }

    pub fn clear_logs(&self) {
        for t in ["az", "azd", "pwsh"] {
            let _ = std::fs::remove_file(self.log(t));
        }
    }

    pub fn with(self, tool: &str, behaviour: Cli) -> Self {
        let log = self.log(tool);
        let prelude = format!(
            "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\" >> '{log}'; done\nprintf -- '--end--\\n' >> '{log}'\n",
            log = log.display()
        );
        let body = match (&behaviour, tool) {
            (Cli::Ok { token, delay_ms }, "az") => format!(
                "sleep {d}\nexp=$(( $(date +%s) + 3600 ))\necho \"{{\\\"accessToken\\\": \\\"{token}\\\", \\\"expiresOn\\\": \\\"2030-01-01 00:00:00.000000\\\", \\\"expires_on\\\": $exp, \\\"subscription\\\": \\\"s\\\", \\\"tenant\\\": \\\"t\\\", \\\"tokenType\\\": \\\"Bearer\\\"}}\"\n",
                d = *delay_ms as f64 / 1000.0
            ),
            (Cli::Ok { token, delay_ms }, "azd") => format!(
                "sleep {d}\nexp=$(date -u -d @$(( $(date +%s) + 3600 )) +%Y-%m-%dT%H:%M:%SZ)\necho \"{{\\\"token\\\": \\\"{token}\\\", \\\"expiresOn\\\": \\\"$exp\\\"}}\"\n",
                d = *delay_ms as f64 / 1000.0
            ),
            (Cli::Ok { token, delay_ms }, _) => format!(
                "sleep {d}\nexp=$(( $(date +%s) + 3600 ))\nprintf '\\nazsdk%%{token}%%%s\\n' \"$exp\"\n",
                d = *delay_ms as f64 / 1000.0
            ),
            (Cli::NotLoggedIn, "az") => "echo \"ERROR: Please run 'az login' to setup account.\" >&2\nexit 1\n".into(),
            (Cli::NotLoggedIn, "azd") => {
                "echo 'ERROR: fetching token: not logged in, run `azd auth login` to login' >&2\nexit 1\n".into()
            }
            (Cli::NotLoggedIn, _) => "echo 'Run Connect-AzAccount to login.' >&2\nexit 1\n".into(),
            (Cli::Fail(stderr), _) => format!("cat >&2 <<'XEOF'\n{stderr}\nXEOF\nexit 1\n"),
            (Cli::Hang, _) => "exec sleep 60\n".into(),
        };
        let path = self.path().join(tool);
        std::fs::write(&path, format!("{prelude}{body}")).expect("write fake tool");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        self
    }
}

/// A loopback port with nothing listening (connection refused).
pub fn refused_url() -> String {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().unwrap().port();
    drop(l);
    format!("http://127.0.0.1:{port}")
}

/// A loopback listener that accepts connections and never answers (kept for the test's life).
pub struct Blackhole {
    pub url: String,
}

pub fn blackhole() -> Blackhole {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in l.incoming() {
            match c {
                Ok(c) => held.push(c),
                Err(_) => break,
            }
        }
    });
    Blackhole {
        url: format!("http://127.0.0.1:{port}"),
    }
}

/// The environment every test starts from: nothing inherited but `PATH` (fake tools first).
pub fn base_env(tools: &FakeTools) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    m.insert("PATH".to_string(), tools.path_var());
    m.insert("HOME".to_string(), tools.path().display().to_string());
    m
}

/// DAC options for a map environment, IMDS pointed at `imds` (the probe kept), no retries.
pub fn dac_options(env: &BTreeMap<String, String>, imds: &str) -> DefaultAzureCredentialOptions {
    let mut o = DefaultAzureCredentialOptions {
        env: Env::from_map(env.clone()),
        imds_endpoint: Some(imds.to_string()),
        process_timeout: Duration::from_secs(10),
        ..Default::default()
    };
    o.client.retry = RetryOptions::none();
    o
}

pub fn dac(
    env: &BTreeMap<String, String>,
    imds: &str,
) -> Result<DefaultAzureCredential, aoai_identity::IdentityError> {
    DefaultAzureCredential::with_options(dac_options(env, imds))
}

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

/// The Python interpreter with azure-identity: `AOAI_PEER_PYTHON`, else `<workspace>/.venv/bin/python`.
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("AOAI_PEER_PYTHON") {
        return PathBuf::from(p);
    }
    let p = workspace_root().join(".venv/bin/python");
    assert!(
        p.exists(),
        "no Python peer: set AOAI_PEER_PYTHON or run scripts/test to create the venv ({})",
        p.display()
    );
    p
}

/// Runs `tests/peers/identity_peer.py` with exactly `env` and returns its JSON answer.
pub fn python_peer(
    env: &BTreeMap<String, String>,
    request: serde_json::Value,
) -> serde_json::Value {
    let script = workspace_root().join("tests/peers/identity_peer.py");
    let out = std::process::Command::new(python())
        .arg(&script)
        .arg(request.to_string())
        .env_clear()
        .envs(env)
        .output()
        .expect("run the Python peer");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().last().unwrap_or("");
    serde_json::from_str(line).unwrap_or_else(|_| {
        panic!(
            "Python peer gave no JSON.\nstdout: {stdout}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Fails if `secret` occurs in `text` (logs, Debug, Display).
pub fn assert_no_secret(text: &str, secret: &str) {
    assert!(!text.contains(secret), "a secret leaked into:\n{text}");
}
