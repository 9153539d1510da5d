"""Span annotations in Phoenix's shape: upsert by (span, name, identifier), list, delete."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core import annotations as ann
from core.db.models import Span


def add_span(db, span_id: str = "8f88cd7d4418e1a4") -> str:  # type: ignore[no-untyped-def]
    ws = db.default_workspace_id()
    with db.session() as s:
        s.add(Span(workspace_id=ws, trace_id="31acbeaddab8a132787c8b0cf002a7f8", span_id=span_id,
                   name="ChatCompletion", span_kind="LLM", start_time=datetime.now(UTC)))
    return span_id


def test_upsert_and_list_in_phoenix_shape(database) -> None:  # type: ignore[no-untyped-def]
    ws = database.default_workspace_id()
    sid = add_span(database)
    body = {"span_id": sid, "name": "correctness", "annotator_kind": "HUMAN",
            "result": {"label": "correct", "score": 1, "explanation": "answered"},
            "metadata": {"reviewer": "ada"}}
    inserted = ann.upsert_span_annotations(database, ws, [body], user="ada")
    assert len(inserted) == 1 and set(inserted[0]) == {"id"}
    listed = ann.list_span_annotations(database, ws, [sid])
    assert len(listed) == 1
    got = listed[0]
    assert set(got) == {"id", "created_at", "updated_at", "source", "user_id", "name",
                        "annotator_kind", "result", "metadata", "identifier", "span_id"}
    assert got["result"] == {"label": "correct", "score": 1.0, "explanation": "answered"}
    assert got["metadata"] == {"reviewer": "ada"} and got["source"] == "API"
    assert got["id"] == inserted[0]["id"] and got["user_id"] == "ada"

    # same (span, name, identifier): updated in place, not duplicated
    body["result"] = {"label": "incorrect", "score": 0}
    again = ann.upsert_span_annotations(database, ws, [body])
    assert again == inserted
    listed = ann.list_span_annotations(database, ws, sid)
    assert len(listed) == 1 and listed[0]["result"]["label"] == "incorrect"

    # a different identifier is a separate annotation
    ann.upsert_span_annotations(database, ws, [{**body, "identifier": "run-2"}])
    assert len(ann.list_span_annotations(database, ws, sid)) == 2
    assert len(ann.list_span_annotations(database, ws, identifiers=["run-2"])) == 1


def test_thumbs_feedback_and_summary(database) -> None:  # type: ignore[no-untyped-def]
    ws = database.default_workspace_id()
    sid = add_span(database)
    ann.upsert_span_annotation(database, ws, ann.thumbs(sid, up=True))
    row = ann.upsert_span_annotation(database, ws, ann.thumbs(sid, up=False))
    assert row["result"]["label"] == "thumbs-down" and row["result"]["score"] == 0.0
    assert row["source"] == "APP" and row["annotator_kind"] == "HUMAN"
    assert ann.annotation_summary(database, ws, [sid]) == {sid: {"feedback": 0.0, "count": 1}}
    assert ann.delete_span_annotation(database, ws, row["id"]) is True
    assert ann.list_span_annotations(database, ws, sid) == []


@pytest.mark.parametrize(
    ("body", "match"),
    [
        pytest.param({"span_id": "abc", "name": "x", "annotator_kind": "ROBOT"}, "annotator_kind", id="kind"),
        pytest.param({"span_id": "abc", "name": " ", "annotator_kind": "HUMAN"}, "name", id="blank-name"),
        pytest.param({"span_id": "xyz!", "name": "n", "annotator_kind": "HUMAN"}, "span_id", id="span-id"),
        pytest.param({"span_id": "abc", "name": "n", "annotator_kind": "HUMAN",
                      "result": {"score": float("nan")}}, "score", id="nan-score"),
        pytest.param({"span_id": "abc", "name": "n", "annotator_kind": "HUMAN", "colour": 1},
                     "colour", id="unknown-field"),
    ],
)
def test_invalid_annotations_are_refused_with_field_name(database, body: dict, match: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ann.AnnotationError, match=match):
        ann.upsert_span_annotations(database, database.default_workspace_id(), [body])


def test_unknown_span_is_not_found(database) -> None:  # type: ignore[no-untyped-def]
    ws = database.default_workspace_id()
    with pytest.raises(ann.SpanNotFoundError):
        ann.upsert_span_annotation(database, ws, ann.thumbs("0123456789abcdef", up=True))
    # a span from another workspace is not visible either
    add_span(database, "00000000000000aa")
    other = database.ensure_workspace("other")
    with pytest.raises(ann.SpanNotFoundError):
        ann.upsert_span_annotation(database, other, ann.thumbs("00000000000000aa", up=True))


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_migration_0002_moves_source_out_of_metadata_and_back(dialect: str, tmp_path, request) -> None:  # type: ignore[no-untyped-def]
    """Rows written by 0001's code (source in metadata["_source"]) keep their source."""
    import json

    from sqlalchemy import text

    from core.db import Database
    from core.db.engine import build_engine
    from core.db.migrate import downgrade, upgrade

    if dialect == "sqlite":
        url = f"sqlite:///{tmp_path / 'm.db'}"
    else:
        url = request.getfixturevalue("pg_factory").new(migrated=False)
    engine = build_engine(url)
    upgrade(engine, "0001")
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO workspaces (id, slug, name, created_at) VALUES (1, 'w', 'W', :t)"), {"t": now})
        for i, meta in enumerate(['{"_source": "APP", "reviewer": "ada"}', '{"_source": "API"}', "{}"]):
            conn.execute(text(
                "INSERT INTO span_annotations (workspace_id, span_id, name, annotator_kind, metadata, "
                "identifier, created_at, updated_at) VALUES (1, :sid, 'n', 'HUMAN', :meta, '', :t, :t)"),
                {"sid": f"{i:016x}", "meta": meta, "t": now})
    upgrade(engine)
    db = Database(url)
    got = {a["span_id"]: (a["source"], a["metadata"])
           for a in ann.list_span_annotations(db, 1, [f"{i:016x}" for i in range(3)])}
    assert got == {f"{0:016x}": ("APP", {"reviewer": "ada"}), f"{1:016x}": ("API", {}),
                   f"{2:016x}": ("API", {})}  # no "_source": reported as API before, still is
    with pytest.raises(Exception, match="(?i)check|constraint"), engine.begin() as conn:
        conn.execute(text("UPDATE span_annotations SET source = 'BOT'"))
    downgrade(engine, "0001")
    with engine.connect() as conn:
        metas = [m if isinstance(m, dict) else json.loads(m) for (m,) in conn.execute(
            text("SELECT metadata FROM span_annotations ORDER BY span_id"))]
    assert [m["_source"] for m in metas] == ["APP", "API", "API"]
    db.engine.dispose()
    engine.dispose()
