"""``f-string`` templates: Python ``str.format`` syntax with named fields only.

Parsing uses :meth:`string.Formatter.parse` (so what is accepted is exactly what
``str.format`` accepts) plus a port of CPython's markup scanner to report
line/column positions.  Deliberate restrictions, because they cannot be made safe
or are almost always mistakes in a prompt:

* ``{a.b}`` / ``{a[0]}`` (attribute access, indexing) -> :class:`SandboxViolationError`;
* ``{}`` / ``{0}`` (positional fields) -> :class:`TemplateSyntaxError`;
* widths/precisions above ``RenderLimits.max_format_width`` -> :class:`TemplateLimitError`,
  checked before anything is allocated (also for nested specs like ``{x:{w}}``).
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from core.templating.errors import (
    InvalidValueError,
    MissingVariableError,
    SandboxViolationError,
    TemplateError,
    TemplateSyntaxError,
    line_col,
)
from core.templating.limits import RenderBudget, RenderLimits, check_format_spec

__all__ = ["FStringFormatter"]

_PARSER = string.Formatter()
_CONVERSIONS: dict[str, Callable[[Any], str]] = {"r": repr, "s": str, "a": ascii}
_BRACE_HINT = " (to write a literal brace in an f-string template, double it: {{ or }})"


@dataclass(frozen=True, slots=True)
class _Field:
    """One replacement field ``{name!conv:spec}``."""

    name: str
    conversion: str | None
    spec: str
    nested: tuple[_Field | str, ...]  # the spec split into literal text and nested fields
    start: int  # offset of the opening brace in the template


_Piece = str | _Field


def _scan_field(s: str, start: int) -> tuple[int, None] | tuple[None, tuple[int, str]]:
    """Port of CPython's ``parse_field``: return ``(end, None)`` or ``(None, (pos, error))``."""
    n = len(s)
    i = start + 1
    c = ""
    while i < n:
        c = s[i]
        i += 1
        if c == "{":
            return None, (i - 1, "unexpected '{' in field name")
        if c == "[":
            while i < n and s[i] != "]":
                i += 1
            continue
        if c in "}:!":
            break
    if c in "!:":
        if c == "!":
            if i >= n:
                return None, (start, "end of template while looking for a conversion (!r, !s, !a)")
            i += 1  # the conversion character
            if i < n:
                c = s[i]
                i += 1
                if c == "}":
                    return i, None
                if c != ":":
                    return None, (i - 1, "expected ':' or '}' after the conversion")
        depth = 1
        while i < n:
            c = s[i]
            i += 1
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    return i, None
        return None, (start, "unmatched '{' in format spec")
    if c != "}":
        return None, (start, "unmatched '{': expected '}' before end of template")
    return i, None


def _scan(s: str) -> tuple[list[int], tuple[int, str] | None]:
    """Port of CPython's markup iterator: field start offsets and the first error, if any."""
    starts: list[int] = []
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        if c == "}":
            if i + 1 < n and s[i + 1] == "}":
                i += 2
                continue
            return starts, (i, "single '}' is not allowed")
        if c == "{":
            if i + 1 < n and s[i + 1] == "{":
                i += 2
                continue
            end, error = _scan_field(s, i)
            if error is not None:
                return starts, error
            assert end is not None
            starts.append(i)
            i = end
            continue
        i += 1
    return starts, None


def _syntax_error(template: str, pos: int, message: str) -> TemplateSyntaxError:
    """Build a :class:`TemplateSyntaxError` located at offset ``pos`` of ``template``."""
    line, col = line_col(template, pos)
    return TemplateSyntaxError(message + _BRACE_HINT, line=line, column=col)


def _check_name(template: str, name: str, pos: int) -> None:
    """Reject positional, attribute and index fields."""
    line, col = line_col(template, pos)
    if name == "" or name.isdigit():
        raise TemplateSyntaxError(
            f"positional field {{{name}}} is not supported; use a named field like {{name}}"
            + _BRACE_HINT,
            line=line,
            column=col,
        )
    if "." in name or "[" in name:
        raise SandboxViolationError(
            f"attribute access and indexing ({{{name}}}) are not allowed in f-string "
            "templates; pass the value as its own variable",
            line=line,
            column=col,
            variable=name,
        )


def _check_conversion(template: str, conversion: str | None, pos: int) -> None:
    """Reject conversions other than ``!r``, ``!s`` and ``!a``."""
    if conversion is not None and conversion not in _CONVERSIONS:
        line, col = line_col(template, pos)
        raise TemplateSyntaxError(
            f"unknown conversion '!{conversion}' (use !r, !s or !a)", line=line, column=col
        )


def _parse_spec(template: str, spec: str, pos: int) -> tuple[_Field | str, ...]:
    """Split a format spec into literal text and (one level of) nested fields."""
    if "{" not in spec and "}" not in spec:
        return (spec,) if spec else ()
    try:
        parts = list(_PARSER.parse(spec))
    except ValueError as exc:
        raise _syntax_error(template, pos, f"invalid format spec {spec!r}: {exc}") from None
    out: list[_Field | str] = []
    for literal, name, sub_spec, conversion in parts:
        if literal:
            out.append(literal)
        if name is None:
            continue
        _check_name(template, name, pos)
        _check_conversion(template, conversion, pos)
        if sub_spec and ("{" in sub_spec or "}" in sub_spec):
            raise _syntax_error(template, pos, "format specs may only be nested one level deep")
        nested = (sub_spec,) if sub_spec else ()
        out.append(_Field(name, conversion, sub_spec or "", nested, pos))
    return tuple(out)


@lru_cache(maxsize=256)
def _compile(template: str) -> tuple[_Piece, ...]:
    """Parse ``template`` into literal strings and :class:`_Field` objects."""
    starts, error = _scan(template)
    try:
        parts = list(_PARSER.parse(template))
    except ValueError as exc:
        pos, message = error if error is not None else (0, str(exc))
        raise _syntax_error(template, pos, message) from None
    if error is not None:  # defensive: the port disagrees with CPython
        raise _syntax_error(template, error[0], error[1])
    pieces: list[_Piece] = []
    field_no = 0
    for literal, name, spec, conversion in parts:
        if literal:
            pieces.append(literal)
        if name is None:
            continue
        pos = starts[field_no] if field_no < len(starts) else 0
        field_no += 1
        _check_name(template, name, pos)
        _check_conversion(template, conversion, pos)
        spec = spec or ""
        pieces.append(_Field(name, conversion, spec, _parse_spec(template, spec, pos), pos))
    return tuple(pieces)


def _fields(pieces: tuple[_Piece, ...]) -> list[_Field]:
    """All fields in order of appearance, nested spec fields after their parent."""
    found: list[_Field] = []
    for piece in pieces:
        if isinstance(piece, _Field):
            found.append(piece)
            found.extend(p for p in piece.nested if isinstance(p, _Field))
    return found


def _format(
    template: str, field: _Field, variables: Mapping[str, Any], budget: RenderBudget
) -> str:
    """Render one field (and its nested spec fields) with bounded sizes."""
    budget.check_time()
    if field.nested and any(isinstance(p, _Field) for p in field.nested):
        spec = "".join(
            p if isinstance(p, str) else _format(template, p, variables, budget)
            for p in field.nested
        )
    else:
        spec = field.spec
    line, col = line_col(template, field.start)
    try:
        check_format_spec(spec, budget, f"format width/precision in {{{field.name}}}")
    except TemplateError as exc:
        exc.line, exc.column, exc.variable = line, col, field.name
        raise
    if field.name not in variables:
        hint = _BRACE_HINT if any(ch in field.name for ch in "\"': \n") else ""
        raise MissingVariableError(
            f"missing variable {field.name!r}{hint}", line=line, column=col, variable=field.name
        )
    value = variables[field.name]
    try:
        budget.check_value(value, f"{{{field.name}}}")
    except TemplateError as exc:
        exc.line, exc.column, exc.variable = line, col, field.name
        raise
    try:
        if field.conversion is not None:
            value = _CONVERSIONS[field.conversion](value)
        return format(value, spec)
    except (ValueError, TypeError, OverflowError) as exc:
        raise InvalidValueError(
            f"cannot format {field.name!r} ({type(value).__name__}) with spec {spec!r}: {exc}",
            line=line,
            column=col,
            variable=field.name,
        ) from None


class FStringFormatter:
    """Formatter for Python ``str.format``-style templates."""

    def variables(self, template: str) -> list[str]:
        """Return field names in order of first appearance (nested spec fields included)."""
        return list(dict.fromkeys(f.name for f in _fields(_compile(template))))

    def validate(self, template: str) -> None:
        """Raise if the template can't be parsed or a static width/precision is too large."""
        budget = RenderBudget()
        for field in _fields(_compile(template)):
            if not any(isinstance(p, _Field) for p in field.nested):
                try:
                    check_format_spec(
                        field.spec, budget, f"format width/precision in {{{field.name}}}"
                    )
                except TemplateError as exc:
                    exc.line, exc.column = line_col(template, field.start)
                    exc.variable = field.name
                    raise

    def render(self, template: str, variables: Mapping[str, Any], limits: RenderLimits) -> str:
        """Substitute ``variables`` into ``template`` like ``template.format(**variables)``."""
        budget = RenderBudget(limits)
        out: list[str] = []
        for piece in _compile(template):
            text = piece if isinstance(piece, str) else _format(template, piece, variables, budget)
            budget.add_output(len(text))
            out.append(text)
        return "".join(out)
