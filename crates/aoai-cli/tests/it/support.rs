//! Shared by every CLI test: an emulator on a random loopback port, a fully controlled
//! environment for the `aoai` binary, and snapshot filters.
//!
//! Every command starts from `env_clear()`: PATH is an empty directory (no `az`, `azd`, `pwsh`),
//! HOME a temporary directory, and IMDS (`AZURE_POD_IDENTITY_AUTHORITY_HOST`) a closed loopback
//! port, so nothing can leave 127.0.0.1 — never 169.254.169.254, never an Azure host.

use std::net::TcpListener;
use std::process::Output;

use assert_cmd::Command;
use tempfile::TempDir;

/// An `http://127.0.0.1:<port>` where nothing listens (connection refused).
pub fn closed_port_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let addr = listener.local_addr().expect("local addr");
    drop(listener);
    format!("http://{addr}")
}

/// The controlled environment every test command runs in.
pub struct Sandbox {
    home: TempDir,
    bin: TempDir,
    imds: String,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        Sandbox {
            home: tempfile::tempdir().expect("temp HOME"),
            bin: tempfile::tempdir().expect("temp PATH dir"),
            imds: closed_port_url(),
        }
    }

    /// `aoai` with nothing inherited.
    pub fn aoai(&self) -> Command {
        let mut cmd = Command::cargo_bin("aoai").expect("the aoai binary is built");
        cmd.env_clear()
            .env("PATH", self.bin.path())
            .env("HOME", self.home.path())
            .env("AZURE_POD_IDENTITY_AUTHORITY_HOST", &self.imds)
            .timeout(std::time::Duration::from_secs(60));
        cmd
    }
}

/// Exit code, stdout and stderr of a finished command.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn of(cmd: &mut Command) -> Run {
        let out: Output = cmd.output().expect("run aoai");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// What a snapshot records.
    pub fn transcript(&self) -> String {
        format!(
            "exit: {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.transcript()))
    }
}

/// Filters for ports, request ids, times, durations and tokens.
pub fn filters() -> Vec<(&'static str, &'static str)> {
    vec![
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]"),
        (
            r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*",
            "[JWT]",
        ),
        (
            r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
            "[UUID]",
        ),
        (r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC", "[TIME]"),
        (r" +\d+(\.\d+)? ms\b", " [MS]"),
        (r"\(\d+(\.\d+)? ms\)", "([MS])"),
        (r"\((in|\d+) [^()]*?(s|min|h|days)( ago)?\)", "([RELATIVE])"),
        (r"/tmp/\.tmp[A-Za-z0-9]+", "[TMP]"),
        (r"chatcmpl-[A-Za-z0-9]+", "chatcmpl-[ID]"),
        (r#""created":\s*\d+"#, r#""created":[CREATED]"#),
    ]
}

/// Snapshot with the filters above (snapshots live in `tests/it/snapshots`).
#[macro_export]
macro_rules! snap {
    ($name:expr, $value:expr) => {
        insta::with_settings!({
            filters => $crate::support::filters(),
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            insta::assert_snapshot!($name, $value);
        })
    };
}

/// An emulator (in this process, random loopback port) plus the sandbox.
pub struct World {
    pub sandbox: Sandbox,
    pub emulator: aoai_emulator::EmulatorHandle,
    // Serves the emulator while the test thread waits on the binary; dropped last.
    _runtime: tokio::runtime::Runtime,
}

/// The emulator's default principal and tenant (its documented out-of-the-box setup).
pub const TENANT: &str = "00000000-0000-0000-0000-000000000001";
pub const CLIENT_ID: &str = "emulator-client";
pub const CLIENT_SECRET: &str = "emulator-secret";
pub const KEY: &str = "emulator-key";

impl World {
    pub fn new() -> World {
        World::with(|_| {})
    }

    /// An emulator with its configuration adjusted first.
    pub fn with(adjust: impl FnOnce(&mut aoai_emulator::EmulatorConfig)) -> World {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let mut config = aoai_emulator::EmulatorConfig::default();
        adjust(&mut config);
        let emulator = runtime
            .block_on(aoai_emulator::Emulator::start(config))
            .expect("start the emulator");
        World {
            sandbox: Sandbox::new(),
            emulator,
            _runtime: runtime,
        }
    }

    /// The emulator's base URL, without a trailing slash.
    pub fn url(&self) -> String {
        self.emulator
            .url()
            .to_string()
            .trim_end_matches('/')
            .to_string()
    }

    /// `aoai` in the sandbox.
    pub fn aoai(&self) -> Command {
        self.sandbox.aoai()
    }

    /// `aoai` configured for key auth against the emulator.
    pub fn aoai_with_key(&self) -> Command {
        let mut cmd = self.aoai();
        cmd.env("AZURE_OPENAI_ENDPOINT", self.url())
            .env("AZURE_OPENAI_API_KEY", KEY)
            .env("AZURE_OPENAI_DEPLOYMENT", "gpt-4o");
        cmd
    }

    /// `aoai` configured for a service principal whose authority is the emulator (no key).
    pub fn aoai_with_service_principal(&self, secret: &str) -> Command {
        let mut cmd = self.aoai();
        cmd.env("AZURE_OPENAI_ENDPOINT", self.url())
            .env("AZURE_OPENAI_DEPLOYMENT", "gpt-4o")
            .env("AZURE_TENANT_ID", TENANT)
            .env("AZURE_CLIENT_ID", CLIENT_ID)
            .env("AZURE_CLIENT_SECRET", secret)
            .env("AZURE_AUTHORITY_HOST", self.url());
        cmd
    }
}

impl World {
    /// The request journal (`GET /_emulator/requests`), oldest first.
    pub fn journal(&self) -> Vec<serde_json::Value> {
        let url = format!("{}/_emulator/requests", self.url());
        let body = reqwest::blocking::get(url)
            .and_then(|r| r.text())
            .expect("read the journal");
        serde_json::from_str(&body).expect("the journal is a JSON array")
    }

    /// Bodies of the chat requests, oldest first.
    pub fn chat_bodies(&self) -> Vec<serde_json::Value> {
        self.journal()
            .into_iter()
            .filter(|e| {
                e["path"]
                    .as_str()
                    .is_some_and(|p| p.ends_with("/chat/completions"))
            })
            .map(|e| match &e["body"] {
                serde_json::Value::String(s) => {
                    serde_json::from_str(s).unwrap_or(serde_json::Value::Null)
                }
                other => other.clone(),
            })
            .collect()
    }

    pub fn last_chat_body(&self) -> serde_json::Value {
        self.chat_bodies().pop().expect("a chat request was sent")
    }
}

/// The catalogue's `principal_without_role` switch: the principal keeps its secret but loses
/// every data-plane role. Panics (a broken test setup, not input) when the emulator does not
/// know the principal.
pub fn remove_roles(config: &mut aoai_emulator::EmulatorConfig, principal: &str) {
    let p = config
        .entra
        .principals
        .iter_mut()
        .find(|p| p.client_id.eq_ignore_ascii_case(principal))
        .unwrap_or_else(|| panic!("the emulator has no principal {principal}"));
    p.roles.clear();
}
