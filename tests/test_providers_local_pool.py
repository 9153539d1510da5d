"""The embedded model's context pool: several calls stream at once, each on its own context;
threads are shared fairly; contexts come back after failures; warm-up at app start."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from core.providers import (
    DEFAULT_MODEL,
    ContextWindowExceededError,
    ModelRequest,
    ModelResult,
    TextDelta,
    stream,
)
from core.providers.local import LocalModel, get_local_model, thread_share
from core.providers.local_pool import ContextPool, PoolTimeoutError, default_pool_size

ROOT = Path(__file__).resolve().parents[1]


# -- the pool itself, on plain objects -----------------------------------------------------
class Item:
    def __init__(self, n: int) -> None:
        self.n = n
        self.closed = False


def make_pool(size: int) -> tuple[ContextPool[Item], list[Item]]:
    made: list[Item] = []

    def factory() -> Item:
        made.append(Item(len(made)))
        return made[-1]

    def close(item: Item) -> None:
        item.closed = True

    return ContextPool(factory, size=size, close=close), made


def test_items_are_created_lazily_and_reused() -> None:
    pool, made = make_pool(3)
    assert made == [] and pool.stats().created == 0
    a = pool.acquire(1)
    pool.release(a)
    assert pool.acquire(1) is a and len(made) == 1  # an idle item is reused, not a new one
    b = pool.acquire(1)
    assert b is not a and len(made) == 2
    stats = pool.stats()
    assert (stats.in_use, stats.peak_in_use, stats.max_holders, stats.waits) == (2, 2, 1, 0)


def test_a_full_pool_makes_callers_wait_until_an_item_returns() -> None:
    pool, _ = make_pool(1)
    held = pool.acquire(1)
    with pytest.raises(PoolTimeoutError, match="busy"):
        pool.acquire(timeout=0.05)
    got: list[Item] = []
    waiter = threading.Thread(target=lambda: got.append(pool.acquire(timeout=30)))
    waiter.start()
    pool.release(held)
    waiter.join(30)
    assert got == [held] and pool.stats().waits == 1 and pool.stats().max_holders == 1


def test_a_failing_factory_frees_its_slot() -> None:
    calls = 0

    def factory() -> Item:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("model file unreadable")
        return Item(calls)

    pool: ContextPool[Item] = ContextPool(factory, size=1)
    with pytest.raises(RuntimeError):
        pool.acquire(1)
    assert pool.stats().created == 0
    assert pool.acquire(timeout=0.05).n == 2  # the slot was not lost


def test_close_frees_idle_items_now_and_busy_ones_when_returned() -> None:
    pool, made = make_pool(2)
    busy = pool.acquire(1)
    idle = pool.acquire(1)
    pool.release(idle)
    pool.close()
    assert idle.closed and not busy.closed
    pool.release(busy)
    assert busy.closed and pool.stats().created == 0 and pool.items() == []
    fresh = pool.acquire(1)  # usable again after close
    assert fresh not in (busy, idle) and len(made) == 3


def test_many_threads_never_share_an_item() -> None:
    pool, made = make_pool(3)
    errors: list[str] = []
    using: dict[int, int] = {}
    guard = threading.Lock()

    def work() -> None:
        for _ in range(200):
            with pool.lease(30) as item:
                with guard:
                    using[item.n] = using.get(item.n, 0) + 1
                    if using[item.n] > 1:
                        errors.append(f"item {item.n} held twice")
                with guard:
                    using[item.n] -= 1

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [] and len(made) <= 3
    stats = pool.stats()
    assert stats.max_holders == 1 and stats.leases == 1600 and stats.in_use == 0


def test_pool_size_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WORKBENCH_LOCAL_CONTEXTS", raising=False)
    assert default_pool_size() == 4
    monkeypatch.setenv("WORKBENCH_LOCAL_CONTEXTS", "2")
    assert default_pool_size() == 2 and LocalModel().pool.size == 2
    monkeypatch.setenv("WORKBENCH_LOCAL_CONTEXTS", "zero")
    assert default_pool_size() == 4


@pytest.mark.parametrize(("budget", "active", "expected"), [
    pytest.param(4, 1, (4, 4), id="alone-gets-the-budget"),
    pytest.param(4, 2, (2, 2), id="two-split-it"),
    pytest.param(4, 3, (1, 1), id="three-round-down"),
    pytest.param(1, 4, (1, 1), id="never-below-one"),
])
def test_thread_share(budget: int, active: int, expected: tuple[int, int]) -> None:
    assert thread_share(budget, budget, active) == expected


# -- the real embedded model -----------------------------------------------------------------
def story(i: int, max_tokens: int) -> ModelRequest:
    return ModelRequest(model=DEFAULT_MODEL, messages=[
        {"role": "user", "content": f"Write a long story about lighthouse keeper number {i}."}],
        invocation_parameters={"max_tokens": max_tokens, "temperature": 0.8, "seed": i})


@pytest.mark.slow
def test_concurrent_streams_interleave_each_on_its_own_context() -> None:
    model = get_local_model()
    assert model.pool.size >= 3
    model.load(3)  # contexts exist: this test is about streaming, not about loading
    model.pool.reset_stats()
    n, max_tokens = 3, 40
    stamps: dict[int, list[float]] = {}
    results: dict[int, ModelResult] = {}
    barrier = threading.Barrier(n)

    def run(i: int) -> None:
        s = stream(story(i, max_tokens), record=False)
        barrier.wait(30)
        stamps[i] = [time.perf_counter() for e in s if isinstance(e, TextDelta)]
        results[i] = s.result

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
    assert sorted(results) == list(range(n))
    for r in results.values():
        assert r.status == "ok" and r.finish_reason == "length", r.error
        assert r.usage.completion_tokens == max_tokens and not r.usage.estimated
        assert r.usage.prompt_tokens is not None and r.usage.prompt_tokens > 10
    # Interleaved: every stream had started before any stream ended.
    assert max(s[0] for s in stamps.values()) < min(s[-1] for s in stamps.values()), {
        i: (round(s[0], 3), round(s[-1], 3)) for i, s in stamps.items()}
    stats = model.stats()
    assert stats.peak_in_use == n and stats.max_holders == 1 and stats.leases == n
    assert stats.in_use == 0 and stats.waits == 0


@pytest.mark.slow
def test_contexts_are_made_on_demand_and_come_back_after_failures() -> None:
    model = LocalModel(contexts=2)
    try:
        assert not model.loaded
        first = model.generate(messages=[{"role": "user", "content": "Hi"}],
                               params={"max_tokens": 30})
        next(first)  # one context, made for this call
        assert model.stats().created == 1
        second = model.generate(messages=[{"role": "user", "content": "Hello"}],
                                params={"max_tokens": 30})
        next(second)
        assert model.stats().created == 2 and model.stats().in_use == 2
        first.close()  # a cancelled call returns its context
        second.close()
        assert model.stats().in_use == 0
        too_long = model.generate(messages=[{"role": "user", "content": "word " * 5000}])
        with pytest.raises(ContextWindowExceededError):
            list(too_long)
        stats = model.stats()
        assert stats.in_use == 0 and stats.created == 2 and stats.max_holders == 1
        assert list(model.generate(messages=[{"role": "user", "content": "Hi"}],
                                   params={"max_tokens": 2}))[-1]["usage"]["completion_tokens"] == 2
    finally:
        model.close()
    assert not model.loaded


@pytest.mark.slow
def test_running_calls_follow_their_fair_share_of_threads() -> None:
    import llama_cpp

    model = LocalModel(contexts=2, n_threads=2)
    try:
        first = model.generate(messages=[{"role": "user", "content": "Tell me a long story."}],
                               params={"max_tokens": 40, "temperature": 0})
        next(first)
        (ctx_a,) = model.pool.items()
        assert llama_cpp.llama_n_threads(ctx_a._ctx.ctx) == 2  # alone: the whole budget
        second = model.generate(messages=[{"role": "user", "content": "Tell me a joke."}],
                                params={"max_tokens": 40, "temperature": 0})
        next(second)
        (ctx_b,) = [c for c in model.pool.items() if c is not ctx_a]
        assert llama_cpp.llama_n_threads(ctx_b._ctx.ctx) == 1  # started with one running
        next(first)  # the first call samples again and gives a thread up
        assert llama_cpp.llama_n_threads(ctx_a._ctx.ctx) == 1
        assert llama_cpp.llama_n_threads_batch(ctx_a._ctx.ctx) == 1
        second.close()
        next(first)  # alone again: takes the budget back
        assert llama_cpp.llama_n_threads(ctx_a._ctx.ctx) == 2
        first.close()
    finally:
        model.close()


# -- warm-up -----------------------------------------------------------------------------------
_NO_NETWORK_WARM_UP = """
import json, sys, time
attempts = []
def audit(event, args):
    if event in ("socket.connect", "socket.getaddrinfo", "socket.gethostbyname"):
        attempts.append([event, repr(args)[:200]])
sys.addaudithook(audit)
from core.providers import warm_up
from core.providers.local import get_local_model
t0 = time.perf_counter()
warm_up()
warm_s = time.perf_counter() - t0
print(json.dumps({"attempts": attempts, "loaded": get_local_model().loaded,
                  "contexts": get_local_model().stats().created,
                  "litellm": "litellm" in sys.modules, "warm_s": warm_s}))
"""


@pytest.mark.slow
def test_warm_up_loads_litellm_and_one_context_without_network(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-c", _NO_NETWORK_WARM_UP], capture_output=True,
                         text=True, timeout=180, cwd=tmp_path,
                         env={"PATH": "/usr/bin:/bin", "WORKBENCH_HOME": str(tmp_path),
                              "HOME": str(tmp_path)})
    assert out.returncode == 0, out.stderr[-2000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["attempts"] == []  # not even a DNS lookup
    assert report["loaded"] and report["contexts"] == 1 and report["litellm"]


@pytest.mark.slow
def test_app_starts_warm_up_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    from ui import deps

    monkeypatch.setenv(deps.WARM_UP_ENV, "0")
    assert deps.warm_up_once() is None  # switched off (hosts short of memory)
    monkeypatch.setenv(deps.WARM_UP_ENV, "3")
    assert deps.warm_up_contexts() == 3
    monkeypatch.delenv(deps.WARM_UP_ENV)
    assert deps.warm_up_contexts() == 1
    thread = deps.warm_up_once()
    assert thread is not None and thread.daemon
    assert deps.warm_up_once() is thread  # one per process, whatever the number of reruns
    thread.join(120)
    assert not thread.is_alive() and get_local_model().loaded
    assert "litellm" in sys.modules


def test_a_waiting_caller_gives_up_when_cancelled_and_passes_the_wake_on() -> None:
    from core.providers.local_pool import PoolWaitCancelledError

    pool, _ = make_pool(1)
    held = pool.acquire(1)
    cancel = threading.Event()
    outcome: list[object] = []

    def wait(event: threading.Event | None) -> None:
        try:
            outcome.append(pool.acquire(timeout=30, cancel=event))
        except PoolWaitCancelledError as exc:
            outcome.append(exc)

    quitter = threading.Thread(target=wait, args=(cancel,))
    quitter.start()
    deadline = time.monotonic() + 10
    while pool.stats().waiting < 1 and time.monotonic() < deadline:
        time.sleep(0.01)  # polling a condition
    cancel.set()
    pool.wake()
    quitter.join(10)
    assert isinstance(outcome[0], PoolWaitCancelledError) and pool.stats().waiting == 0
    stayer = threading.Thread(target=wait, args=(None,))
    stayer.start()
    pool.release(held)
    stayer.join(10)
    assert outcome[1] is held and pool.stats().in_use == 1


def test_warm_puts_new_items_straight_into_the_idle_stack() -> None:
    pool, made = make_pool(3)
    pool.warm(2)
    stats = pool.stats()
    assert (stats.created, stats.ready, stats.in_use, stats.leases) == (2, 2, 0, 0)
    pool.warm(5)  # bounded by the pool size
    assert len(made) == 3 and pool.stats().ready == 3
