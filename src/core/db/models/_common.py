"""Column helpers shared by the model modules."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import JSON_TYPE, UtcDateTime, utcnow


def created_at_column() -> Mapped[datetime]:
    """A non-null creation timestamp defaulting to now (UTC)."""
    return mapped_column(UtcDateTime(), default=utcnow, nullable=False)


def updated_at_column() -> Mapped[datetime]:
    """A non-null timestamp refreshed on every update."""
    return mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow, nullable=False)


def workspace_fk() -> Mapped[int]:
    """The owning workspace; rows of a deleted workspace go with it."""
    return mapped_column(
        Integer, ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False, index=True
    )


def json_column(
    default: Callable[[], Any] | None = None, nullable: bool = True, name: str | None = None
) -> Any:
    """A JSON column (JSONB on PostgreSQL); ``default`` is a factory such as ``dict``."""
    kwargs: dict[str, Any] = {"nullable": nullable}
    if default is not None:
        kwargs["default"] = default
    if name:
        return mapped_column(name, JSON_TYPE, **kwargs)
    return mapped_column(JSON_TYPE, **kwargs)


def enum_check(column: str, values: tuple[str, ...], name: str) -> Any:
    """A CHECK constraint keeping a string column within ``values``."""
    from sqlalchemy import CheckConstraint

    quoted = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({quoted})", name=name)
