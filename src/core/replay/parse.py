"""Recognise a recorded span in any of the shapes people paste or fetch, and flatten it.

Accepted shapes (detected, never declared):

- ``openinference``: a flat dict of dotted OpenInference attributes, or a nested attributes dict
  (``{"llm": {"input_messages": [...]}}``), either bare or wrapped as the OTel SDK holds a span
  (``{"context": {...}, "attributes": {...}}``);
- ``phoenix``: Phoenix REST ``Span`` objects (``span_kind``, ``status_code``…), alone, in a list,
  or in a ``{"data": [...]}`` page, attributes flat or nested; also rows of Phoenix's spans
  dataframe exported as JSON records (``attributes.llm.model_name``, ``context.span_id``…);
- ``otlp``: OTLP JSON (``resourceSpans[].scopeSpans[].spans[]``, camelCase or snake_case, ids in
  base64 or hex), including Phoenix's ``/spans/otlpv1`` page.

When several spans come in, the earliest LLM span is chosen unless a ``span_id`` is asked for.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass, field
from typing import Any, Literal

SourceFormat = Literal["openinference", "phoenix", "otlp"]
MAX_INPUT_BYTES = 50 * 1024 * 1024

# Attribute names whose values are whole JSON documents: nested input must not be flattened
# below them (``llm.invocation_parameters`` given as an object stays one value).
_LEAF_NAMES = {
    "invocation_parameters",
    "json_schema",
    "variables",
    "metadata",
    "arguments",
    "value",
}
_ATTRIBUTE_ROOTS = {
    "llm",
    "input",
    "output",
    "openinference",
    "session",
    "user",
    "tag",
    "metadata",
    "url",
    "gen_ai",
    "workbench",
    "embedding",
    "retrieval",
    "tool",
}


class SpanParseError(ValueError):
    """The input is not JSON, or holds nothing that looks like a span."""


@dataclass
class ParsedSpan:
    """One span reduced to what replay needs: ids, name, kind and flat dotted attributes."""

    attributes: dict[str, Any]
    source_format: SourceFormat
    span_id: str | None = None
    trace_id: str | None = None
    name: str | None = None
    span_kind: str | None = None
    status_code: str | None = None
    status_message: str | None = None
    start_time: str | int | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def is_llm(self) -> bool:
        """True when the span says it is an LLM span."""
        kind = self.attributes.get("openinference.span.kind") or self.span_kind or ""
        return str(kind).upper() == "LLM"


def load_json(data: str | bytes | bytearray | dict[str, Any] | list[Any]) -> Any:
    """Decode JSON text/bytes; dicts and lists pass through. Raises :class:`SpanParseError`."""
    if isinstance(data, dict | list):
        return data
    if isinstance(data, bytes | bytearray):
        if len(data) > MAX_INPUT_BYTES:
            raise SpanParseError(f"span input is {len(data)} bytes; the limit is {MAX_INPUT_BYTES}")
        try:
            data = bytes(data).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise SpanParseError(f"span input is not UTF-8 text: {exc}") from None
    if not isinstance(data, str):
        raise SpanParseError(
            f"expected span JSON as str, bytes, dict or list, got {type(data).__name__}"
        )
    if len(data) > MAX_INPUT_BYTES:
        raise SpanParseError(
            f"span input is {len(data)} characters; the limit is {MAX_INPUT_BYTES}"
        )
    if not data.strip():
        raise SpanParseError("span input is empty")
    try:
        return json.loads(data)
    except json.JSONDecodeError as exc:
        raise SpanParseError(
            f"span input is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None


def flatten_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    """Dotted keys for nested attribute dicts; lists of objects become ``.{i}.`` segments."""
    flat: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        name = prefix.rsplit(".", 1)[-1]
        if prefix and name in _LEAF_NAMES:
            flat[prefix] = value
        elif isinstance(value, dict) and value:
            for key, sub in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), sub)
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for i, sub in enumerate(value):
                walk(f"{prefix}.{i}", sub)
        else:
            flat[prefix] = value

    for key, value in attributes.items():
        walk(str(key), value)
    return flat


def normalize_id(raw: Any, length: int) -> str | None:
    """A span/trace id as lowercase hex of ``length`` chars from hex, ``0x`` hex or base64."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, int):
        return f"{raw:0{length}x}"
    text = str(raw).strip()
    if text.lower().startswith("0x"):
        text = text[2:]
    if len(text) == length and all(c in "0123456789abcdefABCDEF" for c in text):
        return text.lower()
    try:
        decoded = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return text
    if len(decoded) * 2 == length:
        return decoded.hex()
    return text


def _otlp_value(value: Any) -> Any:
    """An OTLP ``AnyValue`` (camelCase or snake_case keys) as a plain Python value."""
    if not isinstance(value, dict):
        return value
    for key in ("stringValue", "string_value"):
        if key in value:
            return value[key]
    for key in ("boolValue", "bool_value"):
        if key in value:
            return bool(value[key])
    for key in ("intValue", "int_value"):
        if key in value:
            try:
                return int(value[key])
            except (TypeError, ValueError):
                return value[key]
    for key in ("doubleValue", "double_value"):
        if key in value:
            raw = value[key]
            if isinstance(raw, str):
                try:
                    return float(raw)
                except ValueError:
                    return math.nan
            return raw
    for key in ("arrayValue", "array_value"):
        if key in value:
            return [_otlp_value(v) for v in (value[key] or {}).get("values") or []]
    for key in ("kvlistValue", "kvlist_value"):
        if key in value:
            return {
                kv.get("key"): _otlp_value(kv.get("value"))
                for kv in (value[key] or {}).get("values") or []
            }
    for key in ("bytesValue", "bytes_value"):
        if key in value:
            return value[key]
    return None


def _otlp_attributes(items: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items or []:
        if isinstance(item, dict) and item.get("key") is not None:
            out[str(item["key"])] = _otlp_value(item.get("value"))
    return out


def _get(d: dict[str, Any], *names: str) -> Any:
    for name in names:
        if name in d:
            return d[name]
    return None


def _otlp_span(span: dict[str, Any]) -> ParsedSpan:
    status = span.get("status") or {}
    code = status.get("code")
    status_code = {0: "UNSET", 1: "OK", 2: "ERROR"}.get(code) if isinstance(code, int) else None
    if isinstance(code, str):
        status_code = code.removeprefix("STATUS_CODE_")
    attributes = _otlp_attributes(span.get("attributes"))
    return ParsedSpan(
        attributes=flatten_attributes(attributes),
        source_format="otlp",
        span_id=normalize_id(_get(span, "spanId", "span_id"), 16),
        trace_id=normalize_id(_get(span, "traceId", "trace_id"), 32),
        name=span.get("name"),
        span_kind=attributes.get("openinference.span.kind"),
        status_code=status_code,
        status_message=status.get("message"),
        start_time=_start_ns(_get(span, "startTimeUnixNano", "start_time_unix_nano")),
    )


def _start_ns(raw: Any) -> int | None:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


def _is_otlp_span(d: dict[str, Any]) -> bool:
    return isinstance(d.get("attributes"), list) or (
        any(k in d for k in ("spanId", "span_id", "traceId", "trace_id")) and "context" not in d
    )


def _object_span(d: dict[str, Any]) -> ParsedSpan:
    """A span object with a dict of attributes: Phoenix REST or the OTel SDK's JSON."""
    context: dict[str, Any] = d["context"] if isinstance(d.get("context"), dict) else {}
    attributes = flatten_attributes(d.get("attributes") or {})
    phoenix = any(k in d for k in ("span_kind", "status_code", "parent_id")) and "kind" not in d
    status: dict[str, Any] = d["status"] if isinstance(d.get("status"), dict) else {}
    return ParsedSpan(
        attributes=attributes,
        source_format="phoenix" if phoenix else "openinference",
        span_id=normalize_id(_get(context, "span_id", "spanId") or d.get("span_id"), 16),
        trace_id=normalize_id(_get(context, "trace_id", "traceId") or d.get("trace_id"), 32),
        name=d.get("name"),
        span_kind=d.get("span_kind") or attributes.get("openinference.span.kind"),
        status_code=d.get("status_code") or status.get("status_code"),
        status_message=d.get("status_message") or status.get("description"),
        start_time=d.get("start_time"),
    )


def _dataframe_row(d: dict[str, Any]) -> ParsedSpan:
    """A row of Phoenix's spans dataframe (``attributes.llm.model_name``, ``context.span_id``…)."""
    attributes = {
        k.removeprefix("attributes."): v for k, v in d.items() if k.startswith("attributes.")
    }
    flat = flatten_attributes({k: v for k, v in attributes.items() if v is not None})
    start = d.get("start_time")
    return ParsedSpan(
        attributes=flat,
        source_format="phoenix",
        span_id=normalize_id(d.get("context.span_id"), 16),
        trace_id=normalize_id(d.get("context.trace_id"), 32),
        name=d.get("name"),
        span_kind=d.get("span_kind") or flat.get("openinference.span.kind"),
        status_code=d.get("status_code"),
        status_message=d.get("status_message"),
        start_time=start if isinstance(start, str | int) else None,
    )


def _looks_like_attributes(d: dict[str, Any]) -> bool:
    return any(str(k).split(".", 1)[0] in _ATTRIBUTE_ROOTS for k in d)


def collect_spans(obj: Any) -> list[ParsedSpan]:
    """Every span found in a decoded JSON value, in document order."""
    if isinstance(obj, list):
        return [span for item in obj for span in collect_spans(item)]
    if not isinstance(obj, dict):
        return []
    for key in ("resourceSpans", "resource_spans", "scopeSpans", "scope_spans"):
        if isinstance(obj.get(key), list):
            return collect_spans(obj[key])
    if isinstance(obj.get("spans"), list):
        return [_otlp_span(s) for s in obj["spans"] if isinstance(s, dict)]
    if isinstance(obj.get("data"), list):
        return collect_spans(obj["data"])
    if isinstance(obj.get("data"), dict):
        return collect_spans(obj["data"])
    if _is_otlp_span(obj):
        return [_otlp_span(obj)]
    if isinstance(obj.get("attributes"), dict):
        return [_object_span(obj)]
    if any(str(k).startswith("attributes.") for k in obj):
        return [_dataframe_row(obj)]
    if _looks_like_attributes(obj):
        return [ParsedSpan(attributes=flatten_attributes(obj), source_format="openinference")]
    return []


def _has_llm_attributes(span: ParsedSpan) -> bool:
    return any(
        k.startswith(("llm.input_messages", "llm.prompts", "llm.model_name"))
        for k in span.attributes
    )


def _sort_key(span: ParsedSpan) -> tuple[int, str]:
    start = span.start_time
    if isinstance(start, int):
        return (0, f"{start:030d}")
    return (0, str(start)) if start else (1, "")


def parse_span(
    data: str | bytes | dict[str, Any] | list[Any], span_id: str | None = None
) -> ParsedSpan:
    """Find the span to replay: ``span_id`` if given, else the earliest LLM span in the input."""
    spans = collect_spans(load_json(data))
    if not spans:
        raise SpanParseError(
            "no span found: expected OpenInference attributes, a Phoenix span "
            "({context, span_kind, attributes}) or OTLP JSON (resourceSpans[].scopeSpans[].spans[])"
        )
    if span_id is not None:
        wanted = normalize_id(span_id, 16)
        for span in spans:
            if span.span_id == wanted:
                return span
        raise SpanParseError(f"span {span_id} is not in the input ({len(spans)} spans)")
    llm = [s for s in spans if s.is_llm]
    if llm:
        # Stable sort: spans without a start time keep document order.
        chosen = sorted(llm, key=_sort_key)[0] if len(llm) > 1 else llm[0]
        if len(llm) > 1:
            chosen.warnings.append(
                f"{len(llm)} LLM spans in the input; replaying the earliest "
                f"({chosen.name or 'unnamed'}, span {chosen.span_id}); pass span_id to pick another"
            )
        return chosen
    with_llm = [s for s in spans if _has_llm_attributes(s)]
    chosen = with_llm[0] if with_llm else spans[0]
    kind = chosen.span_kind or chosen.attributes.get("openinference.span.kind") or "unknown"
    chosen.warnings.append(
        f"no span is marked as an LLM span; replaying {chosen.name or 'the first span'} "
        f"(kind {kind}), some request fields may be missing"
    )
    return chosen
