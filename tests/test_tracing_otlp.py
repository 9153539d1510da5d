"""OTLP decoding: spans sent by a real OpenTelemetry SDK exporter decode and store as sent."""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Iterator
from typing import Any

import pytest
from google.protobuf import json_format
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode, set_span_in_context

from core.db import Database
from core.tracing.otlp import OtlpDecodeError, decode_otlp, ingest_otlp
from core.tracing.rows import readable_span_to_dict, span_row
from core.tracing.store import get_span, list_spans
from tests.servers.otlp_receiver import OtlpReceiver


def make_spans(provider: TracerProvider) -> None:
    """An app's LLM call inside a chain, with every attribute value type OTLP carries."""
    tracer = provider.get_tracer("app")
    parent = tracer.start_span("agent", attributes={"openinference.span.kind": "CHAIN",
                                                    "input.value": "plan a trip"})
    child = tracer.start_span("ChatCompletion", context=set_span_in_context(parent), attributes={
        "openinference.span.kind": "LLM",
        "llm.model_name": "gpt-4o-mini",
        "llm.system": "openai",
        "llm.input_messages.0.message.role": "user",
        "llm.input_messages.0.message.content": "Weather in Paris? ☀",
        "llm.token_count.prompt": 10,
        "llm.token_count.completion": 12,
        "llm.token_count.total": 22,
        "llm.cost.total": 0.0025,
        "llm.invocation_parameters": json.dumps({"temperature": 0.1, "api_key": "sk-app-KEY0001"}),
        "session.id": "chat-42",
        "tag.tags": ["prod", "eu"],
        "metadata": json.dumps({"customer": "acme", "tier": 2}),
        "some.ints": [1, 2, 3],
        "some.flag": True,
        "output.value": "Sunny",
    })
    child.add_event("First Token Stream Event")
    child.add_event("note", {"n": 1, "ok": False})
    child.set_status(Status(StatusCode.ERROR, "upstream 503"))
    child.end()
    parent.set_status(Status(StatusCode.OK))
    parent.end()


@pytest.fixture
def sent() -> Iterator[tuple[OtlpReceiver, list[ReadableSpan]]]:
    """Spans exported by the SDK's OTLP/HTTP exporter to our receiver, plus what was sent."""
    memory = InMemorySpanExporter()
    with OtlpReceiver() as rx:
        provider = TracerProvider(resource=Resource.create({"openinference.project.name": "app-x"}))
        provider.add_span_processor(SimpleSpanProcessor(memory))
        provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{rx.endpoint}/v1/traces",
                                                                         timeout=5)))
        make_spans(provider)
        assert rx.wait_for_spans(2)
        provider.shutdown()
        yield rx, list(memory.get_finished_spans())


def expected(span: ReadableSpan) -> dict[str, Any]:
    return readable_span_to_dict(span)


def test_round_trip_through_a_real_exporter(sent: tuple[OtlpReceiver, list[ReadableSpan]]) -> None:
    rx, spans = sent
    assert not rx.errors
    got = {s["span_id"]: s for s in rx.spans}
    for span in spans:
        want = expected(span)
        assert got[want["span_id"]] == want
    child = next(s for s in rx.spans if s["name"] == "ChatCompletion")
    parent = next(s for s in rx.spans if s["name"] == "agent")
    assert child["parent_span_id"] == parent["span_id"] and parent["parent_span_id"] is None
    assert child["attributes"]["tag.tags"] == ["prod", "eu"]
    assert child["attributes"]["some.ints"] == [1, 2, 3]
    assert child["events"][1]["attributes"] == {"n": 1, "ok": False}
    assert child["project"] == "app-x"


def test_ingest_stores_rows_equal_to_what_was_sent(
    database: Database, sent: tuple[OtlpReceiver, list[ReadableSpan]]
) -> None:
    rx, spans = sent
    # The bytes as they came over the wire, then the same spans again (ignored: idempotent).
    assert sum(ingest_otlp(database, body) for body in rx.bodies) == 2
    assert ingest_otlp(database, encode_spans(spans).SerializeToString()) == 0
    ws = database.default_workspace_id()
    for span in spans:
        want = span_row(expected(span), ws, "otlp")
        got = get_span(database, want["span_id"])
        assert got is not None
        assert got["context"] == {"trace_id": want["trace_id"], "span_id": want["span_id"]}
        assert got["name"] == want["name"] and got["parent_id"] == want["parent_span_id"]
        assert got["start_time"] == want["start_time"].isoformat()
        assert got["end_time"] == want["end_time"].isoformat()
        assert got["status_code"] == want["status_code"]
        assert got["status_message"] == want["status_message"]
        assert got["events"] == want["events"] and got["source"] == "otlp"
        assert got["project"] == "app-x"
        # Attributes are stored as sent, except secrets.
        sent_attrs = dict(want["attributes"])
        if "llm.invocation_parameters" in sent_attrs:
            sent_attrs["llm.invocation_parameters"] = json.dumps({"temperature": 0.1})
        assert got["attributes"] == sent_attrs
    [row] = list_spans(database, ws, span_kind="LLM")
    assert row["model_name"] == "gpt-4o-mini" and row["provider"] == "openai"
    assert (row["prompt_tokens"], row["completion_tokens"], row["total_tokens"]) == (10, 12, 22)
    assert row["cost"] == pytest.approx(0.0025) and row["session_id"] == "chat-42"
    assert row["status_code"] == "ERROR" and row["output_value"] == "Sunny"
    assert row["input_value"] is None and row["latency_ms"] is not None
    assert list_spans(database, ws, span_kind="CHAIN")[0]["input_value"] == "plan a trip"
    assert list_spans(database, ws, metadata={"customer": "acme"})[0]["span_id"] == row["span_id"]
    assert list_spans(database, ws, tags=["eu"])[0]["span_id"] == row["span_id"]


def to_otlp_json(spans: list[ReadableSpan]) -> dict[str, Any]:
    """OTLP/JSON as JavaScript exporters send it: camelCase keys, hex ids."""
    data = json_format.MessageToDict(encode_spans(spans))

    def hexify(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: (base64.b64decode(v).hex()
                        if k in {"traceId", "spanId", "parentSpanId"} else hexify(v))
                    for k, v in value.items()}
        if isinstance(value, list):
            return [hexify(v) for v in value]
        return value

    return hexify(data)


def test_otlp_json_and_gzip_decode_like_protobuf(sent: tuple[OtlpReceiver, list[ReadableSpan]]) -> None:
    _, spans = sent
    proto = encode_spans(spans).SerializeToString()
    from_proto = decode_otlp(proto)
    as_json = json.dumps(to_otlp_json(spans))
    assert decode_otlp(as_json, "application/json") == from_proto
    assert decode_otlp(json.loads(as_json)) == from_proto
    assert decode_otlp(gzip.compress(proto), "application/x-protobuf", "gzip") == from_proto
    secret_params = next(s for s in from_proto if s["name"] == "ChatCompletion")["attributes"]
    assert "sk-app-KEY0001" not in json.dumps(secret_params)


@pytest.mark.parametrize(("body", "ctype", "message"), [
    pytest.param(b"\xff\xfe garbage", "application/x-protobuf", "not an OTLP protobuf", id="bad-protobuf"),
    pytest.param(b"{not json", "application/json", "not JSON", id="bad-json"),
    pytest.param(b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "zz"}]}]}]}',
                 "application/json", "not hex", id="bad-id"),
    pytest.param(b"x", "text/plain", "unsupported content type", id="bad-type"),
])
def test_bad_payloads_raise_clear_errors(body: bytes, ctype: str, message: str) -> None:
    with pytest.raises(OtlpDecodeError, match=message):
        decode_otlp(body, ctype)
