"""The invocation layer against a fault-injecting OpenAI-compatible server (real HTTP)."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from core.db import Database
from core.db.models import Run, Span
from core.providers import (
    NO_RETRY,
    AuthenticationError,
    BadRequestError,
    ModelRequest,
    Operation,
    ProviderConnectionError,
    ProviderServerError,
    ProviderTimeoutError,
    RateLimitError,
    RetryPolicy,
    TextDelta,
    ToolCallDelta,
    UnknownModelError,
    Usage,
    astream,
    invoke,
    stream,
)
from tests.servers.fault_server import Drop, FaultServer, Hang, Malformed, Status, Stream

FAST = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05)
FAKE_KEY = "sk-test-SECRET123456"


def chat(server: FaultServer, **kw: object) -> ModelRequest:
    return ModelRequest(model="fault-model", base_url=server.base_url,
                        messages=[{"role": "user", "content": "Hi"}], **kw)  # type: ignore[arg-type]


def runs(db: Database) -> list[Run]:
    from core.tracing import get_recorder

    assert get_recorder().flush(10)
    with db.session() as s:
        return list(s.scalars(select(Run).order_by(Run.attempt)).all())


def test_streams_text_usage_and_timings(fault_server: FaultServer) -> None:
    fault_server.enqueue(Stream(["Hel", "lo", "!"], usage={"prompt_tokens": 7, "completion_tokens": 3,
                                                          "total_tokens": 10}))
    s = stream(chat(fault_server), record=False)
    events = list(s)
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["Hel", "lo", "!"]
    assert events[-1] == Usage(7, 3, 10, estimated=False)
    r = s.result
    assert (r.status, r.text, r.finish_reason, r.attempts) == ("ok", "Hello!", "stop", 1)
    assert r.provider == "openai" and r.cost is None  # no saved prices: unknown, not zero
    assert r.latency_ms is not None and r.ttft_ms is not None and 0 < r.ttft_ms <= r.latency_ms
    body = fault_server.posts()[0].body
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}


def test_usage_is_estimated_when_the_server_sends_none(fault_server: FaultServer) -> None:
    fault_server.enqueue(Stream(["one two three"], usage=None))
    r = invoke(chat(fault_server), record=False)
    assert r.usage.estimated and r.usage.prompt_tokens and r.usage.completion_tokens == 3


def test_parameters_tools_and_unknown_params_reach_the_server(fault_server: FaultServer) -> None:
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    invoke(chat(fault_server, invocation_parameters={"temperature": 0.3, "top_k": 5, "seed": 9},
                tools=tools, tool_choice="auto"), record=False)
    body = fault_server.posts()[0].body
    assert (body["temperature"], body["top_k"], body["seed"]) == (0.3, 5, 9)
    assert body["tools"] == tools and body["tool_choice"] == "auto"


def test_tool_call_deltas_are_accumulated(fault_server: FaultServer) -> None:
    fault_server.enqueue(Stream([], tool_calls=[
        {"id": "call_a", "name": "get_weather", "arguments": ['{"ci', 'ty": "Pa', 'ris"}']},
        {"id": "call_b", "name": "get_time", "arguments": ["{}"]}], finish_reason="tool_calls"))
    s = stream(chat(fault_server), record=False)
    deltas = [e for e in s if isinstance(e, ToolCallDelta)]
    assert len(deltas) == 4 and deltas[0].name == "get_weather"
    calls = s.result.tool_calls
    assert [(c.id, c.name, json.loads(c.arguments)) for c in calls] == [
        ("call_a", "get_weather", {"city": "Paris"}), ("call_b", "get_time", {})]
    assert s.result.finish_reason == "tool_calls" and s.result.ttft_ms is not None


def test_text_completion_uses_the_completions_endpoint(fault_server: FaultServer) -> None:
    req = ModelRequest(model="fault-model", base_url=fault_server.base_url,
                       operation=Operation.TEXT_COMPLETION, prompt="Once upon")
    r = invoke(req, record=False)
    assert r.status == "ok" and r.text == "Hello, world!"
    assert fault_server.posts()[0].path.endswith("/completions")
    assert fault_server.posts()[0].body["prompt"] == "Once upon"


def test_401_is_authentication_error_without_retry(fault_server: FaultServer,
                                                   database: Database) -> None:
    fault_server.enqueue(Status(401, "Incorrect API key provided: sk-test-SECRET123456"))
    r = invoke(chat(fault_server, api_key=FAKE_KEY), retry=FAST)
    assert r.status == "error" and isinstance(r.error, AuthenticationError)
    assert r.attempts == 1 and len(fault_server.posts()) == 1
    assert FAKE_KEY not in str(r.error) and "401" in str(r.error)
    assert [(x.attempt, x.status, x.http_status) for x in runs(database)] == [(1, "error", 401)]


def test_429_retry_after_is_honoured(fault_server: FaultServer, database: Database) -> None:
    fault_server.enqueue(Status(429, "slow down", headers={"Retry-After": "1"}), Stream(["ok"]))
    r = invoke(chat(fault_server), retry=RetryPolicy(max_attempts=3, base_delay=0.01))
    posts = fault_server.posts()
    assert r.status == "ok" and r.text == "ok" and r.attempts == 2 and len(posts) == 2
    assert posts[1].at - posts[0].at >= 1.0  # waited at least what the server asked
    rows = runs(database)
    assert [(x.attempt, x.status) for x in rows] == [(1, "error"), (2, "ok")]
    assert rows[0].error_type == "rate_limited" and len({x.trace_id for x in rows}) == 1
    assert r.run_id == rows[1].id


def test_429_then_give_up_reports_retry_after(fault_server: FaultServer) -> None:
    fault_server.default = Status(429, headers={"Retry-After": "0"})
    r = invoke(chat(fault_server), retry=FAST, record=False)
    assert isinstance(r.error, RateLimitError) and r.error.retry_after == 0
    assert r.attempts == 3 and len(fault_server.posts()) == 3


def test_500_is_retried_then_server_error(fault_server: FaultServer, database: Database) -> None:
    fault_server.default = Status(500, "boom")
    r = invoke(chat(fault_server), retry=FAST)
    assert isinstance(r.error, ProviderServerError) and "500" in r.error.message
    assert r.attempts == 3 and len(fault_server.posts()) == 3
    assert [(x.attempt, x.status) for x in runs(database)] == [(1, "error"), (2, "error"), (3, "error")]


def test_500_then_success(fault_server: FaultServer) -> None:
    fault_server.enqueue(Status(503), Status(502), Stream(["fine"]))
    r = invoke(chat(fault_server), retry=FAST, record=False)
    assert (r.status, r.text, r.attempts) == ("ok", "fine", 3)


def test_hang_times_out_within_the_timeout(fault_server: FaultServer) -> None:
    fault_server.enqueue(Hang(seconds=20))
    t0 = time.monotonic()
    r = invoke(chat(fault_server, timeout=1.0), retry=NO_RETRY, record=False)
    assert isinstance(r.error, ProviderTimeoutError)
    assert time.monotonic() - t0 < 5


def test_stall_mid_stream_times_out_keeping_partial_text(fault_server: FaultServer) -> None:
    fault_server.enqueue(Hang(seconds=20, after_chunks=["par", "tial"]))
    r = invoke(chat(fault_server, timeout=1.0), retry=FAST, record=False)
    assert r.status == "error" and r.text == "partial" and isinstance(r.error, ProviderTimeoutError)
    assert r.attempts == 1 and len(fault_server.posts()) == 1  # output started: never retried


def test_connection_dropped_mid_stream_keeps_partial_text(fault_server: FaultServer,
                                                          database: Database) -> None:
    fault_server.enqueue(Drop(["partial ", "answer"]))
    r = invoke(chat(fault_server), retry=FAST)
    assert r.status == "error" and r.text == "partial answer"
    assert isinstance(r.error, ProviderConnectionError) and "mid-stream" in r.error.message
    assert r.attempts == 1 and len(fault_server.posts()) == 1
    [row] = runs(database)
    assert row.status == "error" and row.output_text == "partial answer"


def test_malformed_sse_is_a_clear_error(fault_server: FaultServer) -> None:
    fault_server.enqueue(Malformed())
    r = invoke(chat(fault_server), retry=NO_RETRY, record=False)
    assert isinstance(r.error, ProviderServerError)
    assert "malformed" in r.error.message or "could not be read" in r.error.message


def test_unreachable_endpoint_is_connection_error() -> None:
    from tests.servers.llama_server import free_port

    req = ModelRequest(model="m", base_url=f"http://127.0.0.1:{free_port()}/v1",
                       messages=[{"role": "user", "content": "x"}])
    r = invoke(req, retry=FAST, record=False)
    assert isinstance(r.error, ProviderConnectionError) and r.attempts == 3


def test_unknown_model_fails_before_any_network(fault_server: FaultServer, database: Database) -> None:
    r = invoke(ModelRequest(model="no-such-model-xyz", messages=[{"role": "user", "content": "x"}]))
    assert isinstance(r.error, UnknownModelError) and "no-such-model-xyz" in r.error.message
    assert fault_server.requests == []
    [row] = runs(database)
    assert row.status == "error" and row.error_type == "unknown_model"


def test_404_model_is_unknown_model(fault_server: FaultServer) -> None:
    fault_server.enqueue(Status(404, "The model `nope` does not exist"))
    r = invoke(chat(fault_server), retry=FAST, record=False)
    assert isinstance(r.error, UnknownModelError) and r.attempts == 1


def test_bad_requests_are_caught_before_the_network(fault_server: FaultServer) -> None:
    r = invoke(ModelRequest(model="fault-model", base_url=fault_server.base_url), record=False)
    assert isinstance(r.error, BadRequestError) and "message" in r.error.message
    r = invoke(ModelRequest(model="m", base_url="ftp://x", messages=[{"role": "user", "content": "x"}]),
               record=False)
    assert isinstance(r.error, BadRequestError) and "http" in r.error.message
    assert fault_server.requests == []


def test_named_provider_without_key_is_a_clear_error(monkeypatch: pytest.MonkeyPatch,
                                                     tmp_path: Path) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("WORKBENCH_SECRETS_FILE", str(tmp_path / "none.toml"))
    r = invoke(ModelRequest(model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "x"}]),
               record=False)
    assert isinstance(r.error, AuthenticationError) and "OPENAI_API_KEY" in r.error.message


def test_cancel_mid_stream_keeps_partial_text(fault_server: FaultServer, database: Database) -> None:
    fault_server.enqueue(Stream([f"w{i} " for i in range(50)], delay=0.05))
    s = stream(chat(fault_server))
    seen = []
    for event in s:
        seen.append(event)
        if len(seen) == 3:
            s.cancel()
    r = s.result
    assert r.status == "cancelled" and r.text == "w0 w1 w2 " and r.finish_reason == "cancelled"
    [row] = runs(database)
    assert row.status == "cancelled" and row.output_text == "w0 w1 w2 "


def test_cancel_from_another_thread_unblocks_a_silent_server(fault_server: FaultServer) -> None:
    fault_server.enqueue(Hang(seconds=20, after_chunks=["first "]))
    s = stream(chat(fault_server, timeout=30), record=False)
    it = iter(s)
    assert next(it) == TextDelta("first ")
    timer = threading.Timer(0.3, s.cancel)
    timer.start()
    t0 = time.monotonic()
    assert list(it) == []
    assert time.monotonic() - t0 < 5 and s.result.status == "cancelled"
    assert s.result.text == "first "


def test_abandoned_stream_is_recorded_as_cancelled(fault_server: FaultServer) -> None:
    fault_server.enqueue(Stream(["a", "b", "c"], delay=0.01))
    s = stream(chat(fault_server), record=False)
    gen = s.text_deltas()
    assert next(gen) == "a"
    gen.close()
    s.close()
    assert s.result.status == "cancelled" and s.result.text == "a"


def test_result_before_the_end_says_so(fault_server: FaultServer) -> None:
    s = stream(chat(fault_server), record=False)
    with pytest.raises(RuntimeError, match="not ended"):
        _ = s.result
    assert s.collect().status == "ok" and s.done


def test_async_stream_events_and_result(fault_server: FaultServer) -> None:
    fault_server.enqueue(Status(500), Stream(["as", "ync"], usage={"prompt_tokens": 2,
                                                                   "completion_tokens": 2,
                                                                   "total_tokens": 4}))

    async def main() -> tuple[list[str], object]:
        s = astream(chat(fault_server), retry=FAST, record=False)
        texts = [t async for t in s.text_deltas()]
        return texts, await s.aresult()

    texts, r = asyncio.run(main())
    assert texts == ["as", "ync"]
    assert r.status == "ok" and r.attempts == 2 and r.usage.total_tokens == 4  # type: ignore[attr-defined]


def test_async_cancel_is_immediate_even_when_the_server_is_silent(fault_server: FaultServer) -> None:
    fault_server.enqueue(Hang(seconds=20, after_chunks=["x"]))

    async def main() -> object:
        s = astream(chat(fault_server, timeout=30), record=False)
        async for _ in s:
            asyncio.get_running_loop().call_later(0.2, s.cancel)
        return s.result

    t0 = time.monotonic()
    r = asyncio.run(main())
    assert time.monotonic() - t0 < 5
    assert r.status == "cancelled" and r.text == "x"  # type: ignore[attr-defined]


def test_async_errors_are_mapped(fault_server: FaultServer) -> None:
    fault_server.enqueue(Status(401))
    from core.providers import ainvoke

    r = asyncio.run(ainvoke(chat(fault_server), retry=FAST, record=False))
    assert isinstance(r.error, AuthenticationError) and r.attempts == 1


def test_secret_key_never_leaks(fault_server: FaultServer, database: Database,
                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("LiteLLM", "litellm", "openai", "httpx", "httpcore", "core"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    echo = f"Incorrect API key provided: {FAKE_KEY}. Authorization: Bearer {FAKE_KEY}"
    fault_server.enqueue(Status(401, echo), Status(500, echo), Stream(["ok"]),
                         Drop(["x"]))
    results = [invoke(chat(fault_server, api_key=FAKE_KEY,
                           invocation_parameters={"temperature": 0}), retry=FAST)
               for _ in range(3)]
    assert [r.status for r in results] == ["error", "ok", "error"]
    assert all(p.headers.get("authorization") == f"Bearer {FAKE_KEY}" for p in fault_server.posts())
    for r in results:
        assert FAKE_KEY not in repr(r.error) and FAKE_KEY not in str(r.error)
    assert FAKE_KEY not in caplog.text
    rows = runs(database)
    assert len(rows) == 4
    with database.session() as s:
        dumped = json.dumps([
            [x.request, x.error_message, x.output_text] for x in s.scalars(select(Run))
        ] + [[x.attributes, x.events, x.status_message] for x in s.scalars(select(Span))],
            default=str)
    assert FAKE_KEY not in dumped and "SECRET123456" not in dumped
    if database.dialect == "sqlite":
        from core.tracing import reset_recorders

        reset_recorders()
        path = Path(database.engine.url.database or "")
        for candidate in (path, Path(f"{path}-wal")):
            if candidate.exists():
                assert b"SECRET123456" not in candidate.read_bytes()


# --- the litellm route (a named provider at a given URL) against the same server ----------

def via_litellm(server: FaultServer, **kw: object) -> ModelRequest:
    return ModelRequest(model="hosted_vllm/fault-model", base_url=server.base_url,
                        messages=[{"role": "user", "content": "Hi"}], **kw)  # type: ignore[arg-type]


def test_litellm_route_streams_with_usage(fault_server: FaultServer) -> None:
    fault_server.enqueue(Stream(["lite", "llm"], usage={"prompt_tokens": 4, "completion_tokens": 2,
                                                      "total_tokens": 6}))
    s = stream(via_litellm(fault_server, invocation_parameters={"temperature": 0.1}), record=False)
    texts = [e.text for e in s if isinstance(e, TextDelta)]
    r = s.result
    assert texts == ["lite", "llm"] and r.status == "ok" and r.provider == "hosted_vllm"
    assert (r.usage.prompt_tokens, r.usage.completion_tokens, r.usage.estimated) == (4, 2, False)
    assert fault_server.posts()[0].body["temperature"] == 0.1


def test_litellm_route_maps_errors_and_honours_retry_after(fault_server: FaultServer) -> None:
    fault_server.enqueue(Status(401, f"bad key {FAKE_KEY}"))
    r = invoke(via_litellm(fault_server, api_key=FAKE_KEY), retry=FAST, record=False)
    assert isinstance(r.error, AuthenticationError) and r.attempts == 1
    assert FAKE_KEY not in str(r.error)
    fault_server.reset()
    fault_server.enqueue(Status(429, headers={"Retry-After": "1"}), Stream(["ok"]))
    r = invoke(via_litellm(fault_server), retry=FAST, record=False)
    posts = fault_server.posts()
    assert r.status == "ok" and r.attempts == 2 and posts[1].at - posts[0].at >= 1.0
    fault_server.reset()
    fault_server.enqueue(Drop(["half "]))
    r = invoke(via_litellm(fault_server), retry=FAST, record=False)
    assert r.status == "error" and r.text == "half " and r.attempts == 1


def test_litellm_route_never_logs_the_key(fault_server: FaultServer,
                                          caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "litellm", "openai", "httpx"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    fault_server.enqueue(Status(500, f"echo {FAKE_KEY}"), Stream(["fine"]))
    r = invoke(via_litellm(fault_server, api_key=FAKE_KEY), retry=FAST, record=False)
    assert r.status == "ok"
    assert FAKE_KEY not in caplog.text and "SECRET123456" not in caplog.text
