"""OTLP/HTTP ingestion: a real OpenTelemetry exporter sends spans to the running REST API."""

from __future__ import annotations

import json

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from core.auth import create_token
from core.db import Database
from core.tracing.store import get_span, list_spans
from tests.servers.api_server import ApiServer


def export_llm_span(url: str, token: str) -> str:
    """Send one OpenInference LLM span the way an instrumented app does; return its id."""
    exporter = OTLPSpanExporter(endpoint=f"{url}/v1/traces",
                                headers={"authorization": f"Bearer {token}"}, timeout=10)
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    span = provider.get_tracer("app").start_span("ChatCompletion")
    span.set_attributes({
        "openinference.span.kind": "LLM",
        "llm.model_name": "gpt-4o-mini",
        "llm.input_messages.0.message.role": "user",
        "llm.input_messages.0.message.content": "Where is my order?",
        "llm.output_messages.0.message.role": "assistant",
        "llm.output_messages.0.message.content": "It ships today.",
        "llm.invocation_parameters": json.dumps({"temperature": 0.2, "api_key": "sk-live-SECRET"}),
        "llm.token_count.total": 12,
    })
    span.end()
    provider.shutdown()
    return format(span.get_span_context().span_id, "016x")


def test_an_instrumented_app_exports_spans_to_the_workbench(database: Database) -> None:
    ws = database.default_workspace_id()
    token, _ = create_token(database, ws, "my-app")
    with ApiServer(database) as api:
        span_id = export_llm_span(api.url, token)
    stored = get_span(database, span_id)
    assert stored is not None
    attrs = stored["attributes"]
    assert attrs["llm.model_name"] == "gpt-4o-mini"
    assert attrs["llm.output_messages.0.message.content"] == "It ships today."
    assert "SECRET" not in json.dumps(stored)
    assert [s["span_id"] for s in list_spans(database, ws, text="order")] == [span_id]


@pytest.mark.parametrize(
    "headers, body, status",
    [
        pytest.param({}, b"", 401, id="no-token"),
        pytest.param({"content-type": "application/x-protobuf"}, b"\x00not protobuf", 400,
                     id="garbage-protobuf"),
        pytest.param({"content-type": "application/json"}, b"{not json", 400, id="garbage-json"),
    ],
)
def test_bad_exports_are_refused_clearly(database: Database, headers, body, status) -> None:  # type: ignore[no-untyped-def]
    token, _ = create_token(database, database.default_workspace_id(), "my-app")
    if status != 401:
        headers = {**headers, "authorization": f"Bearer {token}"}
    with ApiServer(database) as api:
        response = httpx.post(f"{api.url}/v1/traces", content=body, headers=headers, timeout=10)
    assert response.status_code == status, response.text
    assert response.json()["detail"]
    assert list_spans(database, database.default_workspace_id(), span_kind=None) == []
