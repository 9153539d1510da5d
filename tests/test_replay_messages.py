"""Replay of messages, content parts, tool calls, tools, tool choice and response format."""

from __future__ import annotations

import json
from typing import Any

import pytest

from core.replay import replay_span
from tests.test_replay_translate import entry, span

# --------------------------------------------------------------------------- messages


def test_roles_are_normalised_and_reported() -> None:
    attrs = {
        "llm.model_name": "claude-3-haiku",
        "llm.input_messages.0.message.role": "developer",
        "llm.input_messages.0.message.content": "Rules",
        "llm.input_messages.1.message.role": "human",
        "llm.input_messages.1.message.content": "Hi",
        "llm.input_messages.2.message.role": "AI",
        "llm.input_messages.2.message.content": "Hello",
        "llm.input_messages.3.message.role": "narrator",
        "llm.input_messages.3.message.content": "?",
    }
    result = replay_span(attrs)
    assert [m["role"] for m in result.request.messages] == ["system", "user", "assistant", "user"]
    for i in range(4):
        assert entry(result, f"messages[{i}].role")[0] == "guessed"
    openai = replay_span({**attrs, "llm.model_name": "o1"})
    assert openai.request.messages[0]["role"] == "developer"


def test_tool_calls_results_and_parts() -> None:
    prefix = "llm.input_messages"
    attrs = {
        "llm.model_name": "gpt-4o",
        f"{prefix}.0.message.role": "user",
        f"{prefix}.0.message.contents.0.message_content.type": "text",
        f"{prefix}.0.message.contents.0.message_content.text": "Look",
        f"{prefix}.0.message.contents.1.message_content.type": "image",
        f"{prefix}.0.message.contents.1.message_content.image.image.url": "__REDACTED__",
        f"{prefix}.0.message.contents.2.message_content.type": "image",
        f"{prefix}.0.message.contents.2.message_content.image.image.url": "data:image/png;base64,iVBORw0KGgo=",
        f"{prefix}.0.message.contents.3.message_content.type": "audio",
        f"{prefix}.1.message.role": "assistant",
        f"{prefix}.1.message.tool_calls.0.tool_call.id": "c1",
        f"{prefix}.1.message.tool_calls.0.tool_call.function.name": "lookup",
        f"{prefix}.1.message.tool_calls.0.tool_call.function.arguments": {"q": 1},
        f"{prefix}.1.message.tool_calls.1.tool_call.function.name": "second",
        f"{prefix}.2.message.role": "tool",
        f"{prefix}.2.message.tool_call_id": "c1",
        f"{prefix}.2.message.content": "42",
        f"{prefix}.3.message.role": "tool",
        f"{prefix}.3.message.content": "43",
        f"{prefix}.4.message.role": "assistant",
        f"{prefix}.4.message.function_call_name": "legacy",
        f"{prefix}.4.message.function_call_arguments_json": '{"a": 1}',
    }
    result = replay_span(attrs)
    messages = result.request.messages
    assert messages[0]["content"] == [
        {"type": "text", "text": "Look"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
    ]
    assert entry(result, "messages[0].content[1]")[0] == "dropped"
    assert entry(result, "messages[0].content[3]")[0] == "dropped"
    assert messages[1] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "c1",
                "type": "function",
                "function": {"name": "lookup", "arguments": '{"q": 1}'},
            },
            {
                "id": "call_replay_1",
                "type": "function",
                "function": {"name": "second", "arguments": "{}"},
            },
        ],
    }
    assert entry(result, "messages[1].tool_calls[1].id")[0] == "guessed"
    assert messages[2] == {"role": "tool", "content": "42", "tool_call_id": "c1"}
    assert messages[3]["tool_call_id"] == "call_replay_1"  # paired with the unanswered call
    assert entry(result, "messages[3].tool_call_id")[0] == "guessed"
    assert messages[4]["tool_calls"][0]["function"] == {"name": "legacy", "arguments": '{"a": 1}'}


def test_hidden_inputs_never_crash() -> None:
    result = replay_span(
        {
            "openinference.span.kind": "LLM",
            "llm.model_name": "gpt-4o",
            "input.value": "__REDACTED__",
            "llm.input_messages.0.message.role": "user",
            "llm.input_messages.0.message.content": "__REDACTED__",
        }
    )
    assert result.request.messages == [{"role": "user", "content": ""}]
    assert entry(result, "messages[0].content")[0] == "dropped"


# --------------------------------------------------------------------------- tools, tool choice, response format


def test_tools_in_every_shape() -> None:
    result = replay_span(
        span(
            **{
                "llm.model_name": "gpt-4o",
                "llm.tools.0.tool.json_schema": '{"type": "function", "function": {"name": "a"}}',
                "llm.tools.1.tool.json_schema": '{"name": "b", "description": "bare", "parameters": {}}',
                "llm.tools.2.tool.json_schema": '{"name": "c", "input_schema": {"type": "object"}}',
                "llm.tools.3.tool.json_schema": '{"type": "function", "function": {"name": "d"',
                "llm.tools.4.tool.json_schema": '"just a string"',
                "llm.tools.5.tool.json_schema": '{"type": "web_search_preview"}',
            }
        )
    )
    assert result.request.tools == [
        {"type": "function", "function": {"name": "a"}},
        {"type": "function", "function": {"name": "b", "description": "bare", "parameters": {}}},
        {"type": "function", "function": {"name": "c", "parameters": {"type": "object"}}},
        {"type": "web_search_preview"},
    ]
    assert entry(result, "tools[1]")[0] == "guessed"
    assert "Anthropic" in entry(result, "tools[2]")[1]
    status, detail = entry(result, "tools[3]")
    assert status == "dropped" and "not valid JSON" in detail
    assert entry(result, "tools[4]")[0] == "dropped"


@pytest.mark.parametrize(
    ("raw", "expected", "status"),
    [
        ("auto", "auto", "copied"),
        (
            {"type": "function", "function": {"name": "f"}},
            {"type": "function", "function": {"name": "f"}},
            "copied",
        ),
        ({"type": "any"}, "required", "guessed"),
        ({"type": "tool", "name": "f"}, {"type": "function", "function": {"name": "f"}}, "guessed"),
        (
            '{"type": "function", "function": {"name": "f"}}',
            {"type": "function", "function": {"name": "f"}},
            "guessed",
        ),
        (17, None, "dropped"),
    ],
)
def test_tool_choice(raw: Any, expected: Any, status: str) -> None:
    params = {"tool_choice": raw}
    result = replay_span(
        span(
            **{
                "llm.model_name": "gpt-4o",
                "llm.invocation_parameters": json.dumps(params),
                "llm.tools.0.tool.json_schema": '{"type": "function", "function": {"name": "f"}}',
            }
        )
    )
    assert result.request.tool_choice == expected
    assert entry(result, "tool_choice")[0] == status


@pytest.mark.parametrize(
    ("raw", "expected", "status"),
    [
        (
            {"type": "json_schema", "json_schema": {"name": "p", "schema": {"type": "object"}}},
            {"type": "json_schema", "json_schema": {"name": "p", "schema": {"type": "object"}}},
            "copied",
        ),
        (
            {"type": "object", "properties": {"a": {}}} | {"type": None},
            {
                "type": "json_schema",
                "json_schema": {
                    "name": "response",
                    "schema": {"type": None, "properties": {"a": {}}},
                },
            },
            "guessed",
        ),
        ("<class 'app.Person'>", None, "dropped"),
    ],
)
def test_response_format(raw: Any, expected: Any, status: str) -> None:
    result = replay_span(
        span(
            **{
                "llm.model_name": "gpt-4o",
                "llm.invocation_parameters": json.dumps({"response_format": raw}),
            }
        )
    )
    assert result.request.response_format == expected
    assert entry(result, "response_format")[0] == status
