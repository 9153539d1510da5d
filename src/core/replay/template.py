"""The prompt template a span was rendered from (``llm.prompt_template.*``)."""

from __future__ import annotations

import re
from typing import Any

from core.providers.types import PromptTemplateInfo
from core.replay.attrs import AttributeTree, is_redacted, parse_json_value
from core.replay.report import Reporter

_JINJA = re.compile(r"\{%|\{#|\{\{[^{}]*\|[^{}]*\}\}")
_MUSTACHE = re.compile(r"\{\{\s*[#^/&{]?\s*[\w.]+\s*\}?\}\}")
_FSTRING = re.compile(
    r"(?<!\{)\{\s*[A-Za-z_][\w]*(?:\.[\w]+|\[[^\]]+\])*\s*(?:![rsa])?(?::[^{}]*)?\}(?!\})"
)
_FORMAT_KEYS = (
    "llm.prompt_template.format",
    "llm.prompt_template.template_format",
    "workbench.prompt_template.format",
    "workbench.template_format",
)
_FORMAT_ALIASES = {
    "fstring": "f-string",
    "f_string": "f-string",
    "jinja": "jinja2",
    "plain": "none",
    "text": "none",
}


def _template_text(template: Any) -> str:
    if isinstance(template, str):
        return template
    if isinstance(template, list):
        chunks = []
        for message in template:
            content = message.get("content") if isinstance(message, dict) else None
            if isinstance(content, str):
                chunks.append(content)
            elif isinstance(content, list):
                chunks += [p.get("text", "") for p in content if isinstance(p, dict)]
        return "\n".join(chunks)
    return ""


def guess_template_format(template: Any) -> tuple[str, str]:
    """(format, why) from the template's syntax: ``{% %}``/filters → jinja2, ``{{x}}`` → mustache, ``{x}`` → f-string."""
    text = _template_text(template)
    if _JINJA.search(text):
        return "jinja2", "guessed from {% %} blocks or {{ … | filter }} in the template"
    if _MUSTACHE.search(text):
        return "mustache", "guessed from {{variable}} placeholders"
    if _FSTRING.search(text):
        return "f-string", "guessed from {variable} placeholders"
    return "none", "no placeholders found; treated as plain text"


def _decode_template(raw: Any) -> tuple[Any, bool]:
    """A chat template recorded as a JSON list of messages becomes that list; (value, was-json)."""
    if isinstance(raw, str) and raw.lstrip().startswith("["):
        decoded, error = parse_json_value(raw)
        if (
            error is None
            and isinstance(decoded, list)
            and all(isinstance(m, dict) and "role" in m for m in decoded)
        ):
            return decoded, True
    return raw, False


def read_template(tree: AttributeTree, reporter: Reporter) -> PromptTemplateInfo | None:
    """``llm.prompt_template.{template,variables,version}`` (+ format) → :class:`PromptTemplateInfo`."""
    raw = tree.get("llm.prompt_template.template")
    if raw is None or is_redacted(raw):
        reason = "hidden by the instrumentor" if raw is not None else "no prompt template recorded"
        reporter.defaulted("template", f"{reason}; the rendered messages are replayed as they are")
        return None
    template, was_json = _decode_template(raw)
    reporter.copied(
        "template",
        "chat template (JSON list of messages)"
        if was_json
        else "from llm.prompt_template.template",
        template,
    )

    variables: dict[str, Any] = {}
    raw_vars = tree.get("llm.prompt_template.variables")
    decoded, error = parse_json_value(raw_vars)
    if raw_vars is None:
        reporter.defaulted("template.variables", "no variables recorded")
    elif error or not isinstance(decoded, dict):
        reporter.dropped(
            "template.variables", error or "not a JSON object of name → value", raw_vars
        )
    else:
        variables = decoded
        reporter.copied("template.variables", f"{len(variables)} variables", variables)

    fmt = next((tree.get(k) for k in _FORMAT_KEYS if tree.get(k)), None)
    if fmt:
        fmt = _FORMAT_ALIASES.get(str(fmt).lower(), str(fmt).lower())
        reporter.copied("template.format", "as recorded", fmt)
    else:
        fmt, why = guess_template_format(template)
        reporter.guessed("template.format", why, fmt)

    version = tree.get("llm.prompt_template.version")
    if version is not None:
        reporter.copied("template.version", "as recorded", version)
    version_id = tree.get("workbench.prompt_version_id")
    try:
        prompt_version_id = int(version_id) if version_id is not None else None
    except (TypeError, ValueError):
        prompt_version_id = None
    return PromptTemplateInfo(
        template=template,
        variables=variables,
        template_format=fmt,
        version=str(version) if version is not None else None,
        prompt_version_id=prompt_version_id,
    )


def check_rendering(
    info: PromptTemplateInfo, messages: list[dict[str, Any]], prompt: str | None
) -> str | None:
    """A warning when rendering the template with its variables does not give the recorded input.

    Uses ``core.templating`` when it is available; returns None when it agrees or can't tell.
    """
    try:
        from core import templating
    except ImportError:
        return None
    try:
        if isinstance(info.template, list):
            rendered = templating.render_chat(info.template, info.template_format, info.variables)
            got = [m.get("content") for m in rendered]
            want = [m.get("content") for m in messages]
            if got != want and got != want[-len(got) :]:
                return "rendering the recorded chat template with its variables does not reproduce the recorded messages"
            return None
        if not isinstance(info.template, str):
            return None
        text = templating.render(info.template, info.template_format, info.variables)
    except Exception as exc:  # any template error: the replay itself is unaffected
        return f"the recorded template does not render with its variables ({type(exc).__name__}: {exc})"
    contents = [m.get("content") for m in messages if isinstance(m.get("content"), str)]
    if text == prompt or any(text.strip() == str(c).strip() for c in contents):
        return None
    return (
        "rendering the recorded template with its variables does not reproduce any recorded message"
    )
