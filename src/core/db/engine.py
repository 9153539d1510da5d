"""Engine and session factory; SQLite tuned for sharing (WAL, busy timeout), migrations on start."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from core.config import database_url, redact_url

SQLITE_BUSY_TIMEOUT_MS = 15_000


class DatabaseError(Exception):
    """The database could not be opened, reached or migrated; the message says which and why."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = redact_url(url)
        self.reason = reason
        super().__init__(f"Database {self.url}: {reason}")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


READ_ONLY_OPTION = "workbench_read_only"


def _sqlite_begin_immediate(conn: Any) -> None:
    # Take the write lock at BEGIN so two writers queue on busy_timeout instead of
    # failing with "database is locked" when a read transaction upgrades to a write.
    # Read-only sessions (Database.read_session) begin deferred: under WAL they never
    # wait for, nor block, a writer, so concurrent readers (the REST API) don't queue.
    read_only = conn.get_execution_options().get(READ_ONLY_OPTION)
    conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def build_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """Create an engine for ``url`` (default: the configured database) without connecting."""
    url = url or database_url()
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseError(url, f"not a valid database URL ({exc})") from exc
    try:
        if parsed.get_backend_name() == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(
                parsed, connect_args={"check_same_thread": False, "timeout": 15}, **kwargs
            )
            event.listen(engine, "connect", _sqlite_pragmas)
            # pysqlite's own transaction handling is replaced by explicit BEGIN IMMEDIATE.
            event.listen(engine, "connect", lambda c, _r: setattr(c, "isolation_level", None))
            event.listen(engine, "begin", _sqlite_begin_immediate)
        else:
            if parsed.drivername == "postgresql":
                parsed = parsed.set(drivername="postgresql+psycopg")
            engine = create_engine(parsed, pool_pre_ping=True, **kwargs)
    except (NoSuchModuleError, ImportError) as exc:
        raise DatabaseError(url, f"no driver for this kind of database ({exc})") from exc
    return engine


def check_connection(engine: Engine) -> None:
    """Open one connection and run ``SELECT 1``; raise DatabaseError if that fails."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except (OperationalError, SQLAlchemyError, OSError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise DatabaseError(str(engine.url), f"cannot connect: {reason}") from exc


class Database:
    """One engine plus a session factory; create one per process and share it."""

    def __init__(self, url: str | None = None, *, migrate: bool = True) -> None:
        self.url = url or database_url()
        self.engine = build_engine(self.url)
        check_connection(self.engine)
        if migrate:
            from core.db.migrate import upgrade

            upgrade(self.engine)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        self.read_sessionmaker = sessionmaker(
            self.engine.execution_options(**{READ_ONLY_OPTION: True}), expire_on_commit=False
        )
        self._defaults_lock = threading.Lock()
        self._default_workspace_id: int | None = None

    @property
    def display_url(self) -> str:
        """The URL without its password."""
        return redact_url(self.url)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success and rolled back on error."""
        session = self.sessionmaker()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A session for reads only (no write lock on SQLite); never write through it."""
        session = self.read_sessionmaker()
        try:
            yield session
            session.rollback()  # nothing to commit: end the read transaction
        finally:
            session.close()

    def default_workspace_id(self) -> int:
        """Id of the ``default`` workspace, created on first use."""
        if self._default_workspace_id is None:
            with self._defaults_lock:
                if self._default_workspace_id is None:
                    self._default_workspace_id = self.ensure_workspace("default", "Default")
        return self._default_workspace_id

    def ensure_workspace(self, slug: str, name: str | None = None) -> int:
        """Id of the workspace with ``slug``, creating it if missing."""
        from sqlalchemy.exc import IntegrityError

        from core.db.models import Workspace

        for _ in range(2):
            with self.session() as s:
                found = s.scalar(select(Workspace.id).where(Workspace.slug == slug))
                if found is not None:
                    return found
            try:
                with self.session() as s:
                    ws = Workspace(slug=slug, name=name or slug)
                    s.add(ws)
                    s.flush()
                    return ws.id
            except IntegrityError:  # created concurrently: read it back
                continue
        raise DatabaseError(self.url, f"could not create workspace {slug!r}")

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


_shared: dict[str, Database] = {}
_shared_lock = threading.Lock()


def get_database(url: str | None = None) -> Database:
    """The process-wide Database for ``url`` (migrated on first use)."""
    key = url or database_url()
    with _shared_lock:
        db = _shared.get(key)
        if db is None:
            db = Database(key)
            _shared[key] = db
        return db


def reset_shared_databases() -> None:
    """Forget and dispose the process-wide databases (tests switch URLs)."""
    with _shared_lock:
        for db in _shared.values():
            db.dispose()
        _shared.clear()
