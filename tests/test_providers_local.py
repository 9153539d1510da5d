"""The embedded SmolLM2 model, in-process through the invocation interface."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import jsonschema
import pytest

from core.providers import (
    DEFAULT_MODEL,
    BadRequestError,
    ModelRequest,
    ModelResult,
    Operation,
    TextDelta,
    UnknownModelError,
    Usage,
    ainvoke,
    astream,
    invoke,
    stream,
)
from core.providers.local import get_local_model

pytestmark = pytest.mark.slow


def req(content: str = "Tell me a short story about a dragon.", **params: object) -> ModelRequest:
    return ModelRequest(model=DEFAULT_MODEL, messages=[{"role": "user", "content": content}],
                        invocation_parameters={"max_tokens": 20, "seed": 7, **params})


def test_streams_with_real_token_counts() -> None:
    s = stream(req(), record=False)
    events = list(s)
    texts = [e for e in events if isinstance(e, TextDelta)]
    assert len(texts) > 1
    r = s.result
    assert r.status == "ok" and r.provider == "local" and r.cost == 0.0
    assert isinstance(events[-1], Usage) and not r.usage.estimated
    assert r.usage.completion_tokens == 20 and r.finish_reason == "length"  # max_tokens honoured
    assert r.usage.prompt_tokens and r.usage.prompt_tokens > 5
    assert r.ttft_ms is not None and r.latency_ms is not None and r.ttft_ms < r.latency_ms


def test_seed_and_temperature_make_it_reproducible() -> None:
    a = invoke(req(temperature=0.9), record=False)
    b = invoke(req(temperature=0.9), record=False)
    assert a.text == b.text and a.text


def test_stop_sequence_is_honoured() -> None:
    r = invoke(ModelRequest(model=DEFAULT_MODEL, operation=Operation.TEXT_COMPLETION,
                            prompt="1, 2, 3, 4, 5,", invocation_parameters={
                                "max_tokens": 30, "temperature": 0, "stop": ["8"]}), record=False)
    assert r.status == "ok" and r.finish_reason == "stop"
    assert "7" in r.text and "8" not in r.text


def test_json_schema_response_format_via_grammar() -> None:
    # llama.cpp grammars enforce types, enums, lengths and required keys (not numeric bounds).
    schema = {"type": "object", "properties": {
        "name": {"type": "string", "maxLength": 16},
        "size": {"enum": ["small", "medium", "large"]},
        "legs": {"type": "integer"}},
        "required": ["name", "size", "legs"], "additionalProperties": False}
    r = invoke(ModelRequest(model=DEFAULT_MODEL,
                            messages=[{"role": "user", "content": "Describe a dog as JSON."}],
                            response_format={"type": "json_schema",
                                             "json_schema": {"name": "animal", "schema": schema}},
                            invocation_parameters={"max_tokens": 60, "temperature": 0}),
               record=False)
    jsonschema.validate(json.loads(r.text), schema)


def test_text_completion_is_raw_completion() -> None:
    r = invoke(ModelRequest(model=DEFAULT_MODEL, operation=Operation.TEXT_COMPLETION,
                            prompt="One, two, three,", invocation_parameters={"max_tokens": 6,
                                                                            "temperature": 0}),
               record=False)
    assert r.status == "ok" and r.usage.prompt_tokens is not None and r.usage.prompt_tokens <= 8


def test_three_threads_share_the_model_safely() -> None:
    results: list[ModelResult] = []
    lock = threading.Lock()

    def work(i: int) -> None:
        r = invoke(req(f"Say something about the number {i}.", max_tokens=12), record=False)
        with lock:
            results.append(r)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(results) == 3
    assert all(r.status == "ok" and r.usage.completion_tokens == 12 for r in results)


def test_async_form_does_not_block_the_event_loop() -> None:
    async def main() -> tuple[list[ModelResult], int]:
        ticks = 0
        stop = asyncio.Event()

        async def ticker() -> None:
            nonlocal ticks
            while not stop.is_set():
                ticks += 1
                await asyncio.sleep(0.01)

        task = asyncio.create_task(ticker())
        s = astream(req(max_tokens=30), record=False)
        texts = [t async for t in s.text_deltas()]
        other = await ainvoke(req(max_tokens=5), record=False)
        stop.set()
        await task
        assert texts and "".join(texts) == s.result.text
        return [s.result, other], ticks

    results, ticks = asyncio.run(main())
    assert all(r.status == "ok" and not r.usage.estimated for r in results)
    assert ticks > 5  # the loop kept running while tokens were generated


def test_cancel_releases_the_model() -> None:
    s = stream(req(max_tokens=200), record=False)
    for i, _ in enumerate(s.text_deltas()):
        if i == 2:
            s.cancel()
    assert s.result.status == "cancelled" and s.result.text
    t0 = time.monotonic()
    assert invoke(req(max_tokens=3), record=False).status == "ok"  # lock was released
    assert time.monotonic() - t0 < 30


def test_async_cancel_releases_the_model() -> None:
    async def main() -> ModelResult:
        s = astream(req(max_tokens=200), record=False)
        async for _ in s:
            s.cancel()
        return s.result

    r = asyncio.run(main())
    assert r.status == "cancelled"
    assert invoke(req(max_tokens=3), record=False).status == "ok"


def test_tools_and_unknown_params_are_refused_clearly() -> None:
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    r = invoke(ModelRequest(model=DEFAULT_MODEL, messages=[{"role": "user", "content": "x"}],
                            tools=tools), record=False)
    assert isinstance(r.error, BadRequestError) and "tools" in r.error.message
    r = invoke(req(logprobs=True), record=False)
    assert isinstance(r.error, BadRequestError) and "logprobs" in r.error.message
    r = invoke(ModelRequest(model="local/gpt-99", messages=[{"role": "user", "content": "x"}]),
               record=False)
    assert isinstance(r.error, UnknownModelError)


def test_aliases_reach_the_same_model() -> None:
    r = invoke(ModelRequest(model="local/smollm2", messages=[{"role": "user", "content": "Hi"}],
                            invocation_parameters={"max_tokens": 3}), record=False)
    assert r.status == "ok" and get_local_model().loaded


def test_registered_with_litellm_for_direct_litellm_callers() -> None:
    from core.providers.local import register_local_provider
    from core.providers.runtime import litellm_module

    register_local_provider()
    litellm = litellm_module()
    kwargs = {"model": DEFAULT_MODEL, "messages": [{"role": "user", "content": "Hi"}],
              "max_tokens": 5, "seed": 1, "temperature": 0}
    whole = litellm.completion(**kwargs)
    assert whole.choices[0].message.content and whole.usage.completion_tokens == 5
    pieces = [c.choices[0].delta.content or "" for c in
              litellm.completion(**kwargs, stream=True) if c.choices]
    assert "".join(pieces) == whole.choices[0].message.content

    async def main() -> tuple[str, str]:
        a = await litellm.acompletion(**kwargs)
        parts = [c.choices[0].delta.content or "" async for c in
                 await litellm.acompletion(**kwargs, stream=True) if c.choices]
        return a.choices[0].message.content, "".join(parts)

    a_whole, a_streamed = asyncio.run(main())
    assert a_whole == a_streamed == whole.choices[0].message.content
