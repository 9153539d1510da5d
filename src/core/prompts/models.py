"""Validated input models (pydantic, extra="forbid") and the frozen values the registry returns."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.prompts.errors import ValidationError

TemplateType = Literal["chat", "text"]
TemplateFormatName = Literal["f-string", "mustache", "jinja2", "none"]
ROLES = ("system", "developer", "user", "assistant", "tool")

# Names travel in URLs (`/v1/prompts/name@production`), file names and `[[snippet:name]]`
# includes, so "/", "@", brackets and control characters are kept out of them.
_NAME_RE = re.compile(r"^[\w][\w .\-]{0,199}$")
_LABEL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")
_VERSION_REF_RE = re.compile(r"^[vV]?\d+$")
# "latest" always means the newest version, so it can't be a label someone moves.
RESERVED_LABELS = frozenset({"latest"})


def check_name(name: str, what: str = "prompt") -> str:
    """Return ``name`` stripped, or raise ValidationError saying which characters are allowed."""
    if not isinstance(name, str):
        raise ValidationError(f"{what} name must be a string, not {type(name).__name__}")
    cleaned = name.strip()
    if not _NAME_RE.match(cleaned) or cleaned.endswith("."):
        raise ValidationError(
            f"invalid {what} name {name!r}: use 1-200 letters, digits, spaces, '_', '-' or '.' "
            "(starting with a letter or digit; no '/', '@' or brackets)"
        )
    return cleaned


def parse_ref(ref: str) -> tuple[str, str | None, int | None]:
    """Split ``name``, ``name@label``, ``name@v3`` or ``name@3`` into (name, label, version)."""
    name, sep, tail = ref.rpartition("@")
    if not sep:
        return ref, None, None
    if _VERSION_REF_RE.match(tail):
        return name, None, int(tail.lstrip("vV"))
    return name, tail or None, None


def check_label_name(label: str) -> str:
    """Return ``label`` if it is a valid label name, else raise ValidationError."""
    if not isinstance(label, str) or not _LABEL_RE.match(label.strip()):
        raise ValidationError(
            f"invalid label {label!r}: use 1-100 letters, digits, '_', '-' or '.'"
        )
    if label.strip() in RESERVED_LABELS:
        raise ValidationError(f"{label!r} is reserved: it always means the newest version")
    if _VERSION_REF_RE.match(label.strip()):
        # "name@v3" and "name@3" mean version 3, so a label can't look like that.
        raise ValidationError(f"invalid label {label!r}: it looks like a version number")
    return label.strip()


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LlmConfig(_Strict):
    """The model configuration a prompt version carries (RG7)."""

    model: str = ""
    provider: str | None = None
    invocation_parameters: dict[str, Any] = Field(default_factory=dict)
    tools: list[dict[str, Any]] = Field(default_factory=list)
    tool_choice: str | dict[str, Any] | None = None
    response_format: dict[str, Any] | None = None


class ChatMessage(_Strict):
    """One message of a chat template."""

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str = ""
    name: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = None


class VersionSpec(_Strict):
    """What a new version is made of; validated before anything is written."""

    template_type: TemplateType = "chat"
    template_format: TemplateFormatName = "f-string"
    template: list[ChatMessage] | str
    llm_config: LlmConfig = Field(default_factory=LlmConfig)
    sample_variables: dict[str, Any] = Field(default_factory=dict)
    note: str = ""

    @field_validator("template")
    @classmethod
    def _non_empty_chat(cls, value: list[ChatMessage] | str) -> list[ChatMessage] | str:
        if isinstance(value, list) and not value:
            raise ValueError("a chat template needs at least one message")
        return value

    def template_json(self) -> list[dict[str, Any]] | str:
        """The template as stored: messages without unset optional keys, or the text."""
        if isinstance(self.template, str):
            return self.template
        return [m.model_dump(exclude_none=True) for m in self.template]


class PromptSpec(_Strict):
    """A prompt's metadata (name, folder path, description, tags, template type)."""

    name: str
    folder: str | None = None
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    template_type: TemplateType = "chat"


def content_hash(
    template_type: str,
    template_format: str,
    template: Any,
    llm_config: dict[str, Any],
    sample_variables: dict[str, Any] | None = None,
) -> str:
    """SHA-256 over the canonical JSON of what makes two versions the same."""
    payload = json.dumps(
        [template_type, template_format, template, llm_config or {}, sample_variables or {}],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class PromptVersionInfo:
    """One stored version of a prompt, detached from the database session."""

    prompt_id: int
    prompt_name: str
    version_id: int
    version: int
    template_type: str
    template_format: str
    template: Any  # list of {"role", "content", ...} for chat, a string for text
    llm_config: dict[str, Any]
    sample_variables: dict[str, Any]
    note: str
    author: str | None
    created_at: datetime
    labels: list[str] = field(default_factory=list)
    content_hash: str = ""
    source: str | None = None

    @property
    def ref(self) -> str:
        """``name@vN``: how traces and the UI refer to this version."""
        return f"{self.prompt_name}@v{self.version}"


@dataclass(frozen=True)
class PromptSummary:
    """A row of the prompt list."""

    id: int
    name: str
    folder_id: int | None
    folder_path: str | None
    description: str
    tags: list[str]
    template_type: str
    latest_version: int
    labels: dict[str, str]  # label -> "v3" or "v7 90% / v8 10%"
    created_by: str | None
    updated_at: datetime
    archived: bool


@dataclass(frozen=True)
class FolderInfo:
    """A folder and its full slash-separated path."""

    id: int
    name: str
    parent_id: int | None
    path: str


@dataclass(frozen=True)
class LabelInfo:
    """Where a label points: one version, or weighted versions (version number, weight)."""

    name: str
    version: int | None
    weights: list[tuple[int, float]] | None
    updated_by: str | None
    updated_at: datetime

    def describe(self) -> str:
        """``v3`` or ``v7 90% / v8 10%``."""
        if self.weights:
            total = sum(w for _, w in self.weights) or 1.0
            return " / ".join(f"v{v} {100 * w / total:g}%" for v, w in self.weights)
        return f"v{self.version}" if self.version is not None else "(none)"

    @property
    def versions(self) -> list[int]:
        """Every version number this label can resolve to."""
        if self.weights:
            return [v for v, _ in self.weights]
        return [self.version] if self.version is not None else []


@dataclass(frozen=True)
class LabelEventInfo:
    """One recorded label move."""

    label: str
    from_target: Any
    to_target: Any
    actor: str | None
    created_at: datetime


@dataclass(frozen=True)
class CommentInfo:
    """A review comment on a version."""

    id: int
    version: int
    author: str | None
    body: str
    created_at: datetime
