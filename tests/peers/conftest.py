"""Shared fixtures for the Python peer tests: run `aoai emulator` and talk to its control API.

The emulator binary is `$AOAI_BIN` if set, else `<repo>/target/debug/aoai`, built once per session
with `cargo build -p aoai-cli` (a failed build falls back to an existing binary with a warning).

Fixtures:
  emulator          a plain-HTTP emulator with the default config, shared by the session; its
                    journal and faults are cleared before each test
  tls_emulator      the same over HTTPS (`--tls --ca-out`); `.ca_path` is the CA PEM
  emulator_factory  start a dedicated emulator: `emulator_factory(config="disable_key_auth = true",
                    tls=False)`; stopped when the test ends

Each is an `Emulator` with `.url`, `.ca_path`, `.journal()`, `.clear_journal()`,
`.push_fault(dict | list)`, `.clear_faults()`.

A socket guard refuses every connection that is not to loopback, so no test can reach Azure.
"""

import json
import os
import queue
import socket
import subprocess
import threading
import urllib.request
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KEY = "emulator-key"
API_VERSION = "2024-10-21"

# ---- no traffic outside loopback ------------------------------------------------------------

_real_connect = socket.socket.connect


def _host_ok(address):
    host = address[0] if isinstance(address, tuple) else address
    return isinstance(host, str) and (
        host in ("::1", "localhost") or host.startswith("127.")
    )


def _guarded_connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _host_ok(address):
        raise ConnectionRefusedError(f"peer tests: blocked non-loopback connection to {address!r}")
    return _real_connect(self, address)


socket.socket.connect = _guarded_connect

_AZURE_VARS = [
    "AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_AD_TOKEN",
    "AZURE_OPENAI_DEPLOYMENT", "OPENAI_API_VERSION", "OPENAI_API_KEY", "OPENAI_BASE_URL",
    "AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "AZURE_AUTHORITY_HOST",
    "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_ENDPOINT", "MSI_SECRET",
    "AZURE_TOKEN_CREDENTIALS", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy",
]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    """No outer Azure/OpenAI configuration or proxy leaks into a test."""
    for name in _AZURE_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost,::1")


# ---- the binary -----------------------------------------------------------------------------

_binary = None


def aoai_binary():
    """Path of the `aoai` binary (built once per session unless $AOAI_BIN is set)."""
    global _binary
    if _binary:
        return _binary
    if os.environ.get("AOAI_BIN"):
        _binary = os.environ["AOAI_BIN"]
        return _binary
    path = ROOT / "target" / "debug" / "aoai"
    build = subprocess.run(
        ["cargo", "build", "-q", "-p", "aoai-cli", "--bin", "aoai"],
        cwd=ROOT, capture_output=True, text=True,
    )
    if build.returncode != 0:
        if not path.exists():
            pytest.fail(f"cargo build -p aoai-cli failed:\n{build.stderr}")
        warnings.warn(f"cargo build failed, using the existing {path}:\n{build.stderr[-2000:]}")
    _binary = str(path)
    return _binary


# ---- one running emulator -------------------------------------------------------------------


class Emulator:
    """A running `aoai emulator` process."""

    def __init__(self, config=None, tls=False, tmp_path=None, extra_args=()):
        args = [aoai_binary(), "emulator", "--listen", "127.0.0.1:0", *extra_args]
        self.ca_path = None
        self._tmp = tmp_path
        if tls:
            self.ca_path = str(Path(tmp_path) / "emulator-ca.pem")
            args += ["--tls", "--ca-out", self.ca_path]
        if config is not None:
            cfg = Path(tmp_path) / "emulator.toml"
            cfg.write_text(config)
            args += ["--config", str(cfg)]
        self.proc = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        )
        lines = queue.Queue()
        threading.Thread(target=lambda: lines.put(self.proc.stdout.readline()), daemon=True).start()
        try:
            first = lines.get(timeout=60)
        except queue.Empty:
            self.stop()
            pytest.fail("aoai emulator did not print `listening on URL` within 60 s")
        if not first.startswith("listening on "):
            err = self.proc.stderr.read() if self.proc.poll() is not None else ""
            self.stop()
            pytest.fail(f"aoai emulator failed to start: {first!r}\n{err}")
        self.url = first[len("listening on "):].strip()
        # Drain stderr so the process never blocks on a full pipe.
        threading.Thread(target=self.proc.stderr.read, daemon=True).start()

    # -- control API --
    def _call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            req.add_header("content-type", "application/json")
        ctx = None
        if self.ca_path:
            import ssl
            ctx = ssl.create_default_context(cafile=self.ca_path)
        with urllib.request.urlopen(req, context=ctx, timeout=10) as res:
            text = res.read().decode()
            return json.loads(text) if text else None

    def journal(self):
        """Recorded requests, oldest first (list of dicts: method, path, query, headers, body)."""
        return self._call("GET", "/_emulator/requests")

    def clear_journal(self):
        self._call("DELETE", "/_emulator/requests")

    def push_fault(self, fault):
        """Queue one fault dict or a list of them (see crates/aoai-emulator/src/faults.rs)."""
        return self._call("POST", "/_emulator/faults", fault)

    def clear_faults(self):
        self._call("DELETE", "/_emulator/faults")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="session")
def _shared_emulator(tmp_path_factory):
    emu = Emulator(tmp_path=tmp_path_factory.mktemp("emu"))
    yield emu
    emu.stop()


@pytest.fixture(scope="session")
def _shared_tls_emulator(tmp_path_factory):
    emu = Emulator(tls=True, tmp_path=tmp_path_factory.mktemp("emu-tls"))
    yield emu
    emu.stop()


@pytest.fixture
def emulator(_shared_emulator):
    _shared_emulator.clear_faults()
    _shared_emulator.clear_journal()
    return _shared_emulator


@pytest.fixture
def tls_emulator(_shared_tls_emulator):
    _shared_tls_emulator.clear_faults()
    _shared_tls_emulator.clear_journal()
    return _shared_tls_emulator


@pytest.fixture
def emulator_factory(tmp_path):
    started = []

    def start(config=None, tls=False, extra_args=()):
        sub = tmp_path / f"emu{len(started)}"
        sub.mkdir()
        emu = Emulator(config=config, tls=tls, tmp_path=sub, extra_args=extra_args)
        started.append(emu)
        return emu

    yield start
    for emu in started:
        emu.stop()
