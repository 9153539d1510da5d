"""Phoenix-compatible span annotations: ``POST /v1/span_annotations`` (TR2).

Same request and response shapes as Phoenix, so an app that already posts 👍/👎 feedback
to Phoenix can post it here by changing the base URL. Annotations are upserted by
(span_id, name, identifier).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field

from core.annotations import AnnotationError, SpanNotFoundError, upsert_span_annotations
from core.api.security import DbDep, PrincipalDep

router = APIRouter(prefix="/v1", tags=["annotations"])


class SpanAnnotationsIn(BaseModel):
    """Phoenix's request body: ``{"data": [annotation, ...]}``."""

    model_config = ConfigDict(extra="forbid")
    data: list[dict[str, Any]] = Field(min_length=1)


class InsertedId(BaseModel):
    """The id of a stored annotation."""

    id: str


class SpanAnnotationsOut(BaseModel):
    """Phoenix's response body: the ids when ``sync=true``, else an empty list."""

    data: list[InsertedId]


@router.post(
    "/span_annotations",
    response_model=SpanAnnotationsOut,
    summary="Create or update span annotations",
    responses={404: {"description": "Unknown span"}, 422: {"description": "Invalid annotation"}},
)
def annotate_spans(
    body: SpanAnnotationsIn,
    db: DbDep,
    who: PrincipalDep,
    sync: bool = Query(False, description="Return the ids of the stored annotations"),
) -> SpanAnnotationsOut:
    """Store the annotations on spans of the token's workspace; one bad item stores none."""
    try:
        ids = upsert_span_annotations(db, who.workspace_id, body.data, user=who.actor, source="API")
    except SpanNotFoundError as exc:
        raise HTTPException(404, str(exc)) from exc
    except AnnotationError as exc:
        raise HTTPException(422, str(exc)) from exc
    return SpanAnnotationsOut(data=[InsertedId(**i) for i in ids] if sync else [])
