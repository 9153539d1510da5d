"""The instrumented calls the span fixtures are captured from (see capture_span_fixtures.py)."""

from __future__ import annotations

from typing import Any

WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city"],
        },
    },
}
TIME_TOOL = {
    "type": "function",
    "function": {
        "name": "get_time",
        "description": "Current local time in a timezone",
        "parameters": {
            "type": "object",
            "properties": {"tz": {"type": "string"}},
            "required": ["tz"],
        },
    },
}
TOOL_TURN = [
    {"role": "system", "content": "You answer weather questions using tools."},
    {"role": "user", "content": "What's the weather in Paris?"},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_abc123",
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "arguments": '{"city": "Paris", "unit": "celsius"}',
                },
            }
        ],
    },
    {
        "role": "tool",
        "tool_call_id": "call_abc123",
        "content": '{"temperature": 18, "sky": "sunny"}',
    },
]
PERSON_FORMAT = {
    "type": "json_schema",
    "json_schema": {
        "name": "person",
        "strict": True,
        "schema": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
            "required": ["name", "age"],
            "additionalProperties": False,
        },
    },
}


class Case:
    """One instrumented call: which SDK, which method, which keyword arguments.

    ``openai_equivalent`` (hand-written, for non-OpenAI SDKs) is the same request in the
    OpenAI shape the workbench runs, so tests can check a translation field by field.
    """

    def __init__(
        self,
        name: str,
        sdk: str,
        call: str,
        kwargs: dict[str, Any],
        formats: tuple[str, ...] = (),
        openai_equivalent: dict[str, Any] | None = None,
    ) -> None:
        self.name, self.sdk, self.call, self.kwargs, self.formats = name, sdk, call, kwargs, formats
        self.openai_equivalent = openai_equivalent


CASES = [
    Case(
        "openai_simple_chat",
        "openai",
        "chat.completions.create",
        {
            "model": "gpt-4o-mini",
            "messages": [{"role": "user", "content": "Say hello to the workbench."}],
        },
    ),
    Case(
        "openai_system_params",
        "openai",
        "chat.completions.create",
        {
            "model": "gpt-4o-mini",
            "messages": [
                {"role": "system", "content": "You are terse."},
                {"role": "user", "content": "Name three rivers in France."},
            ],
            "temperature": 0.2,
            "max_tokens": 64,
            "seed": 7,
            "stop": ["\n\n", "END"],
            "top_p": 0.9,
            "presence_penalty": 0.1,
            "frequency_penalty": 0.2,
            "user": "user-42",
        },
        formats=("phoenix",),
    ),
    Case(
        "openai_tools_named_choice",
        "openai",
        "chat.completions.create",
        {
            "model": "gpt-4o",
            "messages": [{"role": "user", "content": "Weather and time in Paris?"}],
            "tools": [WEATHER_TOOL, TIME_TOOL],
            "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
            "parallel_tool_calls": False,
        },
        formats=("phoenix",),
    ),
    Case(
        "openai_tool_result_turn",
        "openai",
        "chat.completions.create",
        {"model": "gpt-4o", "messages": TOOL_TURN, "tools": [WEATHER_TOOL], "temperature": 0},
        formats=("otlp_phoenix",),
    ),
    Case(
        "openai_response_format",
        "openai",
        "chat.completions.create",
        {
            "model": "gpt-4o-mini",
            "messages": [{"role": "user", "content": "Invent a person."}],
            "response_format": PERSON_FORMAT,
            "temperature": 1.0,
        },
        formats=("otlp",),
    ),
    Case(
        "openai_multi_turn",
        "openai",
        "chat.completions.create",
        {
            "model": "gpt-4o-mini",
            "messages": [
                {"role": "system", "content": "You are a patient French tutor."},
                {"role": "user", "content": "How do I say cat?"},
                {"role": "assistant", "content": "Le chat."},
                {"role": "user", "content": "And dog?"},
                {"role": "assistant", "content": "Le chien."},
                {"role": "user", "content": "Plural of both?", "name": "student"},
            ],
            "max_tokens": 50,
        },
        formats=("phoenix_nested",),
    ),
    Case(
        "openai_developer_multipart",
        "openai",
        "chat.completions.create",
        {
            "model": "o3-mini",
            "messages": [
                {"role": "developer", "content": "Describe images in one sentence."},
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "What is in this picture?"},
                        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
                    ],
                },
            ],
            "max_completion_tokens": 200,
            "reasoning_effort": "low",
        },
    ),
    Case(
        "openai_text_completion",
        "openai",
        "completions.create",
        {
            "model": "gpt-3.5-turbo-instruct",
            "prompt": "Once upon a time",
            "max_tokens": 32,
            "temperature": 0.7,
            "stop": ["."],
        },
        formats=("phoenix",),
    ),
    Case(
        "openai_streaming",
        "openai",
        "chat.completions.create",
        {
            "model": "gpt-4o-mini",
            "messages": [{"role": "user", "content": "Count to five."}],
            "stream": True,
            "stream_options": {"include_usage": True},
            "temperature": 0.5,
        },
    ),
    Case(
        "anthropic_system_tools",
        "anthropic",
        "messages.create",
        {
            "model": "claude-3-5-sonnet-20241022",
            "system": "You are a weather assistant.",
            "max_tokens": 256,
            "stop_sequences": ["END"],
            "metadata": {"user_id": "user-42"},
            "tools": [
                {
                    "name": WEATHER_TOOL["function"]["name"],
                    "description": WEATHER_TOOL["function"]["description"],
                    "input_schema": WEATHER_TOOL["function"]["parameters"],
                }
            ],
            "tool_choice": {"type": "tool", "name": "get_weather"},
            "messages": [{"role": "user", "content": "Weather in Paris?"}],
        },
        formats=("phoenix",),
        openai_equivalent={
            "messages": [
                {"role": "system", "content": "You are a weather assistant."},
                {"role": "user", "content": "Weather in Paris?"},
            ],
            "tools": [WEATHER_TOOL],
            "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
            "invocation_parameters": {"max_tokens": 256, "stop": ["END"], "user": "user-42"},
        },
    ),
    Case(
        "anthropic_tool_result_turn",
        "anthropic",
        "messages.create",
        {
            "model": "claude-3-5-haiku-20241022",
            "max_tokens": 200,
            "system": [{"type": "text", "text": "You answer weather questions."}],
            "tools": [
                {
                    "name": "get_weather",
                    "description": WEATHER_TOOL["function"]["description"],
                    "input_schema": WEATHER_TOOL["function"]["parameters"],
                }
            ],
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "Weather in Paris?"},
                        {
                            "type": "image",
                            "source": {"type": "url", "url": "https://example.com/paris.jpg"},
                        },
                    ],
                },
                {
                    "role": "assistant",
                    "content": [
                        {"type": "text", "text": "Let me check."},
                        {
                            "type": "tool_use",
                            "id": "toolu_abc",
                            "name": "get_weather",
                            "input": {"city": "Paris"},
                        },
                    ],
                },
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "tool_result",
                            "tool_use_id": "toolu_abc",
                            "content": "18C and sunny",
                        }
                    ],
                },
            ],
        },
        openai_equivalent={
            "messages": [
                {
                    "role": "system",
                    "content": [{"type": "text", "text": "You answer weather questions."}],
                },
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "Weather in Paris?"},
                        {
                            "type": "image_url",
                            "image_url": {"url": "https://example.com/paris.jpg"},
                        },
                    ],
                },
                {
                    "role": "assistant",
                    "content": [{"type": "text", "text": "Let me check."}],
                    "tool_calls": [
                        {
                            "id": "toolu_abc",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                        }
                    ],
                },
                {"role": "tool", "content": "18C and sunny", "tool_call_id": "toolu_abc"},
            ],
            "tools": [WEATHER_TOOL],
            "invocation_parameters": {"max_tokens": 200},
        },
    ),
    Case(
        "litellm_chat",
        "litellm",
        "completion",
        {
            "model": "openai/gpt-4o-mini",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Capital of Italy?"},
            ],
            "temperature": 0.3,
            "max_tokens": 20,
        },
        formats=("otlp",),
    ),
]
