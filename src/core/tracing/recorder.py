"""The recorder: every model call becomes an OpenInference span and a run row.

The invocation layer calls ``handle = get_recorder().start(request)``, then
``handle.first_token()`` and ``handle.finish(result)``. Neither blocks on I/O nor raises:
the span goes through our TracerProvider (database exporter, optional Phoenix export)
and the run row to the same background writer, batched off the request path.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import traceback
import uuid
import weakref
from datetime import UTC, datetime
from typing import Any

from openinference.semconv.resource import ResourceAttributes
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanLimits, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.sdk.trace.sampling import ALWAYS_ON
from opentelemetry.trace import Span, Status, StatusCode

from core.config import database_url
from core.credentials import redact_text, secrets_of
from core.providers.types import ModelRequest, ModelResult, Operation
from core.tracing.attributes import (
    request_to_dict,
    result_attributes,
    start_attributes,
    tool_calls_json,
)
from core.tracing.phoenix import PhoenixExport, endpoint_from_env
from core.tracing.writer import BackgroundWriter, WriteItem, live_writers

log = logging.getLogger("core.tracing")

# The event name OpenInference instrumentors use, so Phoenix and our UI read it the same way.
FIRST_TOKEN_EVENT = "First Token Stream Event"
WB_STATUS = "workbench.status"
SPAN_NAMES = {Operation.CHAT.value: "ChatCompletion", Operation.TEXT_COMPLETION.value: "Completion"}


class _TraceIdGenerator(RandomIdGenerator):
    """Random ids, except that a thread may ask for the next root span to join a given trace."""

    def __init__(self) -> None:
        self._next = threading.local()

    def use_trace_id(self, trace_id: int | None) -> None:
        self._next.value = trace_id

    def generate_trace_id(self) -> int:
        wanted = getattr(self._next, "value", None)
        if wanted:
            self._next.value = None
            return int(wanted)
        return super().generate_trace_id()


class _DatabaseSpanExporter(SpanExporter):
    """Hands finished spans to the background writer (no I/O here)."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    def export(self, spans: Any) -> SpanExportResult:
        for span in spans:
            ctx = span.get_span_context()
            ws = self.recorder._workspaces.pop(ctx.span_id, None) if ctx else None
            self.recorder.writer.enqueue(WriteItem("span", span, workspace_id=ws))
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        """Nothing to release: the writer outlives the provider until exit."""


class RecordingHandle:
    """One call being recorded: ids known up front, ``finish`` exactly once."""

    def __init__(self, recorder: Recorder, span: Span, request: dict[str, Any], *,
                 run_id: str, attempt: int, secrets: list[str], workspace_id: int | None) -> None:
        ctx = span.get_span_context()
        self.run_id = run_id
        self.span_id = f"{ctx.span_id:016x}"
        self.trace_id = f"{ctx.trace_id:032x}"
        self.attempt = attempt
        self._recorder = recorder
        self._span = span
        self._request = request
        self._secrets = secrets
        self._workspace_id = workspace_id
        self._started_at = datetime.now(UTC)
        self._t0 = time.monotonic()
        self._start_ns = time.time_ns()
        self._first_token: float | None = None
        self._finished = False
        self._lock = threading.Lock()

    @property
    def finished(self) -> bool:
        """Whether :meth:`finish` has been called."""
        return self._finished

    def first_token(self) -> None:
        """Mark the first streamed token (idempotent): an event on the span and the run's TTFT."""
        with self._lock:
            if self._first_token is not None or self._finished:
                return
            self._first_token = time.monotonic()
        try:
            self._span.add_event(FIRST_TOKEN_EVENT)
        except Exception:  # recording must never break the call
            log.exception("could not record the first-token event")

    def finish(self, result: ModelResult) -> None:
        """End the span and queue the run row; never blocks on I/O, never raises."""
        with self._lock:
            if self._finished:
                return
            self._finished = True
        try:
            self._finish(result)
        except Exception:
            log.exception("could not record run %s", self.run_id)
            try:  # still close the span so the call shows up, even if incomplete
                if self._span.is_recording():
                    self._span.set_status(Status(StatusCode.ERROR, "recording failed"))
                    self._span.end()
            except Exception:
                log.exception("could not end span %s", self.span_id)

    def __del__(self) -> None:
        # A caller that drops the handle (a generator closed early) still leaves a record.
        try:
            if not getattr(self, "_finished", True):
                self.finish(ModelResult(status="cancelled", finish_reason="abandoned"))
        except Exception:  # at interpreter exit module globals may already be gone
            pass

    def _finish(self, result: ModelResult) -> None:
        elapsed_ms = (time.monotonic() - self._t0) * 1000
        latency = result.latency_ms if result.latency_ms is not None else elapsed_ms
        ttft = result.ttft_ms
        if ttft is None and self._first_token is not None:
            ttft = (self._first_token - self._t0) * 1000
        if self._first_token is None and ttft is not None:
            self._span.add_event(FIRST_TOKEN_EVENT, timestamp=self._start_ns + int(ttft * 1e6))
        result.run_id = result.run_id or self.run_id
        result.span_id = result.span_id or self.span_id
        result.trace_id = result.trace_id or self.trace_id
        if result.ttft_ms is None:
            result.ttft_ms = ttft
        if result.latency_ms is None:
            result.latency_ms = latency

        span = self._span
        span.set_attributes(result_attributes(result, self._request["operation"]))
        error = result.error
        message = self._error_message(result)
        if result.status == "ok":
            span.set_status(Status(StatusCode.OK))
        elif result.status == "cancelled":
            span.set_attribute(WB_STATUS, "cancelled")  # not an error: the user stopped it
        else:
            span.set_status(Status(StatusCode.ERROR, message or "error"))
        if error is not None:
            span.add_event("exception", {
                "exception.type": _qualified_name(error),
                "exception.message": message or "",
                "exception.stacktrace": redact_text(_stacktrace(error), self._secrets),
                "exception.escaped": False,
            })
        span.end()
        self._recorder.writer.enqueue(
            WriteItem("run", self._run_row(result, latency, ttft, message),
                      workspace_id=self._workspace_id)
        )

    def _error_message(self, result: ModelResult) -> str | None:
        error = result.error
        if error is None:
            return None
        text = getattr(error, "message", None) or str(error) or type(error).__name__
        return redact_text(str(text), self._secrets)[:4000]

    def _run_row(self, result: ModelResult, latency: float, ttft: float | None,
                 message: str | None) -> dict[str, Any]:
        req = self._request
        ctx = req["context"]
        tpl = ctx.get("prompt_template") or {}
        usage = result.usage
        total = usage.total_tokens
        if total is None and usage.prompt_tokens is not None and usage.completion_tokens is not None:
            total = usage.prompt_tokens + usage.completion_tokens
        error = result.error
        status_code = getattr(error, "status_code", None)
        return {
            "id": self.run_id,
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "session_id": _cut(ctx.get("session_id"), 64),
            "card_id": _cut(ctx.get("card_id"), 64),
            "source": _cut(ctx.get("source") or "api", 30),
            "model": _cut(req["model"], 300),
            "provider": _cut(result.provider or req.get("provider"), 100),
            "operation": req["operation"],
            "endpoint_id": req.get("endpoint_id"),
            "prompt_version_id": tpl.get("prompt_version_id"),
            "request": req,
            "template_variables": tpl.get("variables") if tpl else None,
            "output_text": result.text,
            "tool_calls": tool_calls_json(result) or None,
            "finish_reason": _cut(result.finish_reason, 50),
            "status": result.status if result.status in ("ok", "error", "cancelled") else "error",
            "error_type": _cut(getattr(error, "kind", None) or type(error).__name__, 100)
            if error is not None else None,
            "error_message": message,
            "http_status": status_code if isinstance(status_code, int) else None,
            "attempt": self.attempt,
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "total_tokens": total,
            "usage_estimated": bool(usage.estimated),
            "cost": result.cost,
            "latency_ms": latency,
            "ttft_ms": ttft,
            "started_at": self._started_at,
            "ended_at": datetime.now(UTC),
            "tags": list(ctx.get("tags") or []),
            "metadata": ctx.get("metadata") or {},
            "created_by": _cut(ctx.get("user"), 100),
        }


class Recorder:
    """Owns a TracerProvider (never the global one) and the background writer for one DB."""

    def __init__(self, db_url: str, *, phoenix_endpoint: str | None = None,
                 project_name: str | None = None, writer: BackgroundWriter | None = None) -> None:
        from phoenix.otel.settings import get_env_project_name

        self.db_url = db_url
        self.project_name = project_name or get_env_project_name() or "default"
        self.writer = writer or BackgroundWriter(db_url)
        self._ids = _TraceIdGenerator()
        self._workspaces: dict[int, int | None] = {}
        resource = Resource.create({
            ResourceAttributes.PROJECT_NAME: self.project_name,
            "service.name": "prompt-workbench",
        })
        self.tracer_provider = TracerProvider(
            resource=resource,
            id_generator=self._ids,
            sampler=ALWAYS_ON,  # a user's OTEL_TRACES_SAMPLER must not lose our records
            # Long chats have hundreds of message attributes; the default cap is 128.
            span_limits=SpanLimits(max_span_attributes=SpanLimits.UNSET,
                                   max_span_attribute_length=SpanLimits.UNSET),
            shutdown_on_exit=False,  # our atexit flushes the database first
        )
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(_DatabaseSpanExporter(self)))
        self.phoenix = PhoenixExport(self.project_name)
        self.tracer_provider.add_span_processor(self.phoenix)
        self.tracer = self.tracer_provider.get_tracer("core.tracing")
        endpoint = phoenix_endpoint if phoenix_endpoint is not None else endpoint_from_env()
        if endpoint:
            self.configure_phoenix(endpoint)
        _live.add(self)

    def start(self, request: ModelRequest, attempt: int = 1) -> RecordingHandle:
        """Open the span for one attempt at ``request``; ids are known immediately."""
        run_id = uuid.uuid4().hex
        try:
            req = request_to_dict(request)
            attrs = start_attributes(req, run_id=run_id, attempt=attempt)
        except Exception:  # an odd request must not stop the call: record what we can
            log.exception("could not build span attributes for %r", getattr(request, "model", None))
            req = _minimal_request(request)
            attrs = start_attributes(req, run_id=run_id, attempt=attempt)
        ctx = getattr(request, "context", None)
        self._ids.use_trace_id(_parse_trace_id(getattr(ctx, "trace_id", None)))
        try:
            # An empty context: our spans never adopt an unrelated caller's active span.
            span = self.tracer.start_span(SPAN_NAMES.get(req["operation"], "LLM"),
                                          context=Context(), attributes=attrs)
        finally:
            self._ids.use_trace_id(None)
        workspace_id = getattr(ctx, "workspace_id", None)
        if workspace_id is not None:
            self._workspaces[span.get_span_context().span_id] = workspace_id
        return RecordingHandle(self, span, req, run_id=run_id, attempt=attempt,
                               secrets=secrets_of(getattr(request, "api_key", None),
                                                  getattr(request, "extra_headers", None)),
                               workspace_id=workspace_id)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything queued so far is in the database (tests, shutdown)."""
        return self.writer.flush(timeout)

    def flush_export(self, timeout: float = 5.0) -> bool:
        """Wait until spans ended so far have been sent to Phoenix (or failed to be)."""
        return self.phoenix.force_flush(int(timeout * 1000))

    def configure_phoenix(self, endpoint: str | None, *, headers: dict[str, str] | None = None,
                          timeout: float = 3.0, schedule_delay_millis: float = 1000) -> None:
        """Export spans to a Phoenix collector at ``endpoint`` (base URL); None turns it off."""
        self.phoenix.configure(endpoint, headers=headers, timeout=timeout,
                               schedule_delay_millis=schedule_delay_millis)

    def phoenix_status(self) -> dict[str, Any]:
        """Configured Phoenix endpoint and exported/failed counts, for the Settings page."""
        return self.phoenix.status()

    def add_span_processor(self, processor: SpanProcessor) -> None:
        """Also send our spans to ``processor`` (tests use an InMemorySpanExporter)."""
        self.tracer_provider.add_span_processor(processor)

    def stats(self) -> dict[str, Any]:
        """Writer counters: enqueued, written, dropped, retries, transactions, queue length."""
        s = self.writer.stats
        return {
            "enqueued": s.enqueued, "spans_written": s.spans_written,
            "runs_written": s.runs_written, "dropped": s.dropped, "retries": s.retries,
            "transactions": s.transactions, "queued": self.writer.queued,
            "last_error": s.last_error,
        }

    def shutdown(self, timeout: float = 5.0) -> bool:
        """Flush the database writer, then stop exporting; the recorder is unusable after."""
        done = self.writer.close(timeout)
        try:
            self.tracer_provider.shutdown()
        except Exception:
            log.exception("tracer provider shutdown failed")
        return done


def _minimal_request(request: ModelRequest) -> dict[str, Any]:
    operation = getattr(request, "operation", "chat")
    return {
        "model": str(getattr(request, "model", "") or "unknown"), "provider": None,
        "operation": operation if operation in SPAN_NAMES else "chat", "messages": [],
        "prompt": None, "invocation_parameters": {}, "tools": None, "tool_choice": None,
        "response_format": None, "base_url": None, "timeout": None, "endpoint_id": None,
        "context": {"source": "api", "tags": [], "metadata": {}},
    }


def _parse_trace_id(value: str | None) -> int | None:
    if not value:
        return None
    try:
        parsed = int(value, 16)
    except ValueError:
        log.warning("ignoring invalid trace id to continue: %r", value[:40])
        return None
    return parsed if 0 < parsed < 2**128 else None


def _qualified_name(error: BaseException) -> str:
    cls = type(error)
    return cls.__name__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


def _stacktrace(error: BaseException) -> str:
    return "".join(traceback.format_exception(type(error), error, error.__traceback__))[-8000:]


def _cut(value: Any, limit: int) -> Any:
    return value[:limit] if isinstance(value, str) else value


_recorders: dict[str, Recorder] = {}
_recorders_lock = threading.Lock()
_live: weakref.WeakSet[Recorder] = weakref.WeakSet()  # every recorder, flushed at exit


def get_recorder(db_url: str | None = None) -> Recorder:
    """The process-wide Recorder for ``db_url`` (default: the configured database)."""
    key = db_url or database_url()
    with _recorders_lock:
        rec = _recorders.get(key)
        if rec is None:
            rec = _recorders[key] = Recorder(key)
        return rec


def phoenix_status(db_url: str | None = None) -> dict[str, Any]:
    """Phoenix export status of the process-wide recorder (Settings page)."""
    return get_recorder(db_url).phoenix_status()


def reset_recorders(timeout: float = 5.0) -> None:
    """Flush and forget every process-wide recorder (tests switch databases)."""
    with _recorders_lock:
        recorders = list(_recorders.values())
        _recorders.clear()
    for rec in recorders:
        rec.shutdown(timeout)


def _flush_at_exit() -> None:
    # Database first (bounded), then Phoenix export, whose shutdown waits on its own timeout.
    deadline = time.monotonic() + 10.0
    for writer in list(live_writers):
        left = max(0.1, deadline - time.monotonic())
        if writer.queued and not writer.flush(min(5.0, left)):
            log.warning("exiting with %d trace rows not written", writer.queued)
    for rec in list(_live):
        rec.tracer_provider.shutdown()


atexit.register(_flush_at_exit)
