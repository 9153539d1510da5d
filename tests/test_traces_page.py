"""Traces page (AppTest) and cards made from replayed spans and registry versions."""

from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

from core import annotations as ann
from core.playground.cards import card_from_replay, card_from_version, version_fields
from core.playground.requests import build_request
from core.replay import replay_span

ROOT = Path(__file__).resolve().parents[1]
# A real span captured from the OpenAI instrumentor (Phoenix REST shape).
REFERENCE = ROOT / "tests" / "fixtures" / "playground" / "openai_tools_span.json"


def reference_span() -> dict:
    return json.loads(REFERENCE.read_text())


def test_replayed_span_becomes_a_runnable_card_with_its_report() -> None:
    span = reference_span()
    result = replay_span(span)
    card = card_from_replay(result, span)
    assert card.model.endswith("fake-gpt-4o-mini")
    assert card.messages[0].content == "Weather in Paris?"
    assert json.loads(card.tools)[0]["function"]["name"] == "get_weather"
    assert card.tool_choice == "auto"
    assert card.replay is not None and card.replay.span_id == "8f88cd7d4418e1a4"
    statuses = {item.status for item in card.replay.report}
    assert "copied" in statuses
    req = build_request(card)  # the card is valid as it is
    assert req.tools and req.messages[-1]["content"] == "Weather in Paris?"


def test_a_broken_span_still_opens_with_defaults_and_report() -> None:
    span = {"name": "llm", "attributes": {"llm.input_messages.0.message.role": "user",
                                          "llm.invocation_parameters": "{not json"}}
    card = card_from_replay(replay_span(span), span)
    assert card.replay is not None and card.replay.report
    assert any(i.status in ("dropped", "defaulted") for i in card.replay.report)


def test_registry_version_round_trip(database) -> None:  # type: ignore[no-untyped-def]
    from core.playground.state import Card
    from core.prompts import get_version, save_version

    ws = database.default_workspace_id()
    card = Card(model="local/x", template_format="mustache",
                messages=[{"role": "user", "content": "Hi {{name}}"}], variables={"name": "Ada"},
                invocation_parameters={"temperature": 0.2}, extra_params_json='{"top_k": 5}',
                response_format='{"type": "object"}')
    info = save_version(database, ws, "greeting", note="from playground", **version_fields(card))
    got = get_version(database, ws, "greeting", version=info.version)
    back = card_from_version(got)
    assert back.messages[0].content == "Hi {{name}}" and back.variables == {"name": "Ada"}
    assert back.invocation_parameters == {"temperature": 0.2} and json.loads(back.extra_params_json) == {"top_k": 5}
    assert back.prompt_ref is not None and back.prompt_ref.version == info.version
    assert json.loads(back.response_format)["type"] == "json_schema"


def _seed_span(db) -> str:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from core.db.models import Span

    span = reference_span()
    with db.session() as s:
        s.add(Span(workspace_id=db.default_workspace_id(), trace_id=span["context"]["trace_id"],
                   span_id=span["context"]["span_id"], name=span["name"], span_kind="LLM",
                   status_code="OK", start_time=datetime.now(UTC), latency_ms=8.8,
                   attributes=span["attributes"], model_name="fake-gpt-4o-mini",
                   input_value="Weather in Paris?", output_value="get_weather"))
    return span["context"]["span_id"]


def test_traces_page_lists_filters_annotates_and_opens_in_playground(sqlite_database) -> None:  # type: ignore[no-untyped-def]
    span_id = _seed_span(sqlite_database)
    at = AppTest.from_file(str(ROOT / "pages" / "traces.py"), default_timeout=30)
    at.run()
    assert not at.exception, at.exception
    assert at.dataframe[0].value.shape[0] == 1
    at.text_input(key="traces_text").set_value("no such words").run()
    assert any("No LLM spans match" in i.value for i in at.info)
    at.text_input(key="traces_text").set_value("Paris").run()
    assert at.dataframe[0].value.shape[0] == 1
    at.selectbox(key="traces_status").set_value("ERROR").run()
    assert any("No LLM spans match" in i.value for i in at.info)
    at.selectbox(key="traces_status").set_value("Any").run()
    # open the detail (selection is what a click does in the browser)
    at.session_state["traces_selected"] = span_id
    at.run()
    assert any("ChatCompletion" in h.value for h in at.subheader)
    at.text_input(key="traces_ann_label").set_value("correct")
    at.number_input(key="traces_ann_score").set_value(1.0)
    at.button(key="FormSubmitter:traces_ann_form-Save annotation").click().run()
    assert not at.exception, at.exception
    rows = ann.list_span_annotations(sqlite_database, sqlite_database.default_workspace_id(), span_id)
    assert [(r["name"], r["result"]["label"], r["result"]["score"]) for r in rows] == [("note", "correct", 1.0)]
    at.button(key="traces_open_playground").click().run()
    assert not at.exception, at.exception
    state = at.session_state["playground_state"]
    assert len(state.cards) == 1 and state.cards[0].replay.span_id == span_id


def _seed_many(db, n: int) -> list[str]:  # type: ignore[no-untyped-def]
    """``n`` spans, newest first in the returned ids; the oldest has a model of its own."""
    from datetime import UTC, datetime, timedelta

    from core.db.models import Span

    ws, now, ids = db.default_workspace_id(), datetime.now(UTC), []
    with db.session() as s:
        for i in range(n):
            request = {"model": "m", "messages": [{"role": "system", "content": "Be brief."},
                                                  {"role": "user", "content": f"question {i}"}]}
            sid = f"{i + 1:016x}"
            s.add(Span(workspace_id=ws, trace_id=f"{i + 1:032x}", span_id=sid, name="ChatCompletion",
                       span_kind="LLM", status_code="ERROR" if i == 1 else "OK",
                       status_message="rate limited" if i == 1 else "",
                       start_time=now - timedelta(minutes=i), latency_ms=100.0 + i,
                       model_name="old-model" if i == n - 1 else "gpt-4o-mini",
                       input_value=json.dumps(request), output_value=None if i == 1 else f"answer {i}",
                       session_id="s-1" if i < 3 else None, total_tokens=10 + i, cost=0.0001,
                       attributes={"llm.input_messages.0.message.role": "user",
                                   "llm.input_messages.0.message.content": f"question {i}"}))
            ids.append(sid)
    return ids


def test_traces_page_pages_through_every_span_with_a_total(sqlite_database) -> None:  # type: ignore[no-untyped-def]
    ids = _seed_many(sqlite_database, 60)
    ws = sqlite_database.default_workspace_id()
    ann.upsert_span_annotation(sqlite_database, ws, ann.thumbs(ids[0], up=True))
    ann.upsert_span_annotation(sqlite_database, ws, {"span_id": ids[0], "name": "correctness",
                                                     "annotator_kind": "LLM",
                                                     "result": {"label": "correct", "score": 1}})
    at = AppTest.from_file(str(ROOT / "pages" / "traces.py"), default_timeout=30)
    at.run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert table.shape[0] == 50 and list(table["span"])[:2] == ids[:2]
    for column in ("time", "model", "status", "latency ms", "tokens", "cost $", "input", "output",
                   "annotations", "session"):
        assert column in table.columns
    first, failed = table.iloc[0], table.iloc[1]
    assert first["input"] == "question 0"  # the user's words, not the request JSON
    assert first["annotations"] == "👍 · correctness: correct 1" and first["session"] == "s-1"
    assert "rate limited" in failed["output"] and "ERROR" in failed["status"]
    assert any("Spans 1–50 of 60" in c.value and "page 1 of 2" in c.value for c in at.caption)
    # the model filter knows models of spans far down the list
    assert "old-model" in at.selectbox(key="traces_model").options
    at.button(key="traces_next").click().run()
    table = at.dataframe[0].value
    assert table.shape[0] == 10 and list(table["span"]) == ids[50:]
    assert any("Spans 51–60 of 60" in c.value for c in at.caption)
    assert at.button(key="traces_next").disabled and not at.button(key="traces_prev").disabled
    at.selectbox(key="traces_page_size").set_value(25).run()
    assert at.dataframe[0].value.shape[0] == 25 and at.number_input(key="traces_page_no").value == 1
    at.number_input(key="traces_page_no").set_value(3).run()
    assert list(at.dataframe[0].value["span"]) == ids[50:]
    # a new filter starts again at the first page
    at.selectbox(key="traces_model").set_value("old-model").run()
    assert list(at.dataframe[0].value["span"]) == [ids[-1]]
    assert at.number_input(key="traces_page_no").value == 1


def test_span_link_opens_detail_with_transcript_tools_and_annotations(sqlite_database) -> None:  # type: ignore[no-untyped-def]
    span_id = _seed_span(sqlite_database)
    at = AppTest.from_file(str(ROOT / "pages" / "traces.py"), default_timeout=30)
    at.query_params["span_id"] = span_id
    at.run()
    assert not at.exception, at.exception
    md = "\n".join(m.value for m in at.markdown)
    assert "calls **get_weather**" in md and "`fake-gpt-4o-mini`" in md
    assert any('"city": "Paris"' in c.value for c in at.code)  # tool arguments pretty-printed
    labels = [e.label for e in at.expander]
    assert "Tools (1)" in labels and any(label.startswith("All attributes") for label in labels)
    assert any("No annotations yet" in c.value for c in at.caption)
    at.text_input(key="traces_ann_label").set_value("wrong city")
    at.button(key="FormSubmitter:traces_ann_form-Save annotation").click().run()
    assert any("Saved annotation note" in s.value for s in at.success)
    assert at.text_input(key="traces_ann_label").value == ""  # the form is ready for the next one
    assert at.dataframe[-1].value["label"].tolist() == ["wrong city"]


def test_list_span_models_is_distinct_and_sorted(database) -> None:  # type: ignore[no-untyped-def]
    from core.tracing.store import list_span_models

    _seed_many(database, 5)
    assert list_span_models(database, database.default_workspace_id()) == ["gpt-4o-mini", "old-model"]
    assert list_span_models(database, database.default_workspace_id() + 999) == []
