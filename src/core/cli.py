"""The ``workbench`` command line.

    workbench db upgrade|current
    workbench api [--host 127.0.0.1] [--port 8000]
    workbench prompts export DIR [--all-versions]
    workbench prompts import DIR
    workbench tokens create NAME | list | revoke ID

Each group of subcommands lives with its concern and registers itself through a
``register(subparsers)`` function listed in COMMAND_GROUPS; a handler gets the parsed
arguments and returns the exit code.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

COMMAND_GROUPS: tuple[str, ...] = (
    "core.cli:register_db",
    "core.cli:register_api",
    "core.cli:register_tokens",
    "core.prompts.cli:register",
)

Handler = Callable[[argparse.Namespace], int]


class CliError(Exception):
    """A failure to report as ``error: <message>`` with exit code 1 (no traceback)."""


def database() -> Any:
    """The configured Database (WORKBENCH_DATABASE_URL or the default SQLite file)."""
    from core.db import get_database

    return get_database()


def workspace_id(db: Any) -> int:
    """The workspace named by WORKBENCH_WORKSPACE (default: ``default``)."""
    slug = os.environ.get("WORKBENCH_WORKSPACE", "default")
    return int(db.default_workspace_id() if slug == "default" else db.ensure_workspace(slug))


def actor() -> str:
    """Who the CLI records as author/actor."""
    from core.config import Settings

    return Settings.from_env().user


# -- db ---------------------------------------------------------------------------------------


def register_db(subparsers: Any) -> None:
    """``workbench db upgrade|current``."""
    parser = subparsers.add_parser("db", help="database migrations")
    sub = parser.add_subparsers(dest="db_command", required=True)
    sub.add_parser("upgrade", help="migrate the database to the newest schema").set_defaults(
        handler=_db_upgrade
    )
    sub.add_parser("current", help="show the database URL and its schema revision").set_defaults(
        handler=_db_current
    )


def _db_upgrade(_args: argparse.Namespace) -> int:
    from core.db.engine import build_engine, check_connection
    from core.db.migrate import current_revision, head_revision, upgrade

    engine = build_engine()
    check_connection(engine)
    before = current_revision(engine)
    upgrade(engine)
    print(
        f"database {engine.url.render_as_string(hide_password=True)}: {before} -> {head_revision()}"
    )
    engine.dispose()
    return 0


def _db_current(_args: argparse.Namespace) -> int:
    from core.db.engine import build_engine, check_connection
    from core.db.migrate import current_revision, head_revision

    engine = build_engine()
    check_connection(engine)
    current, head = current_revision(engine), head_revision()
    state = "up to date" if current == head else f"behind (newest is {head})"
    print(f"{engine.url.render_as_string(hide_password=True)}: revision {current} ({state})")
    engine.dispose()
    return 0


# -- api --------------------------------------------------------------------------------------


def register_api(subparsers: Any) -> None:
    """``workbench api [--host] [--port]``."""
    parser = subparsers.add_parser("api", help="serve the REST API (loopback by default)")
    parser.add_argument(
        "--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)"
    )
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
    )
    parser.set_defaults(handler=_api)


def _api(args: argparse.Namespace) -> int:
    import uvicorn

    database()  # fail here, with a clear message, if the database can't be used
    print(f"Prompt Workbench API on http://{args.host}:{args.port} (OpenAPI: /docs, /openapi.json)")
    uvicorn.run(
        "core.api.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level,
    )
    return 0


# -- tokens -----------------------------------------------------------------------------------


def register_tokens(subparsers: Any) -> None:
    """``workbench tokens create NAME | list | revoke ID``."""
    parser = subparsers.add_parser("tokens", help="API tokens for the REST API")
    sub = parser.add_subparsers(dest="tokens_command", required=True)
    create = sub.add_parser("create", help="create a token and print it (shown only once)")
    create.add_argument("name", help="what the token is for, e.g. 'checkout-service'")
    create.set_defaults(handler=_tokens_create)
    sub.add_parser("list", help="list tokens (never their secret)").set_defaults(
        handler=_tokens_list
    )
    revoke = sub.add_parser("revoke", help="revoke a token by id")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(handler=_tokens_revoke)


def _tokens_create(args: argparse.Namespace) -> int:
    from core.auth import TokenError, create_token

    db = database()
    try:
        plaintext, info = create_token(db, workspace_id(db), args.name)
    except TokenError as exc:
        raise CliError(str(exc)) from exc
    print(plaintext)
    print(
        f"token #{info.id} {info.name!r} created; store it now, it is not shown again",
        file=sys.stderr,
    )
    return 0


def _tokens_list(_args: argparse.Namespace) -> int:
    from core.auth import list_tokens

    db = database()
    for t in list_tokens(db, workspace_id(db)):
        state = "revoked" if t.revoked_at else "active"
        used = t.last_used_at.isoformat(timespec="seconds") if t.last_used_at else "never"
        print(f"{t.id}\t{t.prefix}…\t{t.name}\t{state}\tlast used {used}")
    return 0


def _tokens_revoke(args: argparse.Namespace) -> int:
    from core.auth import TokenError, revoke_token

    db = database()
    try:
        info = revoke_token(db, workspace_id(db), args.id)
    except TokenError as exc:
        raise CliError(str(exc)) from exc
    print(f"token #{info.id} {info.name!r} revoked")
    return 0


# -- entry point ------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The full parser, every registered group included."""
    parser = argparse.ArgumentParser(prog="workbench", description="Prompt Workbench command line")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for spec in COMMAND_GROUPS:
        module_name, _, func_name = spec.partition(":")
        getattr(importlib.import_module(module_name), func_name)(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; print ``error: ...`` and return 1 on a known failure."""
    from core.db import DatabaseError
    from core.prompts.errors import PromptRegistryError

    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except (CliError, PromptRegistryError, DatabaseError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
