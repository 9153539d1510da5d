"""Values that cross the invocation interface: request, stream events, result.

Everything that calls a model (playground, experiments, replay, evaluators) builds a
``ModelRequest`` and gets back stream events and a ``ModelResult``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal


class Operation(StrEnum):
    """How the model is invoked."""

    CHAT = "chat"
    TEXT_COMPLETION = "text_completion"


RunStatus = Literal["ok", "error", "cancelled"]


@dataclass
class PromptTemplateInfo:
    """The template a request was rendered from, recorded as ``llm.prompt_template.*``."""

    template: Any  # str for text templates, list of messages for chat templates
    variables: dict[str, Any] = field(default_factory=dict)
    template_format: str = "f-string"
    version: str | None = None  # e.g. "greeting@v3"
    prompt_version_id: int | None = None


@dataclass
class RunContext:
    """Where a call comes from; recorded on the run row and the span, never sent to the model."""

    source: str = "api"  # playground | experiment | replay | evaluator | api
    session_id: str | None = None
    card_id: str | None = None
    trace_id: str | None = None  # continue this trace (32 hex) instead of starting one
    user: str | None = None
    tags: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    prompt_template: PromptTemplateInfo | None = None
    workspace_id: int | None = None


@dataclass
class ModelRequest:
    """One LLM call, provider-neutral. ``api_key`` and ``extra_headers`` are never recorded."""

    model: str  # litellm id ("openai/gpt-4o", "local/smollm2") or a custom endpoint's model id
    operation: Operation = Operation.CHAT
    messages: list[dict[str, Any]] = field(default_factory=list)  # chat
    prompt: str | None = None  # text completion
    invocation_parameters: dict[str, Any] = field(default_factory=dict)
    tools: list[dict[str, Any]] | None = None  # OpenAI tool objects
    tool_choice: str | dict[str, Any] | None = None
    response_format: dict[str, Any] | None = None  # {"type": "json_schema", "json_schema": {...}}
    base_url: str | None = None  # OpenAI-compatible endpoint
    api_key: str | None = field(default=None, repr=False)
    extra_headers: dict[str, str] | None = field(default=None, repr=False)
    timeout: float | None = None
    provider: str | None = None  # explicit provider, else inferred from model / base_url
    endpoint_id: int | None = None
    context: RunContext = field(default_factory=RunContext)


@dataclass(frozen=True)
class TextDelta:
    """A piece of generated text."""

    text: str


@dataclass(frozen=True)
class ToolCallDelta:
    """A piece of a tool call: ``index`` groups pieces of one call."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""


@dataclass(frozen=True)
class Usage:
    """Token counts; ``estimated`` when the provider sent none and a tokenizer counted."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    estimated: bool = False


StreamEvent = TextDelta | ToolCallDelta | Usage


@dataclass(frozen=True)
class ToolCall:
    """A complete tool call requested by the model."""

    id: str
    name: str
    arguments: str  # JSON text as the model produced it


@dataclass
class ModelResult:
    """How a call ended: output, usage, cost, timings, status and error."""

    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str | None = None
    usage: Usage = field(default_factory=Usage)
    cost: float | None = None
    latency_ms: float | None = None
    ttft_ms: float | None = None
    status: RunStatus = "ok"
    error: Exception | None = None
    model: str = ""
    provider: str | None = None
    attempts: int = 1
    run_id: str | None = None
    span_id: str | None = None
    trace_id: str | None = None
