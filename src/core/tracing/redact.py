"""Removing secrets (API keys, auth headers, URL credentials) before anything is recorded.

The invocation layer may grow its own ``core.credentials.redact``; this module is the
recorder's guarantee that nothing secret reaches the database, spans or exports.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

REDACTED = "***"

# Keys whose values are secrets wherever they appear (params, headers, metadata, OTLP spans).
_SECRET_KEY = re.compile(
    r"(^|[_.\-])(api[_\-]?key|apikey|authorization|auth[_\-]?token|access[_\-]?token|"
    r"refresh[_\-]?token|token|secret|client[_\-]?secret|password|passwd|cookie|"
    r"set[_\-]?cookie|x[_\-]api[_\-]key|api[_\-]?secret|private[_\-]?key|credentials?)$",
    re.IGNORECASE,
)
# Keys dropped entirely: they are containers of secrets (headers) rather than one secret.
_DROPPED_KEYS = frozenset({"api_key", "extra_headers", "headers", "default_headers"})
# Token-count keys contain "token" but are not secrets.
_SAFE_KEYS = frozenset(
    {"max_tokens", "max_completion_tokens", "max_new_tokens", "max_output_tokens", "top_k",
     "prompt_tokens", "completion_tokens", "total_tokens", "logit_bias"}
)
# Bearer tokens and common provider key shapes, scrubbed from free text (error messages).
_SECRET_TEXT = re.compile(
    r"(?i)(bearer\s+)[A-Za-z0-9._~+/=\-]{8,}"
    r"|\b(sk|pk|rk)-[A-Za-z0-9_\-]{8,}"
    r"|\b(sk-ant|xai|gsk|hf)_[A-Za-z0-9_\-]{8,}"
    r"|\bAIza[0-9A-Za-z_\-]{20,}"
)


def is_secret_key(key: str) -> bool:
    """Whether a mapping key names a secret (``api_key``, ``Authorization``, ``x-api-key``…)."""
    low = key.lower()
    if low in _SAFE_KEYS or low.endswith("_tokens") or low.startswith("token_count"):
        return False
    return low in _DROPPED_KEYS or bool(_SECRET_KEY.search(low))


def redact_mapping(value: Any, secrets: Iterable[str] = ()) -> Any:
    """A deep copy of ``value`` without secret keys, known secret strings scrubbed."""
    known = _known(secrets)
    return _redact(value, known)


def _known(secrets: Iterable[str]) -> tuple[str, ...]:
    # Short strings would scrub innocent text; real keys are long.
    return tuple(sorted({s for s in secrets if isinstance(s, str) and len(s) >= 6}, key=len, reverse=True))


def _redact(value: Any, known: tuple[str, ...]) -> Any:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if isinstance(key, str) and is_secret_key(key):
                continue
            out[key] = _redact(item, known)
        return out
    if isinstance(value, list | tuple):
        return [_redact(item, known) for item in value]
    if isinstance(value, str):
        return scrub_text(value, known, patterns=False)
    return value


def scrub_text(text: str, secrets: Iterable[str] = (), *, patterns: bool = True) -> str:
    """``text`` with known secret values (and, with ``patterns``, key-like tokens) masked."""
    for secret in _known(secrets):
        if secret in text:
            text = text.replace(secret, REDACTED)
    return _SECRET_TEXT.sub(_mask, text) if patterns else text


def scrub_values(value: Any, secrets: Iterable[str]) -> Any:
    """A deep copy of ``value`` with known secret strings masked; keys are kept.

    For user content (messages, tools) where a key named ``password`` is data, not a secret.
    """
    known = _known(secrets)
    if not known:
        return _copy(value)
    return _scrub(value, known)


def _scrub(value: Any, known: tuple[str, ...]) -> Any:
    if isinstance(value, dict):
        return {k: _scrub(v, known) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v, known) for v in value]
    if isinstance(value, str):
        return scrub_text(value, known, patterns=False)
    return value


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_copy(v) for v in value]
    return value


def _mask(match: re.Match[str]) -> str:
    # Keep "Bearer " so the message still says what was there.
    return (match.group(1) or "") + REDACTED


def clean_url(url: str | None) -> str | None:
    """``url`` without user:password and without secret-looking query parameters."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return scrub_text(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    query = parts.query
    if query:
        pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if not is_secret_key(k)]
        if any(k in {"key", "sig", "signature", "code"} for k, _ in pairs):
            pairs = [(k, v) for k, v in pairs if k not in {"key", "sig", "signature", "code"}]
        query = urlencode(pairs)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def secrets_of(api_key: str | None, headers: dict[str, str] | None) -> list[str]:
    """The secret strings a request carries, to scrub wherever they might be echoed."""
    found = [api_key] if api_key else []
    for key, val in (headers or {}).items():
        if not isinstance(val, str):
            continue
        found.append(val)
        # "Bearer sk-…": the token alone may be echoed without its scheme.
        if key.lower() == "authorization" and " " in val:
            found.append(val.split(" ", 1)[1])
    return found
