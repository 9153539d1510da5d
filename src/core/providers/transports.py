"""Opening a provider stream, sync or async: the openai SDK for OpenAI-compatible
endpoints, litellm for everything else. Clients are cached: building one costs more
than a whole short call to a local server.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import threading
import weakref
from collections import OrderedDict
from functools import cache
from typing import Any

from core.providers.routing import Route
from core.providers.runtime import litellm_module
from core.providers.types import ModelRequest, Operation

DEFAULT_TIMEOUT_S = 120.0  # per read: a stream that stalls this long fails
CONNECT_TIMEOUT_S = 10.0
_CLIENTS_MAX = 32

_sync_clients: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
_async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, OrderedDict[tuple[Any, ...], Any]] = (
    weakref.WeakKeyDictionary())
_clients_lock = threading.Lock()


def _timeout(seconds: float) -> Any:
    import httpx

    return httpx.Timeout(seconds, connect=min(CONNECT_TIMEOUT_S, seconds))


def _client_key(route: Route, timeout: float) -> tuple[Any, ...]:
    return (route.api_base, route.api_key, timeout)


def sync_client(route: Route, timeout: float) -> Any:
    """A cached ``openai.OpenAI`` for the route's base URL and key (SDK retries off)."""
    key = _client_key(route, timeout)
    with _clients_lock:
        client = _sync_clients.get(key)
        if client is not None:
            _sync_clients.move_to_end(key)
            return client
    import openai

    client = openai.OpenAI(base_url=route.api_base, api_key=route.api_key, max_retries=0,
                           timeout=_timeout(timeout))
    with _clients_lock:
        _sync_clients[key] = client
        while len(_sync_clients) > _CLIENTS_MAX:
            _sync_clients.popitem(last=False)
    return client


def async_client(route: Route, timeout: float) -> Any:
    """A cached ``openai.AsyncOpenAI`` for the running event loop (clients are loop-bound)."""
    loop = asyncio.get_running_loop()
    key = _client_key(route, timeout)
    with _clients_lock:
        per_loop = _async_clients.setdefault(loop, OrderedDict())
        client = per_loop.get(key)
        if client is not None:
            return client
    import openai

    client = openai.AsyncOpenAI(base_url=route.api_base, api_key=route.api_key, max_retries=0,
                                timeout=_timeout(timeout))
    with _clients_lock:
        per_loop[key] = client
        while len(per_loop) > _CLIENTS_MAX:
            per_loop.popitem(last=False)
    return client


@cache
def _sdk_params(operation: Operation) -> frozenset[str]:
    import openai

    client = openai.OpenAI(api_key="unused", base_url="http://127.0.0.1:9/v1")
    fn = client.chat.completions.create if operation == Operation.CHAT else client.completions.create
    return frozenset(inspect.signature(fn).parameters)


def openai_kwargs(route: Route, request: ModelRequest, *, include_usage: bool = True) -> dict[str, Any]:
    """Keyword arguments for the openai SDK's create(); unknown params go in ``extra_body``."""
    known = _sdk_params(request.operation)
    kwargs: dict[str, Any] = {"model": route.model, "stream": True}
    if include_usage:
        kwargs["stream_options"] = {"include_usage": True}
    extra: dict[str, Any] = {}
    for name, value in request.invocation_parameters.items():
        if name in ("stream", "stream_options", "model", "messages", "prompt"):
            continue
        (kwargs if name in known else extra)[name] = value
    if request.operation == Operation.CHAT:
        kwargs["messages"] = request.messages
        if request.tools:
            kwargs["tools"] = request.tools
        if request.tool_choice is not None and request.tools:
            kwargs["tool_choice"] = request.tool_choice
        if route.response_format:
            kwargs["response_format"] = route.response_format
    else:
        kwargs["prompt"] = request.prompt or ""
        if route.response_format:
            extra["response_format"] = route.response_format
    if extra:
        kwargs["extra_body"] = {**kwargs.get("extra_body", {}), **extra}
    if request.extra_headers:
        kwargs["extra_headers"] = request.extra_headers
    return kwargs


def litellm_kwargs(route: Route, request: ModelRequest, timeout: float) -> dict[str, Any]:
    """Keyword arguments for litellm.completion / text_completion."""
    kwargs: dict[str, Any] = {
        "model": route.model, "stream": True, "stream_options": {"include_usage": True},
        "timeout": timeout, "max_retries": 0, "num_retries": 0,
    }
    for name, value in request.invocation_parameters.items():
        if name not in ("stream", "stream_options", "model", "messages", "prompt"):
            kwargs[name] = value
    if route.api_key:
        kwargs["api_key"] = route.api_key
    if route.api_base:
        kwargs["api_base"] = route.api_base
    if request.extra_headers:
        kwargs["extra_headers"] = request.extra_headers
    if request.operation == Operation.CHAT:
        kwargs["messages"] = request.messages
        if request.tools:
            kwargs["tools"] = request.tools
            if request.tool_choice is not None:
                kwargs["tool_choice"] = request.tool_choice
    else:
        kwargs["prompt"] = request.prompt or ""
    if route.response_format:
        kwargs["response_format"] = route.response_format
    return kwargs


def _local_generator(route: Route, request: ModelRequest) -> Any:
    from core.providers.local import get_local_model

    params = dict(request.invocation_parameters)
    if route.response_format:
        params["response_format"] = route.response_format
    if request.operation == Operation.CHAT:
        return get_local_model().generate(messages=request.messages, params=params)
    return get_local_model().generate(prompt=request.prompt or "", params=params)


def open_sync(route: Route, request: ModelRequest, timeout: float) -> Any:
    """Start the call; returns an iterable of chunks with a ``close()``."""
    if route.kind == "local":
        return _local_generator(route, request)
    if route.kind == "openai_compatible":
        client = sync_client(route, timeout)
        kwargs = openai_kwargs(route, request)
        if request.operation == Operation.CHAT:
            return client.chat.completions.create(**kwargs)
        return client.completions.create(**kwargs)
    litellm = litellm_module()
    kwargs = litellm_kwargs(route, request, timeout)
    if request.operation == Operation.CHAT:
        return litellm.completion(**kwargs)
    return litellm.text_completion(**kwargs)


async def open_async(route: Route, request: ModelRequest, timeout: float) -> Any:
    """Start the call on the running loop; returns an async iterable of chunks."""
    if route.kind == "local":
        from core.providers.local import iterate_in_thread

        return iterate_in_thread(lambda: _local_generator(route, request))
    if route.kind == "openai_compatible":
        client = async_client(route, timeout)
        kwargs = openai_kwargs(route, request)
        if request.operation == Operation.CHAT:
            return await client.chat.completions.create(**kwargs)
        return await client.completions.create(**kwargs)
    litellm = litellm_module()
    kwargs = litellm_kwargs(route, request, timeout)
    if request.operation == Operation.CHAT:
        return await litellm.acompletion(**kwargs)
    return await litellm.atext_completion(**kwargs)


def close_sync(raw: Any) -> None:
    """Close a stream returned by :func:`open_sync` (idempotent, never raises)."""
    for target in (raw, getattr(raw, "completion_stream", None), getattr(raw, "response", None)):
        close = getattr(target, "close", None)
        if close is None:
            continue
        with contextlib.suppress(Exception):  # already closed, or running in another thread
            close()


def interrupt_sync(raw: Any) -> None:
    """From another thread: make a blocked read on ``raw`` return.

    Closing an httpx response does not wake a thread blocked in recv(); shutting the
    socket down does.
    """
    import socket

    interrupt = getattr(raw, "interrupt", None)  # the embedded model waiting for a context
    if callable(interrupt):
        with contextlib.suppress(Exception):  # already finished
            interrupt()
    for target in (raw, getattr(raw, "completion_stream", None)):
        response = getattr(target, "response", None)
        extensions = getattr(response, "extensions", None) or {}
        network = extensions.get("network_stream")
        sock = network.get_extra_info("socket") if network is not None else None
        if sock is not None:
            with contextlib.suppress(OSError):  # already closed
                sock.shutdown(socket.SHUT_RDWR)


async def close_async(raw: Any) -> None:
    """Close a stream returned by :func:`open_async` (never raises)."""
    for target in (raw, getattr(raw, "completion_stream", None)):
        for name in ("aclose", "close"):
            fn = getattr(target, name, None)
            if fn is None:
                continue
            try:
                out = fn()
                if inspect.isawaitable(out):
                    await out
            except Exception:
                pass
            break
