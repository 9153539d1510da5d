"""Variables, validation and rendering of stored templates (text or chat) via core.templating."""

from __future__ import annotations

from typing import Any

from core.prompts.errors import InvalidTemplateError, RenderError


def _contents(template: Any) -> list[tuple[int | None, str]]:
    if isinstance(template, str):
        return [(None, template)]
    return [
        (i, m.get("content") or "")
        for i, m in enumerate(template or [])
        if isinstance(m, dict) and isinstance(m.get("content") or "", str)
    ]


def template_variables(template: Any, template_format: str) -> list[str]:
    """Variable names used anywhere in the template, unique, in order of first use.

    A template that doesn't parse yields the variables of the parts that do.
    """
    from core.templating import TemplateError, list_variables

    seen: dict[str, None] = {}
    for _, text in _contents(template):
        try:
            names = list_variables(text, template_format)
        except TemplateError:
            continue
        for name in names:
            seen.setdefault(name, None)
    return list(seen)


def validate_template(template: Any, template_format: str) -> None:
    """Raise InvalidTemplateError (with message index, line, column) if any part won't parse."""
    from core.templating import TemplateError, validate

    for index, text in _contents(template):
        try:
            validate(text, template_format)
        except TemplateError as exc:
            where = f"message {index + 1}: " if index is not None else ""
            raise InvalidTemplateError(
                f"{where}{exc}", message_index=index, line=exc.line, column=exc.column
            ) from exc


def render_template(
    template_type: str, template_format: str, template: Any, variables: dict[str, Any]
) -> list[dict[str, Any]] | str:
    """Render a text template to a string, or a chat template to OpenAI-style messages."""
    from core.templating import TemplateError, render

    if not isinstance(variables, dict):
        raise RenderError("variables must be an object of name -> value")
    try:
        if template_type == "text" or isinstance(template, str):
            return render(template if isinstance(template, str) else "", template_format, variables)
        out: list[dict[str, Any]] = []
        for index, message in enumerate(template):
            try:
                content = message.get("content")
                rendered = (
                    render(content, template_format, variables)
                    if isinstance(content, str)
                    else content
                )
            except TemplateError as exc:
                exc.message_index = index
                raise
            # Keep tool calls, tool_call_id and name: OpenAI-style SDKs accept them as is.
            out.append({**message, "content": rendered})
        return out
    except TemplateError as exc:
        raise RenderError(str(exc), variable=exc.variable) from exc
