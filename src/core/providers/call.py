"""One model call's state, shared by the sync and async streams: attempts, accumulated
output, timings, recording, retry decisions and the final result.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import Any

from core.providers.accounting import call_cost, estimate_usage, usage_from_chunk
from core.providers.errors import ProviderError
from core.providers.failures import cancelled_error, to_provider_error
from core.providers.retry import RetryPolicy
from core.providers.routing import (
    Route,
    json_object_form,
    remember_json_object_dialect,
)
from core.providers.types import (
    ModelRequest,
    ModelResult,
    RunStatus,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    Usage,
)

log = logging.getLogger("core.providers")


class _NullHandle:
    """Stands in for a recording handle when recording is off or unavailable."""

    run_id: str | None = None
    span_id: str | None = None
    trace_id: str | None = None

    def first_token(self) -> None:
        """Nothing to record."""

    def finish(self, result: ModelResult) -> None:
        """Nothing to record."""


_warned_no_recorder = False


def start_recording(request: ModelRequest, attempt: int, record: bool) -> Any:
    """A recording handle for one attempt (a null one if recording is off or broken)."""
    global _warned_no_recorder
    if not record:
        return _NullHandle()
    try:
        from core.tracing import get_recorder

        return get_recorder().start(request, attempt=attempt)
    except Exception:  # a call must work even when its record cannot be made
        if not _warned_no_recorder:
            log.warning("recording unavailable; calls are not recorded", exc_info=True)
            _warned_no_recorder = True
        return _NullHandle()


class _ToolCallParts:
    __slots__ = ("id", "name", "arguments")

    def __init__(self) -> None:
        self.id = ""
        self.name = ""
        self.arguments: list[str] = []


class CallState:
    """Everything one call accumulates; the transports only feed it chunks."""

    def __init__(self, request: ModelRequest, route: Route | None, retry: RetryPolicy,
                 record: bool) -> None:
        self.request = request
        self.route = route
        self.retry = retry
        self.record = record
        self.attempt = 0
        self.handle: Any = _NullHandle()
        self.trace_id = request.context.trace_id
        self._reset_output()
        self.result: ModelResult | None = None
        self._dialect_switched = False
        self.setup_error: ProviderError | None = None

    def _reset_output(self) -> None:
        self.text_parts: list[str] = []
        self.tool_parts: dict[int, _ToolCallParts] = {}
        self.finish_reason: str | None = None
        self.usage: Usage | None = None
        self.output_started = False
        self.t0 = time.perf_counter()
        self.t_first: float | None = None

    # -- attempts ---------------------------------------------------------------------
    def begin_attempt(self) -> None:
        """Open the next attempt: fresh output, its own record in the same trace."""
        self.attempt += 1
        self._reset_output()
        request = self.request
        if self.trace_id and request.context.trace_id != self.trace_id:
            request = dataclasses.replace(
                request, context=dataclasses.replace(request.context, trace_id=self.trace_id))
        self.handle = start_recording(request, self.attempt, self.record)
        self.trace_id = self.trace_id or getattr(self.handle, "trace_id", None)
        self.t0 = time.perf_counter()  # after recording: its cost is not the provider's

    def feed(self, chunk: Any) -> list[StreamEvent]:
        """Events in one provider chunk (text, tool-call pieces); notes usage and finish."""
        if isinstance(chunk, dict):
            return self._feed_generic(chunk)
        events: list[StreamEvent] = []
        usage = usage_from_chunk(getattr(chunk, "usage", None))
        if usage is not None:
            self.usage = usage
        for choice in getattr(chunk, "choices", None) or ():
            if getattr(choice, "index", 0) not in (0, None):
                continue  # n > 1 is not supported: the first choice is the answer
            reason = getattr(choice, "finish_reason", None)
            if reason:
                self.finish_reason = str(reason)
            delta = getattr(choice, "delta", None)
            text = getattr(delta, "content", None) if delta is not None else getattr(choice, "text", None)
            if text:
                self.text_parts.append(text)
                events.append(TextDelta(text))
            for tc in (getattr(delta, "tool_calls", None) or ()) if delta is not None else ():
                events.append(self._tool_piece(tc))
        if events and self.t_first is None:
            self.t_first = time.perf_counter()
            self.output_started = True
            self.handle.first_token()
        return events

    def _feed_generic(self, chunk: dict[str, Any]) -> list[StreamEvent]:
        """A litellm ``GenericStreamingChunk`` dict (the embedded model's own format)."""
        usage = usage_from_chunk(chunk.get("usage"))
        if usage is not None:
            self.usage = usage
        if chunk.get("finish_reason"):
            self.finish_reason = str(chunk["finish_reason"])
        text = chunk.get("text")
        if not text:
            return []
        self.text_parts.append(text)
        if self.t_first is None:
            self.t_first = time.perf_counter()
            self.output_started = True
            self.handle.first_token()
        return [TextDelta(text)]

    def _tool_piece(self, tc: Any) -> ToolCallDelta:
        index = getattr(tc, "index", None)
        index = int(index) if index is not None else len(self.tool_parts)
        fn = getattr(tc, "function", None)
        name = getattr(fn, "name", None) or None
        args = getattr(fn, "arguments", None) or ""
        parts = self.tool_parts.setdefault(index, _ToolCallParts())
        tc_id = getattr(tc, "id", None)
        if tc_id and not parts.id:
            parts.id = tc_id
        # Some servers repeat the whole name on every chunk; others send it once.
        if name and name != parts.name:
            parts.name = name if not parts.name else parts.name + name
        if args:
            parts.arguments.append(args)
        return ToolCallDelta(index=index, id=tc_id, name=name, arguments=args)

    def tool_calls(self) -> list[ToolCall]:
        """The tool calls assembled so far."""
        return [ToolCall(id=p.id or f"call_{i}", name=p.name, arguments="".join(p.arguments))
                for i, p in sorted(self.tool_parts.items())]

    # -- endings ----------------------------------------------------------------------
    def error_for(self, exc: BaseException) -> ProviderError:
        """Our redacted error for ``exc`` raised during this attempt."""
        route = self.route
        return to_provider_error(exc, provider=route.provider if route else self.request.provider,
                                 model=self.request.model,
                                 secrets=[self.request.api_key, *(route.secrets if route else [])],
                                 during_stream=self.output_started)

    def retry_delay(self, error: ProviderError) -> float | None:
        """Seconds to wait before the next attempt, or None when this attempt is final.

        Only before the first token: a retry after output would duplicate text.
        """
        if self.output_started:
            return None
        if self._switch_dialect(error):
            return 0.0
        if self.retry.should_retry(error, self.attempt - int(self._dialect_switched)):
            return self.retry.delay(error, self.attempt - int(self._dialect_switched))
        return None

    def _switch_dialect(self, error: ProviderError) -> bool:
        # llama-cpp-python's server answers OpenAI's json_schema response format with a
        # validation error naming json_object: resend once in its dialect, and remember.
        route = self.route
        fmt = route.response_format if route else None
        if (self._dialect_switched or route is None or route.kind != "openai_compatible"
                or not fmt or fmt.get("type") != "json_schema"
                or "json_object" not in (error.message or "")):
            return False
        self._dialect_switched = True
        route.response_format = json_object_form(fmt)
        if route.api_base:
            remember_json_object_dialect(route.api_base)
        return True

    def end_attempt(self, error: ProviderError | None, *, cancelled: bool = False,
                    final: bool = True) -> ModelResult:
        """Close the attempt's record; when ``final``, this is the call's result."""
        now = time.perf_counter()
        text = "".join(self.text_parts)
        tool_calls = self.tool_calls()
        route = self.route
        usage = self.usage
        if usage is None and route is not None and (self.output_started or error is None):
            usage = estimate_usage(route, self.request, text, tool_calls)
        usage = usage or Usage()
        status: RunStatus = "cancelled" if cancelled else ("error" if error is not None else "ok")
        if cancelled and error is None:
            error = cancelled_error(route.provider if route else None, self.request.model)
        result = ModelResult(
            text=text, tool_calls=tool_calls,
            finish_reason=self.finish_reason or ("cancelled" if cancelled else None),
            usage=usage, cost=call_cost(route, usage) if route is not None else None,
            latency_ms=(now - self.t0) * 1000,
            ttft_ms=(self.t_first - self.t0) * 1000 if self.t_first is not None else None,
            status=status, error=error, model=self.request.model,
            provider=route.provider if route else self.request.provider,
            attempts=self.attempt,
            run_id=self.handle.run_id, span_id=self.handle.span_id,
            trace_id=self.handle.trace_id or self.trace_id,
        )
        self.handle.finish(result)
        if final:
            self.result = result
        if error is not None and not cancelled:
            log.info("model call attempt %d to %s failed: %s", self.attempt, result.provider,
                     error.message)
        return result

    def final_usage_event(self) -> Usage | None:
        """The Usage event to emit at the end of a successful call."""
        if self.result is None or self.result.status != "ok":
            return None
        usage = self.result.usage
        return usage if (usage.prompt_tokens is not None or usage.completion_tokens is not None) else None
