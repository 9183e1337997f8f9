"""Run Python azure-identity once and report what happened, as JSON on stdout.

Used by the Rust differential tests of crates/aoai-identity (not collected by pytest).

    python identity_peer.py '<json request>'

Request fields:
  credential          "DefaultAzureCredential" (default) or another azure.identity class name
  kwargs              constructor keyword arguments (DAC always gets disable_instance_discovery=True,
                      so MSAL never calls login.microsoftonline.com)
  scope               scope to request (default the Azure OpenAI scope)
  imds_after_construct  set AZURE_POD_IDENTITY_AUTHORITY_HOST to this URL *after* constructing the
                      credential, so the IMDS probe still happens (spec Appendix B)

Output: {"ok": true, "credential": "<class that produced the token>", "token": "...",
"expires_on": n, "elapsed_ms": n} or {"ok": false, "error": "<exception class>", "message": "..."}.
The process environment is the environment under test. A socket guard refuses every connection
that is not to 127.0.0.1 / ::1 / localhost, so a mistake can never reach a real Azure endpoint.
"""

import json
import os
import socket
import sys
import time

_real_connect = socket.socket.connect
_real_create_connection = socket.create_connection


def _host_ok(address):
    host = address[0] if isinstance(address, tuple) else address
    return host in ("127.0.0.1", "::1", "localhost") or (isinstance(host, str) and host.startswith("127."))


def _guarded_connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _host_ok(address):
        raise ConnectionRefusedError("identity_peer: blocked non-loopback connection to %r" % (address,))
    return _real_connect(self, address)


def _guarded_create_connection(address, *args, **kwargs):
    if not _host_ok(address):
        raise ConnectionRefusedError("identity_peer: blocked non-loopback connection to %r" % (address,))
    return _real_create_connection(address, *args, **kwargs)


socket.socket.connect = _guarded_connect
socket.create_connection = _guarded_create_connection


def main():
    request = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    import azure.identity as ai

    name = request.get("credential", "DefaultAzureCredential")
    kwargs = dict(request.get("kwargs", {}))
    scope = request.get("scope", "https://cognitiveservices.azure.com/.default")
    if name in ("DefaultAzureCredential", "EnvironmentCredential", "ClientSecretCredential", "CertificateCredential"):
        kwargs.setdefault("disable_instance_discovery", True)
    start = time.monotonic()
    try:
        cred = getattr(ai, name)(**kwargs)
    except Exception as e:  # constructor errors are part of the contract
        print(json.dumps({"ok": False, "error": type(e).__name__, "message": str(e), "phase": "construct"}))
        return
    if request.get("imds_after_construct"):
        os.environ["AZURE_POD_IDENTITY_AUTHORITY_HOST"] = request["imds_after_construct"]
    try:
        tok = cred.get_token(scope)
    except Exception as e:
        print(json.dumps({"ok": False, "error": type(e).__name__, "message": str(e), "phase": "get_token",
                          "elapsed_ms": (time.monotonic() - start) * 1000}))
        return
    used = getattr(cred, "_successful_credential", None)
    used_name = type(used).__name__ if used is not None else type(cred).__name__
    print(json.dumps({"ok": True, "credential": used_name, "token": tok.token, "expires_on": tok.expires_on,
                      "elapsed_ms": (time.monotonic() - start) * 1000}))


if __name__ == "__main__":
    main()
