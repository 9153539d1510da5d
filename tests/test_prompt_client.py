"""Python client: in-process and over HTTP, render for OpenAI-style SDKs, TTL cache, fallback."""

from __future__ import annotations

import time

import httpx
import pytest
from sqlalchemy.exc import OperationalError

from core import prompts as P
from core.auth import create_token
from core.client import (
    ApiAuthError,
    PromptClient,
    PromptUnavailableError,
    get_prompt,
    reset_default_client,
)
from tests.servers.api_server import ApiServer


def seed(db):  # type: ignore[no-untyped-def]
    ws = db.default_workspace_id()
    P.save_snippet(db, ws, "rules", "Answer in {language}.")
    P.save_version(db, ws, "assistant", template_type="chat", template_format="jinja2",
                   template=[{"role": "system", "content": "You help {{ customer }}. [[snippet:rules]]"},
                             {"role": "user", "content": "{{ question }}"}],
                   llm_config={"model": "smollm2", "invocation_parameters": {"temperature": 0, "max_tokens": 8},
                               "response_format": {"type": "text"}})
    P.save_version(db, ws, "assistant", template_type="chat", template_format="jinja2",
                   template=[{"role": "user", "content": "v2 {{ question }}"}])
    P.set_label(db, ws, "assistant", "production", version=1)
    P.save_version(db, ws, "complete", template_type="text", template_format="f-string", template="Once upon {when}")
    return ws


def _check_production(prompt) -> None:  # type: ignore[no-untyped-def]
    assert prompt.name == "assistant" and prompt.version == 1 and prompt.label == "production"
    assert prompt.template_type == "chat" and prompt.text is None
    assert prompt.messages[0]["content"] == "You help {{ customer }}. Answer in {language}."
    assert prompt.llm_config["model"] == "smollm2"
    messages = prompt.render(customer="Ada", question="Hi?", language="{{ not rendered twice }}")
    assert messages == [
        {"role": "system", "content": "You help Ada. Answer in {language}."},
        {"role": "user", "content": "Hi?"},
    ]
    kwargs = prompt.openai_kwargs({"customer": "Ada", "question": "Hi?"})
    assert kwargs["model"] == "smollm2" and kwargs["temperature"] == 0 and kwargs["max_tokens"] == 8
    assert kwargs["response_format"] == {"type": "text"} and kwargs["messages"][1]["content"] == "Hi?"
    with pytest.raises(P.RenderError) as info:
        prompt.render(customer="Ada")
    assert info.value.variable == "question"


def test_in_process_client(database) -> None:  # type: ignore[no-untyped-def]
    seed(database)
    client = PromptClient(database=database)
    _check_production(client.get_prompt("assistant", label="production"))
    assert client.get_prompt("assistant").version == 2
    assert client.get_prompt("assistant", version=1).version == 1
    text = client.get_prompt("complete")
    assert text.text == "Once upon {when}" and text.messages is None
    assert text.render(when="a time") == "Once upon a time"
    assert text.openai_kwargs(when="x")["prompt"] == "Once upon x"
    with pytest.raises(P.PromptNotFoundError):
        client.get_prompt("missing")
    with pytest.raises(P.LabelNotFoundError):
        client.get_prompt("assistant", label="canary")


def test_http_client_against_real_server(database) -> None:  # type: ignore[no-untyped-def]
    ws = seed(database)
    token, _ = create_token(database, ws, "client")
    with ApiServer(database) as server:
        with PromptClient(base_url=server.url, token=token) as client:
            _check_production(client.get_prompt("assistant", label="production"))
            assert client.get_prompt("assistant", version=2).messages == [{"role": "user", "content": "v2 {{ question }}"}]
            with pytest.raises(P.PromptNotFoundError):
                client.get_prompt("missing")
            with pytest.raises(P.VersionNotFoundError):
                client.get_prompt("assistant", version=42)
        with PromptClient(base_url=server.url, token="pwb_wrong") as bad, pytest.raises(ApiAuthError):
            bad.get_prompt("assistant")


def test_cache_ttl_and_fallback_when_server_goes_away(database) -> None:  # type: ignore[no-untyped-def]
    ws = seed(database)
    token, _ = create_token(database, ws, "client")
    server = ApiServer(database).start()
    client = PromptClient(base_url=server.url, token=token, ttl=0.2, timeout=2)
    first = client.get_prompt("assistant", label="production")
    P.set_label(database, ws, "assistant", "production", version=2)
    assert client.get_prompt("assistant", label="production") is first  # cached
    deadline = time.monotonic() + 5
    while client.get_prompt("assistant", label="production").version != 2:  # TTL expires
        assert time.monotonic() < deadline
    server.stop()
    deadline = time.monotonic() + 5
    while not (stale := client.get_prompt("assistant", label="production")).stale:  # until expired
        assert stale.version == 2 and time.monotonic() < deadline
    assert stale.version == 2 and stale.template == [{"role": "user", "content": "v2 {{ question }}"}]
    with pytest.raises(PromptUnavailableError):
        client.get_prompt("never-fetched")
    client.close()


def test_in_process_fallback_on_database_failure(database, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    seed(database)
    client = PromptClient(database=database, ttl=0)
    good = client.get_prompt("assistant", label="production")

    def down(*_a, **_k):  # type: ignore[no-untyped-def]  # fault injection: the database is gone
        raise OperationalError("SELECT", {}, Exception("connection refused"))

    monkeypatch.setattr("core.prompts.registry.get_version", down)
    stale = client.get_prompt("assistant", label="production")
    assert stale.stale and stale.version == good.version and stale.template == good.template
    with pytest.raises(PromptUnavailableError, match="unreachable"):
        client.get_prompt("complete")


def test_weighted_label_key_sticks(database) -> None:  # type: ignore[no-untyped-def]
    ws = seed(database)
    P.set_label(database, ws, "assistant", "canary", weights={1: 50, 2: 50})
    client = PromptClient(database=database, ttl=0)
    first = {k: client.get_prompt("assistant", label="canary", key=k).version for k in map(str, range(50))}
    assert set(first.values()) == {1, 2}
    assert first == {k: client.get_prompt("assistant", label="canary", key=k).version for k in first}


def test_module_level_get_prompt_uses_environment(database, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    ws = seed(database)
    reset_default_client()
    try:
        assert get_prompt("assistant", label="production").version == 1  # the configured database
        token, _ = create_token(database, ws, "env")
        with ApiServer(database) as server:
            monkeypatch.setenv("WORKBENCH_API_URL", server.url)
            monkeypatch.setenv("WORKBENCH_API_TOKEN", token)
            reset_default_client()
            assert get_prompt("assistant", version=2).version == 2
    finally:
        reset_default_client()


def test_cached_get_prompt_is_fast(sqlite_database) -> None:  # type: ignore[no-untyped-def]
    seed(sqlite_database)
    client = PromptClient(database=sqlite_database, ttl=600)
    client.get_prompt("assistant", label="production")
    samples = []
    for _ in range(2000):
        t0 = time.perf_counter()
        client.get_prompt("assistant", label="production")
        samples.append(time.perf_counter() - t0)
    samples.sort()
    assert samples[len(samples) // 2] < 50e-6


@pytest.mark.slow
def test_rendered_messages_work_with_the_openai_sdk(sqlite_database, llama_server) -> None:  # type: ignore[no-untyped-def]
    openai = pytest.importorskip("openai")
    ws = sqlite_database.default_workspace_id()
    P.save_version(sqlite_database, ws, "hello", template_type="chat", template_format="f-string",
                   template=[{"role": "user", "content": "Say hello to {name}."}],
                   llm_config={"model": llama_server.alias, "invocation_parameters": {"max_tokens": 8, "temperature": 0}})
    prompt = PromptClient(database=sqlite_database).get_prompt("hello")
    sdk = openai.OpenAI(base_url=llama_server.base_url, api_key="unused", http_client=httpx.Client())
    reply = sdk.chat.completions.create(**prompt.openai_kwargs(name="Ada"))
    assert reply.choices[0].message.content
