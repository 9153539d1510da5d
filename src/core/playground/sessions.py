"""Saved playground sessions: upsert, list, rename, delete, load, export and import.

A session row holds the :class:`PlaygroundState` as JSON. Secrets never get there: the
state has no token fields, and :func:`scrub_secrets` masks (through ``core.credentials``)
credentials a user may have typed into the free-form parameter JSON.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import yaml
from pydantic import ValidationError
from sqlalchemy import select

from core import safe_yaml
from core.credentials import MASK, redact, redact_text
from core.db import Database
from core.db.models import PlaygroundSession
from core.playground.state import PlaygroundState

EXPORT_KIND = "prompt-workbench/playground-session"
MAX_IMPORT_BYTES = 5_000_000
DEFAULT_NAME = "Untitled session"
REDACTED = MASK


class SessionError(ValueError):
    """A session file or name that can't be used; the message says why."""


class SessionNotFoundError(LookupError):
    """No session with this id in this workspace."""


@dataclass(frozen=True)
class SessionInfo:
    """A saved session as listed."""

    id: str
    name: str
    created_at: datetime
    updated_at: datetime
    created_by: str | None
    n_cards: int


def scrub_secrets(state: PlaygroundState) -> PlaygroundState:
    """The state with credentials in parameter JSON masked (``"api_key": "***"``)."""
    cards = []
    for card in state.cards:
        # Masked, not dropped: the user sees that a key was there and must come from elsewhere.
        update: dict[str, Any] = {"invocation_parameters": redact(card.invocation_parameters)}
        text = card.extra_params_json.strip()
        if text:
            try:
                parsed = json.loads(text)
            except ValueError:
                # Invalid JSON is kept as typed (the runner names the error), keys masked.
                if redact_text(card.extra_params_json) != card.extra_params_json:
                    update["extra_params_json"] = redact_text(card.extra_params_json)
            else:
                masked = redact(parsed) if isinstance(parsed, dict) else parsed
                if masked != parsed:  # rewritten only when needed: keep the user's formatting
                    update["extra_params_json"] = json.dumps(masked, indent=2)
        cards.append(card.model_copy(update=update))
    return state.model_copy(update={"cards": cards})


def state_to_json(state: PlaygroundState) -> dict[str, Any]:
    """The state as stored and exported (secrets scrubbed)."""
    return scrub_secrets(state).model_dump(mode="json")


def state_hash(state: PlaygroundState) -> str:
    """A digest of the state, to save only when something changed."""
    blob = json.dumps(state_to_json(state), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def _clean_name(name: str | None) -> str:
    name = (name or "").strip()
    if not name:
        return DEFAULT_NAME
    if len(name) > 200:
        raise SessionError("a session name has at most 200 characters")
    return name


def _info(row: PlaygroundSession) -> SessionInfo:
    cards = row.state.get("cards") if isinstance(row.state, dict) else None
    return SessionInfo(
        id=row.id,
        name=row.name,
        created_at=row.created_at,
        updated_at=row.updated_at,
        created_by=row.created_by,
        n_cards=len(cards) if isinstance(cards, list) else 0,
    )


def save_session(
    db: Database,
    workspace_id: int,
    state: PlaygroundState,
    *,
    session_id: str | None = None,
    name: str | None = None,
    user: str | None = None,
) -> str:
    """Insert or update a session (``name`` None keeps the current one); returns its id."""
    payload = state_to_json(state)
    with db.session() as s:
        row = s.get(PlaygroundSession, session_id) if session_id else None
        if row is not None and row.workspace_id != workspace_id:
            raise SessionNotFoundError(f"session {session_id!r} not found")
        if row is None:
            row = PlaygroundSession(
                workspace_id=workspace_id, name=_clean_name(name), created_by=user
            )
            if session_id:
                row.id = session_id
            s.add(row)
        elif name is not None:
            row.name = _clean_name(name)
        row.state = payload
        s.flush()
        return row.id


def load_session(db: Database, workspace_id: int, session_id: str) -> tuple[SessionInfo, PlaygroundState]:
    """A saved session and its validated state; SessionNotFoundError if missing."""
    with db.session() as s:
        row = s.get(PlaygroundSession, session_id)
        if row is None or row.workspace_id != workspace_id:
            raise SessionNotFoundError(f"session {session_id!r} not found")
        info = _info(row)
        raw = row.state
    return info, parse_state(raw, where="saved session")


def list_sessions(db: Database, workspace_id: int, *, limit: int = 100) -> list[SessionInfo]:
    """Sessions of the workspace, most recently changed first."""
    query = (
        select(PlaygroundSession)
        .where(PlaygroundSession.workspace_id == workspace_id)
        .order_by(PlaygroundSession.updated_at.desc())
        .limit(limit)
    )
    with db.session() as s:
        return [_info(r) for r in s.scalars(query)]


def rename_session(db: Database, workspace_id: int, session_id: str, name: str) -> None:
    """Give a session a new name."""
    if not name.strip():
        raise SessionError("a session name can't be empty")
    with db.session() as s:
        row = s.get(PlaygroundSession, session_id)
        if row is None or row.workspace_id != workspace_id:
            raise SessionNotFoundError(f"session {session_id!r} not found")
        row.name = _clean_name(name)


def delete_session(db: Database, workspace_id: int, session_id: str) -> bool:
    """Delete a session; False if it did not exist. Its recorded runs stay."""
    with db.session() as s:
        row = s.get(PlaygroundSession, session_id)
        if row is None or row.workspace_id != workspace_id:
            return False
        s.delete(row)
        return True


def parse_state(raw: Any, *, where: str = "state") -> PlaygroundState:
    """Validate a state dict; SessionError names the first bad field."""
    try:
        return PlaygroundState.model_validate(raw)
    except ValidationError as exc:
        raise SessionError(_validation_message(exc, where)) from exc


def _validation_message(exc: ValidationError, where: str) -> str:
    problems = []
    for err in exc.errors()[:3]:
        loc = ".".join(str(p) for p in err["loc"])
        msg = "unknown field" if err["type"] == "extra_forbidden" else err["msg"]
        problems.append(f"{loc}: {msg}" if loc else msg)
    more = f" (and {exc.error_count() - 3} more)" if exc.error_count() > 3 else ""
    return f"{where} is not a valid playground session: " + "; ".join(problems) + more


def export_session(
    state: PlaygroundState, *, name: str = DEFAULT_NAME, fmt: Literal["yaml", "json"] = "yaml"
) -> str:
    """The session as a YAML or JSON document (no secrets)."""
    doc = {"kind": EXPORT_KIND, "version": state.version, "name": name, "state": state_to_json(state)}
    if fmt == "json":
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if fmt == "yaml":
        return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
    raise SessionError(f"unknown export format {fmt!r}: use yaml or json")


def import_session(data: str | bytes, *, filename: str | None = None) -> tuple[str, PlaygroundState]:
    """Parse an exported session file; returns (name, state) or raises SessionError."""
    if isinstance(data, bytes):
        if len(data) > MAX_IMPORT_BYTES:
            raise SessionError(f"the file is larger than {MAX_IMPORT_BYTES // 1_000_000} MB")
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SessionError("the file is not UTF-8 text") from exc
    if len(data) > MAX_IMPORT_BYTES:
        raise SessionError(f"the file is larger than {MAX_IMPORT_BYTES // 1_000_000} MB")
    doc = _parse_document(data, filename)
    if not isinstance(doc, dict):
        raise SessionError("the file must hold a mapping with 'kind', 'name' and 'state'")
    unknown = set(doc) - {"kind", "version", "name", "state"}
    if unknown:
        raise SessionError(f"unknown top-level field(s): {', '.join(sorted(unknown))}")
    if doc.get("kind") != EXPORT_KIND:
        raise SessionError(f"not a playground session file (kind should be {EXPORT_KIND!r})")
    if "state" not in doc:
        raise SessionError("the file has no 'state'")
    state = parse_state(doc["state"], where="the file")
    # A hand-edited file may carry keys: drop them before anything is saved.
    return _clean_name(str(doc.get("name") or "")), scrub_secrets(state)


def _parse_document(text: str, filename: str | None) -> Any:
    is_json = (filename or "").lower().endswith(".json") or text.lstrip().startswith("{")
    try:
        if is_json:
            return json.loads(text)
        return safe_yaml.loads(text)
    except json.JSONDecodeError as exc:
        raise SessionError(f"invalid JSON: line {exc.lineno} column {exc.colno}: {exc.msg}") from exc
    except safe_yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1} column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise SessionError(f"invalid YAML: {where}{problem}") from exc
