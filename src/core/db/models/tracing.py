"""Recorded LLM calls: runs, OpenInference spans, annotations; endpoints and playground sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, UtcDateTime, new_id
from core.db.models._common import (
    created_at_column,
    enum_check,
    json_column,
    updated_at_column,
    workspace_fk,
)

RUN_STATUSES = ("ok", "error", "cancelled")
OPERATIONS = ("chat", "text_completion")
ANNOTATOR_KINDS = ("HUMAN", "LLM", "CODE")
ANNOTATION_SOURCES = ("API", "APP")  # Phoenix's SpanAnnotation.source: REST client or the app's UI


class ModelEndpoint(Base):
    """A user-defined OpenAI-compatible endpoint. Its token is never stored here."""

    __tablename__ = "model_endpoints"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    name: Mapped[str] = mapped_column(String(200))
    base_url: Mapped[str] = mapped_column(String(1000))
    model_ids: Mapped[list[Any]] = json_column(default=list, nullable=False)
    default_model: Mapped[str | None] = mapped_column(String(300))
    # {model_id: {"input_cost_per_token": float, "output_cost_per_token": float}}
    prices: Mapped[dict[str, Any]] = json_column(default=dict, nullable=False)
    # Name of an environment variable holding the token (a reference, not a secret).
    token_env_var: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class PlaygroundSession(Base):
    """Saved playground state (cards, sync switches, histories); addressed by URL id."""

    __tablename__ = "playground_sessions"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    workspace_id: Mapped[int] = workspace_fk()
    name: Mapped[str] = mapped_column(String(200), default="Untitled session")
    state: Mapped[dict[str, Any]] = json_column(default=dict, nullable=False)
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class Run(Base):
    """One attempt at an LLM call, with its redacted request, output and metrics."""

    __tablename__ = "runs"
    __table_args__ = (
        enum_check("status", RUN_STATUSES, "status"),
        enum_check("operation", OPERATIONS, "operation"),
        Index("ix_runs_workspace_started", "workspace_id", "started_at"),
    )
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    workspace_id: Mapped[int] = workspace_fk()
    trace_id: Mapped[str | None] = mapped_column(String(32), index=True)
    span_id: Mapped[str | None] = mapped_column(String(16), index=True)
    session_id: Mapped[str | None] = mapped_column(String(64), index=True)
    card_id: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(30), default="api")
    model: Mapped[str] = mapped_column(String(300))
    provider: Mapped[str | None] = mapped_column(String(100))
    operation: Mapped[str] = mapped_column(String(20), default="chat")
    endpoint_id: Mapped[int | None] = mapped_column(Integer)
    prompt_version_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # The full request minus secrets: enough to replay the call exactly.
    request: Mapped[dict[str, Any]] = json_column(default=dict, nullable=False)
    template_variables: Mapped[dict[str, Any] | None] = json_column()
    output_text: Mapped[str | None] = mapped_column(Text)
    tool_calls: Mapped[list[Any] | None] = json_column()
    finish_reason: Mapped[str | None] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(20), default="ok")
    error_type: Mapped[str | None] = mapped_column(String(100))
    error_message: Mapped[str | None] = mapped_column(Text)
    http_status: Mapped[int | None] = mapped_column(Integer)
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    completion_tokens: Mapped[int | None] = mapped_column(Integer)
    total_tokens: Mapped[int | None] = mapped_column(Integer)
    usage_estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    cost: Mapped[float | None] = mapped_column(Float)
    latency_ms: Mapped[float | None] = mapped_column(Float)
    ttft_ms: Mapped[float | None] = mapped_column(Float)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    tags: Mapped[list[Any]] = json_column(default=list, nullable=False)
    meta: Mapped[dict[str, Any]] = json_column(default=dict, nullable=False, name="metadata")
    created_by: Mapped[str | None] = mapped_column(String(100))


class Span(Base):
    """An OpenTelemetry span (OpenInference attributes), ours or received over OTLP."""

    __tablename__ = "spans"
    __table_args__ = (Index("ix_spans_workspace_start", "workspace_id", "start_time"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    project: Mapped[str] = mapped_column(String(200), default="default", index=True)
    trace_id: Mapped[str] = mapped_column(String(32), index=True)
    span_id: Mapped[str] = mapped_column(String(16), unique=True)
    parent_span_id: Mapped[str | None] = mapped_column(String(16), index=True)
    name: Mapped[str] = mapped_column(String(300))
    span_kind: Mapped[str] = mapped_column(String(30), default="UNKNOWN", index=True)
    status_code: Mapped[str] = mapped_column(String(10), default="UNSET")
    status_message: Mapped[str] = mapped_column(Text, default="")
    start_time: Mapped[datetime] = mapped_column(UtcDateTime())
    end_time: Mapped[datetime | None] = mapped_column(UtcDateTime())
    latency_ms: Mapped[float | None] = mapped_column(Float)
    # Flat dotted OpenInference attributes, e.g. {"llm.model_name": "gpt-4o", ...}.
    attributes: Mapped[dict[str, Any]] = json_column(default=dict, nullable=False)
    events: Mapped[list[Any]] = json_column(default=list, nullable=False)
    source: Mapped[str] = mapped_column(String(30), default="workbench")
    # Denormalised for search and analytics.
    model_name: Mapped[str | None] = mapped_column(String(300), index=True)
    provider: Mapped[str | None] = mapped_column(String(100))
    session_id: Mapped[str | None] = mapped_column(String(64), index=True)
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    completion_tokens: Mapped[int | None] = mapped_column(Integer)
    total_tokens: Mapped[int | None] = mapped_column(Integer)
    cost: Mapped[float | None] = mapped_column(Float)
    input_value: Mapped[str | None] = mapped_column(Text)
    output_value: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()


class SpanAnnotation(Base):
    """Feedback on a span in Phoenix's shape; unique per (span, name, identifier)."""

    __tablename__ = "span_annotations"
    __table_args__ = (
        UniqueConstraint("span_id", "name", "identifier"),
        enum_check("annotator_kind", ANNOTATOR_KINDS, "annotator_kind"),
        enum_check("source", ANNOTATION_SOURCES, "source"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    span_id: Mapped[str] = mapped_column(String(16), index=True)
    name: Mapped[str] = mapped_column(String(200))
    annotator_kind: Mapped[str] = mapped_column(String(10), default="HUMAN")
    label: Mapped[str | None] = mapped_column(String(200))
    score: Mapped[float | None] = mapped_column(Float)
    explanation: Mapped[str | None] = mapped_column(Text)
    meta: Mapped[dict[str, Any]] = json_column(default=dict, nullable=False, name="metadata")
    identifier: Mapped[str] = mapped_column(String(200), default="")
    # Server default too: rows written by other tools (or before 0002) are valid as well.
    source: Mapped[str] = mapped_column(String(3), default="APP", server_default="APP")
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
