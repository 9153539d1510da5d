"""End to end: a real call to the embedded model is recorded, and the stored span replays it."""

from __future__ import annotations

import pytest

from core.db import Database
from core.providers import DEFAULT_MODEL, ModelRequest, PromptTemplateInfo, RunContext, invoke
from core.tracing import FIRST_TOKEN_EVENT, get_recorder
from core.tracing.store import get_run, get_span


@pytest.mark.slow
def test_embedded_model_call_is_recorded_and_replayable(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PHOENIX_COLLECTOR_ENDPOINT", raising=False)
    template = [{"role": "system", "content": "Answer in one word."},
                {"role": "user", "content": "Name a {thing}."}]
    request = ModelRequest(
        model=DEFAULT_MODEL,
        messages=[template[0], {"role": "user", "content": "Name a color."}],
        invocation_parameters={"max_tokens": 6, "temperature": 0.0, "seed": 1},
        context=RunContext(source="playground", session_id="e2e", tags=["e2e"],
                           prompt_template=PromptTemplateInfo(template=template,
                                                              variables={"thing": "color"})),
    )
    result = invoke(request)
    assert result.status == "ok", result.error
    assert get_recorder(database.url).flush(20)
    assert result.span_id and result.run_id
    span = get_span(database, result.span_id)
    run = get_run(database, result.run_id)
    assert span is not None and run is not None
    attrs = span["attributes"]
    assert attrs["llm.model_name"] == DEFAULT_MODEL and span["status_code"] == "OK"
    assert attrs["llm.output_messages.0.message.content"] == result.text
    assert attrs["llm.token_count.completion"] == result.usage.completion_tokens
    assert any(e["name"] == FIRST_TOKEN_EVENT for e in span["events"])
    assert run["output_text"] == result.text and run["ttft_ms"] is not None
    assert run["latency_ms"] >= run["ttft_ms"] and run["session_id"] == "e2e"

    from core.replay import replay_span, rerun_as_recorded

    replay = replay_span(span)
    again = rerun_as_recorded(replay)
    assert again.model == DEFAULT_MODEL
    assert again.messages == request.messages
    assert {k: again.invocation_parameters.get(k) for k in ("max_tokens", "temperature", "seed")} == {
        "max_tokens": 6, "temperature": 0.0, "seed": 1}
    assert replay.template is not None and replay.template.variables == {"thing": "color"}
