"""Persistence: migrations up/down/up, models match migrations, UTC and JSON round-trips."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from core.db import Database, DatabaseError
from core.db.base import Base
from core.db.engine import build_engine
from core.db.migrate import current_revision, downgrade, head_revision, upgrade
from core.db.models import Prompt, PromptVersion, Run, Workspace


@pytest.fixture
def empty_db_url(request: pytest.FixtureRequest, tmp_path) -> str:  # type: ignore[no-untyped-def]
    return str(request.param)


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_migrations_up_down_up_match_models(dialect: str, tmp_path, request) -> None:  # type: ignore[no-untyped-def]
    if dialect == "sqlite":
        url = f"sqlite:///{tmp_path / 'm.db'}"
    else:
        url = request.getfixturevalue("pg_factory").new(migrated=False)
    engine = build_engine(url)
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    downgrade(engine, "base")
    assert current_revision(engine) is None
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(engine)
    assert "prompt_versions" in inspect(engine).get_table_names()
    engine.dispose()


def test_sqlite_uses_wal_and_busy_timeout(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = Database(f"sqlite:///{tmp_path / 'w.db'}")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_default_database_is_a_file_under_workbench_home(workbench_home) -> None:  # type: ignore[no-untyped-def]
    from core.db import get_database

    db = get_database()
    db.default_workspace_id()
    assert (workbench_home / "workbench.db").is_file()


def test_timestamps_are_utc_aware_and_json_round_trips(database: Database) -> None:
    ws = database.default_workspace_id()
    berlin = timezone(timedelta(hours=1))
    started = datetime(2026, 1, 2, 13, 0, tzinfo=berlin)
    with database.session() as s:
        s.add(
            Run(
                id="r1",
                workspace_id=ws,
                model="local/smollm2",
                started_at=started,
                request={"messages": [{"role": "user", "content": "hé 👋"}], "n": 1.5},
                meta={"nested": {"a": [1, 2, None]}},
            )
        )
    with database.session() as s:
        run = s.get(Run, "r1")
        assert run is not None
        assert run.started_at == started
        assert run.started_at.tzinfo is not None
        assert run.started_at.utcoffset() == timedelta(0)
        assert run.request["messages"][0]["content"] == "hé 👋"
        assert run.meta == {"nested": {"a": [1, 2, None]}}
        assert run.status == "ok"


def test_naive_datetimes_are_refused(database: Database) -> None:
    ws = database.default_workspace_id()
    with pytest.raises(Exception, match="naive datetime"), database.session() as s:
        s.add(Run(id="r2", workspace_id=ws, model="m", started_at=datetime(2026, 1, 1)))


def test_check_constraints_and_uniques_hold(database: Database) -> None:
    ws = database.default_workspace_id()
    with pytest.raises(IntegrityError), database.session() as s:
        s.add(Run(id="r3", workspace_id=ws, model="m", status="weird", started_at=datetime.now(UTC)))
    with database.session() as s:
        p = Prompt(workspace_id=ws, name="greet")
        s.add(p)
        s.flush()
        s.add(PromptVersion(prompt_id=p.id, version=1, template_type="chat", template_format="f-string", template=[], content_hash="x"))
    with pytest.raises(IntegrityError), database.session() as s:
        pid = s.scalar(select(Prompt.id).where(Prompt.name == "greet"))
        s.add(PromptVersion(prompt_id=pid, version=1, template_type="chat", template_format="f-string", template=[], content_hash="y"))
    with database.session() as s:
        assert s.scalar(select(Workspace.slug)) == "default"


def test_ensure_workspace_is_idempotent(database: Database) -> None:
    a = database.ensure_workspace("team-a", "Team A")
    assert database.ensure_workspace("team-a") == a
    assert database.default_workspace_id() != a


@pytest.mark.parametrize(
    "url, fragment",
    [
        pytest.param("notaurl", "not a valid database URL", id="garbage"),
        pytest.param("postgresql+psycopg://nobody:secretpw@127.0.0.1:1/nope", "cannot connect", id="unreachable-port"),
        pytest.param("mysql+nosuchdriver://x@127.0.0.1/db", "no driver", id="unknown-driver"),
    ],
)
def test_bad_database_urls_give_clear_errors_without_password(url: str, fragment: str) -> None:
    with pytest.raises(DatabaseError) as info:
        Database(url)
    assert fragment in str(info.value)
    assert "secretpw" not in str(info.value)


def test_pydantic_json_column_round_trips_validated_models(db_url: str) -> None:
    """PydanticJSON validates on the way in and returns models on the way out."""
    from pydantic import BaseModel, ConfigDict
    from sqlalchemy import Column, Integer, MetaData, Table, insert
    from sqlalchemy import select as sa_select

    from core.db.base import PydanticJSON

    class Config(BaseModel):
        model_config = ConfigDict(extra="forbid")
        model: str
        temperature: float = 1.0

    table = Table("pydantic_json_probe", MetaData(), Column("id", Integer, primary_key=True),
                  Column("config", PydanticJSON(Config)))
    engine = build_engine(db_url)
    table.create(engine)
    try:
        with engine.begin() as conn:
            conn.execute(insert(table).values(id=1, config=Config(model="m", temperature=0.2)))
            conn.execute(insert(table).values(id=2, config={"model": "dict-in"}))
        with engine.connect() as conn:
            rows = dict(conn.execute(sa_select(table.c.id, table.c.config)).tuples().all())
        assert rows[1] == Config(model="m", temperature=0.2)
        assert rows[2] == Config(model="dict-in", temperature=1.0)
        with pytest.raises(Exception, match="extra"), engine.begin() as conn:
            conn.execute(insert(table).values(id=3, config={"model": "m", "api_key": "x"}))
    finally:
        table.drop(engine)
        engine.dispose()
