"""Initial schema, evaluation: datasets and their versioned example revisions, experiments, evaluations.

Frozen DDL of revision 0001: never import ORM models here, never edit after release.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# JSONB on PostgreSQL, JSON text elsewhere (the same as core.db.base.JSON_TYPE).
JSON_T = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    """Create the evaluation tables."""
    op.create_table(
        "datasets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("version_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_datasets_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_datasets")),
        sa.UniqueConstraint("workspace_id", "name", name=op.f("uq_datasets_workspace_id_name")),
    )
    with op.batch_alter_table("datasets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_datasets_workspace_id"), ["workspace_id"], unique=False
        )

    op.create_table(
        "evaluator_definitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=50), nullable=False),
        sa.Column("config", JSON_T, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_evaluator_definitions_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluator_definitions")),
        sa.UniqueConstraint(
            "workspace_id", "name", name=op.f("uq_evaluator_definitions_workspace_id_name")
        ),
    )
    with op.batch_alter_table("evaluator_definitions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_evaluator_definitions_workspace_id"), ["workspace_id"], unique=False
        )

    op.create_table(
        "dataset_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=50), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_dataset_versions_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_versions")),
        sa.UniqueConstraint(
            "dataset_id", "version", name=op.f("uq_dataset_versions_dataset_id_version")
        ),
    )
    with op.batch_alter_table("dataset_versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dataset_versions_dataset_id"), ["dataset_id"], unique=False
        )

    op.create_table(
        "dataset_example_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("dataset_version_id", sa.Integer(), nullable=False),
        sa.Column("example_id", sa.String(length=32), nullable=False),
        sa.Column("revision_kind", sa.String(length=10), nullable=False),
        sa.Column("input", JSON_T, nullable=False),
        sa.Column("expected_output", JSON_T, nullable=True),
        sa.Column("metadata", JSON_T, nullable=False),
        sa.Column("source_span_id", sa.String(length=16), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "revision_kind IN ('CREATE', 'PATCH', 'DELETE')",
            name=op.f("ck_dataset_example_revisions_revision_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_dataset_example_revisions_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["dataset_version_id"],
            ["dataset_versions.id"],
            name=op.f("fk_dataset_example_revisions_dataset_version_id_dataset_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_example_revisions")),
        sa.UniqueConstraint(
            "dataset_version_id",
            "example_id",
            name=op.f("uq_dataset_example_revisions_dataset_version_id_example_id"),
        ),
    )
    with op.batch_alter_table("dataset_example_revisions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dataset_example_revisions_dataset_id"), ["dataset_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_dataset_example_revisions_dataset_version_id"),
            ["dataset_version_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_dataset_example_revisions_example_id"), ["example_id"], unique=False
        )

    op.create_table(
        "experiments",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=True),
        sa.Column("dataset_version_id", sa.Integer(), nullable=True),
        sa.Column("config", JSON_T, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("tags", JSON_T, nullable=False),
        sa.Column("metadata", JSON_T, nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'running', 'completed', 'cancelled', 'failed')",
            name=op.f("ck_experiments_status"),
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_experiments_dataset_id_datasets"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["dataset_version_id"],
            ["dataset_versions.id"],
            name=op.f("fk_experiments_dataset_version_id_dataset_versions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_experiments_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experiments")),
    )
    with op.batch_alter_table("experiments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_experiments_workspace_id"), ["workspace_id"], unique=False
        )

    op.create_table(
        "experiment_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("experiment_id", sa.String(length=32), nullable=False),
        sa.Column("example_id", sa.String(length=32), nullable=False),
        sa.Column("variant_key", sa.String(length=200), nullable=False),
        sa.Column("repetition", sa.Integer(), nullable=False),
        sa.Column("prompt_version_id", sa.Integer(), nullable=True),
        sa.Column("model", sa.String(length=300), nullable=True),
        sa.Column("run_id", sa.String(length=32), nullable=True),
        sa.Column("input", JSON_T, nullable=False),
        sa.Column("output", JSON_T, nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("cost", sa.Float(), nullable=True),
        sa.Column("total_tokens", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.id"],
            name=op.f("fk_experiment_runs_experiment_id_experiments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experiment_runs")),
        sa.UniqueConstraint(
            "experiment_id",
            "example_id",
            "variant_key",
            "repetition",
            name=op.f("uq_experiment_runs_experiment_id_example_id_variant_key_repetition"),
        ),
    )
    with op.batch_alter_table("experiment_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_experiment_runs_experiment_id"), ["experiment_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_experiment_runs_run_id"), ["run_id"], unique=False)

    op.create_table(
        "evaluations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("experiment_run_id", sa.Integer(), nullable=True),
        sa.Column("span_id", sa.String(length=16), nullable=True),
        sa.Column("evaluator", sa.String(length=200), nullable=False),
        sa.Column("annotator_kind", sa.String(length=10), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("explanation", sa.Text(), nullable=True),
        sa.Column("metadata", JSON_T, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_run_id"],
            ["experiment_runs.id"],
            name=op.f("fk_evaluations_experiment_run_id_experiment_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluations")),
    )
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_evaluations_experiment_run_id"), ["experiment_run_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_evaluations_span_id"), ["span_id"], unique=False)


def downgrade() -> None:
    """Drop the evaluation tables."""
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evaluations_span_id"))
        batch_op.drop_index(batch_op.f("ix_evaluations_experiment_run_id"))

    op.drop_table("evaluations")
    with op.batch_alter_table("experiment_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_experiment_runs_run_id"))
        batch_op.drop_index(batch_op.f("ix_experiment_runs_experiment_id"))

    op.drop_table("experiment_runs")
    with op.batch_alter_table("experiments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_experiments_workspace_id"))

    op.drop_table("experiments")
    with op.batch_alter_table("dataset_example_revisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dataset_example_revisions_example_id"))
        batch_op.drop_index(batch_op.f("ix_dataset_example_revisions_dataset_version_id"))
        batch_op.drop_index(batch_op.f("ix_dataset_example_revisions_dataset_id"))

    op.drop_table("dataset_example_revisions")
    with op.batch_alter_table("dataset_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dataset_versions_dataset_id"))

    op.drop_table("dataset_versions")
    with op.batch_alter_table("evaluator_definitions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evaluator_definitions_workspace_id"))

    op.drop_table("evaluator_definitions")
    with op.batch_alter_table("datasets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_datasets_workspace_id"))

    op.drop_table("datasets")
