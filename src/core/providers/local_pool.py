"""A small pool of llama.cpp contexts so several calls to the embedded model run at once.

A llama.cpp context is not thread-safe, so each call checks one out for its whole
generation and returns it afterwards (also when it fails or is cancelled). Contexts are
created lazily, up to ``size``: the first call only pays for one. Every extra context maps
the same GGUF file (the weights' pages are shared through the page cache) and adds only
its own KV cache and compute buffers (~110 MB private memory at 4096 tokens, measured in
bench/README.md).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

DEFAULT_CONTEXTS = 4
CONTEXTS_ENV = "WORKBENCH_LOCAL_CONTEXTS"


def default_pool_size() -> int:
    """Contexts for the embedded model: ``WORKBENCH_LOCAL_CONTEXTS`` or 4 (at least 1)."""
    env = os.environ.get(CONTEXTS_ENV, "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    return DEFAULT_CONTEXTS


class PoolTimeoutError(TimeoutError):
    """Every context stayed busy for the whole wait."""


class PoolWaitCancelledError(Exception):
    """The caller gave up (``cancel`` was set) while waiting for a context."""


@dataclass(frozen=True)
class PoolStats:
    """Counters for diagnostics and tests (a snapshot; the pool keeps changing)."""

    size: int
    created: int  # contexts alive now (idle + busy + being created)
    in_use: int
    peak_in_use: int  # most calls holding a context at the same moment
    leases: int  # checkouts served since the pool was made
    max_holders: int  # most calls ever holding one same context at once: must stay 1
    waits: int  # checkouts that had to wait for a context to come back
    waiting: int = 0  # callers waiting for a context right now
    ready: int = 0  # contexts fully made (idle or busy); ``created`` also counts ones in the making


class ContextPool(Generic[T]):
    """Hands out at most ``size`` items, each to one holder at a time, creating them lazily."""

    def __init__(self, factory: Callable[[], T], *, size: int,
                 close: Callable[[T], None] | None = None) -> None:
        if size < 1:
            raise ValueError("a context pool needs at least one context")
        self.size = size
        self._factory = factory
        self._close = close
        self._cond = threading.Condition()
        self._idle: list[T] = []  # a stack: the most recently used context is the warmest
        self._items: dict[int, T] = {}  # every live item, idle or checked out
        self._epoch: dict[int, int] = {}  # id(item) -> pool epoch it was made in
        self._holders: dict[int, int] = {}
        self._current_epoch = 0
        self._created = 0
        self._in_use = 0
        self._peak = 0
        self._leases = 0
        self._max_holders = 0
        self._waits = 0
        self._waiting = 0

    def acquire(self, timeout: float, cancel: threading.Event | None = None) -> T:
        """A context for the caller alone; raises PoolTimeoutError after ``timeout`` seconds.

        A call waiting for a busy pool gives up with PoolWaitCancelledError as soon as
        ``cancel`` is set and :meth:`wake` is called (a Stop must not wait for a context).
        """
        deadline = time.monotonic() + timeout
        create = False
        item: T | None = None
        with self._cond:
            waited = False
            while True:
                if cancel is not None and cancel.is_set():
                    self._waits += int(waited)
                    self._cond.notify()  # a release may have woken us: pass it on
                    raise PoolWaitCancelledError("cancelled while waiting for a free context")
                if self._idle:
                    item = self._idle.pop()
                    break
                if self._created < self.size:
                    self._created += 1  # reserve the slot; build it outside the lock
                    create = True
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise PoolTimeoutError(f"all {self.size} contexts stayed busy for {timeout:.0f} s")
                waited = True
                self._waiting += 1
                try:
                    self._cond.wait(remaining)
                finally:
                    self._waiting -= 1
            self._waits += int(waited)
            epoch = self._current_epoch
        if create:
            try:
                item = self._factory()
            except BaseException:
                with self._cond:
                    self._created -= 1
                    self._cond.notify()
                raise
        assert item is not None
        with self._cond:
            if create:
                self._epoch[id(item)] = epoch
                self._items[id(item)] = item
            holders = self._holders.get(id(item), 0) + 1
            self._holders[id(item)] = holders
            self._max_holders = max(self._max_holders, holders)
            self._in_use += 1
            self._peak = max(self._peak, self._in_use)
            self._leases += 1
        return item

    def wake(self) -> None:
        """Wake every waiting caller so it re-checks its ``cancel`` event."""
        with self._cond:
            self._cond.notify_all()

    def release(self, item: T) -> None:
        """Give ``item`` back (closed instead when the pool was closed meanwhile)."""
        discard = False
        with self._cond:
            key = id(item)
            self._holders[key] = self._holders.get(key, 1) - 1
            self._in_use -= 1
            if self._epoch.get(key) != self._current_epoch:
                discard = True
                self._created -= 1
                self._forget(key)
            else:
                self._idle.append(item)
            self._cond.notify()
        if discard:
            self._dispose(item)

    @contextlib.contextmanager
    def lease(self, timeout: float) -> Iterator[T]:
        """``with pool.lease(t) as ctx:`` — acquire, and release whatever happens."""
        item = self.acquire(timeout)
        try:
            yield item
        finally:
            self.release(item)

    def warm(self, count: int = 1) -> None:
        """Make sure at least ``count`` contexts exist (created now, in this thread).

        Each new context goes straight to the idle stack, so a call arriving while the
        others are still being made can use the ones already there.
        """
        target = min(count, self.size)
        while True:
            with self._cond:
                if self._created >= target:  # existing, busy or being made by a call
                    return
                self._created += 1  # reserve the slot; build it outside the lock
                epoch = self._current_epoch
            try:
                item = self._factory()
            except BaseException:
                with self._cond:
                    self._created -= 1
                    self._cond.notify()
                raise
            with self._cond:
                stale = epoch != self._current_epoch  # the pool was closed meanwhile
                if stale:
                    self._created -= 1
                else:
                    self._epoch[id(item)] = epoch
                    self._items[id(item)] = item
                    self._idle.append(item)
                    self._cond.notify()
            if stale:
                self._dispose(item)
                return

    def close(self) -> None:
        """Free idle contexts now and busy ones when returned; later calls create new ones."""
        with self._cond:
            idle, self._idle = self._idle, []
            self._current_epoch += 1
            self._created -= len(idle)
            for item in idle:
                self._forget(id(item))
            self._cond.notify_all()
        for item in idle:
            self._dispose(item)

    def stats(self) -> PoolStats:
        """Current counters."""
        with self._cond:
            return PoolStats(size=self.size, created=self._created, in_use=self._in_use,
                             peak_in_use=self._peak, leases=self._leases,
                             max_holders=self._max_holders, waits=self._waits,
                             waiting=self._waiting, ready=len(self._items))

    def reset_stats(self) -> None:
        """Restart the peak/lease/wait counters (e.g. at the start of a measurement)."""
        with self._cond:
            self._peak = self._in_use
            self._leases = 0
            self._waits = 0
            self._max_holders = max(self._holders.values(), default=0)

    def items(self) -> list[T]:
        """Every live item, idle or checked out (for diagnostics; do not use them)."""
        with self._cond:
            return list(self._items.values())

    def active(self) -> int:
        """How many contexts are checked out right now (cheap, lock-free read)."""
        return self._in_use

    def _forget(self, key: int) -> None:
        self._items.pop(key, None)
        self._epoch.pop(key, None)
        self._holders.pop(key, None)

    def _dispose(self, item: T) -> None:
        if self._close is not None:
            with contextlib.suppress(Exception):  # already freed; nothing more to do
                self._close(item)
