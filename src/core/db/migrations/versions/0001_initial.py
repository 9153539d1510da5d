"""initial schema for the whole feature map

Revision ID: 0001
Revises:
Create Date: 2026-11-23 15:29:36.888152
"""

from __future__ import annotations

from core.db.migrations.initial_schema import accounts, evaluation, prompts, tracing

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Tables of later concerns refer to workspaces/users (accounts) and to tables of their own
# concern only, so concerns are created in this order and dropped in reverse.
CONCERNS = (accounts, prompts, tracing, evaluation)


def upgrade() -> None:
    for concern in CONCERNS:
        concern.upgrade()


def downgrade() -> None:
    for concern in reversed(CONCERNS):
        concern.downgrade()
