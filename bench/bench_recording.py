"""How much recording costs a call, and how fast the background writer drains.

    .venv/bin/python bench/bench_recording.py [N] [DATABASE_URL]

Give a throwaway DATABASE_URL: it is migrated and written to (default: a temporary SQLite file).
Prints finish() latency percentiles (the only recording cost on the request path) and the
time until N spans and N runs are in the database.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    """Record N chat calls and report latency and drain time."""
    from core.providers.types import ModelRequest, ModelResult, RunContext, Usage
    from core.tracing import Recorder

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    url = sys.argv[2] if len(sys.argv) > 2 else f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    rec = Recorder(url, phoenix_endpoint="")
    messages = [{"role": "system", "content": "You are helpful."}] + [
        {"role": "user" if i % 2 else "assistant", "content": f"message {i} " * 20} for i in range(10)
    ]
    finish: list[float] = []
    t0 = time.perf_counter()
    for i in range(n):
        handle = rec.start(ModelRequest(model="openai/gpt-4o-mini", messages=messages,
                                        invocation_parameters={"temperature": 0.3},
                                        context=RunContext(tags=["bench"], metadata={"i": i})))
        handle.first_token()
        t = time.perf_counter()
        handle.finish(ModelResult(text="answer " * 30, usage=Usage(200, 30, 230)))
        finish.append((time.perf_counter() - t) * 1000)
    enqueued = time.perf_counter() - t0
    ok = rec.flush(120)
    drained = time.perf_counter() - t0
    stats = rec.stats()
    rec.shutdown()
    finish.sort()
    print(f"{n} calls on {url.split(':', 1)[0]}: recorded in {enqueued:.2f}s, all written after "
          f"{drained:.2f}s (flush ok={ok})")
    print(f"finish() ms: p50={statistics.median(finish):.3f} p99={finish[int(n * 0.99) - 1]:.3f} "
          f"max={finish[-1]:.3f}")
    print(f"transactions={stats['transactions']} dropped={stats['dropped']}")


if __name__ == "__main__":
    main()
