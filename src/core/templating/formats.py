"""Template formats, the :class:`Formatter` protocol and the format dispatcher."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Protocol, assert_never, runtime_checkable

from core.templating.fstring import FStringFormatter
from core.templating.jinja import Jinja2Formatter
from core.templating.limits import RenderBudget, RenderLimits
from core.templating.mustache import MustacheFormatter

__all__ = ["Formatter", "NoneFormatter", "TemplateFormat", "coerce_format", "get_formatter"]


class TemplateFormat(StrEnum):
    """Supported template syntaxes (values are what gets stored in the database)."""

    F_STRING = "f-string"
    MUSTACHE = "mustache"
    JINJA2 = "jinja2"
    NONE = "none"


@runtime_checkable
class Formatter(Protocol):
    """What every template format implements."""

    def variables(self, template: str) -> list[str]:
        """Return the top-level variable names, unique, in order of first appearance."""
        ...

    def render(self, template: str, variables: Mapping[str, Any], limits: RenderLimits) -> str:
        """Render ``template`` with ``variables`` within ``limits``."""
        ...

    def validate(self, template: str) -> None:
        """Raise a :class:`~core.templating.errors.TemplateError` if the template can't compile."""
        ...


class NoneFormatter:
    """The ``none`` format: the template is plain text returned verbatim."""

    def variables(self, template: str) -> list[str]:
        """Plain text has no variables."""
        return []

    def render(self, template: str, variables: Mapping[str, Any], limits: RenderLimits) -> str:
        """Return the template unchanged (still subject to ``max_output_chars``)."""
        RenderBudget(limits).add_output(len(template))
        return template

    def validate(self, template: str) -> None:
        """Plain text is always valid."""
        return None


_ALIASES = {
    "fstring": TemplateFormat.F_STRING,
    "f_string": TemplateFormat.F_STRING,
    "jinja": TemplateFormat.JINJA2,
    "plain": TemplateFormat.NONE,
    "text": TemplateFormat.NONE,
}

_F_STRING = FStringFormatter()
_MUSTACHE = MustacheFormatter()
_JINJA2 = Jinja2Formatter()
_NONE = NoneFormatter()


def coerce_format(fmt: TemplateFormat | str) -> TemplateFormat:
    """Turn ``"jinja2"``/``"F-String"``/a :class:`TemplateFormat` into a :class:`TemplateFormat`."""
    if isinstance(fmt, TemplateFormat):
        return fmt
    if isinstance(fmt, str):
        key = fmt.strip().lower()
        try:
            return TemplateFormat(key)
        except ValueError:
            if key in _ALIASES:
                return _ALIASES[key]
    valid = ", ".join(repr(f.value) for f in TemplateFormat)
    raise ValueError(f"unknown template format {fmt!r}; expected one of {valid}")


def get_formatter(fmt: TemplateFormat | str) -> Formatter:
    """Return the (shared, stateless) :class:`Formatter` for ``fmt``."""
    fmt = coerce_format(fmt)
    if fmt is TemplateFormat.F_STRING:
        return _F_STRING
    if fmt is TemplateFormat.MUSTACHE:
        return _MUSTACHE
    if fmt is TemplateFormat.JINJA2:
        return _JINJA2
    if fmt is TemplateFormat.NONE:
        return _NONE
    assert_never(fmt)
