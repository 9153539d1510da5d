"""Cards made from elsewhere (a replayed span, a registry version) and cards saved as versions."""

from __future__ import annotations

import json
from typing import Any

from core.playground.requests import (
    CardFieldError,
    build_params,
    parse_response_format,
    parse_tool_choice,
    parse_tools,
)
from core.playground.state import (
    STANDARD_PARAMS,
    Card,
    Endpoint,
    FieldReportItem,
    Message,
    PromptRef,
    ReplayOrigin,
)

_MESSAGE_KEYS = {"role", "content", "name", "tool_calls", "tool_call_id"}
_ROLES = {"system", "developer", "user", "assistant", "tool"}


def _text_content(content: Any, warnings: list[str], where: str) -> str:
    """Message content as editable text; non-text parts are reported, not silently lost."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if isinstance(part, dict) and part.get("type") == "text":
                texts.append(str(part.get("text", "")))
            elif isinstance(part, str):
                texts.append(part)
            else:
                kind = part.get("type", "?") if isinstance(part, dict) else type(part).__name__
                warnings.append(f"{where}: a {kind} part can't be edited in a card (Re-run as recorded sends it)")
        return "\n".join(texts)
    return json.dumps(content)


def messages_to_card(raw: list[dict[str, Any]], warnings: list[str]) -> list[Message]:
    """OpenAI-style message dicts as card messages."""
    out = []
    for i, msg in enumerate(raw):
        role = msg.get("role") if msg.get("role") in _ROLES else "user"
        out.append(Message.model_validate({
            "role": role,
            "content": _text_content(msg.get("content"), warnings, f"message {i + 1}"),
            "name": msg.get("name"),
            "tool_calls": msg.get("tool_calls") or None,
            "tool_call_id": msg.get("tool_call_id"),
        }))
    return out


def _split_params(params: dict[str, Any]) -> tuple[dict[str, Any], str]:
    standard = {k: v for k, v in params.items() if k in STANDARD_PARAMS and v is not None}
    if "max_completion_tokens" in params and "max_tokens" not in standard:
        standard["max_tokens"] = params["max_completion_tokens"]
    extras = {k: v for k, v in params.items()
              if k not in STANDARD_PARAMS and k != "max_completion_tokens"}
    return standard, json.dumps(extras, indent=2) if extras else ""


def _tool_choice_text(choice: Any) -> str | None:
    if isinstance(choice, dict):
        fn = choice.get("function") or {}
        return fn.get("name") or None
    return choice if isinstance(choice, str) else None


def card_from_replay(result: Any, span: dict[str, Any] | str | None = None) -> Card:
    """A card from a :class:`core.replay.ReplayResult`, keeping its fidelity report."""
    request = result.request
    warnings = list(result.warnings)
    template = result.template
    if template is not None and isinstance(template.template, list):
        messages = messages_to_card(template.template, warnings)
        variables = {k: v if isinstance(v, str) else json.dumps(v) for k, v in template.variables.items()}
        fmt = template.template_format if template.template_format in ("f-string", "mustache", "jinja2", "none") else "f-string"
        prompt = ""
    elif template is not None and isinstance(template.template, str):
        messages, prompt = [], template.template
        variables = {k: v if isinstance(v, str) else json.dumps(v) for k, v in template.variables.items()}
        fmt = template.template_format if template.template_format in ("f-string", "mustache", "jinja2", "none") else "f-string"
    else:
        messages = messages_to_card(request.messages, warnings)
        prompt, variables, fmt = request.prompt or "", {}, "none"
    operation = "text_completion" if str(request.operation) == "text_completion" else "chat"
    if operation == "chat" and template is not None and isinstance(template.template, str):
        # A text template on a chat span: keep the recorded messages, template as a note.
        messages = messages_to_card(request.messages, warnings)
        fmt = "none"
    standard, extras = _split_params(dict(request.invocation_parameters))
    endpoint = (Endpoint(base_url=request.base_url, model_id=request.model) if request.base_url else None)
    if isinstance(span, str):
        try:
            span = json.loads(span)
        except ValueError:
            span = None
    origin = ReplayOrigin(
        span_id=result.span_id,
        trace_id=result.trace_id,
        report=[FieldReportItem(field=r.field, status=str(r.status), detail=r.detail,
                                value_preview=r.value_preview or "") for r in result.report],
        warnings=warnings,
        original_output=result.original_output,
        span=span if isinstance(span, dict) else None,
    )
    title = f"Replay {result.span_name or ''} {(result.span_id or '')[:8]}".replace("  ", " ").strip()
    return Card.model_validate({
        "title": title,
        "model": request.model or "",
        "endpoint": endpoint,
        "operation": operation,
        "template_format": fmt,
        "messages": messages if operation == "chat" else [],
        "prompt": prompt,
        "variables": variables,
        "invocation_parameters": standard,
        "extra_params_json": extras,
        "tools": json.dumps(request.tools, indent=2) if request.tools else "",
        "tool_choice": _tool_choice_text(request.tool_choice),
        "response_format": json.dumps(request.response_format, indent=2) if request.response_format else "",
        "replay": origin,
    })


def card_from_version(info: Any, *, label: str | None = None) -> Card:
    """A card from a registry :class:`PromptVersionInfo` (template, model config, samples)."""
    warnings: list[str] = []
    cfg = dict(info.llm_config or {})
    chat = info.template_type == "chat"
    standard, extras = _split_params(dict(cfg.get("invocation_parameters") or {}))
    return Card.model_validate({
        "title": f"{info.prompt_name}@{label}" if label else info.ref,
        "model": cfg.get("model") or "",
        "operation": "chat" if chat else "text_completion",
        "template_format": info.template_format,
        "messages": messages_to_card(info.template, warnings) if chat else [],
        "prompt": "" if chat else str(info.template),
        "variables": {k: v if isinstance(v, str) else json.dumps(v)
                      for k, v in (info.sample_variables or {}).items()},
        "invocation_parameters": standard,
        "extra_params_json": extras,
        "tools": json.dumps(cfg["tools"], indent=2) if cfg.get("tools") else "",
        "tool_choice": _tool_choice_text(cfg.get("tool_choice")),
        "response_format": json.dumps(cfg["response_format"], indent=2) if cfg.get("response_format") else "",
        "prompt_ref": PromptRef(name=info.prompt_name, version=info.version, label=label,
                                prompt_version_id=info.version_id),
    })


def version_fields(card: Card) -> dict[str, Any]:
    """Keyword arguments for ``core.prompts.save_version`` from a card (validated first)."""
    params = build_params(card)
    tools = parse_tools(card.id, card.tools) if card.operation == "chat" else None
    choice = parse_tool_choice(card.id, card.tool_choice, tools)
    response_format = parse_response_format(card.id, card.response_format)
    if card.operation == "chat":
        if not card.messages:
            raise CardFieldError(card.id, "messages", "add at least one message")
        template: Any = [m.model_dump(exclude_none=True) for m in card.messages]
    else:
        if not card.prompt.strip():
            raise CardFieldError(card.id, "prompt", "the prompt is empty")
        template = card.prompt
    model = card.endpoint.model_id if card.endpoint else card.model
    return {
        "template_type": "chat" if card.operation == "chat" else "text",
        "template_format": card.template_format,
        "template": template,
        "llm_config": {
            "model": model,
            "invocation_parameters": params,
            "tools": tools or [],
            "tool_choice": choice,
            "response_format": response_format,
        },
        "sample_variables": dict(card.variables),
    }
