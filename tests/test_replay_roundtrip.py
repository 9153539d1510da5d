"""Replay against real parts: our own recorder's stored spans, and a real model server.

- Round trip: a request recorded by ``core.tracing`` and read back with ``store.get_span``
  replays to the same request (model, operation, messages, parameters, tools, tool choice,
  response format, base URL, template), on SQLite and PostgreSQL.
- End to end: the real litellm OpenInference instrumentor records a call to a real
  ``llama_cpp.server``; the span goes through OTLP JSON, is replayed, and the replayed request
  runs through ``core.providers`` against the same server and is recorded as a replay.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from core.db import Database
from core.providers.types import (
    ModelRequest,
    ModelResult,
    Operation,
    PromptTemplateInfo,
    RunContext,
    ToolCall,
    Usage,
)
from core.replay import replay_span, rerun_as_recorded

SECRET = "sk-test-SECRET123456"
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}

REQUESTS = [
    pytest.param(
        ModelRequest(
            model="openai/gpt-4o-mini",
            messages=[
                {"role": "system", "content": "Be terse."},
                {"role": "user", "content": "Hi"},
            ],
            invocation_parameters={
                "temperature": 0.2,
                "max_tokens": 64,
                "seed": 7,
                "stop": ["\n\n"],
                "top_p": 0.9,
                "presence_penalty": 0.5,
            },
            tools=[WEATHER],
            tool_choice={"type": "function", "function": {"name": "get_weather"}},
            api_key=SECRET,
            extra_headers={"Authorization": f"Bearer {SECRET}"},
        ),
        id="chat-tools-named-choice",
    ),
    pytest.param(
        ModelRequest(
            model="smollm2",
            base_url="http://127.0.0.1:18080/v1",
            messages=[{"role": "user", "content": "Give me JSON"}],
            response_format={
                "type": "json_schema",
                "json_schema": {
                    "name": "p",
                    "strict": True,
                    "schema": {
                        "type": "object",
                        "properties": {"name": {"type": "string"}},
                        "required": ["name"],
                    },
                },
            },
            invocation_parameters={"temperature": 0.0},
        ),
        id="custom-endpoint-response-format",
    ),
    pytest.param(
        ModelRequest(
            model="anthropic/claude-3-5-haiku-20241022",
            messages=[
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "What is this?"},
                        {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
                    ],
                },
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                        }
                    ],
                },
                {"role": "tool", "content": "sunny", "tool_call_id": "call_1"},
                {"role": "user", "content": "Thanks", "name": "ada"},
            ],
            tools=[WEATHER],
            tool_choice="auto",
            invocation_parameters={"max_tokens": 100},
        ),
        id="multimodal-tool-turn",
    ),
    pytest.param(
        ModelRequest(
            model="local/smollm2-135m-instruct",
            operation=Operation.TEXT_COMPLETION,
            prompt="Once upon a time",
            invocation_parameters={"max_tokens": 16, "temperature": 0.7},
        ),
        id="text-completion",
    ),
    pytest.param(
        ModelRequest(
            model="local/smollm2-135m-instruct",
            messages=[
                {"role": "system", "content": "You translate."},
                {"role": "user", "content": "Translate 'cat' to French"},
            ],
            context=RunContext(
                prompt_template=PromptTemplateInfo(
                    template=[
                        {"role": "system", "content": "You translate."},
                        {"role": "user", "content": "Translate '{{word}}' to {{lang}}"},
                    ],
                    variables={"word": "cat", "lang": "French"},
                    template_format="mustache",
                    version="translate@v2",
                    prompt_version_id=7,
                )
            ),
        ),
        id="chat-template",
    ),
]


@pytest.fixture
def recorder(database: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    store = pytest.importorskip("core.tracing.store")
    from core.tracing import Recorder

    monkeypatch.delenv("PHOENIX_COLLECTOR_ENDPOINT", raising=False)
    rec = Recorder(database.url, phoenix_endpoint="")
    yield rec, store
    rec.shutdown()


@pytest.mark.parametrize("original", REQUESTS)
def test_replay_of_our_own_span_reproduces_the_request(
    database: Database, recorder: Any, original: ModelRequest
) -> None:
    rec, store = recorder
    handle = rec.start(original)
    chat = original.operation is Operation.CHAT
    calls = [ToolCall("c9", "get_weather", '{"city": "Rome"}')] if chat else []
    handle.finish(
        ModelResult(text="done", tool_calls=calls, usage=Usage(5, 3, 8), finish_reason="stop")
    )
    assert rec.flush(10)
    stored = store.get_span(database, handle.span_id)
    assert stored is not None

    result = replay_span(json.dumps(stored))
    replayed = result.request
    assert result.source_format == "phoenix"
    assert (result.span_id, result.trace_id) == (handle.span_id, handle.trace_id)
    assert replayed.model == original.model
    assert replayed.operation == original.operation
    assert replayed.messages == original.messages
    assert replayed.prompt == original.prompt
    assert replayed.invocation_parameters == original.invocation_parameters
    assert replayed.tools == original.tools
    assert replayed.tool_choice == original.tool_choice
    assert replayed.response_format == original.response_format
    assert replayed.base_url == original.base_url
    assert rerun_as_recorded(result) == replayed
    assert result.template == original.context.prompt_template
    assert replayed.context.source == "replay"
    assert replayed.context.metadata["replayed_span_id"] == handle.span_id
    assert result.original_output == "done"
    assert result.original_tool_calls == calls
    assert result.original_usage == Usage(5, 3, 8)
    assert not [w for w in result.warnings if "template" in w]
    assert not [e for e in result.report if e.status == "dropped"]
    everything = json.dumps([repr(replayed), [e.as_row() for e in result.report], result.warnings])
    assert SECRET not in everything and replayed.api_key is None and replayed.extra_headers is None


@pytest.fixture
def litellm_spans() -> Iterator[Any]:
    """The real litellm OpenInference instrumentor, on for one test only (it patches litellm)."""
    pytest.importorskip("openinference.instrumentation.litellm")
    from openinference.instrumentation.litellm import LiteLLMInstrumentor
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrumentor = LiteLLMInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:
        yield exporter
    finally:
        instrumentor.uninstrument()


@pytest.mark.slow
def test_instrumented_call_replays_against_the_real_server(
    sqlite_database: Database, llama_server: Any, litellm_spans: Any
) -> None:
    import litellm
    from google.protobuf.json_format import MessageToDict
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    from core.providers import NO_RETRY, invoke
    from core.tracing import get_recorder, reset_recorders
    from core.tracing.store import get_span

    messages = [
        {"role": "system", "content": "Answer in one word."},
        {"role": "user", "content": "What colour is the sky?"},
    ]
    litellm.completion(
        model=f"openai/{llama_server.alias}",
        api_base=llama_server.base_url,
        api_key="sk-local-not-secret-000",
        messages=messages,
        temperature=0.0,
        max_tokens=8,
        seed=3,
    )
    spans = litellm_spans.get_finished_spans()
    otlp_json = json.dumps(MessageToDict(encode_spans(spans)))

    result = replay_span(otlp_json)
    request = result.request
    assert result.source_format == "otlp"
    assert request.base_url == llama_server.base_url.rstrip("/")
    assert request.model == llama_server.alias and request.provider == "openai"
    assert request.messages == messages
    assert request.invocation_parameters == {"temperature": 0.0, "max_tokens": 8, "seed": 3}
    assert "sk-local-not-secret-000" not in json.dumps([e.as_row() for e in result.report])

    try:
        replayed = invoke(rerun_as_recorded(result), retry=NO_RETRY)
        assert get_recorder().flush(10)
    finally:
        reset_recorders()  # this test's database goes away with it
    assert replayed.status == "ok", replayed.error
    assert replayed.text.strip()
    stored = get_span(sqlite_database, replayed.span_id) if replayed.span_id else None
    assert stored is not None
    assert stored["attributes"].get("workbench.source") == "replay"
    assert result.span_id in stored["attributes"].get("metadata", "")
