"""Every call becomes an OpenInference span (checked in memory and as stored) and a run row."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from core.db import Database
from core.providers.errors import RateLimitError
from core.providers.types import (
    ModelRequest,
    ModelResult,
    Operation,
    PromptTemplateInfo,
    RunContext,
    ToolCall,
    Usage,
)
from core.tracing import FIRST_TOKEN_EVENT, Recorder, get_recorder, reset_recorders
from core.tracing.attributes import request_from_dict, request_to_dict
from core.tracing.store import get_run, get_span, get_trace

SECRET = "sk-test-SECRET123456"
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get current weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                       "required": ["city"]},
    },
}


class Recorded:
    """A recorder on the test database plus an in-memory copy of every span it ends."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.rec = Recorder(db.url, phoenix_endpoint="")
        self.memory = InMemorySpanExporter()
        self.rec.add_span_processor(SimpleSpanProcessor(self.memory))

    def call(self, request: ModelRequest, result: ModelResult, *, first_token: bool = True,
             attempt: int = 1) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        """Record one call; return (in-memory attributes, stored span, stored run)."""
        handle = self.rec.start(request, attempt=attempt)
        if first_token:
            handle.first_token()
        handle.finish(result)
        assert self.rec.flush(10)
        mem = next(s for s in self.memory.get_finished_spans()
                   if f"{s.context.span_id:016x}" == handle.span_id)
        stored = get_span(self.db, handle.span_id)
        run = get_run(self.db, handle.run_id)
        assert stored is not None and run is not None
        return dict(mem.attributes or {}), stored, run


@pytest.fixture
def recorded(database: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorded]:
    monkeypatch.delenv("PHOENIX_COLLECTOR_ENDPOINT", raising=False)
    r = Recorded(database)
    yield r
    r.rec.shutdown()


def both(mem: dict[str, Any], stored: dict[str, Any], key: str) -> Any:
    """The attribute as the SDK saw it and as stored must agree (tuples stored as lists)."""
    value = mem[key]
    expected = list(value) if isinstance(value, tuple) else value
    assert stored["attributes"][key] == expected, key
    return expected


def test_chat_with_system_and_user_messages(recorded: Recorded) -> None:
    request = ModelRequest(
        model="openai/gpt-4o-mini",
        messages=[{"role": "system", "content": "You are terse."},
                  {"role": "user", "content": "Capital of France?"}],
        invocation_parameters={"temperature": 0.2, "max_tokens": 50},
        context=RunContext(source="playground", session_id="sess-1", card_id="card-a",
                           user="alice", tags=["exp", "fr"], metadata={"team": "geo"}),
    )
    result = ModelResult(text="Paris.", finish_reason="stop", usage=Usage(12, 2, 14), cost=0.0001,
                         provider="openai")
    mem, stored, run = recorded.call(request, result)
    assert both(mem, stored, "openinference.span.kind") == "LLM"
    assert both(mem, stored, "llm.model_name") == "openai/gpt-4o-mini"
    assert both(mem, stored, "llm.provider") == "openai"
    assert both(mem, stored, "llm.system") == "openai"
    assert both(mem, stored, "llm.input_messages.0.message.role") == "system"
    assert both(mem, stored, "llm.input_messages.0.message.content") == "You are terse."
    assert both(mem, stored, "llm.input_messages.1.message.role") == "user"
    assert both(mem, stored, "llm.input_messages.1.message.content") == "Capital of France?"
    assert both(mem, stored, "llm.output_messages.0.message.role") == "assistant"
    assert both(mem, stored, "llm.output_messages.0.message.content") == "Paris."
    assert both(mem, stored, "output.value") == "Paris."
    assert both(mem, stored, "output.mime_type") == "text/plain"
    assert both(mem, stored, "input.mime_type") == "application/json"
    body = json.loads(both(mem, stored, "input.value"))
    assert body["messages"][1]["content"] == "Capital of France?" and body["temperature"] == 0.2
    params = json.loads(both(mem, stored, "llm.invocation_parameters"))
    assert params == {"temperature": 0.2, "max_tokens": 50, "model": "openai/gpt-4o-mini"}
    assert both(mem, stored, "llm.token_count.prompt") == 12
    assert both(mem, stored, "llm.token_count.completion") == 2
    assert both(mem, stored, "llm.token_count.total") == 14
    assert both(mem, stored, "llm.cost.total") == pytest.approx(0.0001)
    assert both(mem, stored, "llm.finish_reason") == "stop"
    assert both(mem, stored, "session.id") == "sess-1"
    assert both(mem, stored, "user.id") == "alice"
    assert both(mem, stored, "tag.tags") == ["exp", "fr"]
    assert json.loads(both(mem, stored, "metadata")) == {"team": "geo"}
    assert both(mem, stored, "workbench.run_id") == run["id"]
    assert both(mem, stored, "workbench.attempt") == 1
    assert both(mem, stored, "workbench.usage_estimated") is False
    assert stored["status_code"] == "OK" and stored["span_kind"] == "LLM"
    assert stored["name"] == "ChatCompletion"
    assert [e["name"] for e in stored["events"]] == [FIRST_TOKEN_EVENT]
    # Run row: every column filled from request and result.
    assert run["status"] == "ok" and run["output_text"] == "Paris."
    assert run["model"] == "openai/gpt-4o-mini" and run["provider"] == "openai"
    assert (run["prompt_tokens"], run["completion_tokens"], run["total_tokens"]) == (12, 2, 14)
    assert run["session_id"] == "sess-1" and run["card_id"] == "card-a"
    assert run["source"] == "playground" and run["created_by"] == "alice"
    assert run["tags"] == ["exp", "fr"] and run["metadata"] == {"team": "geo"}
    assert run["span_id"] == stored["context"]["span_id"]
    assert run["trace_id"] == stored["context"]["trace_id"]
    assert run["latency_ms"] is not None and run["latency_ms"] >= run["ttft_ms"] >= 0
    assert run["started_at"] <= run["ended_at"]
    assert run["finish_reason"] == "stop" and run["cost"] == pytest.approx(0.0001)
    assert run["request"]["messages"] == request.messages
    # Denormalised span columns back the Traces page filters.
    from core.tracing.store import list_spans

    [row] = list_spans(recorded.db, recorded.db.default_workspace_id())
    assert row["model_name"] == "openai/gpt-4o-mini" and row["session_id"] == "sess-1"
    assert row["total_tokens"] == 14 and row["output_value"] == "Paris."
    assert row["latency_ms"] is not None


def test_tools_and_tool_call_output(recorded: Recorded) -> None:
    messages = [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function",
             "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": '{"temp": 21}'},
        {"role": "user", "content": "And in Rome?"},
    ]
    request = ModelRequest(
        model="openai/gpt-4o", messages=messages, tools=[WEATHER_TOOL],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        response_format={"type": "json_object"},
    )
    result = ModelResult(tool_calls=[ToolCall("call_2", "get_weather", '{"city": "Rome"}')],
                         finish_reason="tool_calls", usage=Usage(30, 9, 39))
    mem, stored, run = recorded.call(request, result)
    assert json.loads(both(mem, stored, "llm.tools.0.tool.json_schema")) == WEATHER_TOOL
    prefix = "llm.input_messages.1.message.tool_calls.0.tool_call"
    assert both(mem, stored, f"{prefix}.id") == "call_1"
    assert both(mem, stored, f"{prefix}.function.name") == "get_weather"
    assert both(mem, stored, f"{prefix}.function.arguments") == '{"city": "Paris"}'
    assert both(mem, stored, "llm.input_messages.2.message.role") == "tool"
    assert both(mem, stored, "llm.input_messages.2.message.tool_call_id") == "call_1"
    assert both(mem, stored, "llm.input_messages.2.message.content") == '{"temp": 21}'
    assert "llm.input_messages.1.message.content" not in stored["attributes"]
    out = "llm.output_messages.0.message.tool_calls.0.tool_call"
    assert both(mem, stored, f"{out}.id") == "call_2"
    assert both(mem, stored, f"{out}.function.name") == "get_weather"
    assert both(mem, stored, f"{out}.function.arguments") == '{"city": "Rome"}'
    assert both(mem, stored, "llm.output_messages.0.message.role") == "assistant"
    assert both(mem, stored, "output.mime_type") == "application/json"
    assert json.loads(both(mem, stored, "output.value"))["tool_calls"][0]["id"] == "call_2"
    params = json.loads(both(mem, stored, "llm.invocation_parameters"))
    assert params["tool_choice"] == request.tool_choice
    assert params["response_format"] == {"type": "json_object"}
    assert run["tool_calls"] == [{"id": "call_2", "type": "function", "function": {
        "name": "get_weather", "arguments": '{"city": "Rome"}'}}]
    assert run["finish_reason"] == "tool_calls" and run["output_text"] == ""
    # The stored request replays the call exactly.
    again = request_from_dict(run["request"])
    assert again.messages == messages and again.tools == [WEATHER_TOOL]
    assert again.tool_choice == request.tool_choice
    assert again.response_format == request.response_format


def test_templated_call_records_prompt_template(recorded: Recorded) -> None:
    template = [{"role": "user", "content": "Translate {text} into {lang}"}]
    request = ModelRequest(
        model="local/smollm2",
        messages=[{"role": "user", "content": "Translate hello into French"}],
        context=RunContext(prompt_template=PromptTemplateInfo(
            template=template, variables={"text": "hello", "lang": "French"},
            template_format="f-string", version="translate@v3", prompt_version_id=7)),
    )
    mem, stored, run = recorded.call(request, ModelResult(text="bonjour", usage=Usage(9, 2, 11, estimated=True)))
    assert json.loads(both(mem, stored, "llm.prompt_template.template")) == template
    assert json.loads(both(mem, stored, "llm.prompt_template.variables")) == {"text": "hello", "lang": "French"}
    assert both(mem, stored, "llm.prompt_template.version") == "translate@v3"
    assert both(mem, stored, "workbench.prompt_template.format") == "f-string"
    assert both(mem, stored, "workbench.usage_estimated") is True
    assert both(mem, stored, "llm.provider") == "local"
    assert run["prompt_version_id"] == 7 and run["usage_estimated"] is True
    assert run["template_variables"] == {"text": "hello", "lang": "French"}
    tpl = request_from_dict(run["request"]).context.prompt_template
    assert tpl is not None and tpl.template == template and tpl.version == "translate@v3"


def test_error_is_recorded_redacted(recorded: Recorded) -> None:
    request = ModelRequest(model="openai/gpt-4o", messages=[{"role": "user", "content": "hi"}],
                           api_key=SECRET)
    error = RateLimitError(f"Rate limit for key {SECRET}: slow down", provider="openai",
                           status_code=429, retry_after=2.0)
    result = ModelResult(status="error", error=error, text="")
    mem, stored, run = recorded.call(request, result, first_token=False, attempt=2)
    assert stored["status_code"] == "ERROR"
    assert "Rate limit for key" in stored["status_message"] and SECRET not in stored["status_message"]
    [exc] = [e for e in stored["events"] if e["name"] == "exception"]
    assert exc["attributes"]["exception.type"].endswith("RateLimitError")
    assert SECRET not in exc["attributes"]["exception.message"]
    assert "***" in exc["attributes"]["exception.message"]
    assert SECRET not in json.dumps(stored) and SECRET not in json.dumps(run, default=str)
    assert both(mem, stored, "workbench.attempt") == 2
    span = recorded.memory.get_finished_spans()[-1]
    assert span.status.status_code is StatusCode.ERROR
    assert run["status"] == "error" and run["error_type"] == "rate_limited"
    assert run["http_status"] == 429 and run["attempt"] == 2
    assert run["error_message"] == "Rate limit for key ***: slow down"
    assert not any(e["name"] == FIRST_TOKEN_EVENT for e in stored["events"])


def test_text_completion(recorded: Recorded) -> None:
    request = ModelRequest(model="local/smollm2", operation=Operation.TEXT_COMPLETION,
                           prompt="Once upon a time", invocation_parameters={"max_tokens": 8},
                           base_url="http://user:pw@127.0.0.1:9/v1?api_key=abc123456")
    mem, stored, run = recorded.call(request, ModelResult(text=" there was", finish_reason="length"))
    assert stored["name"] == "Completion"
    assert both(mem, stored, "llm.prompts.0.prompt.text") == "Once upon a time"
    assert both(mem, stored, "workbench.operation") == "text_completion"
    assert json.loads(both(mem, stored, "input.value"))["prompt"] == "Once upon a time"
    assert both(mem, stored, "output.value") == " there was"
    assert both(mem, stored, "url.full") == "http://127.0.0.1:9/v1"
    assert not any(k.startswith("llm.input_messages") for k in stored["attributes"])
    assert run["operation"] == "text_completion" and run["request"]["prompt"] == "Once upon a time"
    assert run["request"]["base_url"] == "http://127.0.0.1:9/v1"
    assert request_from_dict(run["request"]).operation is Operation.TEXT_COMPLETION


def test_retries_and_turns_continue_a_trace(recorded: Recorded) -> None:
    first = recorded.rec.start(ModelRequest(model="m", messages=[{"role": "user", "content": "1"}]))
    first.finish(ModelResult(status="error", error=TimeoutError("slow")))
    retry = recorded.rec.start(
        ModelRequest(model="m", messages=[{"role": "user", "content": "1"}],
                     context=RunContext(trace_id=first.trace_id)), attempt=2)
    retry.finish(ModelResult(text="ok"))
    assert recorded.rec.flush(10)
    assert retry.trace_id == first.trace_id and retry.span_id != first.span_id
    spans = get_trace(recorded.db, first.trace_id)
    assert [s["context"]["span_id"] for s in spans] == [first.span_id, retry.span_id]
    assert [s["attributes"]["workbench.attempt"] for s in spans] == [1, 2]
    assert all(s["parent_id"] is None for s in spans)


def test_handle_is_idempotent_and_never_raises(recorded: Recorded) -> None:
    handle = recorded.rec.start(ModelRequest(model="m", messages=[{"role": "user", "content": "x"}]))
    assert len(handle.run_id) == 32 and len(handle.span_id) == 16 and len(handle.trace_id) == 32
    int(handle.run_id, 16), int(handle.span_id, 16), int(handle.trace_id, 16)
    handle.first_token()
    handle.first_token()
    result = ModelResult(text="a", ttft_ms=None)
    handle.finish(result)
    handle.finish(ModelResult(text="second"))  # ignored
    broken = ModelResult(text="b")
    broken.usage = None  # type: ignore[assignment]  # a buggy caller must not get an exception
    recorded.rec.start(ModelRequest(model="m")).finish(broken)
    assert recorded.rec.flush(10)
    assert result.run_id == handle.run_id and result.span_id == handle.span_id
    assert result.ttft_ms is not None and result.latency_ms is not None
    stored = get_span(recorded.db, handle.span_id)
    assert stored is not None
    assert [e["name"] for e in stored["events"]].count(FIRST_TOKEN_EVENT) == 1
    run = get_run(recorded.db, handle.run_id)
    assert run is not None and run["output_text"] == "a"


def test_ttft_from_result_adds_first_token_event(recorded: Recorded) -> None:
    mem, stored, run = recorded.call(ModelRequest(model="m"), ModelResult(text="x", ttft_ms=120.0,
                                                                           latency_ms=300.0),
                                     first_token=False)
    [event] = [e for e in stored["events"] if e["name"] == FIRST_TOKEN_EVENT]
    assert event["timestamp"] > stored["start_time"]
    assert run["ttft_ms"] == 120.0 and run["latency_ms"] == 300.0


def test_workspace_from_context(recorded: Recorded) -> None:
    other = recorded.db.ensure_workspace("team-b")
    mem, stored, run = recorded.call(ModelRequest(model="m", context=RunContext(workspace_id=other)),
                                     ModelResult(text="x"))
    assert stored["workspace_id"] == other and run["workspace_id"] == other


def test_request_dict_round_trip_drops_credentials() -> None:
    request = ModelRequest(model="openai/gpt-4o", messages=[{"role": "user", "content": "hi"}],
                           invocation_parameters={"temperature": 1, "api_key": SECRET,
                                                  "extra_headers": {"Authorization": f"Bearer {SECRET}"}},
                           api_key=SECRET, extra_headers={"Authorization": f"Bearer {SECRET}"},
                           endpoint_id=3, timeout=12.0)
    data = request_to_dict(request)
    assert SECRET not in json.dumps(data)
    again = request_from_dict(json.loads(json.dumps(data)))
    assert again.api_key is None and again.extra_headers is None
    assert again.invocation_parameters == {"temperature": 1}
    assert (again.model, again.endpoint_id, again.timeout) == ("openai/gpt-4o", 3, 12.0)


def test_get_recorder_is_process_wide_per_url(sqlite_database: Database) -> None:
    try:
        assert get_recorder() is get_recorder(sqlite_database.url)
        handle = get_recorder().start(ModelRequest(model="m"))
        handle.finish(ModelResult(text="x"))
        assert get_recorder().flush(10)
        assert get_run(sqlite_database, handle.run_id) is not None
    finally:
        reset_recorders()


def test_odd_requests_are_still_recorded(recorded: Recorded) -> None:
    class Opaque:
        def __str__(self) -> str:
            return "<opaque>"

    request = ModelRequest(model="m", operation="text_completion", prompt="p",  # type: ignore[arg-type]
                           invocation_parameters={"seed": Opaque()},
                           context=RunContext(trace_id="not-hex"))
    mem, stored, run = recorded.call(request, ModelResult(text="x"))
    assert stored["name"] == "Completion"
    assert run["request"]["invocation_parameters"] == {"seed": "<opaque>"}
    broken = ModelRequest(model="m")
    broken.context = None  # type: ignore[assignment]
    mem, stored, run = recorded.call(broken, ModelResult(text="y"))
    assert stored["attributes"]["llm.model_name"] == "m" and run["output_text"] == "y"


def test_abandoned_handle_is_recorded_as_cancelled(recorded: Recorded) -> None:
    import gc

    handle = recorded.rec.start(ModelRequest(model="m"))
    run_id, span_id = handle.run_id, handle.span_id
    del handle
    gc.collect()
    assert recorded.rec.flush(10)
    run = get_run(recorded.db, run_id)
    assert run is not None and run["status"] == "cancelled" and run["finish_reason"] == "abandoned"
    stored = get_span(recorded.db, span_id)
    assert stored is not None and stored["attributes"]["workbench.status"] == "cancelled"
