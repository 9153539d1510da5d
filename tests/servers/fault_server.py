"""A fault-injecting OpenAI-compatible server on 127.0.0.1 for tests.

Each request consumes the next scripted behaviour (or the default, a short successful
stream): a stream (optionally slow, with tool calls or usage), an HTTP error with
headers, a hang, a connection dropped mid-stream, or malformed server-sent events.

    with FaultServer() as srv:
        srv.enqueue(Status(429, headers={"Retry-After": "1"}), Stream(["Hel", "lo"]))
        ... call srv.base_url ...
        srv.requests  # what arrived: path, headers, JSON body, time
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Stream:
    """A streamed chat (or text) completion; ``delay`` seconds between chunks."""

    chunks: list[str] = field(default_factory=lambda: ["Hello", ", ", "world", "!"])
    delay: float = 0.0
    usage: dict[str, int] | None = None  # sent as the final chunk when given
    finish_reason: str = "stop"
    tool_calls: list[dict[str, Any]] | None = None  # [{"id", "name", "arguments": [pieces]}]


@dataclass
class Status:
    """An HTTP error answer with an OpenAI-style error body."""

    code: int
    message: str = "injected failure"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Hang:
    """Accept the request and answer nothing for ``seconds`` (or until the server stops)."""

    seconds: float = 30.0
    after_chunks: list[str] = field(default_factory=list)  # stall mid-stream after these


@dataclass
class Drop:
    """Send some chunks, then close the connection without finishing the body."""

    chunks: list[str] = field(default_factory=lambda: ["partial ", "answer"])
    delay: float = 0.0


@dataclass
class Malformed:
    """Send server-sent events whose data is not JSON."""

    lines: list[str] = field(default_factory=lambda: ["data: {this is not json\n\n"])


@dataclass
class Recorded:
    """One request the server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    at: float


Behaviour = Stream | Status | Hang | Drop | Malformed


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        return  # clients hanging up (cancel, timeout) are part of the tests


class FaultServer:
    """Threaded HTTP server speaking enough of the OpenAI API to misbehave on purpose."""

    def __init__(self, models: list[str] | None = None) -> None:
        self.models = models or ["fault-model", "fault-model-2"]
        self.requests: list[Recorded] = []
        self.default: Behaviour = Stream()
        self._script: deque[Behaviour] = deque()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:  # noqa: N802
                server._record(self, None)
                if self.path.rstrip("/") == "/v1/models":
                    behaviour = server._next(default=None)
                    if isinstance(behaviour, Status):
                        server._status(self, behaviour)
                        return
                    body = {"object": "list",
                            "data": [{"id": m, "object": "model"} for m in server.models]}
                    server._json(self, 200, body)
                else:
                    server._json(self, 404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = None
                server._record(self, body)
                server._serve(self, server._next(default=server.default), body or {})

        self._httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    # -- control ----------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """OpenAI-style base URL (ends in /v1)."""
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> FaultServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def enqueue(self, *behaviours: Behaviour) -> None:
        """Script the next requests' behaviours, in order."""
        with self._lock:
            self._script.extend(behaviours)

    def reset(self) -> None:
        """Forget scripted behaviours and received requests; default back to a short stream."""
        with self._lock:
            self._script.clear()
            self.requests.clear()
            self.default = Stream()

    def posts(self) -> list[Recorded]:
        """The POST requests received (model calls)."""
        with self._lock:
            return [r for r in self.requests if r.method == "POST"]

    # -- serving ----------------------------------------------------------------------
    def _next(self, default: Behaviour | None) -> Behaviour | None:
        with self._lock:
            return self._script.popleft() if self._script else default

    def _record(self, handler: BaseHTTPRequestHandler, body: Any) -> None:
        with self._lock:
            self.requests.append(Recorded(handler.command, handler.path,
                                          {k.lower(): v for k, v in handler.headers.items()},
                                          body, time.monotonic()))

    @staticmethod
    def _json(handler: BaseHTTPRequestHandler, code: int, body: Any,
              headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        handler.send_response(code)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            handler.send_header(k, v)
        handler.end_headers()
        handler.wfile.write(data)

    def _status(self, handler: BaseHTTPRequestHandler, b: Status) -> None:
        self._json(handler, b.code, {"error": {"message": b.message, "type": "injected",
                                               "code": b.code}}, b.headers)

    def _serve(self, handler: BaseHTTPRequestHandler, b: Behaviour | None, body: dict[str, Any]) -> None:
        if isinstance(b, Status):
            self._status(handler, b)
            return
        if b is None:
            b = Stream()
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Transfer-Encoding", "chunked")  # so a drop is detectable
        handler.end_headers()
        text_mode = "prompt" in body and "messages" not in body
        try:
            if isinstance(b, Stream):
                self._stream(handler, b, text_mode, body)
            elif isinstance(b, Hang):
                for piece in b.after_chunks:
                    self._event(handler, _chunk(piece, text_mode))
                self._stop.wait(b.seconds)
                self._end(handler)
            elif isinstance(b, Drop):
                for piece in b.chunks:
                    self._event(handler, _chunk(piece, text_mode))
                    if b.delay:
                        time.sleep(b.delay)
                handler.wfile.flush()
                handler.connection.shutdown(socket.SHUT_RDWR)  # no final chunk: body incomplete
                handler.close_connection = True
            elif isinstance(b, Malformed):
                for line in b.lines:
                    self._write(handler, line.encode())
                self._end(handler)
        except (BrokenPipeError, ConnectionResetError, OSError):
            handler.close_connection = True  # the client went away (cancel, timeout)

    def _stream(self, handler: BaseHTTPRequestHandler, b: Stream, text_mode: bool,
                body: dict[str, Any]) -> None:
        for i, piece in enumerate(b.chunks):
            if i and b.delay:
                time.sleep(b.delay)
            self._event(handler, _chunk(piece, text_mode))
        for index, call in enumerate(b.tool_calls or []):
            for j, part in enumerate(call.get("arguments", [])):
                delta = {"index": index, "type": "function", "function": {"arguments": part}}
                if j == 0:
                    delta["id"] = call.get("id", f"call_{index}")
                    delta["function"]["name"] = call["name"]
                self._event(handler, {"object": "chat.completion.chunk", "choices": [
                    {"index": 0, "delta": {"tool_calls": [delta]}, "finish_reason": None}]})
        self._event(handler, _chunk("", text_mode, finish=b.finish_reason))
        wants_usage = (body.get("stream_options") or {}).get("include_usage")
        if b.usage is not None and wants_usage:
            self._event(handler, {"object": "chat.completion.chunk", "choices": [],
                                  "usage": b.usage})
        self._write(handler, b"data: [DONE]\n\n")
        self._end(handler)

    def _event(self, handler: BaseHTTPRequestHandler, payload: dict[str, Any]) -> None:
        payload.setdefault("id", "chatcmpl-fault")
        payload.setdefault("created", 0)
        payload.setdefault("model", "fault-model")
        self._write(handler, f"data: {json.dumps(payload)}\n\n".encode())

    @staticmethod
    def _write(handler: BaseHTTPRequestHandler, data: bytes) -> None:
        handler.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        handler.wfile.flush()

    @staticmethod
    def _end(handler: BaseHTTPRequestHandler) -> None:
        handler.wfile.write(b"0\r\n\r\n")
        handler.wfile.flush()


def _chunk(text: str, text_mode: bool, finish: str | None = None) -> dict[str, Any]:
    if text_mode:
        return {"object": "text_completion",
                "choices": [{"index": 0, "text": text, "finish_reason": finish}]}
    delta = {"content": text} if text else {}
    return {"object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
