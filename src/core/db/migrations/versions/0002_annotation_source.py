"""span annotation source (API|APP) as a column instead of metadata["_source"]

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 10:00:00.000000
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# JSONB on PostgreSQL, JSON text elsewhere (the same as core.db.base.JSON_TYPE).
JSON_T = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SOURCES = ("API", "APP")
META_KEY = "_source"

# A lightweight table for moving data (migrations never import the ORM models).
table = sa.table(
    "span_annotations",
    sa.column("id", sa.Integer()),
    sa.column("metadata", JSON_T),
    sa.column("source", sa.String(3)),
)


def upgrade() -> None:
    with op.batch_alter_table("span_annotations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("source", sa.String(length=3), server_default="APP", nullable=False)
        )
        batch_op.create_check_constraint(
            op.f("ck_span_annotations_source"), "source IN ('API', 'APP')"
        )
    conn = op.get_bind()
    for row_id, meta in conn.execute(sa.select(table.c.id, table.c.metadata)).all():
        meta = dict(meta) if isinstance(meta, dict) else {}
        # Before 0002 a row without "_source" was reported as API: keep reporting it so.
        source = meta.pop(META_KEY, "API")
        conn.execute(
            table.update()
            .where(table.c.id == row_id)
            .values(source=source if source in SOURCES else "API", metadata=meta)
        )


def downgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(table.c.id, table.c.metadata, table.c.source)
    ).all()
    # Put the source back where 0001's code looks for it, so a downgrade loses nothing.
    for row_id, meta, source in rows:
        restored: dict[str, Any] = {**(meta if isinstance(meta, dict) else {}), META_KEY: source}
        conn.execute(
            table.update().where(table.c.id == row_id).values(metadata=restored)
        )
    with op.batch_alter_table("span_annotations", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_span_annotations_source"), type_="check")
        batch_op.drop_column("source")
