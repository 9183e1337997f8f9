"""The official `azure-identity` against the emulator's Entra and managed-identity stand-ins.

Each credential gets a token from the emulator (never from Azure: the conftest socket guard
refuses non-loopback connections, and MSAL's instance discovery is switched off), and the
service-principal token is used by the official `openai` SDK for a chat call.
"""

import datetime
import json
import ssl

import openai
import pytest
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import (
    CertificateCredential,
    ClientSecretCredential,
    ManagedIdentityCredential,
    WorkloadIdentityCredential,
    get_bearer_token_provider,
)

from conftest import API_VERSION

TENANT = "00000000-0000-0000-0000-000000000001"
SCOPE = "https://cognitiveservices.azure.com/.default"
UAMI_CLIENT = "30000000-0000-0000-0000-000000000001"
SYSTEM_CLIENT = "20000000-0000-0000-0000-000000000001"
IDENTITY_HEADER = "emulator-identity-header"


def claims(token):
    """Decoded (unverified) JWT claims."""
    import base64

    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def trust(monkeypatch, emu):
    """Make requests (azure-core) and httpx (openai) trust the emulator's CA."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", emu.ca_path)
    monkeypatch.setenv("SSL_CERT_FILE", emu.ca_path)


def test_client_secret_token_provider_drives_azure_openai_chat(tls_emulator, monkeypatch):
    trust(monkeypatch, tls_emulator)
    credential = ClientSecretCredential(
        TENANT,
        "emulator-client",
        "emulator-secret",
        authority=tls_emulator.url,
        disable_instance_discovery=True,
    )
    provider = get_bearer_token_provider(credential, SCOPE)
    http_client = openai.DefaultHttpxClient(
        verify=ssl.create_default_context(cafile=tls_emulator.ca_path)
    )
    client = openai.AzureOpenAI(
        azure_endpoint=tls_emulator.url,
        azure_ad_token_provider=provider,
        api_version=API_VERSION,
        http_client=http_client,
        max_retries=0,
    )
    reply = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "hello"}]
    )
    assert reply.choices[0].message.content

    journal = tls_emulator.journal()
    paths = [(e["method"], e["path"]) for e in journal]
    assert ("GET", f"/{TENANT}/v2.0/.well-known/openid-configuration") in paths
    assert ("POST", f"/{TENANT}/oauth2/v2.0/token") in paths
    # The chat request carried the emulator-issued token.
    chat = [e for e in journal if e["path"].endswith("/chat/completions")][-1]
    auth = {k.lower(): v for k, v in chat["headers"].items()}.get("authorization", "")
    assert auth.startswith("Bearer ") or "***" in auth, auth


def test_client_secret_token_claims(tls_emulator, monkeypatch):
    trust(monkeypatch, tls_emulator)
    credential = ClientSecretCredential(
        TENANT, "emulator-client", "emulator-secret",
        authority=tls_emulator.url, disable_instance_discovery=True,
    )
    token = credential.get_token(SCOPE)
    c = claims(token.token)
    assert c["aud"] == "https://cognitiveservices.azure.com"
    assert c["iss"] == f"https://sts.windows.net/{TENANT}/"
    assert c["tid"] == TENANT and c["appid"] == "emulator-client"
    now = datetime.datetime.now(datetime.timezone.utc).timestamp()
    assert 3500 < token.expires_on - now <= 3600


def test_wrong_secret_raises_aadsts7000215(tls_emulator, monkeypatch):
    trust(monkeypatch, tls_emulator)
    credential = ClientSecretCredential(
        TENANT, "emulator-client", "not-the-secret",
        authority=tls_emulator.url, disable_instance_discovery=True,
    )
    with pytest.raises(ClientAuthenticationError) as err:
        credential.get_token(SCOPE)
    assert "AADSTS7000215" in str(err.value)
    assert "not-the-secret" not in str(err.value)


def test_unknown_tenant_fails_oidc_discovery(tls_emulator, monkeypatch):
    """OIDC discovery answers AADSTS90002; MSAL reports it as an unusable authority (spec §3.3)."""
    trust(monkeypatch, tls_emulator)
    credential = ClientSecretCredential(
        "99999999-0000-0000-0000-000000000000", "emulator-client", "emulator-secret",
        authority=tls_emulator.url, disable_instance_discovery=True,
    )
    with pytest.raises(ClientAuthenticationError) as err:
        credential.get_token(SCOPE)
    assert "Unable to get authority configuration for " + tls_emulator.url in str(err.value)
    discovery = [e for e in tls_emulator.journal() if e["path"].endswith("/openid-configuration")]
    assert discovery and discovery[-1]["path"].startswith("/99999999-")


def test_managed_identity_through_imds(emulator, monkeypatch):
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", emulator.url)
    token = ManagedIdentityCredential().get_token(SCOPE)
    c = claims(token.token)
    assert c["appid"] == SYSTEM_CLIENT
    assert c["aud"] == "https://cognitiveservices.azure.com"
    uami = ManagedIdentityCredential(client_id=UAMI_CLIENT).get_token(SCOPE)
    assert claims(uami.token)["appid"] == UAMI_CLIENT
    imds = [e for e in emulator.journal() if e["path"] == "/metadata/identity/oauth2/token"]
    assert imds, emulator.journal()
    headers = {k.lower(): v for k, v in imds[-1]["headers"].items()}
    assert headers.get("metadata") == "true"


def test_managed_identity_unknown_user_assigned_id_is_refused(emulator, monkeypatch):
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", emulator.url)
    with pytest.raises(Exception) as err:
        ManagedIdentityCredential(client_id="ffffffff-0000-0000-0000-000000000000").get_token(SCOPE)
    assert "Identity not found" in str(err.value)


def test_managed_identity_through_app_service(emulator, monkeypatch):
    monkeypatch.setenv("IDENTITY_ENDPOINT", emulator.url + "/msi/token")
    monkeypatch.setenv("IDENTITY_HEADER", IDENTITY_HEADER)
    token = ManagedIdentityCredential().get_token(SCOPE)
    assert claims(token.token)["appid"] == SYSTEM_CLIENT
    uami = ManagedIdentityCredential(client_id=UAMI_CLIENT).get_token(SCOPE)
    assert claims(uami.token)["appid"] == UAMI_CLIENT
    sent = [e for e in emulator.journal() if e["path"] == "/msi/token"][-1]
    headers = {k.lower(): v for k, v in sent["headers"].items()}
    assert "x-identity-header" in headers


def test_app_service_wrong_identity_header_fails(emulator, monkeypatch):
    monkeypatch.setenv("IDENTITY_ENDPOINT", emulator.url + "/msi/token")
    monkeypatch.setenv("IDENTITY_HEADER", "wrong-header")
    with pytest.raises(Exception) as err:
        ManagedIdentityCredential().get_token(SCOPE)
    assert "IDENTITY_HEADER" in str(err.value) or "X-IDENTITY-HEADER" in str(err.value)


def test_managed_identity_through_cloud_shell_and_azure_ml(emulator, monkeypatch):
    monkeypatch.setenv("MSI_ENDPOINT", emulator.url + "/cloudshell/token")
    token = ManagedIdentityCredential().get_token(SCOPE)
    assert claims(token.token)["aud"] == "https://cognitiveservices.azure.com"
    monkeypatch.setenv("MSI_ENDPOINT", emulator.url + "/ml/token")
    monkeypatch.setenv("MSI_SECRET", "emulator-msi-secret")
    token = ManagedIdentityCredential(client_id=UAMI_CLIENT).get_token(SCOPE)
    assert claims(token.token)["appid"] == UAMI_CLIENT


def _self_signed(tmp_path):
    """An RSA key and self-signed certificate (PEM file for azure-identity, cert PEM for the emulator)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cert-client")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    path = tmp_path / "client.pem"
    path.write_text(key_pem + cert_pem)
    return str(path), cert_pem


def test_certificate_and_workload_identity(emulator_factory, tmp_path, monkeypatch):
    cert_path, cert_pem = _self_signed(tmp_path)
    federated = "eyJhbGciOiJSUzI1NiJ9.fake-k8s-sa-token.sig"
    emu = emulator_factory(
        config=f'''
[[entra.principals]]
client_id = "cert-client"
certificate = """{cert_pem}"""
roles = ["Cognitive Services OpenAI User"]

[[entra.principals]]
client_id = "fed-client"
federated_token = "{federated}"
roles = ["Cognitive Services OpenAI User"]
''',
        tls=True,
    )
    trust(monkeypatch, emu)
    cred = CertificateCredential(
        TENANT, "cert-client", certificate_path=cert_path,
        authority=emu.url, disable_instance_discovery=True,
    )
    assert claims(cred.get_token(SCOPE).token)["appid"] == "cert-client"

    token_file = tmp_path / "federated-token"
    token_file.write_text(federated + "\n")
    wi = WorkloadIdentityCredential(
        tenant_id=TENANT, client_id="fed-client", token_file_path=str(token_file),
        authority=emu.url,
    )
    assert claims(wi.get_token(SCOPE).token)["appid"] == "fed-client"

    token_file.write_text("another-token")
    wrong = WorkloadIdentityCredential(
        tenant_id=TENANT, client_id="fed-client", token_file_path=str(token_file),
        authority=emu.url,
    )
    with pytest.raises(ClientAuthenticationError) as err:
        wrong.get_token(SCOPE)
    assert "AADSTS700213" in str(err.value)
