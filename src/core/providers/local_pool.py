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

    def acquire(self, timeout: float) -> T:
        """A context for the caller alone; raises PoolTimeoutError after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        create = False
        item: T | None = None
        with self._cond:
            waited = False
            while True:
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
                self._cond.wait(remaining)
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
        """Make sure at least ``count`` contexts exist (created now, in this thread)."""
        items: list[T] = []
        try:
            for _ in range(min(count, self.size)):
                with self._cond:
                    if self._created >= count:
                        break
                try:
                    items.append(self.acquire(timeout=0.0))
                except PoolTimeoutError:  # all busy: they exist, which is what was asked
                    break
        finally:
            for item in items:
                self.release(item)

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
                             max_holders=self._max_holders, waits=self._waits)

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
