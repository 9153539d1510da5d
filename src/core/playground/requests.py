"""From a card to a :class:`ModelRequest`: render templates, check every field first.

Every problem becomes a :class:`CardFieldError` naming the card and the field, so the page
shows it next to that field and nothing is sent.
"""

from __future__ import annotations

import json
import math
from typing import Any

from core.playground.state import Card, Message
from core.providers.types import ModelRequest, Operation, PromptTemplateInfo, RunContext

FIELD_LABELS = {
    "model": "Model",
    "endpoint": "Endpoint",
    "messages": "Messages",
    "prompt": "Prompt",
    "variables": "Variables",
    "invocation_parameters": "Parameters",
    "extra_params_json": "Extra parameters JSON",
    "tools": "Tools JSON",
    "tool_choice": "Tool choice",
    "response_format": "Response format JSON",
    "chat_input": "Chat message",
}
# Keys that belong to their own field or to the transport, never in the extras JSON.
RESERVED_PARAM_KEYS = {
    "model", "messages", "prompt", "tools", "tool_choice", "response_format", "stream",
    "stream_options", "base_url", "api_base", "n",
}
SECRET_PARAM_KEYS = {"api_key", "apikey", "authorization", "extra_headers", "headers", "token"}
PARAM_RANGES: dict[str, tuple[float, float]] = {
    "temperature": (0.0, 2.0),
    "top_p": (0.0, 1.0),
    "presence_penalty": (-2.0, 2.0),
    "frequency_penalty": (-2.0, 2.0),
}
TOOL_CHOICE_MODES = ("auto", "none", "required")


class CardFieldError(ValueError):
    """A card can't run because of one field; ``str()`` reads "Tools JSON: line 3 …"."""

    def __init__(self, card_id: str, field: str, message: str) -> None:
        super().__init__(message)
        self.card_id = card_id
        self.field = field
        self.message = message

    def __str__(self) -> str:
        return f"{FIELD_LABELS.get(self.field, self.field)}: {self.message}"


def _json_error(exc: json.JSONDecodeError) -> str:
    return f"line {exc.lineno} column {exc.colno}: {exc.msg}"


def parse_json_field(card_id: str, field: str, text: str) -> Any:
    """Parse the JSON typed into a field; empty text is None."""
    if not text or not text.strip():
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CardFieldError(card_id, field, _json_error(exc)) from exc


def _check_schema(card_id: str, field: str, schema: Any, where: str) -> None:
    import jsonschema

    if not isinstance(schema, dict):
        raise CardFieldError(card_id, field, f"{where} must be a JSON object (a JSON schema)")
    try:
        jsonschema.validators.validator_for(schema).check_schema(schema)
    except jsonschema.SchemaError as exc:
        path = "/".join(str(p) for p in exc.path)
        raise CardFieldError(card_id, field, f"{where} is not a valid JSON schema"
                             f"{' at ' + path if path else ''}: {exc.message}") from exc


def parse_tools(card_id: str, text: str) -> list[dict[str, Any]] | None:
    """The tools JSON as OpenAI tool objects (bare function definitions are wrapped)."""
    value = parse_json_field(card_id, "tools", text)
    if value is None:
        return None
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise CardFieldError(card_id, "tools", "expected a JSON list of tools")
    tools: list[dict[str, Any]] = []
    names: set[str] = set()
    for i, tool in enumerate(value, start=1):
        if not isinstance(tool, dict):
            raise CardFieldError(card_id, "tools", f"tool {i} must be a JSON object")
        if "function" not in tool and "name" in tool:
            tool = {"type": "function", "function": tool}
        fn = tool.get("function")
        if tool.get("type", "function") != "function" or not isinstance(fn, dict):
            raise CardFieldError(card_id, "tools", f'tool {i} needs "type": "function" and a "function" object')
        name = fn.get("name")
        if not isinstance(name, str) or not name.strip():
            raise CardFieldError(card_id, "tools", f'tool {i} has no "function.name"')
        if name in names:
            raise CardFieldError(card_id, "tools", f"two tools are named {name!r}")
        names.add(name)
        if "parameters" in fn:
            _check_schema(card_id, "tools", fn["parameters"], f"parameters of tool {name!r}")
        tools.append({"type": "function", **tool})
    return tools or None


def parse_tool_choice(card_id: str, choice: str | None, tools: list[dict[str, Any]] | None) -> str | dict[str, Any] | None:
    """``auto``/``none``/``required`` or a tool name turned into the named-function form."""
    if not choice or not choice.strip():
        return None
    choice = choice.strip()
    if choice in TOOL_CHOICE_MODES:
        if choice == "required" and not tools:
            raise CardFieldError(card_id, "tool_choice", '"required" needs at least one tool')
        return choice if tools else None
    names = [t["function"]["name"] for t in tools or []]
    if choice not in names:
        raise CardFieldError(card_id, "tool_choice", f"no tool named {choice!r} (tools: {', '.join(names) or 'none'})")
    return {"type": "function", "function": {"name": choice}}


def parse_response_format(card_id: str, text: str) -> dict[str, Any] | None:
    """The response format: ``json_object``, ``json_schema``, or a bare schema (wrapped)."""
    value = parse_json_field(card_id, "response_format", text)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise CardFieldError(card_id, "response_format", "expected a JSON object")
    kind = value.get("type")
    if kind in ("text", "json_object") and set(value) == {"type"}:
        return None if kind == "text" else value
    if kind == "json_schema":
        spec = value.get("json_schema")
        if not isinstance(spec, dict) or "schema" not in spec:
            raise CardFieldError(card_id, "response_format", '"json_schema" needs a "schema" object')
        _check_schema(card_id, "response_format", spec["schema"], "the schema")
        return {"type": "json_schema", "json_schema": {"name": spec.get("name") or "output", **spec}}
    # A bare JSON schema is the common case when pasting from elsewhere.
    _check_schema(card_id, "response_format", value, "the response format")
    return {"type": "json_schema", "json_schema": {"name": "output", "schema": value}}


def output_schema(card: Card) -> dict[str, Any] | None:
    """The JSON schema an output must match, if the card sets one (invalid JSON: None)."""
    try:
        fmt = parse_response_format(card.id, card.response_format)
    except CardFieldError:
        return None
    if fmt and fmt.get("type") == "json_schema":
        schema = fmt["json_schema"].get("schema")
        return schema if isinstance(schema, dict) else None
    if fmt and fmt.get("type") == "json_object":
        return {"type": "object"}
    return None


def validate_output(card: Card, text: str) -> tuple[bool | None, str]:
    """Check an output against the card's response schema: (None, "") when there is none."""
    import jsonschema

    schema = output_schema(card)
    if schema is None:
        return None, ""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return False, f"not JSON ({_json_error(exc)})"
    try:
        jsonschema.validate(value, schema)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path)
        return False, f"{where + ': ' if where else ''}{exc.message}"
    return True, "matches the schema"


def build_params(card: Card) -> dict[str, Any]:
    """Invocation parameters: the typed ones, checked, merged with the extras JSON."""
    params: dict[str, Any] = {}
    for key, value in card.invocation_parameters.items():
        if value is None or value == "" or value == []:
            continue
        if key in SECRET_PARAM_KEYS:
            raise CardFieldError(card.id, "invocation_parameters", f"{key} is a credential: use the token field")
        if key in PARAM_RANGES:
            lo, hi = PARAM_RANGES[key]
            if not isinstance(value, int | float) or not math.isfinite(value) or not lo <= value <= hi:
                raise CardFieldError(card.id, "invocation_parameters", f"{key} must be between {lo:g} and {hi:g}")
        if key == "max_tokens" and (not isinstance(value, int) or value < 1):
            raise CardFieldError(card.id, "invocation_parameters", "max_tokens must be a whole number ≥ 1")
        if key == "seed" and not isinstance(value, int):
            raise CardFieldError(card.id, "invocation_parameters", "seed must be a whole number")
        if key == "stop":
            value = [value] if isinstance(value, str) else value
            if not isinstance(value, list) or not all(isinstance(s, str) and s for s in value):
                raise CardFieldError(card.id, "invocation_parameters", "stop must be a list of non-empty strings")
        params[key] = value
    extras = parse_json_field(card.id, "extra_params_json", card.extra_params_json)
    if extras is not None:
        if not isinstance(extras, dict):
            raise CardFieldError(card.id, "extra_params_json", "expected a JSON object of parameters")
        for key in extras:
            if key.lower() in SECRET_PARAM_KEYS:
                raise CardFieldError(card.id, "extra_params_json", f"{key!r} is a credential: use the card's token field (never saved)")
            if key in RESERVED_PARAM_KEYS:
                raise CardFieldError(card.id, "extra_params_json", f"{key!r} has its own field")
        params.update(extras)
    return params


def template_variables(card: Card) -> list[str]:
    """Variables used by the card's template, in order (empty if the template is broken)."""
    from core.templating import TemplateError, list_chat_variables, list_variables

    try:
        if card.operation == "text_completion":
            return list_variables(card.prompt, card.template_format)
        return list_chat_variables([m.model_dump() for m in card.messages], card.template_format)
    except TemplateError:
        return []


def _render_template(card: Card) -> tuple[list[dict[str, Any]] | None, str | None, dict[str, Any]]:
    from core.templating import MissingVariableError, TemplateError, render, render_chat

    wanted = set(template_variables(card))
    # Only variables the template uses, and only non-empty ones: a blank value is far more
    # often a forgotten input than an intended empty string.
    values = {k: v for k, v in card.variables.items() if k in wanted and v != ""}
    try:
        if card.operation == "text_completion":
            if not card.prompt.strip():
                raise CardFieldError(card.id, "prompt", "the prompt is empty")
            return None, render(card.prompt, card.template_format, values), values
        if not card.messages:
            raise CardFieldError(card.id, "messages", "add at least one message")
        template = [m.to_request() for m in card.messages]
        return render_chat(template, card.template_format, values), None, values
    except MissingVariableError as exc:
        name = exc.variable or "a variable"
        raise CardFieldError(card.id, "variables", f"{name} has no value") from exc
    except TemplateError as exc:
        field = "prompt" if card.operation == "text_completion" else "messages"
        raise CardFieldError(card.id, field, str(exc)) from exc


def conversation_messages(
    card: Card, rendered_template: list[dict[str, Any]], user_message: Message | None, fresh: bool
) -> list[dict[str, Any]]:
    """Template messages, then the earlier turns (unless ``fresh``), then the new message."""
    messages = list(rendered_template)
    last_calls: list[dict[str, Any]] = []
    if not fresh:
        for turn in card.history:
            out = turn.chosen_output()
            if out is None or out.status != "ok":
                continue  # a failed turn got no answer: leave it out of the context
            if turn.user is not None:
                messages.extend(_reply(turn.user, last_calls))
            reply = out.as_assistant_message()
            messages.append(reply.to_request())
            last_calls = reply.tool_calls or []
    if user_message is not None:
        messages.extend(_reply(user_message, last_calls))
    return messages


def _reply(message: Message, open_calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # After an assistant message with tool calls the API wants one tool result per call:
    # the user's next message is taken as that result.
    if open_calls and message.role == "user":
        return [
            {"role": "tool", "tool_call_id": c.get("id", ""), "content": message.content}
            for c in open_calls
        ]
    return [message.to_request()]


def build_request(
    card: Card,
    *,
    user_message: Message | None = None,
    fresh: bool = False,
    session_id: str | None = None,
    trace_id: str | None = None,
    api_key: str | None = None,
    user: str | None = None,
    workspace_id: int | None = None,
) -> ModelRequest:
    """The request a card sends; raises CardFieldError before anything is sent."""
    if user_message is not None and not user_message.content.strip():
        raise CardFieldError(card.id, "chat_input", "the message is empty")
    if user_message is not None and card.operation == "text_completion":
        raise CardFieldError(card.id, "chat_input", "a text-completion card has no conversation; use Run")
    base_url = None
    if card.endpoint is not None:
        if not card.endpoint.base_url or not card.endpoint.model_id.strip():
            raise CardFieldError(card.id, "endpoint", "give the endpoint's base URL and model id")
        if not card.endpoint.base_url.lower().startswith(("http://", "https://")):
            raise CardFieldError(card.id, "endpoint", "the base URL must start with http:// or https://")
        model = card.endpoint.model_id.strip()
        base_url = card.endpoint.base_url
    else:
        model = card.model.strip()
        if not model:
            raise CardFieldError(card.id, "model", "choose a model")
    messages, prompt, values = _render_template(card)
    params = build_params(card)
    tools = parse_tools(card.id, card.tools) if card.operation == "chat" else None
    tool_choice = parse_tool_choice(card.id, card.tool_choice, tools)
    response_format = parse_response_format(card.id, card.response_format)
    template_info = PromptTemplateInfo(
        template=[m.to_request() for m in card.messages] if card.operation == "chat" else card.prompt,
        variables=values,
        template_format=card.template_format,
        version=(f"{card.prompt_ref.name}@v{card.prompt_ref.version}"
                 if card.prompt_ref and card.prompt_ref.version else
                 card.prompt_ref.display() if card.prompt_ref else None),
        prompt_version_id=card.prompt_ref.prompt_version_id if card.prompt_ref else None,
    )
    context = RunContext(
        source="playground",
        session_id=session_id,
        card_id=card.id,
        trace_id=trace_id,
        user=user,
        prompt_template=template_info,
        workspace_id=workspace_id,
        metadata={"card_title": card.title} if card.title else {},
    )
    return ModelRequest(
        model=model,
        operation=Operation.TEXT_COMPLETION if card.operation == "text_completion" else Operation.CHAT,
        messages=conversation_messages(card, messages or [], user_message, fresh) if messages is not None else [],
        prompt=prompt,
        invocation_parameters=params,
        tools=tools,
        tool_choice=tool_choice,
        response_format=response_format,
        base_url=base_url,
        api_key=api_key or None,
        endpoint_id=card.endpoint.endpoint_id if card.endpoint else None,
        context=context,
    )
