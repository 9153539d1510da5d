"""Prompt templating: f-string, Mustache, Jinja2 and plain text, sandboxed and resource-bounded.

Typical use::

    from core.templating import TemplateFormat, list_variables, render

    list_variables("Hello {{ user.name }}", TemplateFormat.JINJA2)   # ["user"]
    render("Hello {name}", "f-string", {"name": "Ada"})               # "Hello Ada"

Every failure is a :class:`TemplateError` subclass carrying ``line``/``column``
(1-based, when known), ``variable`` and, for chats, ``message_index``.
"""

from __future__ import annotations

from core.templating.api import (
    list_chat_variables,
    list_variables,
    render,
    render_chat,
    validate,
)
from core.templating.errors import (
    InvalidValueError,
    MissingVariableError,
    SandboxViolationError,
    TemplateError,
    TemplateLimitError,
    TemplateSyntaxError,
)
from core.templating.formats import Formatter, TemplateFormat, get_formatter
from core.templating.limits import RenderLimits

__all__ = [
    "Formatter",
    "InvalidValueError",
    "MissingVariableError",
    "RenderLimits",
    "SandboxViolationError",
    "TemplateError",
    "TemplateFormat",
    "TemplateLimitError",
    "TemplateSyntaxError",
    "get_formatter",
    "list_chat_variables",
    "list_variables",
    "render",
    "render_chat",
    "validate",
]
