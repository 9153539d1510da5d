"""Queries over recorded spans and runs: the Traces page, replay and the REST API read these."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from itertools import count
from typing import Any

from sqlalchemy import Select, Text, cast, func, or_, select, text
from sqlalchemy.sql.elements import ColumnElement

from core.db import Database
from core.db.models import Run, Span

MAX_LIMIT = 1000
SPAN_SUMMARY_COLUMNS = (
    "span_id", "trace_id", "parent_span_id", "name", "span_kind", "status_code",
    "status_message", "start_time", "end_time", "latency_ms", "model_name", "provider",
    "session_id", "prompt_tokens", "completion_tokens", "total_tokens", "cost",
    "input_value", "output_value", "project", "source",
)
_SPAN_STATUSES = {"OK", "ERROR", "UNSET"}
_RUN_STATUSES = {"ok", "error", "cancelled"}
Scalar = str | int | float | bool


def list_spans(
    db: Database,
    workspace_id: int,
    *,
    text: str | None = None,
    model: str | None = None,
    status: str | None = None,
    span_kind: str | None = "LLM",
    session_id: str | None = None,
    trace_id: str | None = None,
    project: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    tags: Sequence[str] | None = None,
    metadata: dict[str, Scalar] | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Spans matching every given filter, newest first, as summary dicts (no attributes)."""
    stmt = _span_filters(
        select(*[getattr(Span, c) for c in SPAN_SUMMARY_COLUMNS]), db, workspace_id,
        text=text, model=model, status=status, span_kind=span_kind, session_id=session_id,
        trace_id=trace_id, project=project, since=since, until=until, tags=tags,
        metadata=metadata,
    )
    stmt = stmt.order_by(Span.start_time.desc(), Span.id.desc())
    stmt = stmt.limit(_limit(limit)).offset(max(0, offset))
    with db.read_session() as s:
        return [dict(row._mapping) for row in s.execute(stmt)]


def count_spans(db: Database, workspace_id: int, **filters: Any) -> int:
    """How many spans :func:`list_spans` would page through with the same filters."""
    filters.setdefault("span_kind", "LLM")
    stmt = _span_filters(select(func.count(Span.id)), db, workspace_id, **filters)
    with db.read_session() as s:
        return int(s.scalar(stmt) or 0)


def list_span_models(db: Database, workspace_id: int, *, span_kind: str | None = "LLM") -> list[str]:
    """Every distinct model name among the workspace's spans, sorted (for filter pickers)."""
    stmt = select(Span.model_name).distinct().where(
        Span.workspace_id == workspace_id, Span.model_name.is_not(None), Span.model_name != "")
    if span_kind:
        stmt = stmt.where(Span.span_kind == span_kind.upper())
    with db.read_session() as s:
        return sorted((str(m) for m in s.scalars(stmt)), key=str.lower)


def get_span(db: Database, span_id: str, *, workspace_id: int | None = None) -> dict[str, Any] | None:
    """One span in Phoenix's REST shape (context, attributes flat and dotted, events), or None."""
    stmt = select(Span).where(Span.span_id == span_id)
    if workspace_id is not None:
        stmt = stmt.where(Span.workspace_id == workspace_id)
    with db.read_session() as s:
        span = s.scalar(stmt)
        return _span_dict(span) if span else None


def get_trace(db: Database, trace_id: str, *, workspace_id: int | None = None) -> list[dict[str, Any]]:
    """Every span of a trace (chat turns, retries, children), oldest first, Phoenix-shaped."""
    stmt = select(Span).where(Span.trace_id == trace_id).order_by(Span.start_time, Span.id)
    if workspace_id is not None:
        stmt = stmt.where(Span.workspace_id == workspace_id)
    with db.read_session() as s:
        return [_span_dict(span) for span in s.scalars(stmt)]


def _span_dict(span: Span) -> dict[str, Any]:
    return {
        "id": str(span.id),
        "name": span.name,
        "context": {"trace_id": span.trace_id, "span_id": span.span_id},
        "span_kind": span.span_kind,
        "parent_id": span.parent_span_id,
        "start_time": span.start_time.isoformat(),
        "end_time": span.end_time.isoformat() if span.end_time else None,
        "status_code": span.status_code,
        "status_message": span.status_message or "",
        "attributes": dict(span.attributes or {}),
        "events": list(span.events or []),
        "latency_ms": span.latency_ms,
        "project": span.project,
        "source": span.source,
        "workspace_id": span.workspace_id,
    }


def list_runs(
    db: Database,
    workspace_id: int,
    *,
    text: str | None = None,
    model: str | None = None,
    status: str | None = None,
    source: str | None = None,
    session_id: str | None = None,
    card_id: str | None = None,
    trace_id: str | None = None,
    prompt_version_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    tags: Sequence[str] | None = None,
    metadata: dict[str, Scalar] | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Runs matching every given filter, newest first, as dicts of all columns."""
    stmt = select(Run).where(Run.workspace_id == workspace_id)
    conditions: list[ColumnElement[bool]] = []
    if text:
        pattern = _like(text)
        conditions.append(or_(
            Run.output_text.ilike(pattern, escape="\\"),
            Run.error_message.ilike(pattern, escape="\\"),
            Run.model.ilike(pattern, escape="\\"),
            cast(Run.request, Text).ilike(pattern, escape="\\"),
            cast(Run.meta, Text).ilike(pattern, escape="\\"),
        ))
    if model:
        conditions.append(Run.model == model)
    if status:
        if status.lower() not in _RUN_STATUSES:
            raise ValueError(f"run status must be one of {sorted(_RUN_STATUSES)}, not {status!r}")
        conditions.append(Run.status == status.lower())
    for column, value in ((Run.source, source), (Run.session_id, session_id),
                          (Run.card_id, card_id), (Run.trace_id, trace_id),
                          (Run.prompt_version_id, prompt_version_id)):
        if value is not None:
            conditions.append(column == value)
    if since:
        conditions.append(Run.started_at >= since)
    if until:
        conditions.append(Run.started_at < until)
    names = count()
    dialect = db.dialect
    for tag in tags or ():
        conditions.append(_json_list_has(dialect, "runs.tags", None, tag, f"rt{next(names)}"))
    for meta_key, meta_value in (metadata or {}).items():
        conditions.append(_json_key_equals(dialect, "runs.metadata", meta_key, meta_value,
                                           f"rm{next(names)}", nested=False))
    stmt = stmt.where(*conditions).order_by(Run.started_at.desc(), Run.id.desc())
    stmt = stmt.limit(_limit(limit)).offset(max(0, offset))
    with db.read_session() as s:
        return [_run_dict(run) for run in s.scalars(stmt)]


def get_run(db: Database, run_id: str, *, workspace_id: int | None = None) -> dict[str, Any] | None:
    """One run with every column (``request`` is the redacted, replayable request), or None."""
    stmt = select(Run).where(Run.id == run_id)
    if workspace_id is not None:
        stmt = stmt.where(Run.workspace_id == workspace_id)
    with db.read_session() as s:
        run = s.scalar(stmt)
        return _run_dict(run) if run else None


def get_run_for_span(db: Database, span_id: str) -> dict[str, Any] | None:
    """The run recorded with a span (our own calls only; OTLP spans have none)."""
    with db.read_session() as s:
        run = s.scalar(select(Run).where(Run.span_id == span_id).limit(1))
        return _run_dict(run) if run else None


def _run_dict(run: Run) -> dict[str, Any]:
    out = {c.key: getattr(run, c.key) for c in Run.__table__.columns if c.key != "metadata"}
    out["metadata"] = run.meta
    return out


# -- filters -------------------------------------------------------------------------------
def _span_filters(
    stmt: Select[Any], db: Database, workspace_id: int, *, text: str | None = None,
    model: str | None = None, status: str | None = None, span_kind: str | None = None,
    session_id: str | None = None, trace_id: str | None = None, project: str | None = None,
    since: datetime | None = None, until: datetime | None = None,
    tags: Sequence[str] | None = None, metadata: dict[str, Scalar] | None = None,
) -> Select[Any]:
    conditions: list[ColumnElement[bool]] = [Span.workspace_id == workspace_id]
    if text:
        pattern = _like(text)
        conditions.append(or_(
            Span.name.ilike(pattern, escape="\\"),
            Span.input_value.ilike(pattern, escape="\\"),
            Span.output_value.ilike(pattern, escape="\\"),
            Span.model_name.ilike(pattern, escape="\\"),
            Span.status_message.ilike(pattern, escape="\\"),
            cast(Span.attributes, Text).ilike(pattern, escape="\\"),
        ))
    if model:
        conditions.append(Span.model_name == model)
    if status:
        if status.upper() not in _SPAN_STATUSES:
            raise ValueError(f"span status must be one of {sorted(_SPAN_STATUSES)}, not {status!r}")
        conditions.append(Span.status_code == status.upper())
    if span_kind:
        conditions.append(Span.span_kind == span_kind.upper())
    for column, value in ((Span.session_id, session_id), (Span.trace_id, trace_id),
                          (Span.project, project)):
        if value is not None:
            conditions.append(column == value)
    if since:
        conditions.append(Span.start_time >= since)
    if until:
        conditions.append(Span.start_time < until)
    names = count()
    for tag in tags or ():
        conditions.append(_json_list_has(db.dialect, "spans.attributes", "tag.tags", tag,
                                         f"st{next(names)}"))
    for meta_key, meta_value in (metadata or {}).items():
        conditions.append(_json_key_equals(db.dialect, "spans.attributes", meta_key, meta_value,
                                           f"sm{next(names)}", nested=True))
    return stmt.where(*conditions)


def _like(text_: str) -> str:
    escaped = text_.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _limit(limit: int) -> int:
    return max(1, min(int(limit), MAX_LIMIT))


def _json_path(key: str) -> str:
    return '$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _json_list_has(dialect: str, column: str, key: str | None, item: str, name: str) -> Any:
    """The JSON list at ``column`` (or its ``key``) contains the string ``item``."""
    if dialect == "postgresql":
        target = f"({column} -> :{name}_k)" if key else column
        clause = text(f"{target} @> CAST(:{name} AS jsonb)")
        params = {name: json.dumps([item])}
        if key:
            params[f"{name}_k"] = key
        return clause.bindparams(**params)
    path = f", :{name}_p" if key else ""
    clause = text(f"EXISTS (SELECT 1 FROM json_each({column}{path}) WHERE value = :{name})")
    params = {name: item}
    if key:
        params[f"{name}_p"] = _json_path(key)
    return clause.bindparams(**params)


def _json_key_equals(dialect: str, column: str, key: str, value: Scalar, name: str,
                     *, nested: bool) -> Any:
    """``metadata[key] == value``; ``nested``: metadata is a JSON string inside attributes."""
    if dialect == "postgresql":
        # Ingest guarantees the metadata attribute is a JSON object string, so the cast is safe.
        source = f"CAST({column} ->> 'metadata' AS jsonb)" if nested else column
        clause = text(f"{source} @> CAST(:{name} AS jsonb)")
        return clause.bindparams(**{name: json.dumps({key: value})})
    source = (
        f"(CASE WHEN json_valid(json_extract({column}, '$.metadata')) "
        f"THEN json_extract({column}, '$.metadata') END)" if nested else column
    )
    clause = text(f"json_extract({source}, :{name}_p) = :{name}")
    return clause.bindparams(**{name: value, f"{name}_p": _json_path(key)})
