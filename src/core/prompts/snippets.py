"""Snippets: named, versioned text blocks included into templates (RG3).

Include syntax (the same in every template format, because no format gives meaning to
double square brackets)::

    [[snippet:tone]]        the newest version of snippet "tone"
    [[snippet:tone@3]]      version 3 of it, pinned

Includes are expanded before variables are detected and before rendering, so variables
written inside a snippet are variables of every prompt that includes it. Snippets may
include snippets; a loop is refused with the names around it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.db import Database
from core.db.base import utcnow
from core.db.models import Prompt, PromptVersion, Snippet, SnippetVersion
from core.prompts.errors import (
    DuplicateNameError,
    SnippetCycleError,
    SnippetNotFoundError,
    ValidationError,
)
from core.prompts.models import check_name

INCLUDE_RE = re.compile(r"\[\[snippet:([^\[\]@\n]{1,200}?)(?:@(\d{1,9}))?\]\]")
MAX_DEPTH = 16
# Nested includes multiply: a few snippets each including the next ten times would
# otherwise build gigabytes, so expansion stops at a size no real prompt reaches.
MAX_EXPANDED_CHARS = 1_000_000

Resolver = Callable[[str, int | None], str]


@dataclass(frozen=True)
class SnippetInfo:
    """A snippet with its newest version."""

    id: int
    name: str
    description: str
    latest_version: int
    body: str
    updated_at: datetime
    archived: bool


@dataclass(frozen=True)
class SnippetVersionInfo:
    """One immutable version of a snippet."""

    snippet_name: str
    version: int
    body: str
    note: str
    author: str | None
    created_at: datetime


@dataclass(frozen=True)
class SnippetUsage:
    """Where a snippet is included: a prompt (or snippet) and which of its versions."""

    kind: str  # "prompt" or "snippet"
    name: str
    versions: list[int]
    in_latest: bool
    pinned: list[int]  # snippet versions pinned by those includes (empty: follows newest)


def snippet_references(text: str) -> list[tuple[str, int | None]]:
    """The ``(name, pinned version or None)`` of every include in ``text``, in order."""
    return [
        (m.group(1).strip(), int(m.group(2)) if m.group(2) else None)
        for m in INCLUDE_RE.finditer(text)
    ]


def template_references(template: Any) -> list[tuple[str, int | None]]:
    """Every include in a text template or in the contents of a chat template's messages."""
    refs: list[tuple[str, int | None]] = []
    for text in _texts(template):
        refs.extend(snippet_references(text))
    return refs


def _texts(template: Any) -> list[str]:
    if isinstance(template, str):
        return [template]
    if isinstance(template, list):
        return [m.get("content") or "" for m in template if isinstance(m, dict)]
    return []


def expand_text(text: str, resolve: Resolver, _stack: tuple[str, ...] = ()) -> str:
    """Replace every include in ``text`` by the snippet's (recursively expanded) body."""
    if "[[snippet:" not in text:
        return text
    budget = [MAX_EXPANDED_CHARS]

    def expand(body: str, stack: tuple[str, ...]) -> str:
        def replace(match: re.Match[str]) -> str:
            name = match.group(1).strip()
            version = int(match.group(2)) if match.group(2) else None
            if name in stack:
                raise SnippetCycleError([*stack[stack.index(name) :], name])
            if len(stack) >= MAX_DEPTH:
                raise ValidationError(f"snippets nested deeper than {MAX_DEPTH} levels")
            inner = expand(resolve(name, version), (*stack, name))
            budget[0] -= len(inner)
            if budget[0] < 0:
                raise ValidationError(
                    f"expanding snippets gives more than {MAX_EXPANDED_CHARS:,} characters"
                )
            return inner

        return INCLUDE_RE.sub(replace, body)

    return expand(text, _stack)


def expand_template(template: Any, resolve: Resolver) -> Any:
    """``template`` (text or chat messages) with every include expanded."""
    if isinstance(template, str):
        return expand_text(template, resolve)
    if isinstance(template, list):
        out = []
        for message in template:
            if isinstance(message, dict) and isinstance(message.get("content"), str):
                message = {**message, "content": expand_text(message["content"], resolve)}
            out.append(message)
        return out
    return template


class SessionResolver:
    """Resolves includes from the database, reading each snippet version at most once."""

    def __init__(self, session: Session, workspace_id: int) -> None:
        self.session = session
        self.workspace_id = workspace_id
        self._cache: dict[tuple[str, int | None], str] = {}
        self.overrides: dict[str, str] = {}  # name -> unsaved body (checking a draft)

    def __call__(self, name: str, version: int | None) -> str:
        if version is None and name in self.overrides:
            return self.overrides[name]
        key = (name, version)
        if key not in self._cache:
            self._cache[key] = self._load(name, version)
        return self._cache[key]

    def _load(self, name: str, version: int | None) -> str:
        snippet = self.session.scalar(
            select(Snippet).where(Snippet.workspace_id == self.workspace_id, Snippet.name == name)
        )
        if snippet is None:
            raise SnippetNotFoundError(f"unknown snippet {name!r} (included as [[snippet:{name}]])")
        query = select(SnippetVersion.body).where(SnippetVersion.snippet_id == snippet.id)
        if version is None:
            body = self.session.scalar(query.order_by(SnippetVersion.version.desc()).limit(1))
        else:
            body = self.session.scalar(query.where(SnippetVersion.version == version))
        if body is None:
            raise SnippetNotFoundError(
                f"snippet {name!r} has no version {version} (included as [[snippet:{name}@{version}]])"
                if version is not None
                else f"snippet {name!r} has no versions"
            )
        return body


def expand_with_db(db: Database, workspace_id: int, template: Any) -> Any:
    """``template`` with its includes expanded from the stored snippets."""
    if not template_references(template):
        return template
    with db.read_session() as s:
        return expand_template(template, SessionResolver(s, workspace_id))


def _snippet(session: Session, workspace_id: int, name: str) -> Snippet:
    snippet = session.scalar(
        select(Snippet).where(Snippet.workspace_id == workspace_id, Snippet.name == name)
    )
    if snippet is None:
        raise SnippetNotFoundError(f"unknown snippet {name!r}")
    return snippet


def _version_info(snippet: Snippet, row: SnippetVersion) -> SnippetVersionInfo:
    return SnippetVersionInfo(
        snippet_name=snippet.name,
        version=row.version,
        body=row.body,
        note=row.note,
        author=row.author,
        created_at=row.created_at,
    )


def save_snippet(
    db: Database,
    workspace_id: int,
    name: str,
    body: str,
    *,
    note: str = "",
    author: str | None = None,
    description: str | None = None,
    create: bool | None = None,
) -> SnippetVersionInfo:
    """Save ``body`` as the next version of snippet ``name``.

    ``create=True`` insists on a new snippet (DuplicateNameError if it exists),
    ``create=False`` on an existing one; ``None`` accepts either.
    """
    name = check_name(name, "snippet")
    if not isinstance(body, str):
        raise ValidationError("snippet body must be text")
    try:
        with db.session() as s:
            snippet = s.scalar(
                select(Snippet)
                .where(Snippet.workspace_id == workspace_id, Snippet.name == name)
                .with_for_update()
            )
            if snippet is not None and create:
                raise DuplicateNameError(f"a snippet named {name!r} already exists")
            if snippet is None:
                if create is False:
                    raise SnippetNotFoundError(f"unknown snippet {name!r}")
                snippet = Snippet(
                    workspace_id=workspace_id, name=name, description=description or ""
                )
                s.add(snippet)
                s.flush()
            elif description is not None:
                snippet.description = description
            # Refuse a body that would make the snippets include each other in a loop.
            resolver = SessionResolver(s, workspace_id)
            resolver.overrides[name] = body
            expand_text(body, resolver, (name,))
            snippet.version_count += 1
            snippet.archived_at = None
            row = SnippetVersion(
                snippet_id=snippet.id,
                version=snippet.version_count,
                body=body,
                note=note,
                author=author,
            )
            s.add(row)
            s.flush()
            return _version_info(snippet, row)
    except IntegrityError as exc:
        # Another writer created the same snippet first: report it as a duplicate.
        raise DuplicateNameError(f"a snippet named {name!r} already exists") from exc


def get_snippet(
    db: Database, workspace_id: int, name: str, version: int | None = None
) -> SnippetVersionInfo:
    """A snippet version (the newest when ``version`` is None)."""
    with db.read_session() as s:
        snippet = _snippet(s, workspace_id, name)
        query = select(SnippetVersion).where(SnippetVersion.snippet_id == snippet.id)
        if version is None:
            row = s.scalar(query.order_by(SnippetVersion.version.desc()).limit(1))
        else:
            row = s.scalar(query.where(SnippetVersion.version == version))
        if row is None:
            raise SnippetNotFoundError(f"snippet {name!r} has no version {version}")
        return _version_info(snippet, row)


def list_snippet_versions(db: Database, workspace_id: int, name: str) -> list[SnippetVersionInfo]:
    """Every version of a snippet, newest first."""
    with db.read_session() as s:
        snippet = _snippet(s, workspace_id, name)
        rows = s.scalars(
            select(SnippetVersion)
            .where(SnippetVersion.snippet_id == snippet.id)
            .order_by(SnippetVersion.version.desc())
        )
        return [_version_info(snippet, r) for r in rows]


def list_snippets(
    db: Database, workspace_id: int, *, search: str | None = None, include_archived: bool = False
) -> list[SnippetInfo]:
    """Snippets of the workspace with their newest version, by name."""
    with db.read_session() as s:
        newest = (
            select(SnippetVersion.snippet_id, func.max(SnippetVersion.version).label("v"))
            .group_by(SnippetVersion.snippet_id)
            .subquery()
        )
        query = (
            select(Snippet, SnippetVersion)
            .join(newest, newest.c.snippet_id == Snippet.id)
            .join(
                SnippetVersion,
                (SnippetVersion.snippet_id == Snippet.id) & (SnippetVersion.version == newest.c.v),
            )
            .where(Snippet.workspace_id == workspace_id)
            .order_by(Snippet.name)
        )
        if not include_archived:
            query = query.where(Snippet.archived_at.is_(None))
        out = []
        needle = (search or "").strip().lower()
        for snippet, row in s.execute(query).tuples():
            if needle and needle not in snippet.name.lower() and needle not in row.body.lower():
                continue
            out.append(
                SnippetInfo(
                    id=snippet.id,
                    name=snippet.name,
                    description=snippet.description,
                    latest_version=row.version,
                    body=row.body,
                    updated_at=row.created_at,
                    archived=snippet.archived_at is not None,
                )
            )
        return out


def archive_snippet(db: Database, workspace_id: int, name: str, archived: bool = True) -> None:
    """Hide a snippet from the list (templates that include it keep working)."""
    with db.session() as s:
        _snippet(s, workspace_id, name).archived_at = utcnow() if archived else None


def snippet_usages(db: Database, workspace_id: int, name: str) -> list[SnippetUsage]:
    """Every prompt (and snippet) whose versions include snippet ``name``."""
    marker = f"[[snippet:{name}"
    usages: list[SnippetUsage] = []
    with db.read_session() as s:
        _snippet(s, workspace_id, name)
        # A LIKE on the JSON text narrows the scan; the regex below decides.
        rows = s.execute(
            select(Prompt.name, Prompt.version_count, PromptVersion.version, PromptVersion.template)
            .join(PromptVersion, PromptVersion.prompt_id == Prompt.id)
            .where(
                Prompt.workspace_id == workspace_id,
                cast(PromptVersion.template, String).contains("[[snippet:", autoescape=True),
            )
            .order_by(Prompt.name, PromptVersion.version)
        ).tuples()
        by_prompt: dict[str, tuple[list[int], set[int], int]] = {}
        for prompt_name, latest, version, template in rows:
            pins = [v for n, v in template_references(template) if n == name]
            if not pins:
                continue
            versions, pinned, _ = by_prompt.setdefault(prompt_name, ([], set(), latest))
            versions.append(version)
            pinned.update(v for v in pins if v is not None)
        for prompt_name, (versions, pinned, latest) in by_prompt.items():
            usages.append(
                SnippetUsage("prompt", prompt_name, versions, latest in versions, sorted(pinned))
            )
        snippet_rows = s.execute(
            select(Snippet.name, Snippet.version_count, SnippetVersion.version, SnippetVersion.body)
            .join(SnippetVersion, SnippetVersion.snippet_id == Snippet.id)
            .where(Snippet.workspace_id == workspace_id, Snippet.name != name)
            .where(SnippetVersion.body.contains(marker, autoescape=True))
            .order_by(Snippet.name, SnippetVersion.version)
        ).tuples()
        by_snippet: dict[str, tuple[list[int], set[int], int]] = {}
        for snippet_name, latest, version, body in snippet_rows:
            refs = [v for n, v in snippet_references(body) if n == name]
            if not refs:
                continue
            versions, pinned, _ = by_snippet.setdefault(snippet_name, ([], set(), latest))
            versions.append(version)
            pinned.update(v for v in refs if v is not None)
        for snippet_name, (versions, pinned, latest) in by_snippet.items():
            usages.append(
                SnippetUsage("snippet", snippet_name, versions, latest in versions, sorted(pinned))
            )
    return usages
