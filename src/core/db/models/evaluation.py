"""Datasets with versioned examples, experiments, their runs and evaluations (DS1-EX5)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, UtcDateTime, new_id
from core.db.models._common import (
    created_at_column,
    enum_check,
    json_column,
    updated_at_column,
    workspace_fk,
)

REVISION_KINDS = ("CREATE", "PATCH", "DELETE")
EXPERIMENT_STATUSES = ("pending", "running", "completed", "cancelled", "failed")


class Dataset(Base):
    """A named collection of examples; its contents change only through new versions."""

    __tablename__ = "datasets"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    version_count: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    archived_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class DatasetVersion(Base):
    """A numbered version of a dataset; its examples are the latest revisions up to it."""

    __tablename__ = "dataset_versions"
    __table_args__ = (UniqueConstraint("dataset_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str | None] = mapped_column(String(50))
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = created_at_column()


class DatasetExampleRevision(Base):
    """A change to one example (create, patch or delete) made in one dataset version."""

    __tablename__ = "dataset_example_revisions"
    __table_args__ = (
        UniqueConstraint("dataset_version_id", "example_id"),
        enum_check("revision_kind", REVISION_KINDS, "revision_kind"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), index=True
    )
    dataset_version_id: Mapped[int] = mapped_column(
        ForeignKey("dataset_versions.id", ondelete="CASCADE"), index=True
    )
    example_id: Mapped[str] = mapped_column(String(32), index=True, default=new_id)
    revision_kind: Mapped[str] = mapped_column(String(10), default="CREATE")
    input: Mapped[dict[str, Any]] = json_column(default=dict, nullable=False)
    expected_output: Mapped[Any] = json_column()
    meta: Mapped[dict[str, Any]] = json_column(default=dict, nullable=False, name="metadata")
    source_span_id: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = created_at_column()


class Experiment(Base):
    """Prompt versions x models run over one dataset version."""

    __tablename__ = "experiments"
    __table_args__ = (enum_check("status", EXPERIMENT_STATUSES, "status"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    workspace_id: Mapped[int] = workspace_fk()
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    dataset_id: Mapped[int | None] = mapped_column(ForeignKey("datasets.id", ondelete="SET NULL"))
    dataset_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("dataset_versions.id", ondelete="SET NULL")
    )
    # Variants (prompt version x model x parameters), evaluators, concurrency, repetitions.
    config: Mapped[dict[str, Any]] = json_column(default=dict, nullable=False)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    tags: Mapped[list[Any]] = json_column(default=list, nullable=False)
    meta: Mapped[dict[str, Any]] = json_column(default=dict, nullable=False, name="metadata")
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = created_at_column()
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class ExperimentRun(Base):
    """One example through one variant, one repetition; unique so a run can resume."""

    __tablename__ = "experiment_runs"
    __table_args__ = (
        UniqueConstraint("experiment_id", "example_id", "variant_key", "repetition"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    experiment_id: Mapped[str] = mapped_column(
        ForeignKey("experiments.id", ondelete="CASCADE"), index=True
    )
    example_id: Mapped[str] = mapped_column(String(32))
    variant_key: Mapped[str] = mapped_column(String(200))
    repetition: Mapped[int] = mapped_column(Integer, default=1)
    prompt_version_id: Mapped[int | None] = mapped_column(Integer)
    model: Mapped[str | None] = mapped_column(String(300))
    run_id: Mapped[str | None] = mapped_column(String(32), index=True)
    input: Mapped[dict[str, Any]] = json_column(default=dict, nullable=False)
    output: Mapped[Any] = json_column()
    status: Mapped[str] = mapped_column(String(20), default="ok")
    error: Mapped[str | None] = mapped_column(Text)
    latency_ms: Mapped[float | None] = mapped_column(Float)
    cost: Mapped[float | None] = mapped_column(Float)
    total_tokens: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = created_at_column()


class EvaluatorDefinition(Base):
    """A saved evaluator: built-in kind with settings, or an LLM-as-judge template."""

    __tablename__ = "evaluator_definitions"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(50))
    config: Mapped[dict[str, Any]] = json_column(default=dict, nullable=False)
    created_at: Mapped[datetime] = created_at_column()


class Evaluation(Base):
    """An evaluator's verdict on an experiment run or a span."""

    __tablename__ = "evaluations"
    id: Mapped[int] = mapped_column(primary_key=True)
    experiment_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("experiment_runs.id", ondelete="CASCADE"), index=True
    )
    span_id: Mapped[str | None] = mapped_column(String(16), index=True)
    evaluator: Mapped[str] = mapped_column(String(200))
    annotator_kind: Mapped[str] = mapped_column(String(10), default="CODE")
    label: Mapped[str | None] = mapped_column(String(200))
    score: Mapped[float | None] = mapped_column(Float)
    explanation: Mapped[str | None] = mapped_column(Text)
    meta: Mapped[dict[str, Any]] = json_column(default=dict, nullable=False, name="metadata")
    created_at: Mapped[datetime] = created_at_column()
