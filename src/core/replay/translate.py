"""Recorded span attributes → a runnable :class:`ModelRequest` plus a field-by-field report."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from core.providers.types import (
    ModelRequest,
    Operation,
    PromptTemplateInfo,
    RunContext,
    ToolCall,
    Usage,
)
from core.replay.attrs import AttributeTree, as_text, dig, indexed, is_redacted, parse_json_value
from core.replay.messages import (
    messages_from_body,
    normalize_tool,
    normalize_tool_choice,
    read_messages,
    read_output,
)
from core.replay.params import (
    SplitParameters,
    normalize_response_format,
    read_parameters,
    split_parameters,
)
from core.replay.parse import ParsedSpan, SourceFormat, parse_span
from core.replay.report import FieldReport, Reporter, entries_for, summarize
from core.replay.target import PROVIDER_ALIASES, provider_from_model, resolve_target
from core.replay.template import check_rendering, read_template

# Used only when a span recorded no model at all, so the request can still run.
FALLBACK_MODEL = "local/smollm2-135m-instruct"
_MODEL_KEYS = ("llm.model_name", "llm.request.model_name", "gen_ai.request.model")
_OPERATION_KEYS = ("gen_ai.operation.name", "workbench.operation", "llm.operation")
_TEXT_OPERATIONS = {"text_completion", "completion", "completions", "text_completions", "text"}
# Report order, whatever order the fields were decided in: the order of the playground's form.
_FIELD_ORDER = [
    "provider",
    "model",
    "base_url",
    "operation",
    "messages",
    "prompt",
    "invocation_parameters",
    "tools",
    "tool_choice",
    "response_format",
    "template",
]


def _field_rank(entry: FieldReport) -> tuple[int, int]:
    """Group by form field; a field's summary entry before its sub-field entries."""
    head = entry.field.replace("[", ".").split(".", 1)[0]
    rank = _FIELD_ORDER.index(head) if head in _FIELD_ORDER else len(_FIELD_ORDER)
    return rank, 0 if entry.field == head else 1


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


class ReplayError(ValueError):
    """A replay cannot be run as recorded (e.g. the span recorded no model)."""


@dataclass
class ReplayResult:
    """A recorded span translated for the playground: request, template, report, original output."""

    request: ModelRequest
    template: PromptTemplateInfo | None
    report: list[FieldReport]
    span_id: str | None
    trace_id: str | None
    source_format: SourceFormat
    original_output: str | None = None
    original_tool_calls: list[ToolCall] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    span_name: str | None = None
    original_finish_reason: str | None = None
    original_usage: Usage | None = None
    # Only what the span recorded (no defaults), kept apart so edits to ``request`` don't leak.
    recorded: ModelRequest | None = field(default=None, repr=False)

    def summary(self) -> dict[str, int]:
        """Counts per status: copied, guessed, dropped, defaulted."""
        return summarize(self.report)

    def entries(self, field_name: str) -> list[FieldReport]:
        """Report entries about one field and its sub-fields."""
        return entries_for(self.report, field_name)


def replay_span(
    span: str | bytes | dict[str, Any] | list[Any], *, span_id: str | None = None
) -> ReplayResult:
    """Translate a recorded LLM span (OpenInference, Phoenix REST or OTLP JSON) into a replay."""
    return translate(parse_span(span, span_id=span_id))


def rerun_as_recorded(result: ReplayResult) -> ModelRequest:
    """A fresh copy of the request exactly as recorded, without defaults the replay filled in."""
    recorded = result.recorded or result.request
    if not recorded.model:
        raise ReplayError("the span recorded no model; choose a model before re-running it")
    return copy.deepcopy(recorded)


def _request_body(tree: AttributeTree) -> dict[str, Any] | None:
    """``input.value`` when it holds a JSON request body (the instrumentors record one)."""
    raw = tree.get("input.value")
    if raw is None or is_redacted(raw):
        return None
    mime = str(tree.get("input.mime_type") or "")
    if isinstance(raw, dict):
        return raw
    if not isinstance(raw, str) or ("json" not in mime and not raw.lstrip().startswith("{")):
        return None
    decoded, error = parse_json_value(raw)
    return decoded if error is None and isinstance(decoded, dict) else None


def _plain_input(tree: AttributeTree, body: dict[str, Any] | None) -> str | None:
    raw = tree.get("input.value")
    if body is not None or raw is None or is_redacted(raw):
        return None
    return as_text(raw)


def _read_prompts(tree: AttributeTree) -> list[str]:
    node = tree.node("llm.prompts")
    if isinstance(node, list):  # older semantic conventions: a string array
        return [as_text(p) or "" for p in node]
    prompts = [dig(entry, "prompt.text") for _, entry in indexed(node)]
    return [p for p in prompts if isinstance(p, str)]


def _parameters(
    tree: AttributeTree, body: dict[str, Any] | None, rep: Reporter, hint: str | None
) -> SplitParameters:
    raw = tree.get("llm.invocation_parameters")
    params, why = read_parameters(raw, rep)
    if params is not None:
        return split_parameters(params, rep, provider_hint=hint, source="llm.invocation_parameters")
    body_params = {k: v for k, v in (body or {}).items() if k not in ("messages", "prompt")}
    if why:
        tail = (
            "parameters recovered from the request body in input.value"
            if body_params
            else "provider defaults apply"
        )
        rep.dropped("invocation_parameters", f"{why}; {tail}", raw)
    elif not body_params:
        rep.defaulted("invocation_parameters", "none recorded; provider defaults apply")
    return split_parameters(body_params, rep, provider_hint=hint, source="input.value")


def _pick_model(
    tree: AttributeTree, split: SplitParameters, body: dict[str, Any] | None
) -> tuple[str | None, str]:
    for key in _MODEL_KEYS:
        value = tree.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip(), key
    if split.model:
        return split.model, "invocation_parameters.model"
    if body and isinstance(body.get("model"), str):
        return body["model"], "input.value"
    for key in ("llm.response.model_name", "gen_ai.response.model"):
        value = tree.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip(), key
    return None, ""


def _operation(
    tree: AttributeTree,
    has_messages: bool,
    prompts: list[str],
    body: dict[str, Any] | None,
    plain: str | None,
    rep: Reporter,
) -> Operation:
    explicit = next((tree.get(k) for k in _OPERATION_KEYS if tree.get(k)), None)
    if explicit:
        op = (
            Operation.TEXT_COMPLETION
            if str(explicit).lower() in _TEXT_OPERATIONS
            else Operation.CHAT
        )
        rep.copied("operation", f"recorded operation {explicit!r}", op.value)
    elif has_messages:
        op = Operation.CHAT
        rep.guessed("operation", "chat: input messages recorded", op.value)
    elif prompts:
        op = Operation.TEXT_COMPLETION
        rep.guessed("operation", "text completion: llm.prompts recorded", op.value)
    elif body and body.get("messages"):
        op = Operation.CHAT
        rep.guessed("operation", "chat: messages in the request body (input.value)", op.value)
    elif body and body.get("prompt") is not None:
        op = Operation.TEXT_COMPLETION
        rep.guessed(
            "operation", "text completion: prompt in the request body (input.value)", op.value
        )
    elif plain:
        op = Operation.TEXT_COMPLETION
        rep.guessed("operation", "text completion: only input.value text recorded", op.value)
    else:
        op = Operation.CHAT
        rep.defaulted("operation", "no input recorded; chat assumed", op.value)
    return op


def _chat_messages(
    tree: AttributeTree,
    body: dict[str, Any] | None,
    prompts: list[str],
    plain: str | None,
    split: SplitParameters,
    rep: Reporter,
    keep_developer: bool,
) -> list[dict[str, Any]]:
    node = tree.node("llm.input_messages")
    if indexed(node):
        messages = read_messages(node, rep, keep_developer=keep_developer)
        rep.copied(
            "messages",
            f"{_count(len(messages), 'message')} from llm.input_messages",
            [m["role"] for m in messages],
        )
    elif body and body.get("messages"):
        messages = messages_from_body(body, rep, keep_developer=keep_developer)
        rep.guessed(
            "messages",
            f"{_count(len(messages), 'message')} recovered from the request body in input.value",
            [m["role"] for m in messages],
        )
        return messages  # the body's own "system" was already folded in
    elif prompts or plain:
        text = prompts[0] if prompts else plain or ""
        messages = [{"role": "user", "content": text}]
        rep.guessed(
            "messages", "no messages recorded; the recorded prompt sent as one user message", text
        )
    else:
        rep.defaulted("messages", "no input messages recorded")
        return []
    system = split.system
    if system and not any(m["role"] == "system" for m in messages):
        content = system if isinstance(system, str | list) else as_text(system)
        messages.insert(0, {"role": "system", "content": content})
        rep.guessed("messages[0]", "system prompt recovered from the recorded parameters", content)
    return messages


def _text_prompt(
    prompts: list[str], body: dict[str, Any] | None, plain: str | None, rep: Reporter
) -> str:
    if prompts:
        rep.copied("prompt", "from llm.prompts", prompts[0])
        if len(prompts) > 1:
            rep.dropped(
                "prompt",
                f"{len(prompts) - 1} more prompts in a batch call; only the first is replayed",
                prompts[1:],
            )
        return prompts[0]
    raw = (body or {}).get("prompt")
    if isinstance(raw, list) and raw:
        rep.guessed("prompt", "first prompt of the request body in input.value", raw[0])
        return as_text(raw[0]) or ""
    if raw is not None:
        rep.guessed("prompt", "from the request body in input.value", raw)
        return as_text(raw) or ""
    if plain:
        rep.guessed("prompt", "input.value text used as the prompt", plain)
        return plain
    rep.defaulted("prompt", "no prompt recorded; empty")
    return ""


def _tools(
    tree: AttributeTree, split: SplitParameters, body: dict[str, Any] | None, rep: Reporter
) -> list[dict[str, Any]] | None:
    entries = indexed(tree.node("llm.tools"))
    source = "llm.tools"
    if not entries:
        raw = split.tools if split.tools is not None else (body or {}).get("tools")
        if isinstance(raw, str):
            raw, _ = parse_json_value(raw)
        if not isinstance(raw, list) or not raw:
            rep.defaulted("tools", "no tools recorded")
            return None
        entries = [(i, {"tool": {"json_schema": t}}) for i, t in enumerate(raw)]
        source = split.source if split.tools is not None else "input.value"
    tools: list[dict[str, Any]] = []
    for i, entry in entries:
        schema = dig(entry, "tool.json_schema")
        decoded, error = parse_json_value(schema)
        if error or decoded is None:
            rep.dropped(f"tools[{i}]", f"json_schema is {error or 'missing'}", schema)
            continue
        tool, note = normalize_tool(decoded)
        if tool is None:
            rep.dropped(f"tools[{i}]", note or "unusable tool schema", decoded)
            continue
        if note:
            rep.guessed(f"tools[{i}]", note, tool)
        tools.append(tool)
    names = [dig(t, "function.name") or t.get("type") for t in tools]
    if source == "llm.tools":
        rep.copied("tools", f"{_count(len(tools), 'tool')} from llm.tools", names)
    else:
        rep.guessed("tools", f"{_count(len(tools), 'tool')} recovered from {source}", names)
    return tools or None


def _tool_choice(
    split: SplitParameters, body: dict[str, Any] | None, params: dict[str, Any], rep: Reporter
) -> Any:
    raw = split.tool_choice if split.tool_choice is not None else (body or {}).get("tool_choice")
    if raw is None:
        rep.defaulted(
            "tool_choice", "not recorded; the provider default applies (auto when tools are given)"
        )
        return None
    choice, note, extra = normalize_tool_choice(raw)
    if choice is None:
        rep.dropped("tool_choice", note or "unusable", raw)
        return None
    for key, value in extra.items():
        params.setdefault(key, value)
        rep.guessed(f"invocation_parameters.{key}", "implied by the recorded tool choice", value)
    (rep.guessed if note else rep.copied)("tool_choice", note or "as recorded", choice)
    return choice


def _response_format(
    split: SplitParameters, body: dict[str, Any] | None, rep: Reporter
) -> dict[str, Any] | None:
    raw = (
        split.response_format
        if split.response_format is not None
        else (body or {}).get("response_format")
    )
    if raw is None:
        rep.defaulted("response_format", "not recorded; free text")
        return None
    fmt, note, why = normalize_response_format(raw)
    if fmt is None:
        rep.dropped("response_format", why or "unusable", raw)
    else:
        (rep.guessed if note else rep.copied)("response_format", note or "as recorded", fmt)
    return fmt


def _usage(tree: AttributeTree) -> Usage | None:
    counts = [tree.get(f"llm.token_count.{k}") for k in ("prompt", "completion", "total")]
    if all(c is None for c in counts):
        return None
    ints = [
        int(c) if isinstance(c, int | float) and not isinstance(c, bool) else None for c in counts
    ]
    return Usage(prompt_tokens=ints[0], completion_tokens=ints[1], total_tokens=ints[2])


def translate(parsed: ParsedSpan) -> ReplayResult:
    """Turn one parsed span into a :class:`ReplayResult`; never raises on missing or bad fields."""
    tree = AttributeTree(parsed.attributes)
    rep = Reporter()
    warnings = list(parsed.warnings)
    if tree.conflicts:
        warnings.append(f"conflicting attribute keys ignored: {', '.join(tree.conflicts[:5])}")
    if str(parsed.status_code or "").upper() == "ERROR":
        warnings.append(f"the recorded call failed: {parsed.status_message or 'no message'}")

    body = _request_body(tree)
    recorded_provider = tree.get("llm.provider")
    recorded_system = tree.get("llm.system")
    # A first guess at the provider, for provider-specific parameter names (Anthropic's).
    hint = PROVIDER_ALIASES.get(str(recorded_provider or recorded_system or "").lower())
    if hint is None:
        hint = provider_from_model(str(next((tree.get(k) for k in _MODEL_KEYS if tree.get(k)), "")))
    split = _parameters(tree, body, rep, hint)
    raw_model, model_source = _pick_model(tree, split, body)
    target = resolve_target(
        model=raw_model,
        recorded_provider=recorded_provider if isinstance(recorded_provider, str) else None,
        recorded_system=recorded_system if isinstance(recorded_system, str) else None,
        url_full=tree.get("url.full") if isinstance(tree.get("url.full"), str) else None,
        api_base=split.api_base,
        reporter=rep,
        model_source=model_source,
        wire_model=body.get("model") if body and isinstance(body.get("model"), str) else None,
    )
    if (
        split.model
        and raw_model
        and split.model != raw_model
        and model_source != "invocation_parameters.model"
    ):
        warnings.append(
            f"invocation parameters name model {split.model!r} but the span records {raw_model!r}"
        )

    prompts = _read_prompts(tree)
    plain = _plain_input(tree, body)
    has_messages = bool(indexed(tree.node("llm.input_messages")))
    operation = _operation(tree, has_messages, prompts, body, plain, rep)
    keep_developer = (
        target.provider in ("openai", "azure") or provider_from_model(raw_model or "") == "openai"
    )
    messages: list[dict[str, Any]] = []
    prompt: str | None = None
    if operation is Operation.CHAT:
        messages = _chat_messages(tree, body, prompts, plain, split, rep, keep_developer)
    else:
        prompt = _text_prompt(prompts, body, plain, rep)

    params = dict(split.parameters)
    tools = _tools(tree, split, body, rep)
    tool_choice = _tool_choice(split, body, params, rep)
    if tool_choice is not None and not tools and tool_choice != "none":
        warnings.append(
            "a tool choice was recorded without tools; the provider may reject the request"
        )
    response_format = _response_format(split, body, rep)
    if not params and not any(e.field == "invocation_parameters" for e in rep.entries):
        rep.defaulted(
            "invocation_parameters", "no sampling parameters recorded; provider defaults apply"
        )

    template = read_template(tree, rep)
    if template is not None and (problem := check_rendering(template, messages, prompt)):
        warnings.append(problem)

    metadata: dict[str, Any] = {"replayed_span_id": parsed.span_id}
    if parsed.trace_id:
        metadata["replayed_trace_id"] = parsed.trace_id
    recorded = ModelRequest(
        model=target.model,
        operation=operation,
        messages=messages,
        prompt=prompt,
        invocation_parameters=params,
        tools=tools,
        tool_choice=tool_choice,
        response_format=response_format,
        base_url=target.base_url,
        timeout=split.timeout,
        provider=target.provider,
        context=RunContext(source="replay", metadata=metadata, prompt_template=template),
    )
    request = copy.deepcopy(recorded)
    if not request.model:
        request.model = _default_model()
        rep.defaulted("model", "no model recorded; the default model is used", request.model)
        warnings.append("the span recorded no model; the replay uses the default model")

    text, calls = read_output(tree)
    finish = tree.get("llm.finish_reason")
    return ReplayResult(
        request=request,
        template=template,
        report=sorted(rep.entries, key=_field_rank),
        span_id=parsed.span_id,
        trace_id=parsed.trace_id,
        source_format=parsed.source_format,
        original_output=text,
        original_tool_calls=calls,
        warnings=warnings,
        span_name=parsed.name,
        original_finish_reason=str(finish) if finish is not None else None,
        original_usage=_usage(tree),
        recorded=recorded,
    )


def _default_model() -> str:
    """The invocation layer's default model when it is importable, else the embedded model id."""
    try:
        from core.providers.local import DEFAULT_MODEL  # type: ignore[import-not-found,unused-ignore]
    except Exception:  # not installed yet, or the local model can't load: keep a usable id
        return FALLBACK_MODEL
    return str(DEFAULT_MODEL)
