"""Generation speed of the embedded model through core versus llama-cpp-python directly.

Same GGUF file, prompt, max_tokens, sampling and thread count; interleaved runs; the
first runs are excluded (model load, prompt cache).

    .venv/bin/python bench/bench_local_model.py [--n 20] [--max-tokens 64]

Target: tokens/s through core ≥ 0.95 × direct.
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


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20, help="runs per side")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--no-record", action="store_true", help="core without recording")
    args = parser.parse_args()

    from llama_cpp import Llama

    from core.providers.local import N_CTX, default_threads, get_local_model, model_path

    threads = default_threads()
    direct = Llama(model_path=str(model_path()), n_ctx=N_CTX, n_threads=threads, verbose=False)
    get_local_model().load()
    rates: dict[str, list[float]] = {"direct": [], "core": []}
    for i in range(args.n + args.warmup):
        order = ["core", "direct"] if i % 2 else ["direct", "core"]
        for name in order:
            if name == "core":
                tokens, secs = core_run(args.max_tokens, record=not args.no_record)
            else:
                tokens, secs = direct_run(direct, args.max_tokens)
            if i >= args.warmup:
                rates[name].append(tokens / secs)
    d = statistics.median(rates["direct"])
    c = statistics.median(rates["core"])
    print(f"\n{args.n} runs per side, max_tokens={args.max_tokens}, n_threads={threads}, "
          f"interleaved; recording {'off' if args.no_record else 'on'}")
    print(f"{'':<28} {'tokens/s p50':>13} {'min':>8} {'max':>8}")
    for name, label in (("direct", "llama-cpp-python (direct)"), ("core", "core.providers.stream")):
        print(f"{label:<28} {statistics.median(rates[name]):>13.1f} {min(rates[name]):>8.1f} "
              f"{max(rates[name]):>8.1f}")
    paired = statistics.median(a / b for a, b in zip(rates["core"], rates["direct"], strict=True))
    print(f"\nratio core/direct: {c / d:.3f} of medians, {paired:.3f} median of paired runs "
          "(target ≥ 0.95)")


if __name__ == "__main__":
    main()
