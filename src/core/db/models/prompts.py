"""Prompt registry tables: folders, prompts, versions, labels, comments, snippets (RG1-RG8)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db.base import Base, UtcDateTime
from core.db.models._common import (
    created_at_column,
    enum_check,
    json_column,
    updated_at_column,
    workspace_fk,
)

TEMPLATE_TYPES = ("chat", "text")
TEMPLATE_FORMATS = ("f-string", "mustache", "jinja2", "none")


class Folder(Base):
    """A folder of prompts; folders nest through ``parent_id``."""

    __tablename__ = "folders"
    __table_args__ = (UniqueConstraint("workspace_id", "parent_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("folders.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = created_at_column()


class Prompt(Base):
    """A named prompt; its content lives in append-only versions."""

    __tablename__ = "prompts"
    __table_args__ = (
        UniqueConstraint("workspace_id", "name"),
        enum_check("template_type", TEMPLATE_TYPES, "template_type"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    folder_id: Mapped[int | None] = mapped_column(
        ForeignKey("folders.id", ondelete="SET NULL"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    template_type: Mapped[str] = mapped_column(String(10), default="chat")
    tags: Mapped[list[Any]] = json_column(default=list, nullable=False)
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    archived_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Bumped on every new version so concurrent writers serialise on this row.
    version_count: Mapped[int] = mapped_column(Integer, default=0, nullable=False)

    versions: Mapped[list[PromptVersion]] = relationship(
        back_populates="prompt", order_by="PromptVersion.version", cascade="all, delete-orphan"
    )


class PromptVersion(Base):
    """One immutable version of a prompt: template, format, model configuration, note."""

    __tablename__ = "prompt_versions"
    __table_args__ = (
        UniqueConstraint("prompt_id", "version"),
        enum_check("template_type", TEMPLATE_TYPES, "template_type"),
        enum_check("template_format", TEMPLATE_FORMATS, "template_format"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    prompt_id: Mapped[int] = mapped_column(ForeignKey("prompts.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    template_type: Mapped[str] = mapped_column(String(10))
    template_format: Mapped[str] = mapped_column(String(10))
    # chat: list of {"role", "content", ...} messages; text: a string.
    template: Mapped[Any] = json_column(nullable=False)
    # {"model", "provider", "invocation_parameters", "tools", "tool_choice", "response_format"}
    llm_config: Mapped[dict[str, Any]] = json_column(default=dict, nullable=False)
    sample_variables: Mapped[dict[str, Any]] = json_column(default=dict, nullable=False)
    note: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str | None] = mapped_column(String(100))
    source: Mapped[str | None] = mapped_column(String(100))
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = created_at_column()

    prompt: Mapped[Prompt] = relationship(back_populates="versions")


class PromptLabel(Base):
    """A release label (production, staging, custom) pointing at one version or a weighted mix."""

    __tablename__ = "prompt_labels"
    __table_args__ = (UniqueConstraint("prompt_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    prompt_id: Mapped[int] = mapped_column(ForeignKey("prompts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    version_id: Mapped[int | None] = mapped_column(
        ForeignKey("prompt_versions.id", ondelete="CASCADE")
    )
    # Weighted release: [{"version_id": int, "weight": float}, ...]; None for a plain label.
    weights: Mapped[list[Any] | None] = json_column()
    updated_by: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[datetime] = updated_at_column()


class PromptLabelEvent(Base):
    """History of label moves: who moved which label, when, from where to where."""

    __tablename__ = "prompt_label_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    prompt_id: Mapped[int] = mapped_column(ForeignKey("prompts.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(100))
    from_target: Mapped[Any] = json_column()
    to_target: Mapped[Any] = json_column()
    actor: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = created_at_column()


class VersionComment(Base):
    """A review comment on a prompt version."""

    __tablename__ = "version_comments"
    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("prompt_versions.id", ondelete="CASCADE"), index=True
    )
    author: Mapped[str | None] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()


class Snippet(Base):
    """A reusable, versioned text block included into templates."""

    __tablename__ = "snippets"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = workspace_fk()
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    version_count: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    created_at: Mapped[datetime] = created_at_column()
    archived_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class SnippetVersion(Base):
    """One immutable version of a snippet's text."""

    __tablename__ = "snippet_versions"
    __table_args__ = (UniqueConstraint("snippet_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    snippet_id: Mapped[int] = mapped_column(
        ForeignKey("snippets.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = created_at_column()
