"""Generation speed of the embedded model through core versus llama-cpp-python directly,
then several streams at once on the context pool.

1. Memory: RSS and private memory added by each extra context of the pool.
2. Ratio: same GGUF file, prompt, max_tokens, sampling and thread count; interleaved
   runs; the first runs are excluded (model load, prompt cache).
   Target: tokens/s through core ≥ 0.95 × direct.
3. Concurrency: 1, 2 and 4 ``core.providers.stream`` calls started together, on the pool
   (default size) and, for comparison, on a pool of one context (the old behaviour: calls
   wait for each other). Aggregate tokens/s, per-stream TTFT, and whether the streams
   interleaved (every stream's first token before any stream's last one).

    .venv/bin/python bench/bench_local_model.py [--n 20] [--max-tokens 64] [--rounds 5]
    .venv/bin/python bench/bench_local_model.py --only concurrency
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["WORKBENCH_HOME"] = tempfile.mkdtemp(prefix="bench-local-")
os.environ.pop("WORKBENCH_DATABASE_URL", None)

MESSAGES = [{"role": "user", "content": "Write a long story about a lighthouse keeper."}]


def direct_run(llm: object, max_tokens: int) -> tuple[int, float]:
    """(tokens, seconds) streaming with llama-cpp-python's own chat API."""
    t0 = time.perf_counter()
    tokens = 0
    finish = None
    for chunk in llm.create_chat_completion(  # type: ignore[attr-defined]
            messages=MESSAGES, stream=True, max_tokens=max_tokens, temperature=0, seed=1):
        choice = chunk["choices"][0]
        if choice["delta"].get("content"):
            tokens += 1  # llama.cpp streams one chunk per generated token
        finish = choice.get("finish_reason") or finish
    elapsed = time.perf_counter() - t0
    return (max_tokens if finish == "length" else tokens), elapsed


def core_run(max_tokens: int, record: bool) -> tuple[int, float]:
    """(tokens, seconds) through core.providers.stream on the embedded model."""
    from core.providers import DEFAULT_MODEL, ModelRequest, stream

    t0 = time.perf_counter()
    s = stream(ModelRequest(model=DEFAULT_MODEL, messages=MESSAGES,
                            invocation_parameters={"max_tokens": max_tokens, "temperature": 0,
                                                   "seed": 1}), record=record)
    for _ in s:
        pass
    elapsed = time.perf_counter() - t0
    assert s.result.status == "ok", s.result.error
    return s.result.usage.completion_tokens or 0, elapsed


def ratio_section(n: int, warmup: int, max_tokens: int, record: bool) -> None:
    """Tokens/s through core vs llama-cpp-python directly, interleaved."""
    from llama_cpp import Llama

    from core.providers.local import N_CTX, default_threads, get_local_model, model_path

    threads = default_threads()
    # The same thread settings the pool gives a call running alone.
    direct = Llama(model_path=str(model_path()), n_ctx=N_CTX, n_threads=threads,
                   n_threads_batch=threads, verbose=False)
    get_local_model().load()
    rates: dict[str, list[float]] = {"direct": [], "core": []}
    for i in range(n + warmup):
        order = ["core", "direct"] if i % 2 else ["direct", "core"]
        for name in order:
            if name == "core":
                tokens, secs = core_run(max_tokens, record=record)
            else:
                tokens, secs = direct_run(direct, max_tokens)
            if i >= warmup:
                rates[name].append(tokens / secs)
    direct.close()
    d = statistics.median(rates["direct"])
    c = statistics.median(rates["core"])
    print(f"\n## Single stream: {n} runs per side, max_tokens={max_tokens}, n_threads={threads}, "
          f"interleaved; recording {'on' if record else 'off'}")
    print(f"{'':<28} {'tokens/s p50':>13} {'min':>8} {'max':>8}")
    for name, label in (("direct", "llama-cpp-python (direct)"), ("core", "core.providers.stream")):
        print(f"{label:<28} {statistics.median(rates[name]):>13.1f} {min(rates[name]):>8.1f} "
              f"{max(rates[name]):>8.1f}")
    paired = statistics.median(a / b for a, b in zip(rates["core"], rates["direct"], strict=True))
    print(f"\nratio core/direct: {c / d:.3f} of medians, {paired:.3f} median of paired runs "
          "(target ≥ 0.95)")


def memory_mb() -> dict[str, float]:
    """This process's RSS and private (not shared with any other mapping) memory, in MB."""
    out = {"rss": 0.0, "private": 0.0}
    with open("/proc/self/smaps_rollup") as fh:
        for line in fh:
            key, _, value = line.partition(":")
            kb = int(value.split()[0]) if value.split() else 0
            if key == "Rss":
                out["rss"] = kb / 1024
            elif key in ("Private_Clean", "Private_Dirty"):
                out["private"] += kb / 1024
    return out


def memory_section(contexts: int) -> None:
    """Memory added by each context of a fresh pool."""
    from core.providers.local import LocalModel

    if not os.path.exists("/proc/self/smaps_rollup"):
        print("\n## Memory: /proc/self/smaps_rollup not available here; skipped")
        return
    model = LocalModel(contexts=contexts)
    print(f"\n## Memory per context (n_ctx={model.n_ctx})")
    print(f"{'contexts':>8} {'RSS MB':>8} {'+RSS':>7} {'private MB':>11} {'+private':>9}")
    prev = memory_mb()
    print(f"{0:>8} {prev['rss']:>8.0f} {'':>7} {prev['private']:>11.0f}")
    for k in range(1, contexts + 1):
        model.load(k)
        now = memory_mb()
        print(f"{k:>8} {now['rss']:>8.0f} {now['rss'] - prev['rss']:>+7.0f} "
              f"{now['private']:>11.0f} {now['private'] - prev['private']:>+9.0f}")
        prev = now
    model.close()


def concurrent_round(streams: int, max_tokens: int) -> dict[str, Any]:
    """``streams`` core streams started together; per-stream timings and token counts."""
    from core.providers import DEFAULT_MODEL, ModelRequest, TextDelta, stream

    barrier = threading.Barrier(streams)
    out: dict[int, dict[str, Any]] = {}

    def one(i: int) -> None:
        s = stream(ModelRequest(model=DEFAULT_MODEL, messages=[
            {"role": "user", "content": f"Write a long story about lighthouse keeper number {i}."}],
            invocation_parameters={"max_tokens": max_tokens, "temperature": 0, "seed": i}),
            record=False)
        barrier.wait()
        t0 = time.perf_counter()
        stamps = [time.perf_counter() for e in s if isinstance(e, TextDelta)]
        assert s.result.status == "ok", s.result.error
        out[i] = {"t0": t0, "first": stamps[0], "last": stamps[-1],
                  "tokens": s.result.usage.completion_tokens or 0}

    threads = [threading.Thread(target=one, args=(i,)) for i in range(streams)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    start = min(r["t0"] for r in out.values())
    end = max(r["last"] for r in out.values())
    return {"aggregate": sum(r["tokens"] for r in out.values()) / (end - start),
            "ttft": [r["first"] - r["t0"] for r in out.values()],
            "interleaved": max(r["first"] for r in out.values()) < min(r["last"] for r in out.values())}


def concurrency_section(rounds: int, max_tokens: int) -> None:
    """Aggregate tokens/s and per-stream TTFT with 1, 2 and 4 streams, pool vs one context."""
    import core.providers.local as local

    default_model = local.get_local_model()
    print(f"\n## Concurrent streams: {rounds} rounds each (after one warm-up round), "
          f"max_tokens={max_tokens}, thread budget {default_model.n_threads}, "
          f"{os.cpu_count()} CPUs")
    print(f"{'pool':>6} {'streams':>7} {'agg tok/s p50':>14} {'TTFT p50 ms':>12} "
          f"{'TTFT max ms':>12} {'interleaved':>12}")
    serial = local.LocalModel(contexts=1)
    for label, model in ((f"{default_model.pool.size}", default_model), ("1", serial)):
        local._model = model  # the bench's own choice of pool, for every stream() below
        model.load(min(4, model.pool.size))  # contexts exist: measure streaming, not loading
        for streams in (1, 2, 4):
            results = [concurrent_round(streams, max_tokens) for _ in range(rounds + 1)][1:]
            ttfts = [t for r in results for t in r["ttft"]]
            print(f"{label:>6} {streams:>7} "
                  f"{statistics.median(r['aggregate'] for r in results):>14.1f} "
                  f"{statistics.median(ttfts) * 1000:>12.0f} {max(ttfts) * 1000:>12.0f} "
                  f"{sum(r['interleaved'] for r in results):>9}/{len(results)}")
    local._model = default_model
    serial.close()


def main() -> None:
    """Run the benchmark sections and print their tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20, help="runs per side (ratio section)")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5, help="rounds per concurrency level")
    parser.add_argument("--no-record", action="store_true", help="core without recording")
    parser.add_argument("--only", choices=["ratio", "memory", "concurrency"])
    args = parser.parse_args()
    if args.only in (None, "memory"):
        memory_section(4)  # first: later sections leave freed memory the allocator reuses
    if args.only in (None, "ratio"):
        ratio_section(args.n, args.warmup, args.max_tokens, record=not args.no_record)
    if args.only in (None, "concurrency"):
        concurrency_section(args.rounds, args.max_tokens)


if __name__ == "__main__":
    main()
