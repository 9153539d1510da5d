"""One background thread that writes spans and run rows in batches, off the request path.

Callers only enqueue. The thread gathers up to ``batch_size`` items or ``max_delay``
seconds' worth, writes them in one transaction (duplicates ignored), retries when the
database is busy or down, and after ``max_attempts`` drops items and counts them.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import count
from typing import Any, Literal

from sqlalchemy import Table, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection

from core.db import Database, DatabaseError, get_database
from core.db.models import Run, Span
from core.tracing.rows import readable_span_to_dict, span_row

log = logging.getLogger("core.tracing")

# Errors after which the same batch may succeed later: locks, lost connections, server down.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,
    DatabaseError,
    OSError,
)


@dataclass
class WriteItem:
    """A span (SDK span or span dict) or a run row waiting to be written."""

    kind: Literal["span", "run"]
    payload: Any
    workspace_id: int | None = None
    source: str = "workbench"
    attempts: int = 0
    seq: int = field(default=0, compare=False)


@dataclass
class WriterStats:
    """Counters for monitoring (Settings page) and tests."""

    enqueued: int = 0
    spans_written: int = 0
    runs_written: int = 0
    dropped: int = 0
    retries: int = 0
    transactions: int = 0
    last_error: str | None = None


live_writers: weakref.WeakSet[BackgroundWriter] = weakref.WeakSet()  # flushed at exit


class BackgroundWriter:
    """Batches :class:`WriteItem` s into single transactions on one daemon thread."""

    def __init__(
        self,
        db_url: str,
        *,
        batch_size: int = 200,
        max_delay: float = 0.05,
        max_queue: int = 100_000,
        max_attempts: int = 8,
        max_backoff: float = 5.0,
        database: Callable[[str], Database] = get_database,
    ) -> None:
        self.db_url = db_url
        self.batch_size = batch_size
        self.max_delay = max_delay
        self.max_queue = max_queue
        self.max_attempts = max_attempts
        self.max_backoff = max_backoff
        self._database = database
        self._pending: deque[WriteItem] = deque()
        self._outstanding: set[int] = set()
        self._seq = count(1)
        self._last_seq = 0
        self._cond = threading.Condition()
        self._wake = threading.Event()
        self._stopping = False
        self._urgent = 0  # flushers waiting: skip the batching delay
        self._thread: threading.Thread | None = None
        self.stats = WriterStats()
        live_writers.add(self)

    # -- caller side -------------------------------------------------------------------------
    def enqueue(self, item: WriteItem) -> None:
        """Queue an item; never blocks on I/O, never raises. Drops (and counts) when full."""
        with self._cond:
            if self._stopping or len(self._pending) >= self.max_queue:
                self.stats.dropped += 1
                if self.stats.dropped % 1000 == 1:  # once per burst, not once per item
                    log.warning("trace writer queue full or closed: %d items dropped so far",
                                self.stats.dropped)
                return
            item.seq = self._last_seq = next(self._seq)
            self._pending.append(item)
            self._outstanding.add(item.seq)
            self.stats.enqueued += 1
            self._ensure_thread()
            self._cond.notify_all()

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every item queued before this call is written or dropped."""
        with self._cond:
            target = self._last_seq
            self._urgent += 1
            self._cond.notify_all()
            try:
                return self._cond.wait_for(
                    lambda: not any(s <= target for s in self._outstanding), timeout
                )
            finally:
                self._urgent -= 1

    def close(self, timeout: float = 5.0) -> bool:
        """Flush, then stop the thread; later items are dropped."""
        done = self.flush(timeout)
        with self._cond:
            self._stopping = True
            self._wake.set()
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=1.0)
        return done

    @property
    def queued(self) -> int:
        """Items not yet written."""
        return len(self._outstanding)

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(
                target=self._run, name=f"trace-writer-{id(self):x}", daemon=True
            )
            self._thread.start()

    # -- writer thread -----------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending or self._stopping)
                if not self._pending:
                    return
                # Let a batch fill up for a moment unless someone is waiting on a flush.
                deadline = time.monotonic() + self.max_delay
                while (
                    len(self._pending) < self.batch_size
                    and not self._urgent
                    and not self._stopping
                    and (left := deadline - time.monotonic()) > 0
                ):
                    self._cond.wait(left)
                n = min(self.batch_size, len(self._pending))
                batch = [self._pending.popleft() for _ in range(n)]
            try:
                self._process(batch)
            except Exception as exc:  # never let the thread die: drop what we cannot write
                log.exception("trace writer: unexpected error, dropping %d items", len(batch))
                self._finish(batch, written=False, error=exc)

    def _process(self, batch: list[WriteItem]) -> None:
        try:
            self._write(batch)
        except TRANSIENT_ERRORS as exc:
            self._retry_later(batch, exc)
        except Exception as exc:  # a bad row: write the others one by one
            if len(batch) == 1:
                log.error("trace writer: dropping a %s that cannot be stored: %s",
                          batch[0].kind, _first_line(exc))
                self._finish(batch, written=False, error=exc)
                return
            for item in batch:
                self._process([item])
        else:
            self._finish(batch, written=True)

    def _retry_later(self, batch: list[WriteItem], exc: BaseException) -> None:
        keep: list[WriteItem] = []
        lost: list[WriteItem] = []
        for item in batch:
            item.attempts += 1
            (keep if item.attempts < self.max_attempts else lost).append(item)
        with self._cond:
            self.stats.retries += 1
            self.stats.last_error = _first_line(exc)
        if lost:
            log.error("trace writer: database unavailable after %d attempts, dropped %d items: %s",
                      self.max_attempts, len(lost), _first_line(exc))
            self._finish(lost, written=False, error=exc)
        attempt = max((i.attempts for i in keep), default=1)
        backoff = min(self.max_backoff, 0.1 * 2 ** (attempt - 1))
        log.warning("trace writer: %s; retrying %d items in %.1fs",
                    _first_line(exc), len(keep), backoff)
        with self._cond:
            self._pending.extendleft(reversed(keep))
        self._wake.clear()
        if not self._stopping:
            self._wake.wait(backoff)

    def _finish(self, batch: list[WriteItem], *, written: bool, error: BaseException | None = None) -> None:
        with self._cond:
            for item in batch:
                self._outstanding.discard(item.seq)
                if not written:
                    self.stats.dropped += 1
            if error is not None:
                self.stats.last_error = _first_line(error)
            self._cond.notify_all()

    def _write(self, batch: list[WriteItem]) -> None:
        db = self._database(self.db_url)
        default_ws: int | None = None
        spans: dict[str, dict[str, Any]] = {}
        runs: dict[str, dict[str, Any]] = {}
        for item in batch:
            ws = item.workspace_id
            if ws is None:
                default_ws = default_ws or db.default_workspace_id()
                ws = default_ws
            if item.kind == "span":
                if not isinstance(item.payload, dict):  # SDK span: convert once, keep for retries
                    item.payload = readable_span_to_dict(item.payload)
                row = span_row(item.payload, ws, item.source)
                spans.setdefault(row["span_id"], row)
            else:
                runs.setdefault(item.payload["id"], {**item.payload, "workspace_id": ws})
        with db.engine.begin() as conn:
            if spans:
                insert_ignoring_duplicates(conn, Span.__table__, list(spans.values()), "span_id")
            if runs:
                insert_ignoring_duplicates(conn, Run.__table__, list(runs.values()), "id")
        with self._cond:
            self.stats.transactions += 1
            self.stats.spans_written += len(spans)
            self.stats.runs_written += len(runs)


def insert_ignoring_duplicates(conn: Connection, table: Any, rows: list[dict[str, Any]], key: str) -> None:
    """INSERT … ON CONFLICT DO NOTHING: rewriting the same span or run is harmless."""
    assert isinstance(table, Table)
    dialect = conn.dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        conn.execute(pg_insert(table).on_conflict_do_nothing(index_elements=[key]), rows)
        return
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        conn.execute(sqlite_insert(table).on_conflict_do_nothing(index_elements=[key]), rows)
        return
    # Other databases: skip keys already present (good enough for one writer per process).
    column = table.c[key]
    present = set(conn.scalars(select(column).where(column.in_([r[key] for r in rows]))))
    fresh = [r for r in rows if r[key] not in present]
    if fresh:
        conn.execute(table.insert(), fresh)


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"[:500]
