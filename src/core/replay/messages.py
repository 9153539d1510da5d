"""Messages, content parts, tool calls, tools and tool choice: recorded shapes → OpenAI shapes.

Decisions (documented because replay has to pick one):

- Roles: system → system; developer stays developer for OpenAI models (their o-series API takes
  it) and becomes system elsewhere; user/human → user; assistant/ai/model/bot → assistant;
  tool/function/ipython → tool; anything else → user (guessed, reported).
- Content: ``message.content`` (a string) is copied as is. ``message.contents`` means the caller
  sent a list of parts, so the parts are kept as a list (text parts and image URLs), which is
  the exact request; parts the playground cannot send (audio, files, redacted images) are
  dropped and reported. Anthropic ``tool_use`` parts duplicate ``tool_calls`` and are folded in.
- Tools: OpenAI tool objects pass through; bare function schemas and Anthropic tools
  (``input_schema``) are wrapped as ``{"type": "function", "function": {...}}``.
- Tool choice: OpenAI values pass through; Anthropic's ``auto``/``any``/``none``/``tool`` map to
  ``"auto"``/``"required"``/``"none"``/a named function (litellm translates them back).
"""

from __future__ import annotations

import json
from typing import Any

from core.providers.types import ToolCall
from core.replay.attrs import AttributeTree, as_text, dig, indexed, is_redacted, parse_json_value
from core.replay.report import Reporter

_ROLES = {
    "system": "system",
    "developer": "developer",
    "user": "user",
    "human": "user",
    "assistant": "assistant",
    "ai": "assistant",
    "model": "assistant",
    "bot": "assistant",
    "tool": "tool",
    "function": "tool",
    "ipython": "tool",
}
_IMAGE_PREFIXES = ("http://", "https://")


def normalize_role(raw: Any, *, keep_developer: bool) -> tuple[str, str | None]:
    """The OpenAI role for a recorded role, and why it changed (None when copied)."""
    if raw is None or str(raw).strip() == "":
        return "user", "no role recorded; assumed user"
    text = str(raw).strip()
    role = _ROLES.get(text.lower())
    if role is None:
        return "user", f"unknown role {text!r} replayed as user"
    if role == "developer" and not keep_developer:
        return "system", "developer role replayed as system (only OpenAI models accept developer)"
    if role != text:
        return role, f"role {text!r} normalised to {role!r}"
    return role, None


def _arguments_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value if value is not None else {}, ensure_ascii=False)


def read_tool_calls(node: Any, field: str, reporter: Reporter) -> list[dict[str, Any]]:
    """``message.tool_calls.{k}.tool_call.*`` → OpenAI ``tool_calls`` (ids kept as recorded)."""
    calls: list[dict[str, Any]] = []
    for k, entry in indexed(node):
        call = dig(entry, "tool_call") if isinstance(entry, dict) else None
        name = dig(call, "function.name")
        if not name:
            reporter.dropped(f"{field}.tool_calls[{k}]", "tool call without a function name", call)
            continue
        call_id = dig(call, "id")
        if not call_id:
            call_id = f"call_replay_{k}"
            reporter.guessed(
                f"{field}.tool_calls[{k}].id", "no tool call id recorded; generated one", call_id
            )
        arguments = dig(call, "function.arguments")
        calls.append(
            {
                "id": str(call_id),
                "type": "function",
                "function": {"name": str(name), "arguments": _arguments_text(arguments)},
            }
        )
    return calls


def _image_part(url: Any, field: str, reporter: Reporter) -> dict[str, Any] | None:
    if not isinstance(url, str) or not url or is_redacted(url):
        reporter.dropped(field, "image URL not recorded or hidden by the instrumentor", url)
        return None
    if url.startswith(_IMAGE_PREFIXES) or (
        url.startswith("data:") and ";base64," in url and not url.endswith(",")
    ):
        reporter.copied(field, "image part", url)
        return {"type": "image_url", "image_url": {"url": url}}
    reporter.dropped(
        field, "image recorded without a usable URL or data (truncated or unsupported)", url
    )
    return None


def read_content_parts(
    node: Any, field: str, reporter: Reporter, *, has_tool_calls: bool
) -> list[dict[str, Any]]:
    """``message.contents.{j}.message_content.*`` → OpenAI content parts."""
    parts: list[dict[str, Any]] = []
    for j, entry in indexed(node):
        part_field = f"{field}.content[{j}]"
        content = dig(entry, "message_content") if isinstance(entry, dict) else None
        kind = str(dig(content, "type") or "").lower()
        if kind in ("tool_use", "tool_call") or (
            not content and isinstance(entry, dict) and "tool_call" in entry
        ):
            if not has_tool_calls:
                reporter.dropped(
                    part_field, "tool-use content part without a matching tool call", entry
                )
            continue
        if kind == "text" or (not kind and isinstance(dig(content, "text"), str)):
            text = dig(content, "text")
            if is_redacted(text):
                reporter.dropped(
                    part_field, "text hidden by the instrumentor (OpenInference TraceConfig)"
                )
                continue
            parts.append(
                {"type": "text", "text": text if isinstance(text, str) else as_text(text) or ""}
            )
        elif kind in ("image", "image_url"):
            image = _image_part(
                dig(content, "image.image.url") or dig(content, "image.url"), part_field, reporter
            )
            if image:
                parts.append(image)
        else:
            reporter.dropped(
                part_field,
                f"content part of type {kind or 'unknown'!r} cannot be replayed",
                content,
            )
    return parts


def _content(
    msg: dict[str, Any], role: str, field: str, reporter: Reporter, tool_calls: list[Any]
) -> Any:
    content = msg.get("content")
    if is_redacted(content):
        reporter.dropped(
            f"{field}.content",
            "hidden by the instrumentor (OpenInference TraceConfig); replayed empty",
        )
        return ""
    if content is not None:
        return content if isinstance(content, str | list) else as_text(content)
    if msg.get("contents") is not None:
        parts = read_content_parts(
            msg["contents"], field, reporter, has_tool_calls=bool(tool_calls)
        )
        if parts:
            return parts
    if tool_calls and role == "assistant":
        return None  # OpenAI's shape for an assistant turn that only calls tools
    reporter.defaulted(f"{field}.content", "no content recorded; replayed as empty text")
    return ""


def read_messages(node: Any, reporter: Reporter, *, keep_developer: bool) -> list[dict[str, Any]]:
    """``llm.input_messages.{i}.message.*`` → OpenAI chat messages, with report entries."""
    messages: list[dict[str, Any]] = []
    for i, entry in indexed(node):
        field = f"messages[{len(messages)}]"
        msg = dig(entry, "message") if isinstance(entry, dict) else None
        if not isinstance(msg, dict):
            reporter.dropped(field, f"input message {i} has no message attributes", entry)
            continue
        role, why = normalize_role(msg.get("role"), keep_developer=keep_developer)
        if why:
            reporter.guessed(f"{field}.role", why, role)
        tool_calls = read_tool_calls(msg.get("tool_calls"), field, reporter)
        legacy_name = msg.get("function_call_name")
        if legacy_name and not tool_calls:
            args = msg.get("function_call_arguments_json")
            call = {
                "id": f"call_replay_{i}",
                "type": "function",
                "function": {"name": str(legacy_name), "arguments": _arguments_text(args)},
            }
            tool_calls = [call]
            reporter.guessed(
                f"{field}.tool_calls", "legacy function_call replayed as a tool call", call
            )
        message: dict[str, Any] = {
            "role": role,
            "content": _content(msg, role, field, reporter, tool_calls),
        }
        if msg.get("name"):
            message["name"] = str(msg["name"])
        if tool_calls:
            message["tool_calls"] = tool_calls
        if msg.get("tool_call_id"):
            message["tool_call_id"] = str(msg["tool_call_id"])
        elif role == "tool":
            _guess_tool_call_id(message, messages, field, reporter)
        messages.append(message)
    return messages


def _guess_tool_call_id(
    message: dict[str, Any], previous: list[dict[str, Any]], field: str, reporter: Reporter
) -> None:
    """Pair a tool result that lost its id with the first unanswered call of the last assistant turn."""
    answered = {m.get("tool_call_id") for m in previous if m.get("role") == "tool"}
    for earlier in reversed(previous):
        if earlier.get("role") == "assistant" and earlier.get("tool_calls"):
            for call in earlier["tool_calls"]:
                if call["id"] not in answered:
                    message["tool_call_id"] = call["id"]
                    reporter.guessed(
                        f"{field}.tool_call_id",
                        "not recorded; paired with the first unanswered tool call",
                        call["id"],
                    )
                    return
            break
    reporter.dropped(
        f"{field}.tool_call_id", "tool result without a tool_call_id; providers may reject it"
    )


# --------------------------------------------------------------------------- request bodies


def _anthropic_blocks_to_openai(role: str, blocks: list[Any]) -> list[dict[str, Any]]:
    """One Anthropic message with content blocks → OpenAI messages (tool results split out)."""
    parts: list[dict[str, Any]] = []
    calls: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    for block in blocks:
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "text":
            parts.append({"type": "text", "text": block.get("text", "")})
        elif kind == "image":
            source = block.get("source") or {}
            url = source.get("url") or (
                f"data:{source.get('media_type')};base64,{source.get('data')}"
                if source.get("data")
                else None
            )
            if url:
                parts.append({"type": "image_url", "image_url": {"url": url}})
        elif kind == "tool_use":
            calls.append(
                {
                    "id": block.get("id"),
                    "type": "function",
                    "function": {
                        "name": block.get("name"),
                        "arguments": _arguments_text(block.get("input")),
                    },
                }
            )
        elif kind == "tool_result":
            content = block.get("content")
            if isinstance(content, list):
                content = "".join(b.get("text", "") for b in content if isinstance(b, dict))
            results.append(
                {
                    "role": "tool",
                    "tool_call_id": block.get("tool_use_id"),
                    "content": content if content is not None else "",
                }
            )
    out: list[dict[str, Any]] = []
    if parts or calls:
        message: dict[str, Any] = {"role": role, "content": parts or None}
        if calls:
            message["tool_calls"] = calls
        out.append(message)
    return out + results


def _is_anthropic_blocks(content: Any) -> bool:
    return isinstance(content, list) and any(
        isinstance(b, dict)
        and (
            b.get("type") in ("tool_use", "tool_result")
            or (b.get("type") == "image" and "source" in b)
        )
        for b in content
    )


def messages_from_body(
    body: dict[str, Any], reporter: Reporter, *, keep_developer: bool
) -> list[dict[str, Any]]:
    """Messages from a recorded JSON request body (OpenAI or Anthropic shape)."""
    out: list[dict[str, Any]] = []
    system = body.get("system")
    if isinstance(system, str) and system:
        out.append({"role": "system", "content": system})
    elif isinstance(system, list) and system:
        out.append(
            {
                "role": "system",
                "content": [
                    {"type": "text", "text": b.get("text", "")}
                    for b in system
                    if isinstance(b, dict)
                ],
            }
        )
    for raw in body.get("messages") or []:
        if not isinstance(raw, dict):
            reporter.dropped(f"messages[{len(out)}]", "not a message object", raw)
            continue
        role, why = normalize_role(raw.get("role"), keep_developer=keep_developer)
        if why:
            reporter.guessed(f"messages[{len(out)}].role", why, role)
        if _is_anthropic_blocks(raw.get("content")):
            out.extend(_anthropic_blocks_to_openai(role, raw["content"]))
            continue
        message = {
            k: v for k, v in raw.items() if k in ("content", "name", "tool_calls", "tool_call_id")
        }
        out.append({"role": role, "content": message.pop("content", None), **message})
    return out


# --------------------------------------------------------------------------- tools


def normalize_tool(obj: Any) -> tuple[dict[str, Any] | None, str | None]:
    """An OpenAI tool object from a recorded schema, and a note when it was converted.

    Returns ``(None, reason)`` when the schema cannot be used.
    """
    if not isinstance(obj, dict):
        return None, "tool schema is not a JSON object"
    fn = obj.get("function")
    if obj.get("type") == "function" and isinstance(fn, dict) and fn.get("name"):
        return obj, None
    if "input_schema" in obj and obj.get("name"):
        function = {
            "name": obj["name"],
            "description": obj.get("description"),
            "parameters": obj["input_schema"],
        }
        function = {k: v for k, v in function.items() if v is not None}
        return {
            "type": "function",
            "function": function,
        }, "converted from an Anthropic tool (input_schema)"
    if obj.get("name") and ("parameters" in obj or "description" in obj):
        function = {k: v for k, v in obj.items() if k != "type"}
        return {
            "type": "function",
            "function": function,
        }, "bare function schema wrapped as a function tool"
    if obj.get("type") and obj.get("type") != "function":
        return obj, f"built-in tool of type {obj['type']!r} kept as recorded"
    return None, "tool schema has no function name"


def normalize_tool_choice(value: Any) -> tuple[Any, str | None, dict[str, Any]]:
    """(OpenAI tool_choice, note when converted, extra parameters it implies)."""
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("auto", "none", "required"):
            return lowered, None, {}
        if lowered == "any":
            return "required", "Anthropic 'any' is OpenAI 'required'", {}
        decoded, error = parse_json_value(value)
        if error is None and isinstance(decoded, dict):
            choice, note, extra = normalize_tool_choice(decoded)
            return choice, note or "decoded from a JSON string", extra
        return (
            {"type": "function", "function": {"name": value}},
            "a bare name read as a named function",
            {},
        )
    if not isinstance(value, dict):
        return None, f"unusable tool_choice {value!r}", {}
    kind = value.get("type")
    extra = {"parallel_tool_calls": False} if value.get("disable_parallel_tool_use") else {}
    if kind == "function" and isinstance(value.get("function"), dict):
        return value, None, {}
    if kind == "function" and value.get("name"):
        return (
            {"type": "function", "function": {"name": value["name"]}},
            "flat function choice converted",
            {},
        )
    if kind == "tool" and value.get("name"):
        return (
            {"type": "function", "function": {"name": value["name"]}},
            "converted from Anthropic's tool choice",
            extra,
        )
    if kind in ("auto", "none"):
        return kind, "converted from Anthropic's tool choice", extra
    if kind == "any":
        return "required", "Anthropic 'any' is OpenAI 'required'", extra
    return None, f"unusable tool_choice {value!r}", {}


# --------------------------------------------------------------------------- recorded output


def _text_of(content: Any) -> str | None:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [
            b.get("text", "")
            for b in content
            if isinstance(b, dict) and b.get("type") in ("text", None)
        ]
        return "".join(texts) if texts else None
    return None


def _output_from_body(body: Any) -> tuple[str | None, list[ToolCall]]:
    """Recorded output.value JSON from OpenAI (chat/completion) or Anthropic."""
    if not isinstance(body, dict):
        return None, []
    choices = body.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        choice = choices[0]
        if "text" in choice:
            return choice.get("text"), []
        message = choice.get("message") or choice.get("delta") or {}
        calls = [
            ToolCall(
                id=str(c.get("id") or ""),
                name=str(dig(c, "function.name") or ""),
                arguments=_arguments_text(dig(c, "function.arguments")),
            )
            for c in message.get("tool_calls") or []
            if isinstance(c, dict)
        ]
        return _text_of(message.get("content")), calls
    if isinstance(body.get("content"), list):
        blocks = body["content"]
        calls = [
            ToolCall(
                id=str(b.get("id") or ""),
                name=str(b.get("name") or ""),
                arguments=_arguments_text(b.get("input")),
            )
            for b in blocks
            if isinstance(b, dict) and b.get("type") == "tool_use"
        ]
        return _text_of(blocks), calls
    return None, []


def read_output(tree: AttributeTree) -> tuple[str | None, list[ToolCall]]:
    """What the recorded call returned: text and tool calls (for comparison only)."""
    outputs = indexed(tree.node("llm.output_messages"))
    if outputs:
        msg = dig(outputs[0][1], "message") or {}
        text = msg.get("content")
        if text is None and msg.get("contents") is not None:
            texts = [dig(c, "message_content.text") for _, c in indexed(msg["contents"])]
            text = "".join(t for t in texts if isinstance(t, str)) or None
        calls = [
            ToolCall(
                id=str(dig(e, "tool_call.id") or ""),
                name=str(dig(e, "tool_call.function.name") or ""),
                arguments=_arguments_text(dig(e, "tool_call.function.arguments")),
            )
            for _, e in indexed(msg.get("tool_calls"))
        ]
        return (as_text(text) if text is not None else None), calls
    choices = indexed(tree.node("llm.choices"))
    if choices:
        return as_text(dig(choices[0][1], "completion.text")), []
    raw = tree.get("output.value")
    if raw is None or is_redacted(raw):
        return None, []
    decoded, error = parse_json_value(raw)
    if error is None and isinstance(decoded, dict):
        text, calls = _output_from_body(decoded)
        if text is not None or calls:
            return text, calls
    return as_text(raw), []
