"""Queries behind the Traces page: search spans and runs by text, model, status, tags, metadata, time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from core.db import Database
from core.providers.errors import ProviderServerError
from core.providers.types import ModelRequest, ModelResult, RunContext, Usage
from core.tracing import Recorder
from core.tracing.store import (
    count_spans,
    get_run,
    get_run_for_span,
    get_span,
    list_runs,
    list_spans,
)


@pytest.fixture
def recorded(database: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """Four calls with different models, statuses, tags and metadata; returns name → span id."""
    monkeypatch.delenv("PHOENIX_COLLECTOR_ENDPOINT", raising=False)
    rec = Recorder(database.url, phoenix_endpoint="")
    ids: dict[str, str] = {}
    calls = [
        ("paris", "openai/gpt-4o", "Capital of France?", "Paris 100%_sure",
         RunContext(tags=["geo", "prod"], metadata={"customer": "acme", "tier": 2}, session_id="s1",
                    source="playground")),
        ("rome", "openai/gpt-4o", "Capital of Italy?", "Rome",
         RunContext(tags=["geo"], metadata={"customer": "globex", "tier": 1}, session_id="s1")),
        ("poem", "local/smollm2", "Write a poem", "Roses…",
         RunContext(tags=["fun"], metadata={"customer": "acme"}, session_id="s2")),
        ("boom", "local/smollm2", "Explode", "", RunContext(tags=["prod"])),
    ]
    for name, model, question, answer, ctx in calls:
        handle = rec.start(ModelRequest(model=model, messages=[{"role": "user", "content": question}],
                                        context=ctx))
        if name == "boom":
            result = ModelResult(status="error", error=ProviderServerError("upstream exploded"))
        else:
            result = ModelResult(text=answer, usage=Usage(4, 2, 6))
        handle.finish(result)
        ids[name] = handle.span_id
        ids[f"{name}_run"] = handle.run_id
    assert rec.flush(10)
    rec.shutdown()
    yield ids


def names(rows: list[dict[str, object]], ids: dict[str, str], key: str = "span_id") -> set[str]:
    reverse = {v: k.removesuffix("_run") for k, v in ids.items()}
    return {reverse[str(r[key])] for r in rows}


def test_list_spans_filters(database: Database, recorded: dict[str, str]) -> None:
    ws = database.default_workspace_id()
    everything = list_spans(database, ws)
    assert [r["span_id"] for r in everything] == [recorded[n] for n in ("boom", "poem", "rome", "paris")]
    assert names(list_spans(database, ws, text="france"), recorded) == {"paris"}
    assert names(list_spans(database, ws, text="100%_"), recorded) == {"paris"}
    assert names(list_spans(database, ws, text="100%x"), recorded) == set()  # % is literal
    assert names(list_spans(database, ws, text="exploded"), recorded) == {"boom"}
    assert names(list_spans(database, ws, text="globex"), recorded) == {"rome"}  # metadata text
    assert names(list_spans(database, ws, model="local/smollm2"), recorded) == {"poem", "boom"}
    assert names(list_spans(database, ws, status="error"), recorded) == {"boom"}
    assert names(list_spans(database, ws, status="OK"), recorded) == {"paris", "rome", "poem"}
    assert names(list_spans(database, ws, tags=["geo"]), recorded) == {"paris", "rome"}
    assert names(list_spans(database, ws, tags=["geo", "prod"]), recorded) == {"paris"}
    assert names(list_spans(database, ws, metadata={"customer": "acme"}), recorded) == {"paris", "poem"}
    assert names(list_spans(database, ws, metadata={"customer": "acme", "tier": 2}), recorded) == {"paris"}
    assert names(list_spans(database, ws, session_id="s1"), recorded) == {"paris", "rome"}
    assert list_spans(database, ws, span_kind="CHAIN") == []
    assert names(list_spans(database, ws, limit=2, offset=1), recorded) == {"poem", "rome"}
    assert count_spans(database, ws, model="openai/gpt-4o") == 2
    now = datetime.now(UTC)
    assert len(list_spans(database, ws, since=now - timedelta(minutes=5), until=now + timedelta(minutes=1))) == 4
    assert list_spans(database, ws, since=now + timedelta(minutes=1)) == []
    other = database.ensure_workspace("other")
    assert list_spans(database, other) == []
    with pytest.raises(ValueError, match="span status"):
        list_spans(database, ws, status="maybe")


def test_get_span_has_phoenix_shape(database: Database, recorded: dict[str, str]) -> None:
    span = get_span(database, recorded["paris"])
    assert span is not None
    assert set(span) >= {"name", "context", "span_kind", "parent_id", "start_time", "end_time",
                         "status_code", "status_message", "attributes", "events"}
    assert span["context"]["span_id"] == recorded["paris"] and len(span["context"]["trace_id"]) == 32
    assert span["span_kind"] == "LLM" and span["status_code"] == "OK"
    datetime.fromisoformat(span["start_time"])
    assert span["attributes"]["llm.input_messages.0.message.content"] == "Capital of France?"
    assert get_span(database, "0" * 16) is None
    assert get_span(database, recorded["paris"], workspace_id=database.ensure_workspace("x")) is None


def test_runs_queries(database: Database, recorded: dict[str, str]) -> None:
    ws = database.default_workspace_id()
    runs = list_runs(database, ws)
    assert len(runs) == 4 and runs[0]["id"] == recorded["boom_run"]
    assert names(list_runs(database, ws, status="error"), recorded, "id") == {"boom"}
    assert names(list_runs(database, ws, text="rome"), recorded, "id") == {"rome"}
    assert names(list_runs(database, ws, text="italy"), recorded, "id") == {"rome"}  # request text
    assert names(list_runs(database, ws, tags=["prod"]), recorded, "id") == {"paris", "boom"}
    assert names(list_runs(database, ws, metadata={"customer": "acme"}), recorded, "id") == {"paris", "poem"}
    assert names(list_runs(database, ws, metadata={"tier": 1}), recorded, "id") == {"rome"}
    assert names(list_runs(database, ws, source="playground"), recorded, "id") == {"paris"}
    assert names(list_runs(database, ws, model="local/smollm2", session_id="s2"), recorded, "id") == {"poem"}
    run = get_run(database, recorded["boom_run"])
    assert run is not None and run["status"] == "error" and run["error_type"] == "server_error"
    assert run["error_message"] == "upstream exploded" and run["metadata"] == {}
    assert get_run_for_span(database, recorded["paris"])["id"] == recorded["paris_run"]  # type: ignore[index]
    assert get_run(database, "f" * 32) is None
    with pytest.raises(ValueError, match="run status"):
        list_runs(database, ws, status="OK!")
