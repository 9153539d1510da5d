"""``mustache`` templates: a small, strict, self-contained Mustache implementation.

Why not ``chevron``: its last release (0.14.0) dates from 2021 and it has no strict
mode (a missing key silently renders as ``""``), no line/column syntax errors, no
resource limits, resolves dotted names with ``getattr`` (``{{x.__class__}}``) and
reads ``{{> partial}}`` files from the working directory.  This module implements
the Mustache spec's core (interpolation, sections, inverted sections, comments,
set-delimiter tags, standalone-line handling, dotted names, implicit iterator
``{{.}}``) and agrees with chevron wherever chevron follows the spec (see the
corpus tests), with these deliberate differences:

* **No HTML escaping**: ``{{x}}``, ``{{{x}}}`` and ``{{&x}}`` all insert the raw
  value, because prompts are not HTML.
* **Strict**: any name that can't be resolved raises :class:`MissingVariableError`
  (also section names; pass ``false``/``[]`` to hide a section).
* Dotted names resolve only through mappings and list indexes (``{{items.0}}``),
  never through attributes; partials (``{{> x}}``) and lambdas are not supported.
* Values render with ``str()`` (``True``, ``1.5``), ``None`` renders as ``""``.

:meth:`MustacheFormatter.variables` lists names used in the top-level context:
variables outside sections, section names, and names inside *inverted* sections
(which don't change the context).  Names inside a normal section are taken to
belong to the section's own context (e.g. fields of list items) and are omitted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from core.templating.errors import (
    MissingVariableError,
    TemplateError,
    TemplateLimitError,
    TemplateSyntaxError,
    line_col,
)
from core.templating.limits import RenderBudget, RenderLimits

__all__ = ["MustacheFormatter"]

_LINE = re.compile(r"[^\n]*\n|[^\n]+")


@dataclass(frozen=True, slots=True)
class _Var:
    """An interpolation tag (``{{x}}``, ``{{{x}}}``, ``{{&x}}``)."""

    name: str
    pos: int


@dataclass(frozen=True, slots=True)
class _Section:
    """A section (``{{#x}}...{{/x}}``) or inverted section (``{{^x}}...{{/x}}``)."""

    name: str
    inverted: bool
    children: tuple[_Node, ...]
    pos: int


_Node = str | _Var | _Section


@dataclass(slots=True)
class _Tag:
    """A parsed tag before the tree is built."""

    kind: str  # "name", "&", "#", "^", "/", "!", "="
    name: str
    pos: int


def _error(template: str, pos: int, message: str) -> TemplateSyntaxError:
    """Build a :class:`TemplateSyntaxError` located at offset ``pos``."""
    line, col = line_col(template, pos)
    return TemplateSyntaxError(message, line=line, column=col)


def _tokenize(template: str) -> list[str | _Tag]:
    """Split ``template`` into text and tags, removing standalone-tag lines (mustache.js style)."""
    otag, ctag = "{{", "}}"
    tokens: list[str | _Tag | None] = []
    spaces: list[int] = []
    has_tag = non_space = False
    sections: list[_Tag] = []
    pos, n = 0, len(template)

    def strip_space() -> None:
        nonlocal has_tag, non_space
        if has_tag and not non_space:
            for index in spaces:
                tokens[index] = None
        spaces.clear()
        has_tag = non_space = False

    while pos < n:
        start = template.find(otag, pos)
        text_end = n if start == -1 else start
        for match in _LINE.finditer(template, pos, text_end):
            fragment = match.group()
            if fragment.isspace():
                spaces.append(len(tokens))
            else:
                non_space = True
            tokens.append(fragment)
            if fragment.endswith("\n"):
                strip_space()
        if start == -1:
            break
        has_tag = True
        p = start + len(otag)
        kind = template[p] if p < n and template[p] in "#^/>{&=!" else "name"
        if kind != "name":
            p += 1
        if kind == "=":
            close = "=" + ctag
        elif kind == "{":
            close = "}" + ctag
        else:
            close = ctag
        end = template.find(close, p)
        if end == -1:
            raise _error(template, start, f"unclosed tag: expected {close!r}")
        name = template[p:end].strip()
        pos = end + len(close)
        if kind == "{":
            kind = "&"
        tag = _Tag(kind, name, start)
        if kind == "!":
            continue
        if not name:
            raise _error(template, start, "empty tag name")
        if kind == ">":
            raise _error(template, start, f"partials ({otag}> {name}{ctag}) are not supported")
        if kind == "=":
            delims = name.split()
            if len(delims) != 2 or any("=" in d for d in delims):
                raise _error(template, start, f"invalid set-delimiter tag {name!r}")
            otag, ctag = delims
            continue
        if kind in ("#", "^"):
            sections.append(tag)
        elif kind == "/":
            if not sections:
                raise _error(template, start, f"closing tag for {name!r} without an open section")
            opened = sections.pop()
            if opened.name != name:
                line, col = line_col(template, opened.pos)
                raise _error(
                    template,
                    start,
                    f"section {opened.name!r} (opened at line {line}, column {col}) "
                    f"is closed by {name!r}",
                )
        else:
            non_space = True
        tokens.append(tag)
    strip_space()
    if sections:
        opened = sections[-1]
        raise _error(template, opened.pos, f"unclosed section {opened.name!r}")
    return [t for t in tokens if t is not None]


@lru_cache(maxsize=256)
def _compile(template: str) -> tuple[_Node, ...]:
    """Parse ``template`` into a tree of text, variables and sections."""
    root: list[_Node] = []
    stack: list[tuple[_Tag, list[_Node]]] = []
    current = root
    for token in _tokenize(template):
        if isinstance(token, str):
            if current and isinstance(current[-1], str):
                current[-1] += token
            else:
                current.append(token)
        elif token.kind in ("#", "^"):
            stack.append((token, current))
            current = []
        elif token.kind == "/":
            opened, parent = stack.pop()
            parent.append(_Section(opened.name, opened.kind == "^", tuple(current), opened.pos))
            current = parent
        else:
            current.append(_Var(token.name, token.pos))
    return tuple(root)


def _top_level_names(nodes: Sequence[_Node]) -> list[str]:
    """Names resolved in the root context, in order of first appearance."""
    names: list[str] = []
    pending: list[tuple[Sequence[_Node], int]] = [(nodes, 0)]
    while pending:
        items, index = pending.pop()
        while index < len(items):
            node = items[index]
            index += 1
            if isinstance(node, str):
                continue
            if node.name != ".":
                names.append(node.name.split(".", 1)[0])
            if isinstance(node, _Section) and node.inverted:
                pending.append((items, index))
                pending.append((node.children, 0))
                break
    return list(dict.fromkeys(names))


class _Renderer:
    """Renders one compiled template against a context stack."""

    def __init__(self, template: str, budget: RenderBudget) -> None:
        """Prepare to render ``template`` within ``budget``."""
        self.template = template
        self.budget = budget
        self.out: list[str] = []

    def lookup(self, name: str, stack: list[Any], pos: int) -> Any:
        """Resolve ``name`` (``.``, ``a`` or ``a.b.c``) strictly through the context stack."""
        if name == ".":
            return stack[-1]
        parts = name.split(".")
        for context in reversed(stack):
            if isinstance(context, Mapping) and parts[0] in context:
                value = context[parts[0]]
                break
        else:
            raise self.missing(parts[0], pos)
        for depth, part in enumerate(parts[1:], start=2):
            if isinstance(value, Mapping) and part in value:
                value = value[part]
            elif isinstance(value, list | tuple) and part.isdigit() and int(part) < len(value):
                value = value[int(part)]
            else:
                raise self.missing(".".join(parts[:depth]), pos)
        return value

    def missing(self, name: str, pos: int) -> MissingVariableError:
        """Build a located :class:`MissingVariableError` for ``name``."""
        line, col = line_col(self.template, pos)
        return MissingVariableError(
            f"missing variable {name!r}", line=line, column=col, variable=name
        )

    def emit(self, text: str) -> None:
        """Append ``text`` to the output, enforcing the output limit."""
        self.budget.add_output(len(text))
        self.out.append(text)

    def render(self, nodes: Sequence[_Node], stack: list[Any]) -> None:
        """Render ``nodes`` with ``stack`` as the context (innermost last)."""
        for node in nodes:
            self.budget.check_time()
            if isinstance(node, str):
                self.emit(node)
            elif isinstance(node, _Var):
                value = self.lookup(node.name, stack, node.pos)
                if value is None:
                    continue
                if not isinstance(value, str):
                    self.budget.check_value(value, f"{{{{{node.name}}}}}")
                    value = str(value)
                self.emit(value)
            else:
                value = self.lookup(node.name, stack, node.pos)
                if node.inverted:
                    if not value:
                        self.render(node.children, stack)
                elif isinstance(value, list | tuple):
                    for item in value:
                        stack.append(item)
                        self.render(node.children, stack)
                        stack.pop()
                elif value:
                    stack.append(value)
                    self.render(node.children, stack)
                    stack.pop()


class MustacheFormatter:
    """Formatter for Mustache templates (strict, no HTML escaping)."""

    def variables(self, template: str) -> list[str]:
        """Return top-level names (section names included), in order of first appearance."""
        return _top_level_names(_compile(template))

    def validate(self, template: str) -> None:
        """Raise :class:`TemplateSyntaxError` for unclosed tags/sections and similar."""
        _compile(template)

    def render(self, template: str, variables: Mapping[str, Any], limits: RenderLimits) -> str:
        """Render ``template`` with ``variables``; missing names raise MissingVariableError."""
        budget = RenderBudget(limits)
        try:
            nodes = _compile(template)
        except RecursionError:
            raise TemplateLimitError("template is nested too deeply") from None
        renderer = _Renderer(template, budget)
        try:
            renderer.render(nodes, [variables])
        except RecursionError:
            raise TemplateLimitError("sections are nested too deeply") from None
        except TemplateError:
            raise
        return "".join(renderer.out)
