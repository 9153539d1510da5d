"""Initial schema, prompts: folders, prompts, versions, labels and their history, comments, snippets.

Frozen DDL of revision 0001: never import ORM models here, never edit after release.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# JSONB on PostgreSQL, JSON text elsewhere (the same as core.db.base.JSON_TYPE).
JSON_T = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    """Create the prompts tables."""
    op.create_table(
        "folders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["folders.id"],
            name=op.f("fk_folders_parent_id_folders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_folders_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_folders")),
        sa.UniqueConstraint(
            "workspace_id", "parent_id", "name", name=op.f("uq_folders_workspace_id_parent_id_name")
        ),
    )
    with op.batch_alter_table("folders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_folders_parent_id"), ["parent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_folders_workspace_id"), ["workspace_id"], unique=False)

    op.create_table(
        "snippets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("version_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_snippets_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_snippets")),
        sa.UniqueConstraint("workspace_id", "name", name=op.f("uq_snippets_workspace_id_name")),
    )
    with op.batch_alter_table("snippets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_snippets_workspace_id"), ["workspace_id"], unique=False
        )

    op.create_table(
        "prompts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("folder_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("template_type", sa.String(length=10), nullable=False),
        sa.Column("tags", JSON_T, nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version_count", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "template_type IN ('chat', 'text')", name=op.f("ck_prompts_template_type")
        ),
        sa.ForeignKeyConstraint(
            ["folder_id"],
            ["folders.id"],
            name=op.f("fk_prompts_folder_id_folders"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_prompts_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prompts")),
        sa.UniqueConstraint("workspace_id", "name", name=op.f("uq_prompts_workspace_id_name")),
    )
    with op.batch_alter_table("prompts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_prompts_folder_id"), ["folder_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_prompts_workspace_id"), ["workspace_id"], unique=False)

    op.create_table(
        "snippet_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("snippet_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["snippet_id"],
            ["snippets.id"],
            name=op.f("fk_snippet_versions_snippet_id_snippets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_snippet_versions")),
        sa.UniqueConstraint(
            "snippet_id", "version", name=op.f("uq_snippet_versions_snippet_id_version")
        ),
    )
    with op.batch_alter_table("snippet_versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_snippet_versions_snippet_id"), ["snippet_id"], unique=False
        )

    op.create_table(
        "prompt_label_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("prompt_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("from_target", JSON_T, nullable=True),
        sa.Column("to_target", JSON_T, nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["prompt_id"],
            ["prompts.id"],
            name=op.f("fk_prompt_label_events_prompt_id_prompts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prompt_label_events")),
    )
    with op.batch_alter_table("prompt_label_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_prompt_label_events_prompt_id"), ["prompt_id"], unique=False
        )

    op.create_table(
        "prompt_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("prompt_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("template_type", sa.String(length=10), nullable=False),
        sa.Column("template_format", sa.String(length=10), nullable=False),
        sa.Column("template", JSON_T, nullable=False),
        sa.Column("llm_config", JSON_T, nullable=False),
        sa.Column("sample_variables", JSON_T, nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=100), nullable=True),
        sa.Column("source", sa.String(length=100), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "template_format IN ('f-string', 'mustache', 'jinja2', 'none')",
            name=op.f("ck_prompt_versions_template_format"),
        ),
        sa.CheckConstraint(
            "template_type IN ('chat', 'text')", name=op.f("ck_prompt_versions_template_type")
        ),
        sa.ForeignKeyConstraint(
            ["prompt_id"],
            ["prompts.id"],
            name=op.f("fk_prompt_versions_prompt_id_prompts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prompt_versions")),
        sa.UniqueConstraint(
            "prompt_id", "version", name=op.f("uq_prompt_versions_prompt_id_version")
        ),
    )
    with op.batch_alter_table("prompt_versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_prompt_versions_content_hash"), ["content_hash"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_prompt_versions_prompt_id"), ["prompt_id"], unique=False
        )

    op.create_table(
        "prompt_labels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("prompt_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=True),
        sa.Column("weights", JSON_T, nullable=True),
        sa.Column("updated_by", sa.String(length=100), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["prompt_id"],
            ["prompts.id"],
            name=op.f("fk_prompt_labels_prompt_id_prompts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["prompt_versions.id"],
            name=op.f("fk_prompt_labels_version_id_prompt_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prompt_labels")),
        sa.UniqueConstraint("prompt_id", "name", name=op.f("uq_prompt_labels_prompt_id_name")),
    )
    with op.batch_alter_table("prompt_labels", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_prompt_labels_prompt_id"), ["prompt_id"], unique=False)

    op.create_table(
        "version_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=100), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["prompt_versions.id"],
            name=op.f("fk_version_comments_version_id_prompt_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_version_comments")),
    )
    with op.batch_alter_table("version_comments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_version_comments_version_id"), ["version_id"], unique=False
        )


def downgrade() -> None:
    """Drop the prompts tables."""
    with op.batch_alter_table("version_comments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_version_comments_version_id"))

    op.drop_table("version_comments")
    with op.batch_alter_table("prompt_labels", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_prompt_labels_prompt_id"))

    op.drop_table("prompt_labels")
    with op.batch_alter_table("prompt_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_prompt_versions_prompt_id"))
        batch_op.drop_index(batch_op.f("ix_prompt_versions_content_hash"))

    op.drop_table("prompt_versions")
    with op.batch_alter_table("prompt_label_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_prompt_label_events_prompt_id"))

    op.drop_table("prompt_label_events")
    with op.batch_alter_table("snippet_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_snippet_versions_snippet_id"))

    op.drop_table("snippet_versions")
    with op.batch_alter_table("prompts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_prompts_workspace_id"))
        batch_op.drop_index(batch_op.f("ix_prompts_folder_id"))

    op.drop_table("prompts")
    with op.batch_alter_table("snippets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_snippets_workspace_id"))

    op.drop_table("snippets")
    with op.batch_alter_table("folders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_folders_workspace_id"))
        batch_op.drop_index(batch_op.f("ix_folders_parent_id"))

    op.drop_table("folders")
