"""A small in-process OTLP/HTTP trace receiver for tests (what a Phoenix collector accepts).

    with OtlpReceiver() as rx:
        ...export to rx.endpoint (base URL) ...
        rx.wait_for_spans(3)
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from core.tracing.otlp import OtlpDecodeError, decode_spans, parse_request


class OtlpReceiver:
    """Threaded HTTP server on 127.0.0.1 collecting decoded spans from POST /v1/traces."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.bodies: list[bytes] = []
        self.headers: list[dict[str, str]] = []
        self.spans: list[dict[str, Any]] = []
        self.errors: list[str] = []
        self._cond = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if self.path.rstrip("/") != "/v1/traces":
                    self.send_error(404)
                    return
                receiver._receive(body, {k.lower(): v for k, v in self.headers.items()})
                payload = ExportTraceServiceResponse().SerializeToString()
                self.send_response(receiver.status)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                return  # keep test output quiet

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        """Base URL of the collector (append /v1/traces for the OTLP path)."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def _receive(self, body: bytes, headers: dict[str, str]) -> None:
        try:
            request = parse_request(body, headers.get("content-type", "application/x-protobuf"),
                                    headers.get("content-encoding"))
            spans = decode_spans(request)
        except OtlpDecodeError as exc:
            spans = []
            self.errors.append(str(exc))
        with self._cond:
            self.bodies.append(body)
            self.headers.append(headers)
            self.spans.extend(spans)
            self._cond.notify_all()

    def wait_for_spans(self, n: int, timeout: float = 10.0) -> bool:
        """Wait until at least ``n`` spans have arrived."""
        with self._cond:
            return self._cond.wait_for(lambda: len(self.spans) >= n, timeout)

    def start(self) -> OtlpReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> OtlpReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def closed_port() -> int:
    """A port on 127.0.0.1 with nothing listening (bound, then released)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    return port
