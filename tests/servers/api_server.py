"""The real REST API (uvicorn) on a free 127.0.0.1 port, in a thread, for tests and the benchmark.

    with ApiServer(database) as api:
        httpx.get(f"{api.url}/healthz")
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ApiServer:
    """uvicorn serving ``create_app(database=...)``; started on enter, stopped on exit."""

    def __init__(self, database: Any, port: int | None = None) -> None:
        import uvicorn

        from core.api import create_app

        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_app(database=database), host="127.0.0.1", port=self.port, log_level="warning",
            access_log=False,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> ApiServer:
        """Start serving and return once the socket accepts requests."""
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the API server did not start")
            time.sleep(0.01)  # polling the started flag, bounded by the deadline
        return self

    def stop(self) -> None:
        """Ask uvicorn to exit and wait for the thread."""
        self.server.should_exit = True
        self.thread.join(timeout=30)

    def __enter__(self) -> ApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
