"""API tokens for the REST API: created once in plaintext, stored only as a SHA-256 hash.

A token is ``pwb_`` followed by 43 URL-safe characters (256 random bits). With that much
entropy an unsalted SHA-256 is enough: there is nothing to brute-force, and the hash
can be indexed so verifying is one lookup.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from core.db import Database
from core.db.base import utcnow
from core.db.models import ApiToken

TOKEN_PREFIX = "pwb_"
# Recording last use on every request would turn each read into a write; once a minute
# per token is plenty to tell used tokens from forgotten ones.
LAST_USED_EVERY_S = 60.0


class TokenError(ValueError):
    """A token name or id that can't be accepted."""


@dataclass(frozen=True)
class TokenInfo:
    """A token as listed (never includes the secret)."""

    id: int
    workspace_id: int
    name: str
    prefix: str  # the first characters, to recognise a token in a list
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        """False once revoked."""
        return self.revoked_at is None


def hash_token(token: str) -> str:
    """The stored form of ``token``: hex SHA-256."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _info(row: ApiToken) -> TokenInfo:
    return TokenInfo(
        id=row.id,
        workspace_id=row.workspace_id,
        name=row.name,
        prefix=row.prefix,
        scopes=list(row.scopes or []),
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


def create_token(
    db: Database,
    workspace_id: int,
    name: str,
    *,
    scopes: list[str] | None = None,
    user_id: int | None = None,
) -> tuple[str, TokenInfo]:
    """Create a token; return its plaintext (shown once, never stored) and its info."""
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise TokenError("a token needs a name of 1-200 characters")
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with db.session() as s:
        row = ApiToken(
            workspace_id=workspace_id,
            user_id=user_id,
            name=name,
            prefix=plaintext[:12],
            token_hash=hash_token(plaintext),
            scopes=list(scopes or ["prompts:read"]),
        )
        s.add(row)
        s.flush()
        return plaintext, _info(row)


def list_tokens(
    db: Database, workspace_id: int, *, include_revoked: bool = True
) -> list[TokenInfo]:
    """Tokens of the workspace, newest first."""
    with db.read_session() as s:
        query = (
            select(ApiToken)
            .where(ApiToken.workspace_id == workspace_id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
        if not include_revoked:
            query = query.where(ApiToken.revoked_at.is_(None))
        return [_info(r) for r in s.scalars(query)]


def revoke_token(db: Database, workspace_id: int, token_id: int) -> TokenInfo:
    """Revoke a token; requests with it fail from now on."""
    with db.session() as s:
        row = s.scalar(
            select(ApiToken).where(ApiToken.workspace_id == workspace_id, ApiToken.id == token_id)
        )
        if row is None:
            raise TokenError(f"no token with id {token_id}")
        if row.revoked_at is None:
            row.revoked_at = utcnow()
        s.flush()
        info = _info(row)
    _last_touch.pop((db.url, token_id), None)
    return info


_last_touch: dict[tuple[str, int], float] = {}
_touch_lock = threading.Lock()


def verify_token(db: Database, plaintext: str | None) -> TokenInfo | None:
    """The active token matching ``plaintext``, or None (unknown, revoked or malformed)."""
    if not plaintext or not plaintext.startswith(TOKEN_PREFIX) or len(plaintext) > 200:
        return None
    digest = hash_token(plaintext)
    with db.read_session() as s:
        row = s.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
        # The lookup matched on the hash already; compare again in constant time so the
        # decision never depends on a short-circuiting string comparison.
        if row is None or not hmac.compare_digest(row.token_hash, digest):
            return None
        if row.revoked_at is not None:
            return None
        info = _info(row)
    now = time.monotonic()
    with _touch_lock:
        key = (db.url, info.id)
        due = now - _last_touch.get(key, -LAST_USED_EVERY_S) >= LAST_USED_EVERY_S
        if due:
            _last_touch[key] = now
    if due:
        with db.session() as s:
            row = s.get(ApiToken, info.id)
            if row is not None:
                row.last_used_at = utcnow()
    return info
