"""The FastAPI application factory: database, JSON errors, routers, OpenAPI.

Run it with ``workbench api`` (127.0.0.1:8000 by default). Each concern adds a router
module exposing ``router``; list it in ROUTER_MODULES.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from core import __version__
from core.db import Database, DatabaseError, get_database
from core.prompts.errors import PromptRegistryError

log = logging.getLogger(__name__)

ROUTER_MODULES: tuple[str, ...] = (
    "core.api.routes_prompts",
    "core.api.routes_annotations",
    "core.api.routes_traces",
)

_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    422: "invalid_request",
}


def error_body(status_code: int, error: str, detail: str, **extra: Any) -> JSONResponse:
    """The one error shape of the API: ``{"error": code, "detail": message, ...}``."""
    return JSONResponse({"error": error, "detail": detail, **extra}, status_code=status_code)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(PromptRegistryError)
    async def registry_error(_request: Request, exc: PromptRegistryError) -> JSONResponse:
        extra: dict[str, Any] = {}
        for attr in ("variable", "line", "column", "message_index", "cycle"):
            value = getattr(exc, attr, None)
            if value is not None:
                extra[attr] = value
        return error_body(exc.status_code, exc.kind, exc.message, **extra)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"field": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "")}
            for e in exc.errors()
        ]
        detail = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
        return error_body(422, "invalid_request", detail, errors=problems)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        response = error_body(
            exc.status_code, _STATUS_CODES.get(exc.status_code, "error"), str(exc.detail)
        )
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value
        return response

    @app.exception_handler(DatabaseError)
    async def database_error(_request: Request, exc: DatabaseError) -> JSONResponse:
        log.error("database unavailable: %s", exc)
        return error_body(503, "database_unavailable", "the database can't be reached right now")


def create_app(db_url: str | None = None, *, database: Database | None = None) -> FastAPI:
    """Build the REST API on ``database`` (or the Database for ``db_url`` / the configured one)."""
    db = database or get_database(db_url)
    app = FastAPI(
        title="Prompt Workbench API",
        version=__version__,
        description=(
            "Fetch prompts by name and label or version, list them, and render them with "
            "variables. Authenticate with `Authorization: Bearer <token>` (create tokens in "
            "Settings → API tokens or with `workbench tokens create NAME`). Errors are JSON: "
            '`{"error": "<code>", "detail": "<message>"}`.'
        ),
    )
    app.state.db = db
    _install_error_handlers(app)

    @app.get("/healthz", tags=["health"], summary="Liveness and database check")
    def healthz() -> dict[str, str]:
        with db.session() as s:
            s.connection()
        return {"status": "ok", "database": db.dialect}

    for module_name in ROUTER_MODULES:
        app.include_router(importlib.import_module(module_name).router)
    return app
