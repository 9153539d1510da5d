"""Turning spans (ours or received over OTLP) and finished calls into table rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from openinference.semconv.resource import ResourceAttributes
from openinference.semconv.trace import SpanAttributes as S
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

from core.credentials import is_secret_field, redact

DEFAULT_PROJECT = "default"
_STATUS = {StatusCode.OK: "OK", StatusCode.ERROR: "ERROR", StatusCode.UNSET: "UNSET"}


def ns_to_datetime(ns: int | None) -> datetime | None:
    """An aware UTC datetime from OTel nanoseconds since the epoch."""
    if not ns:
        return None
    return datetime.fromtimestamp(ns / 1e9, tz=UTC)


def plain(value: Any) -> Any:
    """An OTel attribute value as JSON data (tuples become lists)."""
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return value


def readable_span_to_dict(span: ReadableSpan) -> dict[str, Any]:
    """A finished SDK span in the shared span-dict shape (see :func:`span_row`)."""
    ctx = span.get_span_context()
    assert ctx is not None
    parent = span.parent
    resource = dict(span.resource.attributes) if span.resource else {}
    return {
        "trace_id": f"{ctx.trace_id:032x}",
        "span_id": f"{ctx.span_id:016x}",
        "parent_span_id": f"{parent.span_id:016x}" if parent and parent.span_id else None,
        "name": span.name,
        "start_time": ns_to_datetime(span.start_time),
        "end_time": ns_to_datetime(span.end_time),
        "status_code": _STATUS.get(span.status.status_code, "UNSET"),
        "status_message": span.status.description or "",
        "attributes": {k: plain(v) for k, v in (span.attributes or {}).items()},
        "events": [
            {
                "name": e.name,
                "timestamp": _iso(ns_to_datetime(e.timestamp)),
                "attributes": {k: plain(v) for k, v in (e.attributes or {}).items()},
            }
            for e in span.events
        ],
        "project": str(resource.get(ResourceAttributes.PROJECT_NAME) or DEFAULT_PROJECT),
    }


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt else None


def sanitize_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    """Attributes from elsewhere (OTLP) without secret keys; params and metadata re-redacted."""
    out = {k: v for k, v in attributes.items() if not is_secret_field(k.rsplit(".", 1)[-1], containers=True)}
    params = out.get(S.LLM_INVOCATION_PARAMETERS)
    if isinstance(params, str):
        try:
            parsed = json.loads(params)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            out[S.LLM_INVOCATION_PARAMETERS] = json.dumps(redact(parsed, drop_fields=True))
    if S.METADATA in out:
        out[S.METADATA] = _metadata_json(out[S.METADATA])
    return out


def _metadata_json(value: Any) -> str:
    """``metadata`` as a JSON object string (queries rely on it); other values are wrapped."""
    parsed = value
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = {"value": value}
    if not isinstance(parsed, dict):
        parsed = {"value": parsed}
    return json.dumps(redact(parsed, drop_fields=True), ensure_ascii=False)


def span_row(span: dict[str, Any], workspace_id: int, source: str) -> dict[str, Any]:
    """Values for one ``spans`` row, denormalised columns filled from the attributes."""
    attrs = span["attributes"]
    start, end = span["start_time"], span.get("end_time")
    latency = (end - start).total_seconds() * 1000 if start and end else None
    return {
        "workspace_id": workspace_id,
        "project": _cut(span.get("project") or DEFAULT_PROJECT, 200),
        "trace_id": span["trace_id"],
        "span_id": span["span_id"],
        "parent_span_id": span.get("parent_span_id"),
        "name": _cut(span.get("name") or "", 300),
        "span_kind": _cut(str(attrs.get(S.OPENINFERENCE_SPAN_KIND) or "UNKNOWN").upper(), 30),
        "status_code": span.get("status_code") or "UNSET",
        "status_message": span.get("status_message") or "",
        "start_time": start,
        "end_time": end,
        "latency_ms": latency,
        "attributes": attrs,
        "events": span.get("events") or [],
        "source": source,
        "model_name": _cut(_str(attrs.get(S.LLM_MODEL_NAME)), 300),
        "provider": _cut(_str(attrs.get(S.LLM_PROVIDER) or attrs.get(S.LLM_SYSTEM)), 100),
        "session_id": _cut(_str(attrs.get(S.SESSION_ID)), 64),
        "prompt_tokens": _int(attrs.get(S.LLM_TOKEN_COUNT_PROMPT)),
        "completion_tokens": _int(attrs.get(S.LLM_TOKEN_COUNT_COMPLETION)),
        "total_tokens": _int(attrs.get(S.LLM_TOKEN_COUNT_TOTAL)),
        "cost": _float(attrs.get(S.LLM_COST_TOTAL)),
        "input_value": _str(attrs.get(S.INPUT_VALUE)),
        "output_value": _str(attrs.get(S.OUTPUT_VALUE)),
    }


def _cut(value: str | None, limit: int) -> Any:
    return value[:limit] if isinstance(value, str) else value


def _str(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value)


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _float(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None
