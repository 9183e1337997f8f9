"""The official `openai` SDK (AzureOpenAI, AsyncAzureOpenAI, OpenAI on v1) against `aoai emulator`.

Each error case asserts the exception class and `code` the real service produces (spec §8.5).
"""

import asyncio
import base64
import ssl
import struct

import openai
import pytest
from openai import AsyncAzureOpenAI, AzureOpenAI, OpenAI

from conftest import API_VERSION, KEY

HELLO = [{"role": "user", "content": "hello world"}]


def azure(emu, **kw):
    kw.setdefault("api_key", KEY)
    kw.setdefault("api_version", API_VERSION)
    kw.setdefault("max_retries", 0)
    return AzureOpenAI(azure_endpoint=emu.url, **kw)


# ---- success paths --------------------------------------------------------------------------


def test_key_auth_chat(emulator):
    client = azure(emulator)
    res = client.chat.completions.create(model="gpt-4o", messages=HELLO)
    assert res.choices[0].message.content == "Echo: hello world"
    assert res.choices[0].finish_reason == "stop"
    assert res.model == "gpt-4o-2024-08-06"
    assert res.usage.prompt_tokens == 8 and res.usage.completion_tokens == 3
    [entry] = emulator.journal()
    assert entry["method"] == "POST"
    assert entry["path"] == "/openai/deployments/gpt-4o/chat/completions"
    assert entry["query"] == {"api-version": API_VERSION}
    assert entry["headers"]["api-key"] == "***"
    assert entry["body"]["messages"] == HELLO


def test_async_key_auth_chat_and_raw_headers(emulator):
    async def run():
        client = AsyncAzureOpenAI(
            azure_endpoint=emulator.url, api_key=KEY, api_version=API_VERSION, max_retries=0
        )
        raw = await client.chat.completions.with_raw_response.create(model="gpt-4o", messages=HELLO)
        await client.close()
        return raw

    raw = asyncio.run(run())
    assert raw.headers["x-ms-deployment-name"] == "gpt-4o"
    assert raw.headers["apim-request-id"]
    assert raw.request_id == raw.headers["x-request-id"]
    assert raw.parse().choices[0].message.content == "Echo: hello world"


def test_streaming_with_usage(emulator):
    client = azure(emulator)
    chunks = list(
        client.chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "user", "content": "stream me"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    # Azure's leading prompt-annotation event reaches the raw iterator with object "".
    assert chunks[0].object == ""
    assert chunks[0].choices == []
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Echo: stream me"
    finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finish == ["stop"]
    assert chunks[-1].choices == []
    assert chunks[-1].usage.completion_tokens == 3
    assert chunks[-1].usage.total_tokens == chunks[-1].usage.prompt_tokens + 3


def test_async_streaming(emulator):
    async def run():
        client = AsyncAzureOpenAI(
            azure_endpoint=emulator.url, api_key=KEY, api_version=API_VERSION, max_retries=0
        )
        stream = await client.chat.completions.create(
            model="gpt-4o", messages=HELLO, stream=True, stream_options={"include_usage": True}
        )
        out = [c async for c in stream]
        await client.close()
        return out

    chunks = asyncio.run(run())
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Echo: hello world"
    assert chunks[-1].usage is not None


def test_stream_helper_skips_annotations(emulator):
    client = azure(emulator)
    with client.chat.completions.stream(model="gpt-4o", messages=HELLO) as stream:
        final = stream.get_final_completion()
    assert final.choices[0].message.content == "Echo: hello world"


def test_embeddings_default_base64_and_float(emulator):
    client = azure(emulator)
    default = client.embeddings.create(model="text-embedding-3-small", input="hello")
    floats = client.embeddings.create(
        model="text-embedding-3-small", input="hello", encoding_format="float"
    )
    journal = emulator.journal()
    assert journal[0]["body"]["encoding_format"] == "base64"  # the SDK asks for base64 by default
    assert journal[1]["body"]["encoding_format"] == "float"
    a, b = default.data[0].embedding, floats.data[0].embedding
    assert len(a) == len(b) == 1536
    assert a == pytest.approx(b, abs=1e-6)
    assert sum(x * x for x in a) == pytest.approx(1.0, abs=1e-4)
    assert default.usage.prompt_tokens == 1


def test_embeddings_base64_bytes_are_little_endian_f32(emulator):
    client = azure(emulator)
    raw = client.embeddings.with_raw_response.create(
        model="text-embedding-3-small", input=["a", "b"], encoding_format="base64", dimensions=16
    )
    body = raw.http_response.json()
    values = struct.unpack("<16f", base64.b64decode(body["data"][1]["embedding"]))
    # Asked for explicitly, base64 reaches the caller undecoded; it matches the float answer.
    assert raw.parse().data[1].embedding == body["data"][1]["embedding"]
    floats = client.embeddings.create(
        model="text-embedding-3-small", input=["a", "b"], encoding_format="float", dimensions=16
    )
    assert list(values) == pytest.approx(floats.data[1].embedding)
    assert [d.index for d in floats.data] == [0, 1]


def test_plain_openai_client_on_v1(emulator):
    client = OpenAI(base_url=emulator.url + "/openai/v1/", api_key=KEY, max_retries=0)
    res = client.chat.completions.create(model="gpt-4o", messages=HELLO)
    assert res.choices[0].message.content == "Echo: hello world"
    [entry] = emulator.journal()
    assert entry["headers"]["authorization"] == "Bearer ***"
    assert entry["query"] == {}
    assert [m.id for m in client.models.list()] == ["gpt-4o-2024-08-06", "text-embedding-3-small"]


def test_tools_and_json_mode(emulator):
    client = azure(emulator)
    tools = [{"type": "function", "function": {"name": "lookup", "parameters": {
        "type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}}}]
    res = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "call lookup"}], tools=tools
    )
    call = res.choices[0].message.tool_calls[0]
    assert res.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "lookup"
    assert call.function.arguments == '{"q":"call lookup"}'
    res = client.chat.completions.create(
        model="gpt-4o", messages=HELLO, response_format={"type": "json_object"}
    )
    assert res.choices[0].message.content == '{"echo":"hello world"}'


def test_tls(tls_emulator):
    http_client = openai.DefaultHttpxClient(verify=ssl.create_default_context(cafile=tls_emulator.ca_path))
    client = azure(tls_emulator, http_client=http_client)
    assert tls_emulator.url.startswith("https://")
    res = client.chat.completions.create(model="gpt-4o", messages=HELLO)
    assert res.choices[0].message.content == "Echo: hello world"


# ---- errors, as the service raises them -----------------------------------------------------


def test_wrong_key_is_authentication_error_401(emulator):
    with pytest.raises(openai.AuthenticationError) as e:
        azure(emulator, api_key="wrong").chat.completions.create(model="gpt-4o", messages=HELLO)
    assert e.value.status_code == 401
    assert e.value.code == "401"
    assert e.value.request_id is None  # gateway errors carry no x-request-id
    assert "Access denied due to invalid subscription key" in e.value.message


def test_bad_token_is_authentication_error_without_code(emulator):
    client = AzureOpenAI(
        azure_endpoint=emulator.url, azure_ad_token="not-a-token", api_version=API_VERSION,
        max_retries=0,
    )
    with pytest.raises(openai.AuthenticationError) as e:
        client.chat.completions.create(model="gpt-4o", messages=HELLO)
    assert e.value.code is None
    assert e.value.body["statusCode"] == 401
    assert e.value.message.startswith("Error code: 401 - Unauthorized. Access token is missing")


def test_unknown_deployment_is_not_found(emulator):
    with pytest.raises(openai.NotFoundError) as e:
        azure(emulator).chat.completions.create(model="nope", messages=HELLO)
    assert e.value.code == "DeploymentNotFound"


def test_missing_route_version_is_resource_not_found(emulator):
    with pytest.raises(openai.NotFoundError) as e:
        azure(emulator, api_version="2022-12-01").chat.completions.create(
            model="gpt-4o", messages=HELLO
        )
    assert e.value.code == "404"
    assert e.value.message == "Error code: 404 - Resource not found"


def test_unknown_api_version_is_bad_request(emulator):
    with pytest.raises(openai.BadRequestError) as e:
        azure(emulator, api_version="2099-01-01").chat.completions.create(
            model="gpt-4o", messages=HELLO
        )
    assert e.value.code == "BadRequest"


def test_key_auth_disabled_is_permission_denied(emulator_factory):
    emu = emulator_factory(config="disable_key_auth = true\n")
    with pytest.raises(openai.PermissionDeniedError) as e:
        azure(emu).chat.completions.create(model="gpt-4o", messages=HELLO)
    assert e.value.code == "AuthenticationTypeDisabled"
    assert e.value.message == "Error code: 403 - Key based authentication is disabled for this resource."


def test_content_filter_is_bad_request(emulator):
    with pytest.raises(openai.BadRequestError) as e:
        azure(emulator).chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "trigger-content-filter"}]
        )
    assert e.value.code == "content_filter"
    assert e.value.param == "prompt"
    assert e.value.body["innererror"]["code"] == "ResponsibleAIPolicyViolation"
    assert e.value.request_id  # model-side errors carry x-request-id


def test_output_filter_finish_reason(emulator):
    res = azure(emulator).chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "x trigger-output-filter"}]
    )
    assert res.choices[0].finish_reason == "content_filter"


def test_rate_limited_is_rate_limit_error(emulator_factory):
    emu = emulator_factory(config="rate_limited = true\n")
    with pytest.raises(openai.RateLimitError) as e:
        azure(emu).chat.completions.create(model="gpt-4o", messages=HELLO)
    assert e.value.code == "429"
    assert e.value.response.headers["retry-after"] == "1"
    assert e.value.response.headers["retry-after-ms"] == "1000"
    assert "exceeded token rate limit" in e.value.message


def test_sdk_retries_a_scripted_503(emulator):
    emulator.push_fault({
        "path": "/openai/deployments/gpt-4o/chat/completions", "status": 503, "times": 2,
        "headers": {"retry-after-ms": "10"},
        "body": {"error": {"message": "busy", "type": "server_error", "param": None, "code": None}},
    })
    res = azure(emulator, max_retries=2).chat.completions.create(model="gpt-4o", messages=HELLO)
    assert res.choices[0].message.content == "Echo: hello world"
    retries = [e["headers"].get("x-stainless-retry-count") for e in emulator.journal()]
    assert retries == ["0", "1", "2"]


def test_reset_is_connection_error(emulator):
    emulator.push_fault({"path": "*", "kind": "reset"})
    with pytest.raises(openai.APIConnectionError):
        azure(emulator).chat.completions.create(model="gpt-4o", messages=HELLO)


def test_tls_trusted_through_requests_ca_bundle(tls_emulator, monkeypatch):
    """azure-core and MSAL use `requests`, which trusts REQUESTS_CA_BUNDLE."""
    requests = pytest.importorskip("requests")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", tls_emulator.ca_path)
    res = requests.get(
        tls_emulator.url + "/openai/models", params={"api-version": API_VERSION},
        headers={"api-key": KEY}, timeout=10,
    )
    assert res.status_code == 200
    assert res.headers["apim-request-id"]
