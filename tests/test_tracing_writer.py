"""The background writer: batched transactions, never delaying calls, surviving a bad database."""

from __future__ import annotations

import sqlite3
import statistics
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.engine import make_url

from core.db import Database
from core.db.models import Run, Span
from core.providers.types import ModelRequest, ModelResult, RunContext, Usage
from core.tracing import Recorder
from core.tracing.writer import BackgroundWriter, WriteItem
from tests.servers.otlp_receiver import closed_port


@pytest.fixture
def recorder(database: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorder]:
    monkeypatch.delenv("PHOENIX_COLLECTOR_ENDPOINT", raising=False)
    database.default_workspace_id()  # created up front: the tests below count writes
    rec = Recorder(database.url, phoenix_endpoint="")
    yield rec
    rec.shutdown()


def call(rec: Recorder, i: int) -> float:
    """Record one call; return how long finish() took in seconds."""
    handle = rec.start(ModelRequest(
        model="openai/gpt-4o-mini", messages=[{"role": "user", "content": f"question {i}"}],
        context=RunContext(tags=["load"], metadata={"i": i})))
    handle.first_token()
    t0 = time.perf_counter()
    handle.finish(ModelResult(text=f"answer {i}", usage=Usage(5, 3, 8)))
    return time.perf_counter() - t0


def counts(db: Database) -> tuple[int, int]:
    with db.session() as s:
        return s.scalar(select(func.count(Span.id))) or 0, s.scalar(select(func.count(Run.id))) or 0


def test_many_threads_land_in_few_transactions(database: Database, recorder: Recorder) -> None:
    commits: list[str] = []

    def on_commit(conn: Any) -> None:
        commits.append(threading.current_thread().name)

    event.listen(database.engine, "commit", on_commit)
    try:
        threads = [threading.Thread(target=lambda k=k: [call(recorder, k * 100 + i) for i in range(50)])
                   for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert recorder.flush(30)
    finally:
        event.remove(database.engine, "commit", on_commit)
    assert counts(database) == (400, 400)
    writer_commits = [name for name in commits if name.startswith("trace-writer")]
    # 800 items, at most 200 per batch: a handful of transactions, not one per call.
    assert 4 <= len(writer_commits) <= 40, len(writer_commits)
    assert recorder.stats()["transactions"] == len(writer_commits)
    assert recorder.stats()["dropped"] == 0


class Lock:
    """Hold the spans/runs tables exclusively from another connection, like a slow writer."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.release: Any = None

    def __enter__(self) -> Lock:
        if self.db.dialect == "sqlite":
            path = make_url(self.db.url).database
            conn = sqlite3.connect(str(path), timeout=0, isolation_level=None)
            conn.execute("BEGIN EXCLUSIVE")
            self.release = lambda: (conn.execute("COMMIT"), conn.close())
        else:
            conn2 = self.db.engine.connect()
            tx = conn2.begin()
            conn2.exec_driver_sql("LOCK TABLE spans, runs IN ACCESS EXCLUSIVE MODE")
            self.release = lambda: (tx.commit(), conn2.close())
        return self

    def __exit__(self, *exc: object) -> None:
        if self.release:
            self.release()
            self.release = None


def test_locked_database_does_not_delay_calls(database: Database, recorder: Recorder) -> None:
    call(recorder, -1)  # warm up (imports, first span) outside the measurement
    assert recorder.flush(10)
    with Lock(database) as lock:
        locked_at = time.monotonic()
        durations = [call(recorder, i) for i in range(20)]
        # While the lock is held nothing can be written: a short flush must time out.
        assert not recorder.flush(0.3)
        assert recorder.writer.queued > 0
        time.sleep(max(0.0, 2.0 - (time.monotonic() - locked_at)))  # the scenario: a 2 s lock
        lock.__exit__()
    # Blocked on the lock a call would take the lock's 2 s; scheduling noise on a loaded
    # 2-CPU machine can stretch a single call to tens of ms, so bound the worst one loosely.
    assert max(durations) < 0.25, durations
    assert statistics.median(durations) < 0.002
    assert recorder.flush(20)
    assert counts(database) == (21, 21)
    assert recorder.stats()["dropped"] == 0


def _span_dict(span_id: str, name: str = "s") -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "trace_id": "ab" * 16, "span_id": span_id, "parent_span_id": None, "name": name,
        "start_time": now, "end_time": now + timedelta(milliseconds=5), "status_code": "OK",
        "status_message": "", "attributes": {"openinference.span.kind": "LLM"}, "events": [],
        "project": "default",
    }


def _run_row(run_id: str, status: str = "ok") -> dict[str, Any]:
    return {"id": run_id, "model": "m", "operation": "chat", "request": {}, "status": status,
            "started_at": datetime.now(UTC), "tags": [], "metadata": {}}


def test_duplicates_do_not_break_a_batch(database: Database) -> None:
    writer = BackgroundWriter(database.url)
    try:
        writer.enqueue(WriteItem("span", _span_dict("00000000000000a1", "first")))
        writer.enqueue(WriteItem("run", _run_row("a" * 32)))
        assert writer.flush(10)
        for sid in ("00000000000000a1", "00000000000000a2", "00000000000000a2", "00000000000000a3"):
            writer.enqueue(WriteItem("span", _span_dict(sid, "again")))
        writer.enqueue(WriteItem("run", _run_row("a" * 32)))
        writer.enqueue(WriteItem("run", _run_row("b" * 32)))
        assert writer.flush(10)
    finally:
        writer.close()
    assert counts(database) == (3, 2)
    assert writer.stats.dropped == 0
    with database.session() as s:
        assert s.scalar(select(Span.name).where(Span.span_id == "00000000000000a1")) == "first"


def test_a_bad_row_is_dropped_alone(database: Database) -> None:
    writer = BackgroundWriter(database.url)
    try:
        writer.enqueue(WriteItem("run", _run_row("c" * 32)))
        writer.enqueue(WriteItem("run", _run_row("d" * 32, status="exploded")))  # violates CHECK
        writer.enqueue(WriteItem("span", _span_dict("00000000000000c1")))
        assert writer.flush(10)
    finally:
        writer.close()
    assert counts(database) == (1, 1)
    assert writer.stats.dropped == 1 and writer.stats.last_error


def test_unreachable_database_drops_after_bound_without_raising() -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/nowhere"
    writer = BackgroundWriter(url, max_attempts=3, max_backoff=0.05)
    rec = Recorder(url, phoenix_endpoint="", writer=writer)
    try:
        t0 = time.perf_counter()
        for i in range(5):
            call(rec, i)
        assert time.perf_counter() - t0 < 2.0  # blocking on the database would take retries × backoff
        assert rec.flush(20)
        stats = rec.stats()
        assert stats["dropped"] == 10 and stats["runs_written"] == 0
        assert stats["retries"] >= 2 and "DatabaseError" in (stats["last_error"] or "")
    finally:
        rec.shutdown(1)


def test_full_queue_drops_instead_of_blocking(sqlite_database: Database) -> None:
    gate = threading.Event()

    def slow_database(url: str) -> Database:  # fault injection: a database that hangs
        gate.wait(10)
        return sqlite_database

    writer = BackgroundWriter(sqlite_database.url, max_queue=2, database=slow_database)
    try:
        t0 = time.perf_counter()
        for i in range(6):
            writer.enqueue(WriteItem("run", _run_row(f"{i:032x}")))
        assert time.perf_counter() - t0 < 1.0  # blocking would wait for the 10 s gate
        assert writer.stats.dropped >= 3
        gate.set()
        assert writer.flush(10)
    finally:
        gate.set()
        writer.close()
    assert counts(sqlite_database)[1] == 6 - writer.stats.dropped


def test_rows_queued_at_exit_are_written(tmp_path: Any) -> None:
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'exit.db'}"
    script = (
        "from core.providers.types import ModelRequest, ModelResult\n"
        "from core.tracing import get_recorder\n"
        f"rec = get_recorder({url!r})\n"
        "for i in range(50):\n"
        "    rec.start(ModelRequest(model='m')).finish(ModelResult(text=str(i)))\n"
        # no flush: the interpreter exits right away
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    db = Database(url)
    try:
        assert counts(db) == (50, 50)
    finally:
        db.dispose()
