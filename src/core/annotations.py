"""Span annotations in Arize Phoenix's shape (TR2): upsert, list and delete.

The input model is Phoenix's ``SpanAnnotationData`` and the output dicts are its
``SpanAnnotation``, so a REST route can mount :func:`upsert_span_annotations` and
:func:`list_span_annotations` as they are and Phoenix clients work against us.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from core.db import Database
from core.db.models import Run, Span, SpanAnnotation
from core.db.models.tracing import ANNOTATION_SOURCES

AnnotatorKind = Literal["HUMAN", "LLM", "CODE"]
AnnotationSource = Literal["API", "APP"]  # who wrote it: a REST client or the app's UI
FEEDBACK_NAME = "feedback"
THUMBS_UP = "thumbs-up"
THUMBS_DOWN = "thumbs-down"


class AnnotationError(ValueError):
    """An annotation that can't be stored; the message says which field and why."""


class SpanNotFoundError(LookupError):
    """The annotated span is not recorded in this workspace."""

    def __init__(self, span_id: str) -> None:
        super().__init__(f"span {span_id!r} not found")
        self.span_id = span_id


class AnnotationResult(BaseModel):
    """Phoenix's ``AnnotationResult``: a label, a score, an explanation (each optional)."""

    model_config = ConfigDict(extra="forbid")
    label: str | None = Field(default=None, max_length=200)
    score: float | None = None
    explanation: str | None = None

    @field_validator("score")
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise ValueError("score must be a finite number")
        return value


class SpanAnnotationData(BaseModel):
    """Phoenix's ``SpanAnnotationData``: what a client sends to annotate a span."""

    model_config = ConfigDict(extra="forbid")
    span_id: str = Field(min_length=1, max_length=16)
    name: str = Field(min_length=1, max_length=200)
    annotator_kind: AnnotatorKind
    result: AnnotationResult | None = None
    metadata: dict[str, Any] | None = None
    identifier: str = Field(default="", max_length=200)

    @field_validator("name")
    @classmethod
    def _strip_name(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("name must not be blank")
        return value.strip()

    @field_validator("span_id")
    @classmethod
    def _hex_span_id(cls, value: str) -> str:
        value = value.strip().lower().removeprefix("0x")
        if not value or any(c not in "0123456789abcdef" for c in value):
            raise ValueError("span_id must be a hex OpenTelemetry span id (16 digits)")
        return value


def parse_annotation(data: SpanAnnotationData | dict[str, Any]) -> SpanAnnotationData:
    """Validate one annotation; AnnotationError names the bad field."""
    if isinstance(data, SpanAnnotationData):
        return data
    try:
        return SpanAnnotationData.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "annotation"
        raise AnnotationError(f"{where}: {first['msg']}") from exc


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def to_phoenix(row: SpanAnnotation) -> dict[str, Any]:
    """A stored annotation as Phoenix's ``SpanAnnotation`` dict."""
    meta = dict(row.meta or {})
    has_result = row.label is not None or row.score is not None or row.explanation is not None
    return {
        "id": str(row.id),
        "created_at": _iso(row.created_at),
        "updated_at": _iso(row.updated_at),
        "source": row.source,
        "user_id": row.created_by,
        "name": row.name,
        "annotator_kind": row.annotator_kind,
        "result": (
            {"label": row.label, "score": row.score, "explanation": row.explanation}
            if has_result
            else None
        ),
        "metadata": meta,
        "identifier": row.identifier,
        "span_id": row.span_id,
    }


def _span_exists(session: Any, workspace_id: int, span_id: str) -> bool:
    found = session.scalar(
        select(Span.id).where(Span.workspace_id == workspace_id, Span.span_id == span_id)
    )
    if found is not None:
        return True
    # A run's span may still be on its way to the spans table (the recorder batches).
    run = session.scalar(
        select(Run.id).where(Run.workspace_id == workspace_id, Run.span_id == span_id)
    )
    return run is not None


def upsert_span_annotations(
    db: Database,
    workspace_id: int,
    data: Sequence[SpanAnnotationData | dict[str, Any]],
    *,
    user: str | None = None,
    source: AnnotationSource = "API",
    require_span: bool = True,
) -> list[dict[str, str]]:
    """Insert or update annotations by (span_id, name, identifier); returns ``[{"id": ...}]``."""
    parsed = [parse_annotation(d) for d in data]
    if require_span:
        # Check every span first so a bad id in the batch stores nothing.
        with db.read_session() as s:
            for item in parsed:
                if not _span_exists(s, workspace_id, item.span_id):
                    raise SpanNotFoundError(item.span_id)
    ids: list[dict[str, str]] = []
    for item in parsed:
        ids.append({"id": str(_upsert_one(db, workspace_id, item, user, source, require_span))})
    return ids


def upsert_span_annotation(
    db: Database,
    workspace_id: int,
    data: SpanAnnotationData | dict[str, Any],
    *,
    user: str | None = None,
    source: AnnotationSource = "APP",
    require_span: bool = True,
) -> dict[str, Any]:
    """Insert or update one annotation and return it in Phoenix's shape."""
    item = parse_annotation(data)
    row_id = _upsert_one(db, workspace_id, item, user, source, require_span)
    with db.session() as s:
        row = s.get(SpanAnnotation, row_id)
        assert row is not None
        return to_phoenix(row)


def _upsert_one(
    db: Database,
    workspace_id: int,
    item: SpanAnnotationData,
    user: str | None,
    source: str,
    require_span: bool,
) -> int:
    result = item.result or AnnotationResult()
    if source not in ANNOTATION_SOURCES:
        raise AnnotationError(f"source must be one of {', '.join(ANNOTATION_SOURCES)}, not {source!r}")
    meta = dict(item.metadata or {})
    for attempt in range(2):
        try:
            with db.session() as s:
                if require_span and not _span_exists(s, workspace_id, item.span_id):
                    raise SpanNotFoundError(item.span_id)
                row = s.scalar(
                    select(SpanAnnotation).where(
                        SpanAnnotation.workspace_id == workspace_id,
                        SpanAnnotation.span_id == item.span_id,
                        SpanAnnotation.name == item.name,
                        SpanAnnotation.identifier == item.identifier,
                    )
                )
                if row is None:
                    row = SpanAnnotation(
                        workspace_id=workspace_id,
                        span_id=item.span_id,
                        name=item.name,
                        identifier=item.identifier,
                        created_by=user,
                    )
                    s.add(row)
                row.annotator_kind = item.annotator_kind
                row.label = result.label
                row.score = result.score
                row.explanation = result.explanation
                row.meta = meta
                row.source = source
                s.flush()
                return row.id
        except IntegrityError:
            # Two writers raced to insert the same key: the second one updates instead.
            if attempt:
                raise
    raise AssertionError("unreachable")


def list_span_annotations(
    db: Database,
    workspace_id: int,
    span_ids: list[str] | str | None = None,
    *,
    names: list[str] | None = None,
    identifiers: list[str] | None = None,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """Annotations on the given spans (and/or with the given identifiers), newest first."""
    if isinstance(span_ids, str):
        span_ids = [span_ids]
    if not span_ids and not identifiers:
        raise AnnotationError("give span_ids, identifiers, or both")
    query = select(SpanAnnotation).where(SpanAnnotation.workspace_id == workspace_id)
    if span_ids:
        query = query.where(SpanAnnotation.span_id.in_(span_ids))
    if identifiers:
        query = query.where(SpanAnnotation.identifier.in_(identifiers))
    if names:
        query = query.where(SpanAnnotation.name.in_(names))
    query = query.order_by(SpanAnnotation.updated_at.desc(), SpanAnnotation.id.desc()).limit(limit)
    with db.session() as s:
        return [to_phoenix(r) for r in s.scalars(query)]


def delete_span_annotation(db: Database, workspace_id: int, annotation_id: int | str) -> bool:
    """Delete one annotation by id; False if it did not exist."""
    with db.session() as s:
        row = s.get(SpanAnnotation, int(annotation_id))
        if row is None or row.workspace_id != workspace_id:
            return False
        s.delete(row)
        return True


def annotation_summary(
    db: Database, workspace_id: int, span_ids: list[str]
) -> dict[str, dict[str, Any]]:
    """Per span: ``{"feedback": 1|0|None, "count": n}`` for compact list views."""
    if not span_ids:
        return {}
    out: dict[str, dict[str, Any]] = {sid: {"feedback": None, "count": 0} for sid in span_ids}
    query = select(SpanAnnotation).where(
        SpanAnnotation.workspace_id == workspace_id,
        or_(*[SpanAnnotation.span_id == sid for sid in span_ids]),
    )
    with db.session() as s:
        for row in s.scalars(query):
            entry = out.setdefault(row.span_id, {"feedback": None, "count": 0})
            entry["count"] += 1
            if row.name == FEEDBACK_NAME and row.score is not None:
                entry["feedback"] = row.score
    return out


def thumbs(span_id: str, up: bool, *, identifier: str = "") -> SpanAnnotationData:
    """A 👍/👎 feedback annotation (name ``feedback``, score 1 or 0, HUMAN)."""
    return SpanAnnotationData(
        span_id=span_id,
        name=FEEDBACK_NAME,
        annotator_kind="HUMAN",
        result=AnnotationResult(label=THUMBS_UP if up else THUMBS_DOWN, score=1.0 if up else 0.0),
        identifier=identifier,
    )
