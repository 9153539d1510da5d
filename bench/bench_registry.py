"""Benchmark of prompt retrieval.

    .venv/bin/python bench/bench_registry.py [--requests 2000] [--concurrency 16] [--db URL]

1. ``GET /v1/prompts/{name}@production`` through the REST API (``workbench api``, its
   own process, on a free 127.0.0.1 port), N requests from C concurrent clients (threads with their own
   keep-alive connection): p50/p99 latency and requests/s.
2. The Python client's cached ``get_prompt``: p50/p99 per call (target: p50 <= 50 us).

Uses a throw-away SQLite database unless ``--db`` is given.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.servers.api_server


def percentile(samples: list[float], q: float) -> float:
    """The q-th percentile (0-100) of ``samples`` by nearest rank."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def seed(db) -> str:  # type: ignore[no-untyped-def]
    """A realistic prompt with a snippet and a production label; returns a token."""
    from core import prompts as P
    from core.auth import create_token

    ws = db.default_workspace_id()
    P.save_snippet(db, ws, "policy", "Follow the refund policy. Never promise dates.")
    for i in range(3):
        P.save_version(
            db, ws, "support-reply", template_type="chat", template_format="jinja2",
            template=[{"role": "system", "content": "You are a support agent. [[snippet:policy]]"},
                      {"role": "user", "content": f"v{i}: {{{{ customer }}}} asks: {{{{ question }}}}"}],
            llm_config={"model": "gpt-4o-mini", "invocation_parameters": {"temperature": 0.2}},
            note=f"v{i + 1}",
        )
    P.set_label(db, ws, "support-reply", "production", version=2)
    token, _ = create_token(db, ws, "bench")
    return token


class ApiProcess:
    """``workbench api`` in its own process (so the load generator doesn't share its GIL)."""

    def __init__(self, db_url: str, workers: int = 1) -> None:
        from tests.servers.api_server import free_port

        self.workers = workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db_url = db_url

    def __enter__(self) -> ApiProcess:
        import httpx

        exe = Path(sys.executable).with_name("workbench")
        env = {**os.environ, "WORKBENCH_DATABASE_URL": self.db_url}
        self.proc = subprocess.Popen(
            [str(exe), "api", "--port", str(self.port), "--log-level", "warning",
             "--workers", str(self.workers)], env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("workbench api exited")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("workbench api did not start")
            time.sleep(0.05)  # polling while the process boots

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)


def bench_rest(db, token: str, requests: int, concurrency: int, workers: int = 1) -> None:  # type: ignore[no-untyped-def]
    """REST: p50/p99 and throughput of GET by label."""
    import httpx

    latencies: list[float] = []
    lock = threading.Lock()
    errors: list[str] = []
    per_client = [requests // concurrency + (1 if i < requests % concurrency else 0) for i in range(concurrency)]
    with ApiProcess(db.url, workers) as server:
        url = f"{server.url}/v1/prompts/support-reply@production"
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client() as warm:
            for _ in range(20):
                warm.get(url, headers=headers).raise_for_status()
        barrier = threading.Barrier(concurrency + 1)

        def client(n: int) -> None:
            mine: list[float] = []
            with httpx.Client(headers=headers, timeout=30) as http:
                barrier.wait()
                for _ in range(n):
                    t0 = time.perf_counter()
                    r = http.get(url)
                    mine.append(time.perf_counter() - t0)
                    if r.status_code != 200:
                        errors.append(f"{r.status_code} {r.text[:100]}")
            with lock:
                latencies.extend(mine)

        threads = [threading.Thread(target=client, args=(n,)) for n in per_client]
        for t in threads:
            t.start()
        barrier.wait()
        start = time.perf_counter()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
    print(f"REST GET name@production ({db.dialect}, {workers} worker process(es)): "
          f"{len(latencies)} requests, {concurrency} concurrent clients")
    print(f"  p50 {percentile(latencies, 50) * 1e3:.2f} ms · p99 {percentile(latencies, 99) * 1e3:.2f} ms · "
          f"mean {statistics.fmean(latencies) * 1e3:.2f} ms · {len(latencies) / elapsed:,.0f} requests/s · "
          f"errors {len(errors)}")
    if errors:
        print("  first error:", errors[0])


def bench_client(db, calls: int = 20_000) -> None:  # type: ignore[no-untyped-def]
    """Python client: cached get_prompt per-call latency."""
    from core.client import PromptClient

    client = PromptClient(database=db, ttl=3600)
    client.get_prompt("support-reply", label="production")
    samples = []
    for _ in range(calls):
        t0 = time.perf_counter()
        client.get_prompt("support-reply", label="production")
        samples.append(time.perf_counter() - t0)
    p50 = percentile(samples, 50) * 1e6
    print(f"Python client cached get_prompt: {calls} calls · p50 {p50:.2f} µs · "
          f"p99 {percentile(samples, 99) * 1e6:.2f} µs · target p50 <= 50 µs: {'OK' if p50 <= 50 else 'MISSED'}")
    t0 = time.perf_counter()
    uncached = PromptClient(database=db, ttl=0)
    for _ in range(200):
        uncached.get_prompt("support-reply", label="production")
    print(f"Python client uncached (database each call): {(time.perf_counter() - t0) / 200 * 1e3:.2f} ms/call")


def main() -> None:
    """Parse arguments, seed a database, run both benchmarks."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 4],
                        help="API worker processes to try (default: 1 and 4)")
    parser.add_argument("--db", default=None, help="database URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    from core.db import Database

    with tempfile.TemporaryDirectory() as tmp:
        db = Database(args.db or f"sqlite:///{tmp}/bench.db")
        token = seed(db)
        for workers in args.workers:
            bench_rest(db, token, args.requests, args.concurrency, workers)
        bench_client(db)
        db.dispose()


if __name__ == "__main__":
    main()
