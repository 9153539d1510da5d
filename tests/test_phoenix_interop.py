"""Interop with a REAL Arize Phoenix server (``phoenix serve`` from its own venv, once per session).

1. Our recorder exports a span to Phoenix; Phoenix's REST API returns it with our
   OpenInference attributes.
2. That span, fetched back from Phoenix, replays to the request we recorded.
3. The exact annotation body Phoenix accepts at ``POST /v1/span_annotations?sync=true`` is
   accepted by our API too, with the same response shape and the same stored annotation.

Phoenix is installed on first use (minutes); if it cannot be installed or started the tests
skip with the reason, unless ``WORKBENCH_PHOENIX_REQUIRED=1``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from core.annotations import list_span_annotations
from core.api.app import create_app
from core.auth import create_token
from core.db import Database
from core.providers.types import (
    ModelRequest,
    ModelResult,
    PromptTemplateInfo,
    RunContext,
    ToolCall,
    Usage,
)
from core.replay import replay_span
from core.tracing import Recorder, RecordingHandle
from tests.servers.phoenix_server import PhoenixServer, PhoenixUnavailable

pytestmark = [pytest.mark.phoenix, pytest.mark.slow]

PROJECT = "wb-interop"
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                       "required": ["city"]},
    },
}


@pytest.fixture(scope="session")
def phoenix_server(request: pytest.FixtureRequest) -> Iterator[PhoenixServer]:
    """A real Phoenix server for the whole session (installed into .venv-phoenix on first use)."""
    server = PhoenixServer()
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    try:
        server.start()
    except PhoenixUnavailable as exc:
        if os.environ.get("WORKBENCH_PHOENIX_REQUIRED") == "1":
            raise
        pytest.skip(f"Phoenix unavailable: {exc}")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():  # shown even without -s
            reporter.write_line(f"\nphoenix: install {server.install_seconds:.1f}s, "
                                f"start {server.start_seconds:.1f}s at {server.base_url}")
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _no_env_collector(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PHOENIX_COLLECTOR_ENDPOINT", "PHOENIX_API_KEY", "PHOENIX_CLIENT_HEADERS",
                 "PHOENIX_PROJECT_NAME"):
        monkeypatch.delenv(name, raising=False)


def original_request(tag: str) -> ModelRequest:
    """A chat request exercising messages, parameters, tools, tool choice and a template."""
    system = "You answer weather questions tersely."
    return ModelRequest(
        model="openai/gpt-4o-mini",
        messages=[
            {"role": "system", "content": system},
            {"role": "user", "content": f"Weather in Paris? ({tag})"},
        ],
        invocation_parameters={"temperature": 0.2, "max_tokens": 64, "seed": 7,
                               "stop": ["\n\n"], "top_p": 0.9},
        tools=[WEATHER],
        tool_choice="auto",
        api_key="sk-test-SECRET123456",
        context=RunContext(
            session_id=f"sess-{tag}",
            tags=["interop"],
            prompt_template=PromptTemplateInfo(
                template=[{"role": "system", "content": system},
                          {"role": "user", "content": "Weather in {city}? ({tag})"}],
                variables={"city": "Paris", "tag": tag},
                template_format="f-string",
                version="weather@v1",
            ),
        ),
    )


RESULT = dict(text="Checking.", tool_calls=[ToolCall("call_1", "get_weather", '{"city": "Paris"}')],
              usage=Usage(21, 9, 30), finish_reason="tool_calls", cost=0.0004)


def fetch_phoenix_span(base_url: str, span_id: str, timeout: float = 20.0) -> dict[str, Any]:
    """Poll Phoenix's REST API until the project's span ``span_id`` is there (bounded)."""
    url = f"{base_url}/v1/projects/{PROJECT}/spans"
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        response = httpx.get(url, params={"span_id": span_id, "limit": 10}, timeout=5.0)
        last = f"{response.status_code} {response.text[:300]}"
        if response.status_code == 200:
            spans = [s for s in response.json()["data"] if s["context"]["span_id"] == span_id]
            if spans:
                return spans[0]
        time.sleep(0.2)  # ingestion is asynchronous in Phoenix: poll with a deadline
    raise AssertionError(f"span {span_id} not in Phoenix after {timeout}s (last: {last})")


def record(db_url: str, phoenix: PhoenixServer, request: ModelRequest) -> RecordingHandle:
    """Record one call with our recorder, into ``db_url`` and exported to Phoenix."""
    rec = Recorder(db_url, phoenix_endpoint=phoenix.base_url, project_name=PROJECT)
    try:
        handle = rec.start(request)
        handle.first_token()
        handle.finish(ModelResult(**RESULT))  # type: ignore[arg-type]
        assert rec.flush_export(15)
        assert rec.flush(15)
        status = rec.phoenix_status()
        assert status["exported"] == 1 and status["failed"] == 0, status
    finally:
        rec.shutdown()
    return handle


def test_recorded_span_shows_up_in_phoenix_with_openinference_attributes(
    phoenix_server: PhoenixServer, sqlite_database: Database
) -> None:
    handle = record(sqlite_database.url, phoenix_server, original_request("t1"))
    span = fetch_phoenix_span(phoenix_server.base_url, handle.span_id)

    assert span["context"] == {"trace_id": handle.trace_id, "span_id": handle.span_id}
    assert span["name"] == "ChatCompletion" and span["span_kind"] == "LLM"
    assert span["status_code"] == "OK"
    attrs = span["attributes"]
    assert attrs["llm.model_name"] == "openai/gpt-4o-mini"
    assert attrs["llm.input_messages.0.message.role"] == "system"
    assert attrs["llm.input_messages.1.message.content"] == "Weather in Paris? (t1)"
    assert attrs["llm.output_messages.0.message.content"] == "Checking."
    assert attrs["llm.token_count.prompt"] == 21
    assert attrs["llm.token_count.completion"] == 9
    assert attrs["llm.token_count.total"] == 30
    params = json.loads(attrs["llm.invocation_parameters"])
    assert params["temperature"] == 0.2 and params["max_tokens"] == 64 and params["seed"] == 7
    assert attrs["session.id"] == "sess-t1"
    assert attrs["llm.prompt_template.version"] == "weather@v1"
    # The OpenInference first-token event survives the trip.
    assert any(e["name"] == "First Token Stream Event" for e in span.get("events", []))
    # The API key never leaves our process.
    assert "SECRET123456" not in json.dumps(span)


def test_span_fetched_from_phoenix_replays_to_the_original_request(
    phoenix_server: PhoenixServer, sqlite_database: Database
) -> None:
    original = original_request("t2")
    handle = record(sqlite_database.url, phoenix_server, original)
    span = fetch_phoenix_span(phoenix_server.base_url, handle.span_id)

    result = replay_span(json.dumps(span))
    replayed = result.request
    assert (result.span_id, result.trace_id) == (handle.span_id, handle.trace_id)
    assert replayed.model == original.model
    assert replayed.operation == original.operation
    assert replayed.messages == original.messages
    assert replayed.invocation_parameters == original.invocation_parameters
    assert replayed.tools == original.tools
    assert replayed.tool_choice == original.tool_choice
    assert replayed.api_key is None
    assert result.template == original.context.prompt_template
    assert result.original_output == "Checking."
    assert result.original_tool_calls == RESULT["tool_calls"]
    assert result.original_usage == Usage(21, 9, 30)


def test_annotation_body_accepted_by_phoenix_is_accepted_by_our_api(
    phoenix_server: PhoenixServer, database: Database
) -> None:
    # One recording lands in both places with the same span id: our DB and Phoenix.
    handle = record(database.url, phoenix_server, original_request(f"t3-{database.url[:8]}"))
    fetch_phoenix_span(phoenix_server.base_url, handle.span_id)
    body = {"data": [{
        "span_id": handle.span_id,
        "name": "user feedback",
        "annotator_kind": "HUMAN",
        "result": {"label": "👍", "score": 1, "explanation": "answered the question"},
        "metadata": {"app": "support-bot", "turn": 3},
        "identifier": "review-1",
    }]}

    phoenix = httpx.post(f"{phoenix_server.base_url}/v1/span_annotations",
                         params={"sync": "true"}, json=body, timeout=10.0)
    assert phoenix.status_code == 200, phoenix.text
    ws = database.default_workspace_id()
    token, _ = create_token(database, ws, "interop")
    with TestClient(create_app(database=database)) as client:
        ours = client.post("/v1/span_annotations", params={"sync": "true"}, json=body,
                           headers={"Authorization": f"Bearer {token}"})
    assert ours.status_code == 200, ours.text
    for response in (phoenix, ours):
        data = response.json()
        assert list(data) == ["data"] and len(data["data"]) == 1
        assert list(data["data"][0]) == ["id"] and data["data"][0]["id"]

    # Both now hold the same annotation.
    listed = httpx.get(f"{phoenix_server.base_url}/v1/projects/{PROJECT}/span_annotations",
                       params={"span_ids": handle.span_id}, timeout=10.0)
    assert listed.status_code == 200, listed.text
    theirs = [a for a in listed.json()["data"] if a["name"] == "user feedback"]
    mine = list_span_annotations(database, ws, [handle.span_id])
    assert len(theirs) == 1 and len(mine) == 1
    for key in ("span_id", "name", "annotator_kind", "result", "metadata", "identifier"):
        assert mine[0][key] == theirs[0][key], key
