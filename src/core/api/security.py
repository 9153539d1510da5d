"""Bearer-token authentication and the request-scoped database for the REST API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from core.auth import TokenInfo, verify_token
from core.db import Database

_bearer = HTTPBearer(auto_error=False, description="An API token created in Settings → API tokens")


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token and the workspace it belongs to."""

    token: TokenInfo

    @property
    def workspace_id(self) -> int:
        """The workspace every request of this token reads and writes."""
        return self.token.workspace_id

    @property
    def actor(self) -> str:
        """Name recorded as author/actor of changes made through the API."""
        return f"token:{self.token.name}"


def get_db(request: Request) -> Database:
    """The app's Database (created once by create_app)."""
    db: Database = request.app.state.db
    return db


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=detail,
        headers={"WWW-Authenticate": "Bearer"},
    )


def require_token(
    db: Annotated[Database, Depends(get_db)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """Dependency: the caller's Principal, or 401 without a valid, unrevoked token."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthorized("missing bearer token: send 'Authorization: Bearer <token>'")
    info = verify_token(db, credentials.credentials)
    if info is None:
        # Same answer for unknown and revoked tokens: don't tell which tokens exist.
        raise _unauthorized("invalid or revoked API token")
    return Principal(info)


DbDep = Annotated[Database, Depends(get_db)]
PrincipalDep = Annotated[Principal, Depends(require_token)]
