"""Format-agnostic entry points: list variables, validate, render (plain and chat)."""

from __future__ import annotations

import copy
import dataclasses
import time
from collections.abc import Mapping, Sequence
from typing import Any

from core.templating.errors import TemplateError, TemplateLimitError
from core.templating.formats import TemplateFormat, get_formatter
from core.templating.limits import RenderLimits

__all__ = ["list_chat_variables", "list_variables", "render", "render_chat", "validate"]


def list_variables(template: str, fmt: TemplateFormat | str) -> list[str]:
    """Top-level variable names used by ``template``, unique, in order of first appearance."""
    return get_formatter(fmt).variables(template)


def validate(template: str, fmt: TemplateFormat | str) -> None:
    """Raise a :class:`TemplateError` (usually TemplateSyntaxError) if ``template`` can't compile."""
    get_formatter(fmt).validate(template)


def render(
    template: str,
    fmt: TemplateFormat | str,
    variables: Mapping[str, Any],
    *,
    limits: RenderLimits | None = None,
) -> str:
    """Render ``template`` in format ``fmt`` with ``variables``, bounded by ``limits``."""
    return get_formatter(fmt).render(template, variables, limits or RenderLimits())


def list_chat_variables(
    messages: Sequence[Mapping[str, Any]], fmt: TemplateFormat | str
) -> list[str]:
    """Variables used across all string ``content`` fields, in order of first appearance."""
    formatter = get_formatter(fmt)
    names: dict[str, None] = {}
    for index, message in enumerate(messages):
        content = message.get("content")
        if not isinstance(content, str):
            continue
        try:
            names.update(dict.fromkeys(formatter.variables(content)))
        except TemplateError as exc:
            exc.message_index = index
            raise
    return list(names)


def render_chat(
    messages: Sequence[Mapping[str, Any]],
    fmt: TemplateFormat | str,
    variables: Mapping[str, Any],
    *,
    limits: RenderLimits | None = None,
) -> list[dict[str, Any]]:
    """Copy each message with its string ``content`` rendered; errors get ``.message_index``.

    The limits apply to the conversation as a whole: one deadline and one output
    budget shared by all messages.  Non-string contents (``None`` for tool calls,
    lists of parts) are copied unchanged.
    """
    formatter = get_formatter(fmt)
    limits = limits or RenderLimits()
    deadline = time.monotonic() + limits.timeout_s
    remaining_chars = limits.max_output_chars
    rendered: list[dict[str, Any]] = []
    for index, message in enumerate(messages):
        out = copy.deepcopy(dict(message))
        content = message.get("content")
        if isinstance(content, str):
            try:
                step = dataclasses.replace(
                    limits,
                    timeout_s=max(deadline - time.monotonic(), 1e-9),
                    max_output_chars=max(remaining_chars, 1),
                )
                text = formatter.render(content, variables, step)
                remaining_chars -= len(text)
                if remaining_chars < 0:  # only possible when the budget was already spent
                    raise TemplateLimitError(
                        f"output is longer than the limit of {limits.max_output_chars:,} characters"
                    )
            except TemplateError as exc:
                exc.message_index = index
                raise
            out["content"] = text
        rendered.append(out)
    return rendered
