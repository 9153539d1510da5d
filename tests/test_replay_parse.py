"""Recognising spans in every accepted shape, choosing the span to replay, clear refusals."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from core.replay import SpanParseError, parse_span, replay_span
from core.replay.parse import flatten_attributes, normalize_id

TRACE = "0af7651916cd43dd8448eb211c80319c"
SPAN = "b7ad6b7169203331"

ATTRS = {
    "openinference.span.kind": "LLM",
    "llm.model_name": "gpt-4o-mini",
    "llm.provider": "openai",
    "llm.input_messages.0.message.role": "user",
    "llm.input_messages.0.message.content": "Hi there",
    "llm.invocation_parameters": '{"temperature": 0.25}',
    "tag.tags": ["a", "b"],
}


def otlp_value(value: Any, snake: bool = False) -> dict[str, Any]:
    def k(name: str) -> str:
        return "".join("_" + c.lower() if c.isupper() else c for c in name) if snake else name

    if isinstance(value, bool):
        return {k("boolValue"): value}
    if isinstance(value, int):
        return {k("intValue"): str(value)}
    if isinstance(value, float):
        return {k("doubleValue"): value}
    if isinstance(value, list):
        return {k("arrayValue"): {"values": [otlp_value(v, snake) for v in value]}}
    return {k("stringValue"): value}


def otlp(
    attrs: dict[str, Any],
    *,
    span_id: str = SPAN,
    b64: bool = True,
    snake: bool = False,
    start: int = 1_700_000_000_000_000_000,
    name: str = "ChatCompletion",
) -> dict[str, Any]:
    def ident(hex_id: str) -> str:
        return base64.b64encode(bytes.fromhex(hex_id)).decode() if b64 else hex_id

    span = {
        ("trace_id" if snake else "traceId"): ident(TRACE),
        ("span_id" if snake else "spanId"): ident(span_id),
        "name": name,
        ("start_time_unix_nano" if snake else "startTimeUnixNano"): str(start),
        "attributes": [{"key": key, "value": otlp_value(v, snake)} for key, v in attrs.items()],
        "status": {"code": "STATUS_CODE_OK"},
    }
    if snake:
        return {"resource_spans": [{"scope_spans": [{"spans": [span]}]}]}
    return {"resourceSpans": [{"scopeSpans": [{"scope": {"name": "x"}, "spans": [span]}]}]}


def test_bare_flat_attributes() -> None:
    parsed = parse_span(ATTRS)
    assert parsed.source_format == "openinference"
    assert parsed.span_id is None
    assert parsed.attributes["tag.tags"] == ["a", "b"]


def test_nested_attributes_flatten_to_dotted_keys() -> None:
    nested = {
        "openinference": {"span": {"kind": "LLM"}},
        "llm": {
            "model_name": "gpt-4o-mini",
            "invocation_parameters": {"temperature": 0.25, "stop": ["x"]},
            "input_messages": [{"message": {"role": "user", "content": "Hi there"}}],
            "tools": [{"tool": {"json_schema": {"type": "function", "function": {"name": "f"}}}}],
        },
        "tag": {"tags": ["a", "b"]},
    }
    flat = flatten_attributes(nested)
    assert flat["llm.input_messages.0.message.content"] == "Hi there"
    # JSON-document attributes stay whole even when given as objects.
    assert flat["llm.invocation_parameters"] == {"temperature": 0.25, "stop": ["x"]}
    assert flat["llm.tools.0.tool.json_schema"] == {"type": "function", "function": {"name": "f"}}
    assert flat["tag.tags"] == ["a", "b"]
    result = replay_span(nested)
    assert result.request.messages == [{"role": "user", "content": "Hi there"}]
    assert result.request.invocation_parameters == {"temperature": 0.25, "stop": ["x"]}
    assert result.request.tools == [{"type": "function", "function": {"name": "f"}}]


@pytest.mark.parametrize("b64", [True, False], ids=["base64-ids", "hex-ids"])
@pytest.mark.parametrize("snake", [False, True], ids=["camelCase", "snake_case"])
def test_otlp_json(b64: bool, snake: bool) -> None:
    attrs = {
        **ATTRS,
        "llm.token_count.total": 12,
        "workbench.usage_estimated": True,
        "llm.cost.total": 0.5,
    }
    parsed = parse_span(json.dumps(otlp(attrs, b64=b64, snake=snake)))
    assert parsed.source_format == "otlp"
    assert (parsed.trace_id, parsed.span_id) == (TRACE, SPAN)
    assert parsed.attributes["llm.token_count.total"] == 12
    assert parsed.attributes["workbench.usage_estimated"] is True
    assert parsed.attributes["llm.cost.total"] == 0.5
    assert parsed.attributes["tag.tags"] == ["a", "b"]
    assert parsed.status_code == "OK"
    assert replay_span(otlp(attrs, b64=b64, snake=snake)).request.invocation_parameters == {
        "temperature": 0.25
    }


def test_otlp_kvlist_and_special_doubles() -> None:
    span = otlp({"openinference.span.kind": "LLM"})
    attributes = span["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["attributes"]
    attributes.append(
        {
            "key": "x.kv",
            "value": {"kvlistValue": {"values": [{"key": "a", "value": {"intValue": "3"}}]}},
        }
    )
    attributes.append({"key": "x.nan", "value": {"doubleValue": "NaN"}})
    parsed = parse_span(span)
    assert parsed.attributes["x.kv.a"] == 3  # key/value lists flatten like nested attributes
    assert parsed.attributes["x.nan"] != parsed.attributes["x.nan"]  # NaN


def test_phoenix_page_and_earliest_llm_span_wins() -> None:
    def phoenix(span_id: str, start: str, kind: str, model: str) -> dict[str, Any]:
        return {
            "name": model,
            "context": {"trace_id": TRACE, "span_id": span_id},
            "span_kind": kind,
            "start_time": start,
            "end_time": start,
            "status_code": "OK",
            "attributes": {**ATTRS, "openinference.span.kind": kind, "llm.model_name": model},
        }

    page = {
        "data": [
            phoenix("0000000000000003", "2024-01-01T00:00:03+00:00", "LLM", "late"),
            phoenix("0000000000000001", "2024-01-01T00:00:01+00:00", "CHAIN", "chain"),
            phoenix("0000000000000002", "2024-01-01T00:00:02+00:00", "LLM", "early"),
        ],
        "next_cursor": None,
    }
    result = replay_span(page)
    assert result.source_format == "phoenix"
    assert result.span_id == "0000000000000002"
    assert result.request.model == "openai/early"
    assert any("2 LLM spans" in w for w in result.warnings)
    assert replay_span(page, span_id="0000000000000003").request.model == "openai/late"
    with pytest.raises(SpanParseError, match="not in the input"):
        replay_span(page, span_id="00000000000000ff")


def test_otel_sdk_json_with_0x_ids() -> None:
    sdk_json = {
        "name": "x",
        "context": {"trace_id": "0x" + TRACE, "span_id": "0x" + SPAN},
        "kind": "SpanKind.INTERNAL",
        "attributes": ATTRS,
    }
    parsed = parse_span(sdk_json)
    assert parsed.source_format == "openinference"
    assert (parsed.trace_id, parsed.span_id) == (TRACE, SPAN)


def test_span_without_kind_but_llm_attributes_is_used_with_a_warning() -> None:
    attrs = {k: v for k, v in ATTRS.items() if k != "openinference.span.kind"}
    spans = [
        {
            "name": "chain",
            "context": {"trace_id": TRACE, "span_id": "0" * 16},
            "attributes": {"input.value": "hello"},
        },
        {"name": "llm", "context": {"trace_id": TRACE, "span_id": SPAN}, "attributes": attrs},
    ]
    result = replay_span(spans)
    assert result.span_id == SPAN
    assert any("no span is marked as an LLM span" in w for w in result.warnings)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        pytest.param("this is not json", "not valid JSON: .* line 1, column 1", id="text"),
        pytest.param('{"a": ', "not valid JSON", id="truncated"),
        pytest.param(b"\xff\xfe\x00", "not UTF-8", id="binary"),
        pytest.param("   ", "empty", id="blank"),
        pytest.param("[]", "no span found", id="empty-list"),
        pytest.param("{}", "no span found", id="empty-object"),
        pytest.param('{"hello": "world"}', "no span found", id="unrelated-object"),
        pytest.param("[1, 2, 3]", "no span found", id="numbers"),
        pytest.param(42, "expected span JSON as str, bytes, dict or list", id="int"),
    ],
)
def test_not_a_span_is_refused_clearly(payload: Any, message: str) -> None:
    with pytest.raises(SpanParseError, match=message):
        replay_span(payload)


def test_bytes_with_bom_and_ids() -> None:
    data = ("\ufeff" + json.dumps(otlp(ATTRS))).encode("utf-8")
    assert replay_span(data).span_id == SPAN


@pytest.mark.parametrize(
    ("raw", "length", "expected"),
    [
        (SPAN, 16, SPAN),
        (SPAN.upper(), 16, SPAN),
        ("0x" + SPAN, 16, SPAN),
        (base64.b64encode(bytes.fromhex(SPAN)).decode(), 16, SPAN),
        (int(SPAN, 16), 16, SPAN),
        (None, 16, None),
        ("not-an-id", 16, "not-an-id"),
    ],
)
def test_normalize_id(raw: Any, length: int, expected: str | None) -> None:
    assert normalize_id(raw, length) == expected


def test_phoenix_dataframe_records() -> None:
    # get_spans_dataframe().to_json(orient="records"): dotted columns, messages as dict lists.
    row = {
        "name": "ChatCompletion",
        "span_kind": "LLM",
        "context.span_id": SPAN,
        "context.trace_id": TRACE,
        "start_time": 1_700_000_000_000,
        "attributes.llm.model_name": "gpt-4o",
        "attributes.llm.input_messages": [
            {"message.role": "system", "message.content": "Be brief."},
            {
                "message.role": "assistant",
                "message.tool_calls": [
                    {
                        "tool_call.id": "c1",
                        "tool_call.function.name": "f",
                        "tool_call.function.arguments": "{}",
                    }
                ],
            },
        ],
        "attributes.llm.invocation_parameters": '{"temperature": 0}',
        "attributes.llm.tools": [
            {"tool.json_schema": '{"type": "function", "function": {"name": "f"}}'}
        ],
        "attributes.output.value": None,
    }
    result = replay_span(json.dumps([row]))
    assert result.source_format == "phoenix"
    assert (result.span_id, result.trace_id) == (SPAN, TRACE)
    assert result.request.messages == [
        {"role": "system", "content": "Be brief."},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
            ],
        },
    ]
    assert result.request.invocation_parameters == {"temperature": 0}
    assert result.request.tools == [{"type": "function", "function": {"name": "f"}}]
