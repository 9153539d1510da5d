"""The invocation interface: ``stream``/``invoke`` and their async forms.

A stream is an iterator of events (TextDelta, ToolCallDelta, and a final Usage). It never
raises a provider error while iterating: failures end the stream and land in
``result.error`` with ``status="error"``. Retryable failures before the first token are
retried (each attempt recorded); a stream that dies after output keeps what arrived.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator, Mapping
from typing import Any

from core.providers.call import CallState
from core.providers.errors import ProviderError
from core.providers.retry import RetryPolicy
from core.providers.routing import Route, resolve_route
from core.providers.transports import (
    DEFAULT_TIMEOUT_S,
    close_async,
    close_sync,
    interrupt_sync,
    open_async,
    open_sync,
)
from core.providers.types import ModelRequest, ModelResult, StreamEvent, TextDelta

DEFAULT_RETRY = RetryPolicy()


def _prepare(request: ModelRequest, session_keys: Mapping[str, str] | None,
             retry: RetryPolicy | None, record: bool) -> CallState:
    """Resolve the route (no network); a failure is kept to end the stream with."""
    endpoint = None
    route: Route | None = None
    error: ProviderError | None = None
    try:
        if request.endpoint_id is not None:
            from core.endpoints import cached_endpoint

            endpoint = cached_endpoint(request.endpoint_id)
        route = resolve_route(request, session_keys=session_keys, endpoint=endpoint)
    except ProviderError as exc:
        error = exc
    except Exception as exc:  # e.g. the endpoint's database is unreachable
        error = ProviderError(f"Could not prepare the call: {type(exc).__name__}: {exc}",
                              model=request.model)
    state = CallState(request, route, retry or DEFAULT_RETRY, record)
    state.setup_error = None if error is None else state.error_for(error)
    return state


class InvocationStream:
    """A model call in progress: iterate for events; ``result`` once it has ended."""

    def __init__(self, request: ModelRequest, *, retry: RetryPolicy | None = None,
                 record: bool = True, session_keys: Mapping[str, str] | None = None) -> None:
        self.request = request
        self._state = _prepare(request, session_keys, retry, record)
        self._timeout = request.timeout or DEFAULT_TIMEOUT_S
        self._cancel = threading.Event()
        self._raw: Any = None
        self._raw_lock = threading.Lock()
        self._events = self._run()

    def __iter__(self) -> Iterator[StreamEvent]:
        return self

    def __next__(self) -> StreamEvent:
        return next(self._events)

    def text_deltas(self) -> Iterator[str]:
        """Just the text pieces (for ``st.write_stream``)."""
        for event in self:
            if isinstance(event, TextDelta):
                yield event.text

    def cancel(self) -> None:
        """Stop the call from any thread; the result keeps partial output, status cancelled."""
        self._cancel.set()
        with self._raw_lock:
            raw = self._raw
        if raw is not None:
            interrupt_sync(raw)  # unblocks a read waiting on a silent server

    @property
    def cancelled(self) -> bool:
        """Whether :meth:`cancel` was called."""
        return self._cancel.is_set()

    @property
    def done(self) -> bool:
        """Whether the call has ended (result available)."""
        return self._state.result is not None

    @property
    def result(self) -> ModelResult:
        """How the call ended; raises RuntimeError while it is still streaming."""
        if self._state.result is None:
            raise RuntimeError("The stream has not ended yet: iterate it or call collect().")
        return self._state.result

    def collect(self) -> ModelResult:
        """Consume the remaining events and return the result."""
        for _ in self:
            pass
        return self.result

    def close(self) -> None:
        """Stop iterating now (recorded as cancelled if still running)."""
        self._cancel.set()
        self._events.close()
        if self._state.result is None:  # never started: nothing was sent, nothing recorded
            self._state.record = False
            self._state.begin_attempt()
            self._state.end_attempt(None, cancelled=True)

    def _run(self) -> Generator[StreamEvent, None, None]:
        state = self._state
        setup_error = state.setup_error
        if setup_error is not None or self._cancel.is_set():
            state.begin_attempt()
            state.end_attempt(setup_error, cancelled=setup_error is None)
            return
        route = state.route
        assert route is not None
        while True:
            state.begin_attempt()
            error: ProviderError | None = None
            try:
                raw = open_sync(route, state.request, self._timeout)
                with self._raw_lock:
                    self._raw = raw
                try:
                    if self._cancel.is_set():
                        raise _Stop
                    for chunk in raw:
                        yield from state.feed(chunk)
                        if self._cancel.is_set():
                            raise _Stop
                finally:
                    with self._raw_lock:
                        self._raw = None
                    close_sync(raw)
            except (_Stop, GeneratorExit):
                state.end_attempt(None, cancelled=True)
                return
            except Exception as exc:
                if self._cancel.is_set():
                    state.end_attempt(None, cancelled=True)
                    return
                error = state.error_for(exc)
            if error is None:
                state.end_attempt(None)
                usage = state.final_usage_event()
                if usage is not None:
                    yield usage
                return
            delay = state.retry_delay(error)
            if delay is None:
                state.end_attempt(error)
                return
            state.end_attempt(error, final=False)
            if self._cancel.wait(delay):  # cancelled while backing off
                state.begin_attempt()
                state.end_attempt(None, cancelled=True)
                return


class _Stop(Exception):
    """Internal: the caller cancelled between chunks."""


class AsyncInvocationStream:
    """The async form: ``async for`` events; ``await aresult()`` for the result."""

    def __init__(self, request: ModelRequest, *, retry: RetryPolicy | None = None,
                 record: bool = True, session_keys: Mapping[str, str] | None = None) -> None:
        self.request = request
        self._state = _prepare(request, session_keys, retry, record)
        self._timeout = request.timeout or DEFAULT_TIMEOUT_S
        self._cancel = threading.Event()
        self._wakeup: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._events = self._run()

    def __aiter__(self) -> AsyncIterator[StreamEvent]:
        return self

    async def __anext__(self) -> StreamEvent:
        return await self._events.__anext__()

    async def text_deltas(self) -> AsyncIterator[str]:
        """Just the text pieces."""
        async for event in self:
            if isinstance(event, TextDelta):
                yield event.text

    def cancel(self) -> None:
        """Stop the call (from any thread or task); partial output kept, status cancelled."""
        self._cancel.set()
        loop, wake = self._loop, self._wakeup
        if loop is not None and wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop already closed
                loop.call_soon_threadsafe(wake.set)

    @property
    def done(self) -> bool:
        """Whether the call has ended."""
        return self._state.result is not None

    @property
    def result(self) -> ModelResult:
        """How the call ended; raises RuntimeError while it is still streaming."""
        if self._state.result is None:
            raise RuntimeError("The stream has not ended yet: use `await aresult()`.")
        return self._state.result

    async def aresult(self) -> ModelResult:
        """Consume the remaining events and return the result."""
        async for _ in self:
            pass
        return self.result

    async def aclose(self) -> None:
        """Stop iterating now (recorded as cancelled if still running)."""
        self._cancel.set()
        await self._events.aclose()

    async def _next_or_cancel(self, it: AsyncIterator[Any]) -> Any:
        """The next chunk, or raise _Stop as soon as cancel() is called."""
        assert self._wakeup is not None
        if self._cancel.is_set():
            raise _Stop
        nxt = asyncio.ensure_future(it.__anext__())
        waiter = asyncio.ensure_future(self._wakeup.wait())
        try:
            done, _ = await asyncio.wait({nxt, waiter}, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            nxt.cancel()
            waiter.cancel()
            raise
        if nxt in done:
            waiter.cancel()
            return nxt.result()  # raises StopAsyncIteration / provider errors
        nxt.cancel()
        raise _Stop

    async def _run(self) -> AsyncGenerator[StreamEvent, None]:
        self._loop = asyncio.get_running_loop()
        self._wakeup = asyncio.Event()
        if self._cancel.is_set():
            self._wakeup.set()
        state = self._state
        setup_error = state.setup_error
        if setup_error is not None or self._cancel.is_set():
            state.begin_attempt()
            state.end_attempt(setup_error, cancelled=setup_error is None)
            return
        route = state.route
        assert route is not None
        while True:
            state.begin_attempt()
            error: ProviderError | None = None
            stopped: BaseException | None = None
            raw: Any = None
            try:
                raw = await open_async(route, state.request, self._timeout)
                it = raw.__aiter__()
                while True:
                    try:
                        chunk = await self._next_or_cancel(it)
                    except StopAsyncIteration:
                        break
                    for event in state.feed(chunk):
                        yield event
            except (_Stop, GeneratorExit, asyncio.CancelledError) as exc:
                stopped = exc
            except Exception as exc:
                if self._cancel.is_set():
                    stopped = _Stop()
                else:
                    error = state.error_for(exc)
            finally:
                if raw is not None:
                    await _shielded_close(raw)
            if stopped is not None:
                state.end_attempt(None, cancelled=True)
                if not isinstance(stopped, _Stop):
                    raise stopped
                return
            if error is None:
                state.end_attempt(None)
                usage = state.final_usage_event()
                if usage is not None:
                    yield usage
                return
            delay = state.retry_delay(error)
            if delay is None:
                state.end_attempt(error)
                return
            state.end_attempt(error, final=False)
            try:
                await asyncio.wait_for(self._wakeup.wait(), timeout=delay)
            except TimeoutError:
                continue
            state.begin_attempt()
            state.end_attempt(None, cancelled=True)
            return


async def _shielded_close(raw: Any) -> None:
    with contextlib.suppress(BaseException):  # closing during shutdown: nothing more to do
        await asyncio.shield(close_async(raw))


def warm_up(*, local_model: bool = True, local_contexts: int = 1) -> None:
    """Pay first-call costs now (litellm import, SDK import, embedded model load); no network.

    Meant for a background thread at app start: the first real call is then as fast as
    the others. Further contexts of the embedded model are still made on demand, so
    memory is only spent when several calls really run at once.
    """
    import openai  # noqa: F401  (import cost only)

    from core.providers.local import get_local_model
    from core.providers.runtime import litellm_module

    litellm_module()
    if local_model:
        get_local_model().load(local_contexts)


def stream(request: ModelRequest, *, retry: RetryPolicy | None = None, record: bool = True,
           session_keys: Mapping[str, str] | None = None) -> InvocationStream:
    """Start a streamed model call (nothing is sent until the first event is requested)."""
    return InvocationStream(request, retry=retry, record=record, session_keys=session_keys)


def invoke(request: ModelRequest, *, retry: RetryPolicy | None = None, record: bool = True,
           session_keys: Mapping[str, str] | None = None) -> ModelResult:
    """Call a model and wait for the whole answer."""
    return stream(request, retry=retry, record=record, session_keys=session_keys).collect()


def astream(request: ModelRequest, *, retry: RetryPolicy | None = None, record: bool = True,
            session_keys: Mapping[str, str] | None = None) -> AsyncInvocationStream:
    """Async form of :func:`stream`."""
    return AsyncInvocationStream(request, retry=retry, record=record, session_keys=session_keys)


async def ainvoke(request: ModelRequest, *, retry: RetryPolicy | None = None, record: bool = True,
                  session_keys: Mapping[str, str] | None = None) -> ModelResult:
    """Async form of :func:`invoke`."""
    return await astream(request, retry=retry, record=record,
                         session_keys=session_keys).aresult()
