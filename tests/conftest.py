"""Shared fixtures: an isolated data directory, SQLite and PostgreSQL databases."""

from __future__ import annotations

import os
import socket
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

pytest_plugins = ["tests.servers.fixtures"]  # fault server, llama_cpp.server

PG_HOST = os.environ.get("WORKBENCH_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("WORKBENCH_TEST_PG_PORT", "5432"))
PG_ADMIN_URL = os.environ.get(
    "WORKBENCH_TEST_PG_URL", f"postgresql+psycopg://postgres@{PG_HOST}:{PG_PORT}/test"
)
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _pg_reachable() -> bool:
    try:
        with socket.create_connection((PG_HOST, PG_PORT), timeout=1):
            return True
    except OSError:
        return False


def _pg_unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"PostgreSQL is required in CI: {reason}")
    pytest.skip(f"PostgreSQL not available on {PG_HOST}:{PG_PORT}: {reason}")


@pytest.fixture(autouse=True)
def workbench_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets its own data directory and the default (SQLite) database."""
    from core.db import reset_shared_databases

    home = tmp_path / "home"
    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    monkeypatch.delenv("WORKBENCH_DATABASE_URL", raising=False)
    reset_shared_databases()
    yield home
    # Flush and stop the test's trace recorders (if tracing was used) before its DB goes.
    recorder_module = sys.modules.get("core.tracing.recorder")
    if recorder_module is not None:
        recorder_module.reset_recorders(timeout=5)
    reset_shared_databases()


class PgFactory:
    """Creates throw-away PostgreSQL databases, cloned from a migrated template."""

    def __init__(self) -> None:
        from sqlalchemy import create_engine

        self.admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        self.prefix = f"wbt_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.created: list[str] = []
        self.template: str | None = None

    def _url(self, name: str) -> str:
        return self.admin.url.set(database=name).render_as_string(hide_password=False)

    def _exec(self, sql: str) -> None:
        from sqlalchemy import text

        with self.admin.connect() as conn:
            conn.execute(text(sql))

    def new(self, migrated: bool = True) -> str:
        """URL of a fresh database (migrated to head when ``migrated``)."""
        name = f"{self.prefix}_{len(self.created)}"
        if migrated:
            if self.template is None:
                self.template = f"{self.prefix}_tpl"
                self._exec(f'CREATE DATABASE "{self.template}"')
                self.created.append(self.template)
                from core.db.engine import build_engine
                from core.db.migrate import upgrade

                engine = build_engine(self._url(self.template))
                upgrade(engine)
                engine.dispose()
            self._exec(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        else:
            self._exec(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return self._url(name)

    def close(self) -> None:
        for name in reversed(self.created):
            self._exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.admin.dispose()


@pytest.fixture(scope="session")
def pg_factory() -> Iterator[PgFactory]:
    """Factory of PostgreSQL test databases; skips (fails in CI) without a server."""
    if not _pg_reachable():
        _pg_unavailable("nothing listening")
    try:
        factory = PgFactory()
        factory._exec("SELECT 1")
    except Exception as exc:  # a server that refuses us
        _pg_unavailable(str(exc).splitlines()[0])
    yield factory
    factory.close()


@pytest.fixture(params=[pytest.param("sqlite", id="sqlite"), pytest.param("postgresql", id="postgresql")])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, migrated database URL on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    factory: PgFactory = request.getfixturevalue("pg_factory")
    return factory.new()


@pytest.fixture
def database(db_url: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """The process-wide Database on ``db_url`` (also what the pages and core see)."""
    from core.db import get_database

    monkeypatch.setenv("WORKBENCH_DATABASE_URL", db_url)
    db = get_database(db_url)
    yield db


@pytest.fixture
def sqlite_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A SQLite-only Database for tests that don't depend on the dialect."""
    from core.db import get_database

    url = f"sqlite:///{tmp_path / 'only.db'}"
    monkeypatch.setenv("WORKBENCH_DATABASE_URL", url)
    yield get_database(url)
