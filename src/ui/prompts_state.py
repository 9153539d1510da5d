"""Editor drafts of the Prompts page, kept in st.session_state (plain dicts, no widgets here).

A draft is what the editor shows for one prompt: messages with stable ids (so reordering
keeps each editor's content), the model configuration as typed, sample values and a note.
Drafts survive switching prompts and failed saves; ``rev`` changes whenever a draft is
(re)loaded so every widget of the editor starts from the loaded values.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import streamlit as st

from core.prompts.drafts import coerce_sample_value, parse_json_field
from core.prompts.models import PromptVersionInfo

DRAFTS_KEY = "prompts_drafts"
REV_KEY = "prompts_rev_counter"
ROLES = ["system", "developer", "user", "assistant", "tool"]
FORMATS = ["f-string", "mustache", "jinja2", "none"]
STARTER_CHAT = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": ""},
]
_KNOWN_PARAMS = ("temperature", "max_tokens", "top_p")


def next_rev() -> int:
    """A number never used before in this browser session (widget keys include it)."""
    st.session_state[REV_KEY] = st.session_state.get(REV_KEY, 0) + 1
    return int(st.session_state[REV_KEY])


def _message(role: str, content: str, **extra: Any) -> dict[str, Any]:
    return {"id": uuid.uuid4().hex[:8], "role": role, "content": content, **extra}


def new_draft(
    prompt: str,
    info: PromptVersionInfo | None = None,
    *,
    template_type: str = "chat",
    template_format: str = "f-string",
) -> dict[str, Any]:
    """A draft loaded from ``info`` (or a starter template for a prompt without versions)."""
    if info is not None:
        template_type, template_format = info.template_type, info.template_format
        template, cfg, samples = info.template, dict(info.llm_config), dict(info.sample_variables)
    else:
        template = [dict(m) for m in STARTER_CHAT] if template_type == "chat" else ""
        cfg, samples = {}, {}
    params = dict(cfg.get("invocation_parameters") or {})
    messages = (
        [_message(m.get("role", "user"), m.get("content") or "", **{k: v for k, v in m.items() if k not in ("role", "content")})
         for m in template]
        if isinstance(template, list)
        else [_message("user", "")]
    )
    return {
        "prompt": prompt,
        "base_version": info.version if info else 0,
        "template_type": template_type,
        "template_format": template_format,
        "messages": messages,
        "text": template if isinstance(template, str) else "",
        "llm": {
            "model": cfg.get("model", ""),
            "provider": cfg.get("provider") or "",
            "temperature": params.pop("temperature", None),
            "max_tokens": params.pop("max_tokens", None),
            "top_p": params.pop("top_p", None),
            "extra_params": json.dumps(params, indent=2) if params else "",
            "tools": json.dumps(cfg["tools"], indent=2) if cfg.get("tools") else "",
            "tool_choice": json.dumps(cfg["tool_choice"]) if isinstance(cfg.get("tool_choice"), dict) else (cfg.get("tool_choice") or ""),
            "response_format": json.dumps(cfg["response_format"], indent=2) if cfg.get("response_format") else "",
        },
        "samples": {k: v if isinstance(v, str) else json.dumps(v) for k, v in samples.items()},
        "note": "",
        "rev": next_rev(),
    }


def drafts() -> dict[str, dict[str, Any]]:
    """Every open draft by prompt name."""
    return st.session_state.setdefault(DRAFTS_KEY, {})  # type: ignore[no-any-return]


def get_draft(prompt: str) -> dict[str, Any] | None:
    """The open draft of ``prompt``, if any."""
    return drafts().get(prompt)


def put_draft(draft: dict[str, Any]) -> dict[str, Any]:
    """Store (or replace) the draft of its prompt."""
    drafts()[draft["prompt"]] = draft
    return draft


def drop_draft(prompt: str) -> None:
    """Forget the draft of ``prompt``."""
    drafts().pop(prompt, None)


def draft_template(draft: dict[str, Any]) -> list[dict[str, Any]] | str:
    """The template as core stores it: messages without editor ids, or the text."""
    if draft["template_type"] == "text":
        return str(draft["text"])
    return [{k: v for k, v in m.items() if k != "id"} for m in draft["messages"]]


def draft_llm_config(draft: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The model configuration typed in the editor, and the problems found in it."""
    llm = draft["llm"]
    errors: list[str] = []
    params, err = parse_json_field(llm.get("extra_params", ""), "More parameters", dict)
    errors += [err] if err else []
    params = dict(params or {})
    for name in _KNOWN_PARAMS:
        if llm.get(name) is not None:
            params[name] = llm[name]
    tools, err = parse_json_field(llm.get("tools", ""), "Tools", list)
    errors += [err] if err else []
    response_format, err = parse_json_field(llm.get("response_format", ""), "Response format", dict)
    errors += [err] if err else []
    tool_choice: Any = (llm.get("tool_choice") or "").strip() or None
    if tool_choice and tool_choice.startswith("{"):
        tool_choice, err = parse_json_field(tool_choice, "Tool choice", dict)
        errors += [err] if err else []
    cfg: dict[str, Any] = {"model": (llm.get("model") or "").strip()}
    if (llm.get("provider") or "").strip():
        cfg["provider"] = llm["provider"].strip()
    if params:
        cfg["invocation_parameters"] = params
    if tools:
        cfg["tools"] = tools
    if tool_choice:
        cfg["tool_choice"] = tool_choice
    if response_format:
        cfg["response_format"] = response_format
    return cfg, errors


def draft_samples(draft: dict[str, Any], variables: list[str]) -> dict[str, Any]:
    """Sample values of ``variables`` (JSON lists/objects/numbers parsed, otherwise text)."""
    return {name: coerce_sample_value(draft["samples"].get(name, "")) for name in variables}


def add_message(draft: dict[str, Any], role: str = "user") -> None:
    """Append an empty message."""
    draft["messages"].append(_message(role, ""))


def remove_message(draft: dict[str, Any], message_id: str) -> None:
    """Delete a message (a chat keeps at least one)."""
    if len(draft["messages"]) > 1:
        draft["messages"] = [m for m in draft["messages"] if m["id"] != message_id]


def move_message(draft: dict[str, Any], message_id: str, delta: int) -> None:
    """Move a message up (-1) or down (+1)."""
    msgs = draft["messages"]
    i = next(i for i, m in enumerate(msgs) if m["id"] == message_id)
    j = i + delta
    if 0 <= j < len(msgs):
        msgs[i], msgs[j] = msgs[j], msgs[i]
