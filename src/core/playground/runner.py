"""Turn cards into model requests and run several cards at once, streaming into one queue.

:func:`build_request` checks every field of a card and raises :class:`CardFieldError`
naming the field at fault *before* anything is sent. :class:`RunHandle` runs one thread
per card (repetitions one after another inside it) and puts ``(card_id, event)`` pairs on
``handle.queue`` as tokens arrive; it also keeps each card's text so far, so a page that
re-attaches after a rerun can draw the current state without replaying the queue.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from core.playground.requests import (
    CardFieldError,
    build_request,
    conversation_messages,
    template_variables,
    validate_output,
)
from core.playground.state import Card, Message, RunOutput, ToolCallOut, Turn
from core.providers.types import ModelRequest, ModelResult, TextDelta, ToolCallDelta

__all__ = [
    "CardFieldError",
    "CardJob",
    "CardFinished",
    "RepetitionFinished",
    "RepetitionStarted",
    "RunHandle",
    "build_request",
    "conversation_messages",
    "embedded_model_cards",
    "make_job",
    "new_trace_id",
    "output_from_result",
    "prewarm_embedded_model",
    "template_variables",
    "validate_output",
]

StreamFn = Callable[[ModelRequest], Any]


def new_trace_id() -> str:
    """A fresh 32-hex OpenTelemetry trace id for a new conversation."""
    return uuid.uuid4().hex


@dataclass(frozen=True)
class RepetitionStarted:
    """Repetition ``index`` of a card started."""

    index: int


@dataclass(frozen=True)
class RepetitionFinished:
    """Repetition ``index`` of a card ended with ``output``."""

    index: int
    output: RunOutput


@dataclass(frozen=True)
class CardFinished:
    """A card has no more repetitions to run."""


@dataclass
class CardJob:
    """What to run for one card: the request, the turn it fills and how many times."""

    card_id: str
    request: ModelRequest
    turn: Turn
    fresh: bool  # True: the turn starts a new conversation (replaces the history)
    trace_id: str
    repetitions: int = 1


@dataclass
class LiveCard:
    """A card's progress as the threads see it."""

    job: CardJob
    text: str = ""
    tool_calls: dict[int, dict[str, str]] = field(default_factory=dict)
    repetition: int = 0
    outputs: list[RunOutput] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    first_token_at: float | None = None
    done: bool = False
    cancelled: bool = False
    stream: Any = None


def make_job(
    card: Card,
    *,
    user_message: Message | None = None,
    fresh: bool = False,
    session_id: str | None = None,
    repetitions: int = 1,
    api_key: str | None = None,
    user: str | None = None,
    workspace_id: int | None = None,
) -> CardJob:
    """Validate a card and build its job; ``fresh`` runs the template from the start."""
    trace_id = new_trace_id() if fresh or not card.trace_id else card.trace_id
    request = build_request(
        card,
        user_message=user_message,
        fresh=fresh,
        session_id=session_id,
        trace_id=trace_id,
        api_key=api_key,
        user=user,
        workspace_id=workspace_id,
    )
    turn = Turn(user=user_message)
    return CardJob(card.id, request, turn, fresh, trace_id, max(1, min(repetitions, 20)))


def output_from_result(result: ModelResult, *, redact: Callable[[str], str] | None = None) -> RunOutput:
    """A recorded result as the output a card shows and saves."""
    error = None
    kind = None
    if result.error is not None:
        kind = getattr(result.error, "kind", type(result.error).__name__)
        error = getattr(result.error, "message", None) or str(result.error) or type(result.error).__name__
        if redact is not None:
            error = redact(error)
    status = result.status if result.status in ("ok", "error", "cancelled") else "error"
    return RunOutput(
        text=result.text,
        tool_calls=[ToolCallOut(id=c.id, name=c.name, arguments=c.arguments) for c in result.tool_calls],
        status=status,
        error=error,
        error_kind=kind,
        finish_reason=result.finish_reason,
        run_id=result.run_id,
        span_id=result.span_id,
        trace_id=result.trace_id,
        latency_ms=result.latency_ms,
        ttft_ms=result.ttft_ms,
        prompt_tokens=result.usage.prompt_tokens,
        completion_tokens=result.usage.completion_tokens,
        usage_estimated=result.usage.estimated,
        cost=result.cost,
        model=result.model or None,
    )


def embedded_model_cards(cards: Iterable[Card]) -> int:
    """How many of ``cards`` run on the embedded model (no custom endpoint, ``local/…``)."""
    from core.providers.local import is_local_model

    return sum(1 for c in cards if c.endpoint is None and is_local_model(c.model))


def prewarm_embedded_model(cards: Iterable[Card]) -> threading.Thread | None:
    """Make one embedded-model context per card on it, in the background; returns at once.

    So the first "Run all" streams every card together instead of one context creation
    (~0.3 s, serialised) apart. Bounded by the pool size; None when nothing is needed.
    """
    n = embedded_model_cards(cards)
    if not n:
        return None
    from core.providers.local import get_local_model

    return get_local_model().warm_in_background(n)


def _default_stream(request: ModelRequest) -> Any:
    from core.providers import stream

    return stream(request)


def _default_redact(text: str) -> str:
    try:
        from core.credentials import redact
    except ImportError:  # credentials module not available: nothing known to redact
        return text
    return str(redact(text))


class RunHandle:
    """Runs jobs in threads; ``queue`` receives ``(card_id, event)`` as things happen."""

    def __init__(self, jobs: list[CardJob], *, stream_fn: StreamFn | None = None) -> None:
        self.queue: queue.Queue[tuple[str, object]] = queue.Queue()
        self.cards: dict[str, LiveCard] = {j.card_id: LiveCard(job=j) for j in jobs}
        self._stream_fn = stream_fn or _default_stream
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._changed: set[str] = set()
        self._cond = threading.Condition(self._lock)
        self.committed = False
        self.created = time.time()

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> RunHandle:
        """Start one thread per card and return self."""
        for card_id in self.cards:
            t = threading.Thread(target=self._run_card, args=(card_id,), daemon=True,
                                 name=f"playground-{card_id}")
            self._threads.append(t)
            t.start()
        return self

    @property
    def done(self) -> bool:
        """True once every card finished (or was cancelled)."""
        with self._lock:
            return all(c.done for c in self.cards.values())

    def running(self, card_id: str) -> bool:
        """True while ``card_id`` still has work."""
        with self._lock:
            live = self.cards.get(card_id)
            return live is not None and not live.done

    def cancel(self, card_id: str | None = None) -> None:
        """Stop one card (or all): the current stream is cancelled, later repetitions skipped."""
        with self._lock:
            targets = [self.cards[card_id]] if card_id in self.cards else (
                list(self.cards.values()) if card_id is None else [])
            for live in targets:
                live.cancelled = True
                stream = live.stream
                if stream is not None:
                    # A stream that already ended may refuse to be cancelled.
                    with contextlib.suppress(Exception):
                        stream.cancel()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for every thread; True if all finished within ``timeout``."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for t in self._threads:
            t.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return self.done

    # -- reading -----------------------------------------------------------------------
    def wait_changes(self, timeout: float) -> set[str]:
        """Card ids whose display changed since the last call (waits up to ``timeout``)."""
        with self._cond:
            if not self._changed and not all(c.done for c in self.cards.values()):
                self._cond.wait(timeout)
            changed, self._changed = self._changed, set()
            return changed

    def snapshot(self, card_id: str) -> dict[str, Any]:
        """What to draw for a card now: text so far, tool calls, outputs done, status."""
        with self._lock:
            live = self.cards[card_id]
            return {
                "text": live.text,
                "tool_calls": [dict(v) for _, v in sorted(live.tool_calls.items())],
                "repetition": live.repetition,
                "repetitions": live.job.repetitions,
                "outputs": list(live.outputs),
                "done": live.done,
                "cancelled": live.cancelled,
                "elapsed_s": time.monotonic() - live.started,
                "fresh": live.job.fresh,
                "user": live.job.turn.user,
            }

    def finished_turns(self) -> dict[str, CardJob]:
        """Jobs of every finished card, with their turn's outputs filled in."""
        with self._lock:
            out = {}
            for card_id, live in self.cards.items():
                if live.done:
                    live.job.turn.outputs = list(live.outputs)
                    out[card_id] = live.job
            return out

    def events(self, timeout: float = 0.05) -> Iterator[tuple[str, object]]:
        """Yield ``(card_id, event)`` from the queue until every card finished."""
        while True:
            try:
                yield self.queue.get(timeout=timeout)
            except queue.Empty:
                if self.done and self.queue.empty():
                    return

    # -- worker ------------------------------------------------------------------------
    def _emit(self, card_id: str, event: object) -> None:
        self.queue.put((card_id, event))
        with self._cond:
            self._changed.add(card_id)
            self._cond.notify_all()

    def _run_card(self, card_id: str) -> None:
        live = self.cards[card_id]
        job = live.job
        try:
            for rep in range(job.repetitions):
                with self._lock:
                    if live.cancelled:
                        break
                    live.repetition = rep
                    live.text = ""
                    live.tool_calls = {}
                self._emit(card_id, RepetitionStarted(rep))
                output = self._run_once(live, card_id)
                with self._lock:
                    live.outputs.append(output)
                self._emit(card_id, RepetitionFinished(rep, output))
        finally:
            with self._lock:
                live.done = True
                live.stream = None
            self._emit(card_id, CardFinished())

    def _run_once(self, live: LiveCard, card_id: str) -> RunOutput:
        request = live.job.request
        try:
            stream = self._stream_fn(request)
        except Exception as exc:  # refused before sending: shown in the card, nothing recorded
            return RunOutput(status="error", error=_default_redact(str(exc) or type(exc).__name__),
                             error_kind=getattr(exc, "kind", type(exc).__name__), model=request.model)
        with self._lock:
            live.stream = stream
            cancelled_early = live.cancelled
        if cancelled_early:
            stream.cancel()
        try:
            for event in stream:
                with self._lock:
                    if isinstance(event, TextDelta):
                        if live.first_token_at is None:
                            live.first_token_at = time.monotonic()
                        live.text += event.text
                    elif isinstance(event, ToolCallDelta):
                        call = live.tool_calls.setdefault(event.index, {"id": "", "name": "", "arguments": ""})
                        call["id"] = event.id or call["id"]
                        call["name"] = event.name or call["name"]
                        call["arguments"] += event.arguments
                self._emit(card_id, event)
        except Exception as exc:  # the stream should not raise; never lose the card over it
            with self._lock:
                text = live.text
            return RunOutput(text=text, status="error", error=_default_redact(str(exc)),
                             error_kind=type(exc).__name__, model=request.model)
        finally:
            with self._lock:
                live.stream = None
        result = getattr(stream, "result", None)
        if result is None:
            return RunOutput(text=live.text, status="error", error="the stream ended without a result",
                             model=request.model)
        return output_from_result(result, redact=_default_redact)
