"""Checks behind the visual editor: per-message problems with line/column, variables, preview.

Nothing here writes; the editor calls it on every keystroke, so it reads the snippets it
needs in one short session.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from core.db import Database
from core.prompts.errors import PromptRegistryError, RenderError
from core.prompts.render import render_template, template_variables
from core.prompts.snippets import SessionResolver, expand_text, template_references


@dataclass(frozen=True)
class DraftProblem:
    """Something wrong with one part of a draft (message index None for a text template)."""

    message_index: int | None
    message: str
    line: int | None = None
    column: int | None = None

    @property
    def location(self) -> str:
        """``message 2, line 3, column 7`` (the parts that are known)."""
        parts = []
        if self.message_index is not None:
            parts.append(f"message {self.message_index + 1}")
        if self.line is not None:
            parts.append(f"line {self.line}")
            if self.column is not None:
                parts.append(f"column {self.column}")
        return ", ".join(parts)


@dataclass(frozen=True)
class DraftCheck:
    """The outcome of checking a draft: problems, variables, and the expanded template."""

    problems: list[DraftProblem] = field(default_factory=list)
    variables: list[str] = field(default_factory=list)
    expanded: Any = None

    def problems_for(self, message_index: int | None) -> list[DraftProblem]:
        """Problems of one message (or of the text template)."""
        return [p for p in self.problems if p.message_index == message_index]

    @property
    def ok(self) -> bool:
        """True when the draft can be saved."""
        return not self.problems


def _check_text(text: str, fmt: str, resolver: Any, index: int | None) -> tuple[str | None, list[DraftProblem]]:
    from core.templating import TemplateError, validate

    try:
        expanded = expand_text(text, resolver)
    except PromptRegistryError as exc:
        return None, [DraftProblem(index, exc.message)]
    try:
        validate(expanded, fmt)
    except TemplateError as exc:
        return expanded, [DraftProblem(index, exc.message, exc.line, exc.column)]
    return expanded, []


def check_draft(db: Database, workspace_id: int, template: Any, template_format: str) -> DraftCheck:
    """Expand includes, validate every part, and list the variables of the parts that parse."""
    problems: list[DraftProblem] = []

    def run(resolver: Any) -> Any:
        if isinstance(template, str):
            expanded, found = _check_text(template, template_format, resolver, None)
            problems.extend(found)
            return expanded if expanded is not None else template
        out = []
        for i, message in enumerate(template):
            content = message.get("content") or ""
            expanded, found = _check_text(content, template_format, resolver, i)
            problems.extend(found)
            out.append({**message, "content": expanded if expanded is not None else content})
        return out

    if template_references(template):
        with db.read_session() as s:
            expanded = run(SessionResolver(s, workspace_id))
    else:
        expanded = run(lambda name, version: "")  # never called: there are no includes
    return DraftCheck(problems, template_variables(expanded, template_format), expanded)


def coerce_sample_value(raw: str) -> Any:
    """A sample value typed in the editor: JSON lists/objects/numbers/booleans, otherwise text."""
    text = raw.strip()
    if text[:1] in "[{" or text in ("true", "false", "null"):
        try:
            return json.loads(text)
        except ValueError:
            return raw
    return raw


def preview(
    template_type: str, template_format: str, expanded: Any, samples: dict[str, Any]
) -> tuple[list[dict[str, Any]] | str | None, str | None]:
    """``(rendered, None)`` or ``(None, error message)`` for the editor's preview."""
    try:
        return render_template(template_type, template_format, expanded, samples), None
    except RenderError as exc:
        return None, exc.message


def parse_json_field(raw: str, what: str, expect: type | tuple[type, ...]) -> tuple[Any, str | None]:
    """Parse a JSON text field of the editor: ``(value, None)`` or ``(None, message)``."""
    if not raw.strip():
        return None, None
    try:
        value = json.loads(raw)
    except ValueError as exc:
        return None, f"{what}: not valid JSON ({exc})"
    if not isinstance(value, expect):
        names = " or ".join(t.__name__ for t in (expect if isinstance(expect, tuple) else (expect,)))
        kind = {"dict": "an object", "list": "a list"}.get(names, names)
        return None, f"{what}: expected {kind}"
    return value, None
