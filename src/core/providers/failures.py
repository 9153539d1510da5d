"""Turning whatever a provider SDK raised into one of our errors, with a redacted message."""

from __future__ import annotations

import email.utils
import json
import re
import time
from collections.abc import Iterable
from typing import Any

from core.credentials import redact
from core.providers.errors import (
    AuthenticationError,
    BadRequestError,
    CancelledError,
    ContextWindowExceededError,
    ProviderConnectionError,
    ProviderError,
    ProviderServerError,
    ProviderTimeoutError,
    RateLimitError,
    UnknownModelError,
)

_CONTEXT_HINTS = ("context length", "context window", "maximum context", "context_length_exceeded",
                  "too many tokens", "prompt is too long", "exceed context", "exceeds the context")
_MAX_MESSAGE = 1500
_LITELLM_PREFIX = re.compile(r"^(?:\s*(?:litellm\.)?[A-Za-z]+(?:Error|Exception):\s*)+")


def retry_after_seconds(headers: Any) -> float | None:
    """Seconds to wait from ``retry-after-ms`` / ``retry-after`` (delta or HTTP date)."""
    if not headers:
        return None
    try:
        get = headers.get
    except AttributeError:
        return None
    raw_ms = get("retry-after-ms") or get("Retry-After-Ms")
    if raw_ms:
        try:
            return max(0.0, float(raw_ms) / 1000.0)
        except ValueError:
            pass
    raw = get("retry-after") or get("Retry-After")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(str(raw))
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _retry_after_of(exc: BaseException) -> float | None:
    # litellm keeps the provider's headers in litellm_response_headers; its .response is
    # often a synthesized one without them. The openai SDK has them on .response.
    for attr in ("litellm_response_headers", "response"):
        obj = getattr(exc, attr, None)
        headers = getattr(obj, "headers", obj) if obj is not None else None
        if headers is not None and hasattr(headers, "get"):
            wait = retry_after_seconds(headers)
            if wait is not None:
                return wait
    return None


def _status_of(exc: BaseException) -> int | None:
    code = getattr(exc, "status_code", None)
    if isinstance(code, int):
        return code
    response = getattr(exc, "response", None)
    code = getattr(response, "status_code", None)
    return code if isinstance(code, int) else None


def _raw_message(exc: BaseException) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        msg = inner.get("message") if isinstance(inner, dict) else None
        if isinstance(msg, str) and msg:
            return msg
    msg = getattr(exc, "message", None)
    text = msg if isinstance(msg, str) and msg else str(exc)
    # litellm prefixes "litellm.XxxError: XxxError: OpenAIException - …" and appends
    # tracebacks and bug-report links; keep the provider's own words.
    for cut in (" Traceback (most recent call last)", "This looks like a bug in LiteLLM",
                " Received Model Group", "LiteLLM Retried:"):
        text = text.split(cut, 1)[0]
    for sep in ("Exception - ", "Error - "):
        if sep in text:
            text = text.split(sep, 1)[1]
    text = _LITELLM_PREFIX.sub("", text)
    return text.strip() or type(exc).__name__


def clean_message(text: str, secrets: Iterable[str | None] = ()) -> str:
    """A message safe to show and record: redacted, single paragraph, bounded length."""
    text = redact(text, secrets)
    text = " ".join(text.split())
    return text if len(text) <= _MAX_MESSAGE else text[:_MAX_MESSAGE] + "…"


def to_provider_error(exc: BaseException, *, provider: str | None, model: str | None,
                      secrets: Iterable[str | None] = (), during_stream: bool = False
                      ) -> ProviderError:
    """Our error for ``exc`` (any SDK, litellm, httpx or llama.cpp failure), redacted."""
    secrets = list(secrets)
    if isinstance(exc, ProviderError):
        exc.message = clean_message(exc.message, secrets)
        exc.args = (exc.message,)
        exc.provider = exc.provider or provider
        exc.model = exc.model or model
        return exc
    import httpx
    import openai

    where = f"{provider or 'provider'}"
    status = _status_of(exc)
    detail = clean_message(_raw_message(exc), secrets)
    kw: dict[str, Any] = {"provider": provider, "model": model, "status_code": status}
    name = type(exc).__name__

    if isinstance(exc, json.JSONDecodeError) or name in ("JSONDecodeError",):
        return ProviderServerError(
            f"{where} sent a stream that could not be read (malformed server-sent event): {detail}",
            **kw)
    if isinstance(exc, openai.APITimeoutError | httpx.TimeoutException) or name == "Timeout":
        return ProviderTimeoutError(f"{where} did not answer in time ({detail}).", **kw)
    if name == "ContextWindowExceededError" or (
            status in (400, 413, 422) and any(h in detail.lower() for h in _CONTEXT_HINTS)):
        return ContextWindowExceededError(
            f"The prompt plus max tokens do not fit {model or 'the model'}'s context window: {detail}",
            **kw)
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError) or status in (401, 403):
        return AuthenticationError(
            f"{where} rejected the credentials (HTTP {status or 401}): {detail}. "
            "Check the key in Settings.", **kw)
    if isinstance(exc, openai.RateLimitError) or status == 429:
        wait = _retry_after_of(exc)
        hint = f" Retry after {wait:g}s." if wait is not None else ""
        return RateLimitError(f"{where} is rate limiting (HTTP 429): {detail}.{hint}",
                              retry_after=wait, **kw)
    if isinstance(exc, openai.NotFoundError) or status == 404:
        return UnknownModelError(
            f"{where} does not know model {model!r} or the URL is wrong (HTTP 404): {detail}", **kw)
    if isinstance(exc, openai.BadRequestError | openai.UnprocessableEntityError) or status in (
            400, 409, 413, 422):
        if "LLM Provider NOT provided" in detail or "Unmapped LLM provider" in detail:
            return UnknownModelError(f"No provider knows model {model!r}.", **kw)
        return BadRequestError(f"{where} rejected the request (HTTP {status or 400}): {detail}", **kw)
    if status is not None and status >= 500:
        return ProviderServerError(f"{where} failed (HTTP {status}): {detail}", **kw)
    if isinstance(exc, httpx.TransportError | openai.APIConnectionError | ConnectionError) or name in (
            "APIConnectionError", "ServiceUnavailableError"):
        what = "The connection dropped mid-stream" if during_stream else f"Could not reach {where}"
        return ProviderConnectionError(f"{what}: {detail}", **kw)
    if isinstance(exc, openai.APIError):
        # An "error" event inside the stream, or an unparseable body.
        return ProviderServerError(f"{where} reported an error: {detail}", **kw)
    if name == "UnsupportedParamsError":
        return BadRequestError(f"{model or where} does not support a parameter: {detail}", **kw)
    return ProviderError(f"{where} call failed ({name}): {detail}", **kw)


def cancelled_error(provider: str | None, model: str | None) -> CancelledError:
    """The error recorded when the caller stopped a call."""
    return CancelledError("Stopped by the caller; partial output kept.", provider=provider,
                          model=model)
