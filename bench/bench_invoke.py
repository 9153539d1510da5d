"""Overhead of ``core.providers.stream`` (recording on) versus the bare openai SDK.

Both stream the same request from the same local llama_cpp.server, interleaved
(A, B, A, B, …) so load changes hit both alike; the first calls are excluded.

    .venv/bin/python bench/bench_invoke.py [--n 200] [--max-tokens 16] [--warmup 5]

Targets: p50 TTFT ratio and p50 total-time ratio (ours / bare) ≤ 1.05.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# Recording goes to a throw-away database, not the user's.
os.environ["WORKBENCH_HOME"] = tempfile.mkdtemp(prefix="bench-invoke-")
os.environ.pop("WORKBENCH_DATABASE_URL", None)

MESSAGES = [{"role": "user", "content": "Write a haiku about the sea."}]


def bare_call(client: object, alias: str, max_tokens: int) -> tuple[float, float, str]:
    """(ttft s, total s, text) with the openai SDK."""
    t0 = time.perf_counter()
    ttft = None
    parts: list[str] = []
    for chunk in client.chat.completions.create(  # type: ignore[attr-defined]
            model=alias, messages=MESSAGES, stream=True, max_tokens=max_tokens,
            temperature=0, seed=1):
        if chunk.choices and chunk.choices[0].delta.content:
            if ttft is None:
                ttft = time.perf_counter() - t0
            parts.append(chunk.choices[0].delta.content)
    return ttft or float("nan"), time.perf_counter() - t0, "".join(parts)


def core_call(base_url: str, alias: str, max_tokens: int) -> tuple[float, float, str]:
    """(ttft s, total s, text) through core.providers.stream with recording on."""
    from core.providers import ModelRequest, RunContext, TextDelta, stream

    t0 = time.perf_counter()
    ttft = None
    parts: list[str] = []
    s = stream(ModelRequest(model=alias, base_url=base_url, messages=MESSAGES,
                            invocation_parameters={"max_tokens": max_tokens, "temperature": 0,
                                                   "seed": 1},
                            context=RunContext(source="bench")))
    for event in s:
        if isinstance(event, TextDelta):
            if ttft is None:
                ttft = time.perf_counter() - t0
            parts.append(event.text)
    total = time.perf_counter() - t0
    assert s.result.status == "ok", s.result.error
    return ttft or float("nan"), total, "".join(parts)


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="calls per side")
    parser.add_argument("--max-tokens", type=int, default=16)
    parser.add_argument("--warmup", type=int, default=5, help="first calls per side excluded")
    args = parser.parse_args()

    import openai

    from core.tracing import get_recorder
    from tests.servers.llama_server import LlamaServer

    with LlamaServer() as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="unused", max_retries=0)
        ours: list[tuple[float, float]] = []
        bare: list[tuple[float, float]] = []
        for i in range(args.n + args.warmup):
            # Alternate which side goes first so neither always follows the other.
            pair = [("core", lambda: core_call(server.base_url, server.alias, args.max_tokens)),
                    ("bare", lambda: bare_call(client, server.alias, args.max_tokens))]
            if i % 2:
                pair.reverse()
            texts = {}
            for name, fn in pair:
                ttft, total, texts[name] = fn()
                if i >= args.warmup:
                    (ours if name == "core" else bare).append((ttft, total))
            if texts["core"] != texts["bare"]:
                print(f"note: outputs differ on call {i}", file=sys.stderr)
        recorded = get_recorder().flush(30)

    def row(name: str, data: list[tuple[float, float]]) -> tuple[float, float]:
        ttfts = [d[0] * 1000 for d in data]
        totals = [d[1] * 1000 for d in data]
        print(f"{name:<22} {pct(ttfts, .5):>9.2f} {pct(ttfts, .95):>9.2f} "
              f"{pct(totals, .5):>10.2f} {pct(totals, .95):>10.2f}")
        return statistics.median(ttfts), statistics.median(totals)

    print(f"\n{args.n} streamed calls per side (max_tokens={args.max_tokens}), interleaved, "
          f"{args.warmup} warm-up calls excluded; times in ms")
    print(f"{'':<22} {'TTFT p50':>9} {'TTFT p95':>9} {'total p50':>10} {'total p95':>10}")
    b = row("openai SDK (bare)", bare)
    o = row("core.providers.stream", ours)
    # Paired ratios (each call against its neighbour) are robust to slow load drifts.
    pt = statistics.median(x[0] / y[0] for x, y in zip(ours, bare, strict=True))
    pl = statistics.median(x[1] / y[1] for x, y in zip(ours, bare, strict=True))
    print(f"\np50 ratio core/bare: TTFT {o[0] / b[0]:.3f}, total {o[1] / b[1]:.3f} "
          f"(median of paired ratios: TTFT {pt:.3f}, total {pl:.3f}; target ≤ 1.05); "
          f"all runs recorded: {recorded}")


if __name__ == "__main__":
    main()
