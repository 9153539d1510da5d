"""OpenInference span attributes built from a ModelRequest and its ModelResult.

The attribute names follow the OpenInference semantic conventions so spans look like the
instrumentors' (and Phoenix can show and replay them); ``workbench.*`` keys carry what the
conventions have no name for but replay needs (operation, template format, endpoint id).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from openinference.semconv.trace import (
    ImageAttributes,
    MessageAttributes,
    MessageContentAttributes,
    OpenInferenceMimeTypeValues,
    OpenInferenceSpanKindValues,
    PromptAttributes,
    SpanAttributes,
    ToolAttributes,
    ToolCallAttributes,
)

from core.credentials import clean_url, redact, scrub_values, secrets_of
from core.providers.types import (
    ModelRequest,
    ModelResult,
    Operation,
    PromptTemplateInfo,
    RunContext,
)

S = SpanAttributes
M = MessageAttributes
TC = ToolCallAttributes
JSON_MIME = OpenInferenceMimeTypeValues.JSON.value
TEXT_MIME = OpenInferenceMimeTypeValues.TEXT.value

# Our own keys (no OpenInference equivalent).
WB_RUN_ID = "workbench.run_id"
WB_ATTEMPT = "workbench.attempt"
WB_USAGE_ESTIMATED = "workbench.usage_estimated"
WB_OPERATION = "workbench.operation"
WB_SOURCE = "workbench.source"
WB_CARD_ID = "workbench.card_id"
WB_ENDPOINT_ID = "workbench.endpoint_id"
WB_TEMPLATE_FORMAT = "workbench.prompt_template.format"
WB_PROMPT_VERSION_ID = "workbench.prompt_version_id"
WB_TTFT_MS = "workbench.ttft_ms"
URL_FULL = "url.full"

# litellm provider prefix -> OpenInference llm.system (the API family).
_SYSTEMS = {
    "openai": "openai", "azure": "openai", "openai_compatible": "openai", "custom": "openai",
    "anthropic": "anthropic", "cohere": "cohere", "cohere_chat": "cohere",
    "mistral": "mistralai", "mistralai": "mistralai",
    "vertex_ai": "vertexai", "gemini": "vertexai", "google": "vertexai",
}

Attributes = dict[str, Any]


def infer_provider(request: ModelRequest) -> str | None:
    """The provider a request goes to: explicit, else the litellm prefix, else openai-compatible."""
    if request.provider:
        return request.provider
    if "/" in request.model:
        return request.model.split("/", 1)[0]
    if request.base_url:
        return "openai"
    return None


def llm_system(provider: str | None) -> str | None:
    """OpenInference ``llm.system`` (API family) for a provider name."""
    if provider is None:
        return None
    return _SYSTEMS.get(provider.lower(), provider.lower())


def request_to_dict(request: ModelRequest) -> dict[str, Any]:
    """The request as JSON-able data without secrets: enough to replay the call exactly."""
    secrets = secrets_of(request.api_key, request.extra_headers)
    ctx = request.context
    template = ctx.prompt_template
    return {
        "model": request.model,
        "provider": infer_provider(request),
        "operation": Operation(request.operation).value,
        "messages": scrub_values(_jsonable(request.messages), secrets),
        "prompt": scrub_values(request.prompt, secrets),
        "invocation_parameters": redact(_jsonable(request.invocation_parameters), secrets, drop_fields=True),
        "tools": scrub_values(_jsonable(request.tools), secrets),
        "tool_choice": scrub_values(_jsonable(request.tool_choice), secrets),
        "response_format": scrub_values(_jsonable(request.response_format), secrets),
        "base_url": clean_url(request.base_url),
        "timeout": request.timeout,
        "endpoint_id": request.endpoint_id,
        "context": {
            "source": ctx.source,
            "session_id": ctx.session_id,
            "card_id": ctx.card_id,
            "trace_id": ctx.trace_id,
            "user": ctx.user,
            "tags": list(ctx.tags),
            "metadata": redact(_jsonable(ctx.metadata), secrets, drop_fields=True),
            "prompt_template": (
                scrub_values(_jsonable(asdict(template)), secrets) if template else None
            ),
            "workspace_id": ctx.workspace_id,
        },
    }


def request_from_dict(data: dict[str, Any]) -> ModelRequest:
    """Rebuild a ModelRequest from :func:`request_to_dict` output (replay); no credentials."""
    ctx = dict(data.get("context") or {})
    tpl = ctx.pop("prompt_template", None)
    known_ctx = {k: v for k, v in ctx.items() if k in RunContext.__dataclass_fields__}
    context = RunContext(**known_ctx)
    if tpl:
        fields = PromptTemplateInfo.__dataclass_fields__
        context.prompt_template = PromptTemplateInfo(**{k: v for k, v in tpl.items() if k in fields})
    return ModelRequest(
        model=data["model"],
        operation=Operation(data.get("operation") or "chat"),
        messages=list(data.get("messages") or []),
        prompt=data.get("prompt"),
        invocation_parameters=dict(data.get("invocation_parameters") or {}),
        tools=data.get("tools"),
        tool_choice=data.get("tool_choice"),
        response_format=data.get("response_format"),
        base_url=data.get("base_url"),
        timeout=data.get("timeout"),
        provider=data.get("provider"),
        endpoint_id=data.get("endpoint_id"),
        context=context,
    )


def invocation_parameters(req: dict[str, Any]) -> dict[str, Any]:
    """The recorded ``llm.invocation_parameters``: params plus tool_choice/response_format."""
    params = dict(req["invocation_parameters"])
    params.setdefault("model", req["model"])
    if req.get("tool_choice") is not None:
        params["tool_choice"] = req["tool_choice"]
    if req.get("response_format") is not None:
        params["response_format"] = req["response_format"]
    return params


def request_body(req: dict[str, Any]) -> dict[str, Any]:
    """``input.value``: the request as an OpenAI-style body (what instrumentors record)."""
    body: dict[str, Any] = {"model": req["model"]}
    if req["operation"] == Operation.TEXT_COMPLETION.value:
        body["prompt"] = req["prompt"] or ""
    else:
        body["messages"] = req["messages"]
    body.update(invocation_parameters(req))
    if req.get("tools"):
        body["tools"] = req["tools"]
    return body


def start_attributes(req: dict[str, Any], *, run_id: str, attempt: int) -> Attributes:
    """Attributes known when the call starts (request side), from :func:`request_to_dict`."""
    attrs: Attributes = {
        S.OPENINFERENCE_SPAN_KIND: OpenInferenceSpanKindValues.LLM.value,
        S.LLM_MODEL_NAME: req["model"],
        S.LLM_INVOCATION_PARAMETERS: _dumps(invocation_parameters(req)),
        S.INPUT_VALUE: _dumps(request_body(req)),
        S.INPUT_MIME_TYPE: JSON_MIME,
        WB_RUN_ID: run_id,
        WB_ATTEMPT: attempt,
        WB_OPERATION: req["operation"],
    }
    _set(attrs, S.LLM_PROVIDER, req.get("provider"))
    _set(attrs, S.LLM_SYSTEM, llm_system(req.get("provider")))
    _set(attrs, URL_FULL, req.get("base_url"))
    _set(attrs, WB_ENDPOINT_ID, req.get("endpoint_id"))
    if req["operation"] == Operation.TEXT_COMPLETION.value:
        attrs[f"{S.LLM_PROMPTS}.0.{PromptAttributes.PROMPT_TEXT}"] = req["prompt"] or ""
    else:
        for i, message in enumerate(req["messages"]):
            attrs.update(message_attributes(f"{S.LLM_INPUT_MESSAGES}.{i}", message))
    for i, tool in enumerate(req.get("tools") or []):
        attrs[f"{S.LLM_TOOLS}.{i}.{ToolAttributes.TOOL_JSON_SCHEMA}"] = _dumps(tool)
    ctx = req["context"]
    _set(attrs, S.SESSION_ID, ctx.get("session_id"))
    _set(attrs, S.USER_ID, ctx.get("user"))
    _set(attrs, WB_SOURCE, ctx.get("source"))
    _set(attrs, WB_CARD_ID, ctx.get("card_id"))
    if ctx.get("metadata"):
        attrs[S.METADATA] = _dumps(ctx["metadata"])
    if ctx.get("tags"):
        attrs[S.TAG_TAGS] = [str(t) for t in ctx["tags"]]
    tpl = ctx.get("prompt_template")
    if tpl:
        template = tpl.get("template")
        attrs[S.LLM_PROMPT_TEMPLATE] = template if isinstance(template, str) else _dumps(template)
        attrs[S.LLM_PROMPT_TEMPLATE_VARIABLES] = _dumps(tpl.get("variables") or {})
        _set(attrs, S.LLM_PROMPT_TEMPLATE_VERSION, tpl.get("version"))
        _set(attrs, WB_TEMPLATE_FORMAT, tpl.get("template_format"))
        _set(attrs, WB_PROMPT_VERSION_ID, tpl.get("prompt_version_id"))
    return attrs


def message_attributes(prefix: str, message: dict[str, Any]) -> Attributes:
    """``{prefix}.message.*`` keys for one chat message, tool calls and content parts included."""
    attrs: Attributes = {}
    _set(attrs, f"{prefix}.{M.MESSAGE_ROLE}", message.get("role"))
    content = message.get("content")
    if isinstance(content, str):
        attrs[f"{prefix}.{M.MESSAGE_CONTENT}"] = content
    elif isinstance(content, list):
        for j, part in enumerate(content):
            attrs.update(_content_part(f"{prefix}.{M.MESSAGE_CONTENTS}.{j}", part))
    _set(attrs, f"{prefix}.{M.MESSAGE_NAME}", message.get("name"))
    _set(attrs, f"{prefix}.{M.MESSAGE_TOOL_CALL_ID}", message.get("tool_call_id"))
    for k, call in enumerate(message.get("tool_calls") or []):
        fn = call.get("function") or {}
        base = f"{prefix}.{M.MESSAGE_TOOL_CALLS}.{k}"
        _set(attrs, f"{base}.{TC.TOOL_CALL_ID}", call.get("id"))
        _set(attrs, f"{base}.{TC.TOOL_CALL_FUNCTION_NAME}", fn.get("name"))
        args = fn.get("arguments")
        if args is not None:
            attrs[f"{base}.{TC.TOOL_CALL_FUNCTION_ARGUMENTS_JSON}"] = (
                args if isinstance(args, str) else _dumps(args)
            )
    return attrs


def _content_part(prefix: str, part: Any) -> Attributes:
    mc = MessageContentAttributes
    if isinstance(part, str):
        return {f"{prefix}.{mc.MESSAGE_CONTENT_TYPE}": "text", f"{prefix}.{mc.MESSAGE_CONTENT_TEXT}": part}
    if not isinstance(part, dict):
        return {}
    kind = part.get("type", "text")
    attrs: Attributes = {f"{prefix}.{mc.MESSAGE_CONTENT_TYPE}": "image" if kind == "image_url" else kind}
    if "text" in part:
        attrs[f"{prefix}.{mc.MESSAGE_CONTENT_TEXT}"] = str(part["text"])
    image = part.get("image_url")
    if image:
        url = image.get("url") if isinstance(image, dict) else image
        attrs[f"{prefix}.{mc.MESSAGE_CONTENT_IMAGE}.{ImageAttributes.IMAGE_URL}"] = str(url)
    return attrs


def output_message(result: ModelResult) -> dict[str, Any]:
    """The assistant message a result amounts to (OpenAI shape)."""
    message: dict[str, Any] = {"role": "assistant", "content": result.text or None}
    if result.tool_calls:
        message["tool_calls"] = tool_calls_json(result)
    return message


def tool_calls_json(result: ModelResult) -> list[dict[str, Any]]:
    """The result's tool calls as OpenAI tool-call objects."""
    return [
        {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
        for c in result.tool_calls
    ]


def result_attributes(result: ModelResult, operation: str) -> Attributes:
    """Attributes known when the call ends: output, usage, cost, finish reason."""
    attrs: Attributes = {}
    has_output = bool(result.text or result.tool_calls)
    if has_output:
        message = output_message(result)
        if result.tool_calls:
            attrs[S.OUTPUT_VALUE] = _dumps(message)
            attrs[S.OUTPUT_MIME_TYPE] = JSON_MIME
        else:
            attrs[S.OUTPUT_VALUE] = result.text
            attrs[S.OUTPUT_MIME_TYPE] = TEXT_MIME
        if operation == Operation.CHAT.value:
            out = {k: v for k, v in message.items() if k != "content" or v is not None}
            attrs.update(message_attributes(f"{S.LLM_OUTPUT_MESSAGES}.0", out))
        else:
            attrs[f"{S.LLM_OUTPUT_MESSAGES}.0.{M.MESSAGE_ROLE}"] = "assistant"
            attrs[f"{S.LLM_OUTPUT_MESSAGES}.0.{M.MESSAGE_CONTENT}"] = result.text
    usage = result.usage
    _set(attrs, S.LLM_TOKEN_COUNT_PROMPT, usage.prompt_tokens)
    _set(attrs, S.LLM_TOKEN_COUNT_COMPLETION, usage.completion_tokens)
    total = usage.total_tokens
    if total is None and usage.prompt_tokens is not None and usage.completion_tokens is not None:
        total = usage.prompt_tokens + usage.completion_tokens
    _set(attrs, S.LLM_TOKEN_COUNT_TOTAL, total)
    attrs[WB_USAGE_ESTIMATED] = bool(usage.estimated)
    _set(attrs, S.LLM_COST_TOTAL, result.cost)
    _set(attrs, S.LLM_FINISH_REASON, result.finish_reason)
    _set(attrs, WB_TTFT_MS, result.ttft_ms)
    if result.provider:
        attrs[S.LLM_PROVIDER] = result.provider
        attrs[S.LLM_SYSTEM] = llm_system(result.provider)
    return attrs


def _set(attrs: Attributes, key: str, value: Any) -> None:
    # OTel attributes cannot be None; absent is the honest encoding of "unknown".
    if value is not None:
        attrs[key] = value


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _jsonable(value: Any) -> Any:
    """A JSON-safe deep copy (pydantic models and other objects become plain data)."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return json.loads(json.dumps(value, default=_default))


def _default(obj: Any) -> Any:
    dump = getattr(obj, "model_dump", None)
    if callable(dump):
        return dump(mode="json")
    return str(obj)
