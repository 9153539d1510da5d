"""Initial schema, tracing: model endpoints, playground sessions, runs, spans, span annotations.

Frozen DDL of revision 0001: never import ORM models here, never edit after release.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# JSONB on PostgreSQL, JSON text elsewhere (the same as core.db.base.JSON_TYPE).
JSON_T = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    """Create the tracing tables."""
    op.create_table(
        "model_endpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("base_url", sa.String(length=1000), nullable=False),
        sa.Column("model_ids", JSON_T, nullable=False),
        sa.Column("default_model", sa.String(length=300), nullable=True),
        sa.Column("prices", JSON_T, nullable=False),
        sa.Column("token_env_var", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_model_endpoints_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_endpoints")),
        sa.UniqueConstraint(
            "workspace_id", "name", name=op.f("uq_model_endpoints_workspace_id_name")
        ),
    )
    with op.batch_alter_table("model_endpoints", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_model_endpoints_workspace_id"), ["workspace_id"], unique=False
        )

    op.create_table(
        "playground_sessions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("state", JSON_T, nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_playground_sessions_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_playground_sessions")),
    )
    with op.batch_alter_table("playground_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_playground_sessions_workspace_id"), ["workspace_id"], unique=False
        )

    op.create_table(
        "runs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("trace_id", sa.String(length=32), nullable=True),
        sa.Column("span_id", sa.String(length=16), nullable=True),
        sa.Column("session_id", sa.String(length=64), nullable=True),
        sa.Column("card_id", sa.String(length=64), nullable=True),
        sa.Column("source", sa.String(length=30), nullable=False),
        sa.Column("model", sa.String(length=300), nullable=False),
        sa.Column("provider", sa.String(length=100), nullable=True),
        sa.Column("operation", sa.String(length=20), nullable=False),
        sa.Column("endpoint_id", sa.Integer(), nullable=True),
        sa.Column("prompt_version_id", sa.Integer(), nullable=True),
        sa.Column("request", JSON_T, nullable=False),
        sa.Column("template_variables", JSON_T, nullable=True),
        sa.Column("output_text", sa.Text(), nullable=True),
        sa.Column("tool_calls", JSON_T, nullable=True),
        sa.Column("finish_reason", sa.String(length=50), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("error_type", sa.String(length=100), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("prompt_tokens", sa.Integer(), nullable=True),
        sa.Column("completion_tokens", sa.Integer(), nullable=True),
        sa.Column("total_tokens", sa.Integer(), nullable=True),
        sa.Column("usage_estimated", sa.Boolean(), nullable=False),
        sa.Column("cost", sa.Float(), nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("ttft_ms", sa.Float(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tags", JSON_T, nullable=False),
        sa.Column("metadata", JSON_T, nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.CheckConstraint(
            "operation IN ('chat', 'text_completion')", name=op.f("ck_runs_operation")
        ),
        sa.CheckConstraint("status IN ('ok', 'error', 'cancelled')", name=op.f("ck_runs_status")),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_runs_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
    )
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_runs_prompt_version_id"), ["prompt_version_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_runs_session_id"), ["session_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_runs_span_id"), ["span_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_runs_trace_id"), ["trace_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_runs_workspace_id"), ["workspace_id"], unique=False)
        batch_op.create_index(
            "ix_runs_workspace_started", ["workspace_id", "started_at"], unique=False
        )

    op.create_table(
        "span_annotations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("span_id", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("annotator_kind", sa.String(length=10), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("explanation", sa.Text(), nullable=True),
        sa.Column("metadata", JSON_T, nullable=False),
        sa.Column("identifier", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "annotator_kind IN ('HUMAN', 'LLM', 'CODE')",
            name=op.f("ck_span_annotations_annotator_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_span_annotations_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_span_annotations")),
        sa.UniqueConstraint(
            "span_id",
            "name",
            "identifier",
            name=op.f("uq_span_annotations_span_id_name_identifier"),
        ),
    )
    with op.batch_alter_table("span_annotations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_span_annotations_span_id"), ["span_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_span_annotations_workspace_id"), ["workspace_id"], unique=False
        )

    op.create_table(
        "spans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("project", sa.String(length=200), nullable=False),
        sa.Column("trace_id", sa.String(length=32), nullable=False),
        sa.Column("span_id", sa.String(length=16), nullable=False),
        sa.Column("parent_span_id", sa.String(length=16), nullable=True),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("span_kind", sa.String(length=30), nullable=False),
        sa.Column("status_code", sa.String(length=10), nullable=False),
        sa.Column("status_message", sa.Text(), nullable=False),
        sa.Column("start_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("attributes", JSON_T, nullable=False),
        sa.Column("events", JSON_T, nullable=False),
        sa.Column("source", sa.String(length=30), nullable=False),
        sa.Column("model_name", sa.String(length=300), nullable=True),
        sa.Column("provider", sa.String(length=100), nullable=True),
        sa.Column("session_id", sa.String(length=64), nullable=True),
        sa.Column("prompt_tokens", sa.Integer(), nullable=True),
        sa.Column("completion_tokens", sa.Integer(), nullable=True),
        sa.Column("total_tokens", sa.Integer(), nullable=True),
        sa.Column("cost", sa.Float(), nullable=True),
        sa.Column("input_value", sa.Text(), nullable=True),
        sa.Column("output_value", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_spans_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spans")),
        sa.UniqueConstraint("span_id", name=op.f("uq_spans_span_id")),
    )
    with op.batch_alter_table("spans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_spans_model_name"), ["model_name"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_spans_parent_span_id"), ["parent_span_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_spans_project"), ["project"], unique=False)
        batch_op.create_index(batch_op.f("ix_spans_session_id"), ["session_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_spans_span_kind"), ["span_kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_spans_trace_id"), ["trace_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_spans_workspace_id"), ["workspace_id"], unique=False)
        batch_op.create_index(
            "ix_spans_workspace_start", ["workspace_id", "start_time"], unique=False
        )


def downgrade() -> None:
    """Drop the tracing tables."""
    with op.batch_alter_table("spans", schema=None) as batch_op:
        batch_op.drop_index("ix_spans_workspace_start")
        batch_op.drop_index(batch_op.f("ix_spans_workspace_id"))
        batch_op.drop_index(batch_op.f("ix_spans_trace_id"))
        batch_op.drop_index(batch_op.f("ix_spans_span_kind"))
        batch_op.drop_index(batch_op.f("ix_spans_session_id"))
        batch_op.drop_index(batch_op.f("ix_spans_project"))
        batch_op.drop_index(batch_op.f("ix_spans_parent_span_id"))
        batch_op.drop_index(batch_op.f("ix_spans_model_name"))

    op.drop_table("spans")
    with op.batch_alter_table("span_annotations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_span_annotations_workspace_id"))
        batch_op.drop_index(batch_op.f("ix_span_annotations_span_id"))

    op.drop_table("span_annotations")
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_index("ix_runs_workspace_started")
        batch_op.drop_index(batch_op.f("ix_runs_workspace_id"))
        batch_op.drop_index(batch_op.f("ix_runs_trace_id"))
        batch_op.drop_index(batch_op.f("ix_runs_span_id"))
        batch_op.drop_index(batch_op.f("ix_runs_session_id"))
        batch_op.drop_index(batch_op.f("ix_runs_prompt_version_id"))

    op.drop_table("runs")
    with op.batch_alter_table("playground_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_playground_sessions_workspace_id"))

    op.drop_table("playground_sessions")
    with op.batch_alter_table("model_endpoints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_model_endpoints_workspace_id"))

    op.drop_table("model_endpoints")
