"""Decoding OTLP trace exports (protobuf or OTLP/JSON) into our span dicts and rows (TR1).

Apps instrumented with OpenInference send ``ExportTraceServiceRequest`` s; a receiver
endpoint hands the body to :func:`ingest_otlp`, which stores them like our own spans.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import zlib
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from openinference.semconv.resource import ResourceAttributes
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span as PbSpan
from opentelemetry.proto.trace.v1.trace_pb2 import Status as PbStatus
from sqlalchemy import select

from core.db import Database
from core.db.models import Span
from core.tracing.rows import DEFAULT_PROJECT, ns_to_datetime, sanitize_attributes, span_row
from core.tracing.writer import insert_ignoring_duplicates

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
MAX_BODY_BYTES = 64 * 1024 * 1024  # an OTLP batch larger than this is refused, even compressed
_STATUS = {
    PbStatus.STATUS_CODE_UNSET: "UNSET",
    PbStatus.STATUS_CODE_OK: "OK",
    PbStatus.STATUS_CODE_ERROR: "ERROR",
}
_ID_FIELDS = {"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"}


class OtlpDecodeError(ValueError):
    """The body is not a valid OTLP trace export; the message says why."""


def any_value(value: AnyValue) -> Any:
    """An OTLP AnyValue as plain Python (arrays → lists, key-value lists → dicts)."""
    which = value.WhichOneof("value")
    if which is None:
        return None
    if which == "array_value":
        return [any_value(v) for v in value.array_value.values]
    if which == "kvlist_value":
        return {kv.key: any_value(kv.value) for kv in value.kvlist_value.values}
    if which == "bytes_value":
        return base64.b64encode(value.bytes_value).decode("ascii")
    return getattr(value, which)


def key_values(items: Any) -> dict[str, Any]:
    """Repeated KeyValue as a flat dict."""
    out: dict[str, Any] = {}
    for kv in items:
        assert isinstance(kv, KeyValue)
        out[kv.key] = any_value(kv.value)
    return out


def parse_request(payload: bytes | str | dict[str, Any], content_type: str = PROTOBUF,
                  content_encoding: str | None = None) -> ExportTraceServiceRequest:
    """Parse an OTLP trace export body (protobuf or OTLP/JSON, optionally gzip/deflate)."""
    if isinstance(payload, dict):
        return _from_json(payload)
    data = payload.encode() if isinstance(payload, str) else payload
    data = _decompress(data, content_encoding)
    kind = (content_type or PROTOBUF).split(";")[0].strip().lower()
    if kind in {JSON, "text/json"}:
        try:
            parsed = json.loads(data)
        except ValueError as exc:
            raise OtlpDecodeError(f"body is not JSON: {exc}") from exc
        if not isinstance(parsed, dict):
            raise OtlpDecodeError("OTLP/JSON body must be an object with resourceSpans")
        return _from_json(parsed)
    if kind not in {PROTOBUF, "application/protobuf", "application/octet-stream"}:
        raise OtlpDecodeError(f"unsupported content type {content_type!r}: send {PROTOBUF} or {JSON}")
    message = ExportTraceServiceRequest()
    try:
        message.ParseFromString(data)
    except DecodeError as exc:
        raise OtlpDecodeError(f"body is not an OTLP protobuf ExportTraceServiceRequest: {exc}") from exc
    return message


def _decompress(data: bytes, encoding: str | None) -> bytes:
    enc = (encoding or "").strip().lower()
    try:
        if enc == "gzip" or (not enc and data[:2] == b"\x1f\x8b"):
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as fh:
                out = fh.read(MAX_BODY_BYTES + 1)
        elif enc == "deflate":
            out = zlib.decompressobj().decompress(data, MAX_BODY_BYTES + 1)
        elif enc in {"", "identity"}:
            out = data
        else:
            raise OtlpDecodeError(f"unsupported content encoding {encoding!r}")
    except (OSError, zlib.error, EOFError) as exc:
        raise OtlpDecodeError(f"cannot decompress the body ({enc or 'gzip'}): {exc}") from exc
    if len(out) > MAX_BODY_BYTES:
        raise OtlpDecodeError(f"body larger than {MAX_BODY_BYTES} bytes")
    return out


def _from_json(data: dict[str, Any]) -> ExportTraceServiceRequest:
    # OTLP/JSON differs from protobuf's JSON mapping: ids are hex, not base64.
    fixed = _hex_ids_to_base64(data)
    message = ExportTraceServiceRequest()
    try:
        json_format.ParseDict(fixed, message, ignore_unknown_fields=True)
    except (json_format.ParseError, ValueError, TypeError) as exc:
        raise OtlpDecodeError(f"not an OTLP/JSON trace export: {exc}") from exc
    return message


def _hex_ids_to_base64(value: Any) -> Any:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in _ID_FIELDS and isinstance(item, str) and item:
                try:
                    item = base64.b64encode(bytes.fromhex(item)).decode("ascii")
                except ValueError as exc:
                    raise OtlpDecodeError(f"{key} {item[:40]!r} is not hex") from exc
            out[key] = _hex_ids_to_base64(item)
        return out
    if isinstance(value, list):
        return [_hex_ids_to_base64(v) for v in value]
    return value


def decode_spans(request: ExportTraceServiceRequest) -> list[dict[str, Any]]:
    """Every span of an export, in the shared span-dict shape (ids hex, times aware UTC)."""
    spans: list[dict[str, Any]] = []
    for resource_spans in request.resource_spans:
        resource = key_values(resource_spans.resource.attributes)
        project = str(resource.get(ResourceAttributes.PROJECT_NAME) or DEFAULT_PROJECT)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                spans.append(_span(span, project))
    return spans


def _span(span: PbSpan, project: str) -> dict[str, Any]:
    if len(span.trace_id) != 16 or len(span.span_id) != 8:
        raise OtlpDecodeError(f"span {span.name!r} has no valid trace_id/span_id")
    return {
        "trace_id": span.trace_id.hex(),
        "span_id": span.span_id.hex(),
        "parent_span_id": span.parent_span_id.hex() if len(span.parent_span_id) == 8 else None,
        "name": span.name,
        "start_time": ns_to_datetime(span.start_time_unix_nano),
        "end_time": ns_to_datetime(span.end_time_unix_nano),
        "status_code": _STATUS.get(span.status.code, "UNSET"),
        "status_message": span.status.message,
        "attributes": key_values(span.attributes),
        "events": [
            {
                "name": e.name,
                "timestamp": _iso_ns(e.time_unix_nano),
                "attributes": key_values(e.attributes),
            }
            for e in span.events
        ],
        "project": project,
    }


def _iso_ns(ns: int) -> str | None:
    dt = ns_to_datetime(ns)
    return dt.isoformat() if dt else None


def decode_otlp(payload: bytes | str | dict[str, Any], content_type: str = PROTOBUF,
                content_encoding: str | None = None) -> list[dict[str, Any]]:
    """Decode an OTLP trace export body into span dicts (secret attributes removed)."""
    spans = decode_spans(parse_request(payload, content_type, content_encoding))
    for span in spans:
        span["attributes"] = sanitize_attributes(span["attributes"])
        if span["start_time"] is None:
            raise OtlpDecodeError(f"span {span['span_id']} has no start time")
    return spans


def ingest_otlp(db: Database, payload: bytes | str | dict[str, Any], content_type: str = PROTOBUF,
                *, workspace_id: int | None = None, content_encoding: str | None = None) -> int:
    """Store the spans of an OTLP export (duplicates ignored); returns how many were new."""
    spans = decode_otlp(payload, content_type, content_encoding)
    if not spans:
        return 0
    ws = workspace_id if workspace_id is not None else db.default_workspace_id()
    rows = {s["span_id"]: span_row(s, ws, "otlp") for s in spans}
    with db.session() as session:
        present = set(session.scalars(select(Span.span_id).where(Span.span_id.in_(list(rows)))))
        fresh = [row for sid, row in rows.items() if sid not in present]
        if fresh:
            insert_ignoring_duplicates(session.connection(), Span.__table__, fresh, "span_id")
    return len(fresh)
