"""The invocation layer against a real llama_cpp.server serving the embedded model."""

from __future__ import annotations

import asyncio
import json
import time

import jsonschema
import pytest

from core.providers import (
    ModelRequest,
    Operation,
    TextDelta,
    ToolCallDelta,
    Usage,
    ainvoke,
    astream,
    invoke,
    stream,
)
from tests.servers.llama_server import LlamaServer

pytestmark = pytest.mark.slow

# llama.cpp grammars enforce types, enums, lengths and required keys (not numeric bounds).
CAT_SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string", "maxLength": 20},
                   "color": {"enum": ["black", "white", "orange", "grey"]},
                   "age": {"type": "integer"}},
    "required": ["name", "color", "age"],
    "additionalProperties": False,
}


def req(server: LlamaServer, content: str = "Write a short poem about the sea.", **kw: object) -> ModelRequest:
    params = {"max_tokens": 24, "temperature": 0, "seed": 1}
    params.update(kw.pop("invocation_parameters", {}))  # type: ignore[arg-type]
    return ModelRequest(model=server.alias, base_url=server.base_url,
                        messages=[{"role": "user", "content": content}],
                        invocation_parameters=params, **kw)  # type: ignore[arg-type]


def test_tokens_stream_in_as_they_arrive(llama_server: LlamaServer) -> None:
    s = stream(req(llama_server), record=False)
    stamps: list[float] = []
    for event in s:
        if isinstance(event, TextDelta):
            stamps.append(time.perf_counter())
    assert len(stamps) > 1
    assert stamps[-1] - stamps[0] > 0.005  # spread in time, not one buffered burst
    r = s.result
    assert r.status == "ok" and r.text and r.finish_reason in ("length", "stop")
    assert r.ttft_ms is not None and r.latency_ms is not None and r.ttft_ms < r.latency_ms


def test_usage_is_estimated_because_the_server_streams_none(llama_server: LlamaServer) -> None:
    s = stream(req(llama_server), record=False)
    events = list(s)
    usage = s.result.usage
    assert isinstance(events[-1], Usage) and events[-1] == usage
    assert usage.estimated and usage.prompt_tokens and usage.completion_tokens
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_named_tool_choice_gives_a_tool_call_with_json_arguments(llama_server: LlamaServer) -> None:
    tools = [{"type": "function", "function": {
        "name": "get_weather", "description": "Current weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string", "maxLength": 30}},
                       "required": ["city"]}}}]
    s = stream(req(llama_server, "What is the weather in Paris?", tools=tools,
                   tool_choice={"type": "function", "function": {"name": "get_weather"}},
                   invocation_parameters={"max_tokens": 60}), record=False)
    deltas = [e for e in s if isinstance(e, ToolCallDelta)]
    assert deltas
    [call] = s.result.tool_calls
    assert call.name == "get_weather" and call.id
    assert isinstance(json.loads(call.arguments)["city"], str)


def test_json_schema_response_format_yields_valid_json(llama_server: LlamaServer) -> None:
    fmt = {"type": "json_schema", "json_schema": {"name": "cat", "schema": CAT_SCHEMA}}
    r = invoke(req(llama_server, "Describe a cat as JSON with its name and age.",
                   response_format=fmt, invocation_parameters={"max_tokens": 80}), record=False)
    assert r.status == "ok", r.error
    jsonschema.validate(json.loads(r.text), CAT_SCHEMA)
    # The server speaks json_object+schema: learnt on first use, sent directly afterwards.
    again = invoke(req(llama_server, "Describe another cat as JSON.", response_format=fmt,
                       invocation_parameters={"max_tokens": 80}), record=False)
    assert again.attempts == 1
    jsonschema.validate(json.loads(again.text), CAT_SCHEMA)


def test_text_completion(llama_server: LlamaServer) -> None:
    r = invoke(ModelRequest(model=llama_server.alias, base_url=llama_server.base_url,
                            operation=Operation.TEXT_COMPLETION, prompt="The capital of France is",
                            invocation_parameters={"max_tokens": 8, "temperature": 0}),
               record=False)
    assert r.status == "ok" and r.text.strip() and r.usage.estimated


def test_async_against_the_server(llama_server: LlamaServer) -> None:
    # Sequential: llama_cpp.server interrupts a running request when another arrives.
    async def main() -> tuple[list[str], list[object]]:
        s = astream(req(llama_server), record=False)
        texts = [t async for t in s.text_deltas()]
        return texts, [s.result, await ainvoke(req(llama_server), record=False)]

    texts, results = asyncio.run(main())
    assert len(texts) > 1
    assert all(r.status == "ok" and r.text for r in results)  # type: ignore[attr-defined]
    assert results[0].text == "".join(texts)  # type: ignore[attr-defined]
