"""Translation rules: provider/model/endpoint, operation, parameters, messages, tools, template."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from core.providers.types import Operation
from core.replay import ReplayError, ReplayResult, replay_span, rerun_as_recorded
from core.replay.template import guess_template_format

SECRET = "sk-test-SECRET1234567890"


def span(**attrs: Any) -> dict[str, Any]:
    """A flat LLM span with one user message, plus ``attrs`` (dots spelled as __)."""
    base: dict[str, Any] = {
        "openinference.span.kind": "LLM",
        "llm.input_messages.0.message.role": "user",
        "llm.input_messages.0.message.content": "Hello",
    }
    base.update({k.replace("__", "."): v for k, v in attrs.items()})
    return base


def entry(result: ReplayResult, field: str) -> tuple[str, str]:
    found = [e for e in result.report if e.field == field]
    assert found, f"no report entry for {field}: {[e.field for e in result.report]}"
    return found[0].status, found[0].detail


# --------------------------------------------------------------------------- provider, model, endpoint


@pytest.mark.parametrize(
    ("attrs", "provider", "model", "status", "why"),
    [
        pytest.param(
            {"llm.provider": "anthropic", "llm.model_name": "claude-3-5-haiku"},
            "anthropic",
            "anthropic/claude-3-5-haiku",
            "copied",
            "llm.provider",
            id="llm.provider",
        ),
        pytest.param(
            {"llm.provider": "mistralai", "llm.model_name": "mistral-large"},
            "mistral",
            "mistral/mistral-large",
            "guessed",
            "litellm's 'mistral'",
            id="alias",
        ),
        pytest.param(
            {"llm.system": "anthropic", "llm.model_name": "claude-3-opus"},
            "anthropic",
            "anthropic/claude-3-opus",
            "guessed",
            "llm.system",
            id="llm.system",
        ),
        pytest.param(
            {"llm.model_name": "gemini/gemini-1.5-pro"},
            "gemini",
            "gemini/gemini-1.5-pro",
            "guessed",
            "prefix",
            id="litellm-prefix",
        ),
        pytest.param(
            {"llm.model_name": "claude-3-haiku"},
            "anthropic",
            "anthropic/claude-3-haiku",
            "guessed",
            "model name",
            id="claude-name",
        ),
        pytest.param(
            {"llm.model_name": "o3-mini"},
            "openai",
            "openai/o3-mini",
            "guessed",
            "model name",
            id="o-series-name",
        ),
        pytest.param(
            {"llm.model_name": "mixtral-8x7b"},
            "mistral",
            "mistral/mixtral-8x7b",
            "guessed",
            "model name",
            id="mixtral-name",
        ),
        pytest.param(
            {"llm.model_name": "my-model", "url.full": "https://api.anthropic.com/v1/messages"},
            "anthropic",
            "anthropic/my-model",
            "guessed",
            "host",
            id="anthropic-host",
        ),
        pytest.param(
            {"llm.model_name": "llama3"}, None, "llama3", "defaulted", "not inferable", id="unknown"
        ),
    ],
)
def test_provider_and_model(
    attrs: dict[str, Any], provider: str | None, model: str, status: str, why: str
) -> None:
    result = replay_span(span(**attrs))
    assert result.request.provider == provider
    assert result.request.model == model
    got_status, detail = entry(result, "provider")
    assert got_status == status and why in detail


def test_custom_endpoint_from_url_full() -> None:
    result = replay_span(
        span(
            **{
                "llm.model_name": "qwen2.5-7b",
                "url.full": "http://user:pw@10.0.0.5:8000/v1/chat/completions?api-version=1",
            }
        )
    )
    assert result.request.base_url == "http://10.0.0.5:8000/v1"  # no path, query or credentials
    assert result.request.provider == "openai"
    assert result.request.model == "qwen2.5-7b"
    assert entry(result, "base_url")[0] == "guessed"
    assert "OpenAI-compatible" in entry(result, "provider")[1]
    assert "pw" not in json.dumps([e.as_row() for e in result.report])


def test_public_api_host_needs_no_base_url() -> None:
    result = replay_span(
        span(
            **{"llm.model_name": "gpt-4o", "url.full": "https://api.openai.com/v1/chat/completions"}
        )
    )
    assert result.request.base_url is None
    assert result.request.model == "openai/gpt-4o"
    status, detail = entry(result, "base_url")
    assert status == "copied" and "public API" in detail


def test_litellm_api_base_and_prefixed_model() -> None:
    params = {"api_base": "http://127.0.0.1:9999/v1", "model": "openai/tiny", "temperature": 0}
    result = replay_span(
        span(
            **{
                "llm.model_name": "openai/tiny",
                "llm.provider": "openai",
                "llm.invocation_parameters": json.dumps(params),
            }
        )
    )
    assert result.request.base_url == "http://127.0.0.1:9999/v1"
    assert result.request.model == "tiny"  # the endpoint's own id; litellm's prefix removed
    assert result.request.invocation_parameters == {"temperature": 0}


def test_missing_model_uses_the_default_but_rerun_as_recorded_refuses() -> None:
    result = replay_span({"openinference.span.kind": "LLM", "input.value": "Tell me a joke"})
    assert result.request.model  # runnable
    assert entry(result, "model")[0] == "defaulted"
    assert any("no model" in w for w in result.warnings)
    with pytest.raises(ReplayError, match="recorded no model"):
        rerun_as_recorded(result)


# --------------------------------------------------------------------------- operation


def test_operation_rules() -> None:
    chat = replay_span(span(**{"llm.model_name": "gpt-4o"}))
    assert chat.request.operation is Operation.CHAT
    assert entry(chat, "operation")[0] == "guessed"

    prompts = replay_span(
        {
            "llm.model_name": "gpt-3.5-turbo-instruct",
            "llm.prompts.0.prompt.text": "Once",
            "llm.prompts.1.prompt.text": "Twice",
        }
    )
    assert prompts.request.operation is Operation.TEXT_COMPLETION
    assert prompts.request.prompt == "Once"
    assert any(e.field == "prompt" and e.status == "dropped" for e in prompts.report)

    legacy = replay_span({"llm.model_name": "davinci-002", "llm.prompts": ["Old style"]})
    assert legacy.request.prompt == "Old style"

    text_only = replay_span(
        {"llm.model_name": "gpt-4o", "input.value": "Just text", "input.mime_type": "text/plain"}
    )
    assert text_only.request.operation is Operation.TEXT_COMPLETION
    assert text_only.request.prompt == "Just text"
    assert "input.value" in entry(text_only, "operation")[1]

    explicit = replay_span(span(**{"llm.model_name": "gpt-4o", "workbench.operation": "chat"}))
    assert entry(explicit, "operation")[0] == "copied"


# --------------------------------------------------------------------------- invocation parameters


def test_invocation_parameters_are_split_dropped_and_kept() -> None:
    params = {
        "model": "gpt-4o",
        "temperature": 0.1,
        "max_tokens": 9,
        "stream": True,
        "stream_options": {"include_usage": True},
        "n": 3,
        "api_key": SECRET,
        "extra_headers": {"Authorization": f"Bearer {SECRET}"},
        "user": "u1",
        "extra_body": {"top_k": 5, "x-api-key": SECRET},
        "my_vendor_knob": [1, 2],
        "tool_choice": "required",
        "response_format": "json_object",
        "tools": [{"name": "f", "parameters": {"type": "object"}}],
        "timeout": 12,
        "leaked": f"Bearer {SECRET}",
    }
    result = replay_span(
        span(**{"llm.model_name": "gpt-4o", "llm.invocation_parameters": json.dumps(params)})
    )
    request = result.request
    assert request.invocation_parameters == {
        "temperature": 0.1,
        "max_tokens": 9,
        "user": "u1",
        "extra_body": {"top_k": 5},
        "my_vendor_knob": [1, 2],
    }
    assert request.tool_choice == "required"
    assert request.response_format == {"type": "json_object"}
    assert request.tools == [
        {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
    ]
    assert request.timeout == 12.0
    for field in (
        "stream",
        "stream_options",
        "n",
        "api_key",
        "extra_headers",
        "extra_body.x-api-key",
        "leaked",
    ):
        assert entry(result, f"invocation_parameters.{field}")[0] == "dropped", field
    assert "streaming" in entry(result, "invocation_parameters.stream")[1]
    assert "one completion per card" in entry(result, "invocation_parameters.n")[1]
    assert "not a standard parameter" in entry(result, "invocation_parameters.my_vendor_knob")[1]
    assert SECRET not in json.dumps(
        [repr(request), [e.as_row() for e in result.report], result.warnings]
    )


def test_n_of_one_is_kept() -> None:
    result = replay_span(
        span(**{"llm.model_name": "gpt-4o", "llm.invocation_parameters": '{"n": 1}'})
    )
    assert result.request.invocation_parameters == {"n": 1}


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        pytest.param('{"temperature": 0.2', "not valid JSON", id="truncated"),
        pytest.param("[1, 2]", "not an object", id="array"),
        pytest.param("__REDACTED__", "hidden", id="hidden"),
    ],
)
def test_unusable_invocation_parameters_are_dropped(raw: str, why: str) -> None:
    result = replay_span(span(**{"llm.model_name": "gpt-4o", "llm.invocation_parameters": raw}))
    status, detail = entry(result, "invocation_parameters")
    assert status == "dropped" and why in detail
    assert result.request.invocation_parameters == {}


def test_parameters_recovered_from_the_request_body() -> None:
    body = {
        "model": "gpt-4o",
        "messages": [{"role": "human", "content": "Hi"}],
        "temperature": 0.4,
        "tools": [{"type": "function", "function": {"name": "g"}}],
    }
    result = replay_span(
        {
            "openinference.span.kind": "LLM",
            "llm.model_name": "gpt-4o",
            "input.value": json.dumps(body),
            "input.mime_type": "application/json",
        }
    )
    assert result.request.messages == [{"role": "user", "content": "Hi"}]
    assert entry(result, "messages")[0] == "guessed"
    assert result.request.invocation_parameters == {"temperature": 0.4}
    assert entry(result, "invocation_parameters.temperature")[0] == "guessed"
    assert result.request.tools == body["tools"]
    assert entry(result, "tools")[0] == "guessed"


def test_anthropic_body_with_blocks_is_converted() -> None:
    body = {
        "model": "claude-3-5-haiku",
        "max_tokens": 50,
        "system": "Be kind.",
        "messages": [
            {"role": "user", "content": "Weather?"},
            {
                "role": "assistant",
                "content": [{"type": "tool_use", "id": "t1", "name": "w", "input": {"c": "P"}}],
            },
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "t1",
                        "content": [{"type": "text", "text": "sunny"}],
                    }
                ],
            },
        ],
    }
    result = replay_span(
        {
            "llm.provider": "anthropic",
            "llm.model_name": "claude-3-5-haiku",
            "openinference.span.kind": "LLM",
            "input.value": json.dumps(body),
        }
    )
    assert result.request.messages == [
        {"role": "system", "content": "Be kind."},
        {"role": "user", "content": "Weather?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "t1",
                    "type": "function",
                    "function": {"name": "w", "arguments": '{"c": "P"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "t1", "content": "sunny"},
    ]
    assert result.request.invocation_parameters == {"max_tokens": 50}


# --------------------------------------------------------------------------- template


@pytest.mark.parametrize(
    ("template", "fmt"),
    [
        ("Hello {{name}}!", "mustache"),
        ("Hello {{ name | upper }}", "jinja2"),
        ("{% for x in xs %}{{ x }}{% endfor %}", "jinja2"),
        ("Hello {name}, you are {age:d}", "f-string"),
        ("No placeholders {{}} here", "none"),
        ([{"role": "user", "content": "Hi {{who}}"}], "mustache"),
    ],
)
def test_template_format_is_guessed_from_syntax(template: Any, fmt: str) -> None:
    assert guess_template_format(template)[0] == fmt


def test_template_is_read_with_variables_and_version() -> None:
    result = replay_span(
        span(
            **{
                "llm.model_name": "gpt-4o",
                "llm.input_messages.0.message.content": "Hello Ada!",
                "llm.prompt_template.template": "Hello {{name}}!",
                "llm.prompt_template.variables": '{"name": "Ada"}',
                "llm.prompt_template.version": "greet@v3",
                "workbench.prompt_version_id": 12,
            }
        )
    )
    template = result.template
    assert template is not None
    assert (
        template.template,
        template.variables,
        template.template_format,
        template.version,
        template.prompt_version_id,
    ) == ("Hello {{name}}!", {"name": "Ada"}, "mustache", "greet@v3", 12)
    assert result.request.context.prompt_template == template
    assert entry(result, "template.format")[0] == "guessed"
    assert not [w for w in result.warnings if "template" in w]


def test_template_that_does_not_reproduce_the_input_is_flagged() -> None:
    pytest.importorskip("core.templating")
    result = replay_span(
        span(
            **{
                "llm.model_name": "gpt-4o",
                "llm.prompt_template.template": "Bye {name}",
                "llm.prompt_template.variables": '{"name": "Ada"}',
            }
        )
    )
    assert any("does not reproduce" in w for w in result.warnings)


def test_chat_template_and_bad_variables() -> None:
    chat = [{"role": "user", "content": "Hi {{who}}"}]
    result = replay_span(
        span(
            **{
                "llm.model_name": "gpt-4o",
                "llm.prompt_template.template": json.dumps(chat),
                "llm.prompt_template.variables": "{not json",
                "workbench.prompt_template.format": "mustache",
            }
        )
    )
    assert result.template is not None
    assert result.template.template == chat
    assert result.template.variables == {}
    assert entry(result, "template.variables")[0] == "dropped"
    assert entry(result, "template.format")[0] == "copied"


# --------------------------------------------------------------------------- output, status, robustness


def test_original_output_from_anthropic_output_value() -> None:
    out = {
        "content": [
            {"type": "text", "text": "Hi"},
            {"type": "tool_use", "id": "t", "name": "f", "input": {"x": 1}},
        ]
    }
    result = replay_span(
        span(
            **{
                "llm.model_name": "claude-3",
                "output.value": json.dumps(out),
                "output.mime_type": "application/json",
            }
        )
    )
    assert result.original_output == "Hi"
    assert [(c.id, c.name, json.loads(c.arguments)) for c in result.original_tool_calls] == [
        ("t", "f", {"x": 1})
    ]


def test_error_status_is_a_warning() -> None:
    result = replay_span(
        {
            "name": "x",
            "context": {"trace_id": "1" * 32, "span_id": "2" * 16},
            "span_kind": "LLM",
            "status_code": "ERROR",
            "status_message": "rate limited",
            "attributes": span(**{"llm.model_name": "gpt-4o"}),
        }
    )
    assert any("rate limited" in w for w in result.warnings)


_KEYS = [
    "llm.model_name",
    "llm.provider",
    "llm.system",
    "llm.invocation_parameters",
    "url.full",
    "input.value",
    "input.mime_type",
    "output.value",
    "llm.input_messages.0.message.role",
    "llm.input_messages.0.message.content",
    "llm.input_messages.0.message.contents.0.message_content.type",
    "llm.input_messages.0.message.tool_calls.0.tool_call.function.name",
    "llm.input_messages.x.message.role",
    "llm.input_messages",
    "llm.tools.0.tool.json_schema",
    "llm.tools",
    "llm.prompt_template.template",
    "llm.prompt_template.variables",
    "llm.prompts",
    "llm.prompts.0.prompt.text",
    "llm.output_messages.0.message.content",
    "llm.output_messages",
    "llm.token_count.total",
    "llm.choices",
    "workbench.operation",
    "llm.prompt_template.version",
]
_VALUES: list[Any] = [
    None,
    "",
    "x",
    "{",
    "[]",
    "{}",
    '{"a": 1}',
    0,
    -1,
    3.5,
    True,
    [],
    [1, "a"],
    {},
    {"k": [1]},
    "__REDACTED__",
    "http://",
    "openai/",
    "/",
    '{"tool_choice": 5, "response_format": []}',
]


def test_malformed_fields_never_crash() -> None:
    rng = random.Random(1234)
    for _ in range(400):
        attrs = {"openinference.span.kind": "LLM"}
        for key in rng.sample(_KEYS, rng.randint(1, 10)):
            attrs[key] = rng.choice(_VALUES)
        result = replay_span(attrs)  # must not raise
        assert result.request.model
        assert all(e.detail for e in result.report)


def test_anthropic_parameter_names_when_only_the_model_says_anthropic() -> None:
    params = {"metadata": {"user_id": "u7", "trace": "x"}, "stop_sequences": ["X"], "top_k": 5}
    result = replay_span(
        span(
            **{"llm.model_name": "claude-3-haiku", "llm.invocation_parameters": json.dumps(params)}
        )
    )
    assert result.request.invocation_parameters == {"user": "u7", "stop": ["X"], "top_k": 5}
    assert entry(result, "invocation_parameters.metadata")[0] == "dropped"
    assert entry(result, "invocation_parameters.stop")[0] == "guessed"
