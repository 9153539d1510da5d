"""Differences between two prompt versions: template lines, configuration fields, rendered text."""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from core.prompts.errors import PromptRegistryError
from core.prompts.models import PromptVersionInfo
from core.prompts.render import render_template, template_variables

_MISSING = object()


@dataclass(frozen=True)
class DiffLine:
    """One row of a side-by-side line diff (1-based line numbers; None where a side is empty)."""

    op: Literal["equal", "insert", "delete", "replace"]
    left_no: int | None
    left: str | None
    right_no: int | None
    right: str | None


@dataclass(frozen=True)
class FieldChange:
    """A configuration field that differs; ``path`` such as ``invocation_parameters.temperature``."""

    path: str
    kind: Literal["added", "removed", "changed"]
    before: Any
    after: Any


@dataclass(frozen=True)
class VersionDiff:
    """Everything that differs between versions ``left`` and ``right``."""

    left: PromptVersionInfo
    right: PromptVersionInfo
    template_lines: list[DiffLine]
    unified: str
    fields: list[FieldChange]
    rendered_left: str
    rendered_right: str

    @property
    def identical(self) -> bool:
        """True when template and every field are equal."""
        return not self.fields and all(line.op == "equal" for line in self.template_lines)


def template_lines(template_type: str, template: Any) -> list[str]:
    """The template as lines; chat messages get a ``--- [n] role ---`` header each."""
    if isinstance(template, str):
        return template.splitlines()
    lines: list[str] = []
    for i, message in enumerate(template or []):
        if not isinstance(message, dict):
            continue
        lines.append(f"--- [{i + 1}] {message.get('role', '?')} ---")
        lines.extend(str(message.get("content") or "").splitlines())
        for extra in ("name", "tool_call_id"):
            if message.get(extra):
                lines.append(f"({extra}: {message[extra]})")
        if message.get("tool_calls"):
            lines.append("(tool_calls: " + json.dumps(message["tool_calls"], sort_keys=True) + ")")
    return lines


def line_diff(a: list[str], b: list[str]) -> list[DiffLine]:
    """A side-by-side diff of two line lists (difflib's matching)."""
    out: list[DiffLine] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out.extend(
                DiffLine("equal", i1 + k + 1, a[i1 + k], j1 + k + 1, b[j1 + k])
                for k in range(i2 - i1)
            )
        elif tag == "delete":
            out.extend(DiffLine("delete", i + 1, a[i], None, None) for i in range(i1, i2))
        elif tag == "insert":
            out.extend(DiffLine("insert", None, None, j + 1, b[j]) for j in range(j1, j2))
        else:  # replace: pair lines up, the longer side continues alone
            for k in range(max(i2 - i1, j2 - j1)):
                li, rj = i1 + k, j1 + k
                out.append(
                    DiffLine(
                        "replace",
                        li + 1 if li < i2 else None,
                        a[li] if li < i2 else None,
                        rj + 1 if rj < j2 else None,
                        b[rj] if rj < j2 else None,
                    )
                )
    return out


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts/lists as ``{"a.b.0.c": leaf}``; empty containers are leaves."""
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for k in sorted(value):
            out.update(flatten(value[k], f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(value, list) and value:
        out = {}
        for i, item in enumerate(value):
            out.update(flatten(item, f"{prefix}.{i}" if prefix else str(i)))
        return out
    return {prefix: value}


def field_changes(before: dict[str, Any], after: dict[str, Any]) -> list[FieldChange]:
    """Fields added, removed or changed between two (nested) dicts, sorted by path."""
    a, b = flatten(before), flatten(after)
    changes = []
    for path in sorted(set(a) | set(b)):
        old, new = a.get(path, _MISSING), b.get(path, _MISSING)
        if old is _MISSING:
            changes.append(FieldChange(path, "added", None, new))
        elif new is _MISSING:
            changes.append(FieldChange(path, "removed", old, None))
        elif old != new or type(old) is not type(new):
            changes.append(FieldChange(path, "changed", old, new))
    return changes


def _version_fields(info: PromptVersionInfo) -> dict[str, Any]:
    return {
        "template_type": info.template_type,
        "template_format": info.template_format,
        "llm_config": info.llm_config or {},
        "sample_variables": info.sample_variables or {},
    }


def rendered_text(
    info: PromptVersionInfo,
    variables: dict[str, Any] | None = None,
    expand: Callable[[Any], Any] | None = None,
) -> str:
    """The version rendered with ``variables`` (default: its samples) as readable text.

    ``expand`` turns snippet includes into their text first (see snippets.expand_with_db).
    """
    values = dict(info.sample_variables or {})
    values.update(variables or {})
    try:
        template = expand(info.template) if expand else info.template
        # Variables without a sample show as ⟨name⟩ so a diff still shows the whole text.
        for name in template_variables(template, info.template_format):
            values.setdefault(name, f"⟨{name}⟩")
        result = render_template(info.template_type, info.template_format, template, values)
    except PromptRegistryError as exc:
        return f"(can't render: {exc.message})"
    if isinstance(result, str):
        return result
    return "\n\n".join(f"[{m.get('role')}]\n{m.get('content') or ''}" for m in result)


def diff_versions(
    left: PromptVersionInfo,
    right: PromptVersionInfo,
    variables: dict[str, Any] | None = None,
    expand: Callable[[Any], Any] | None = None,
) -> VersionDiff:
    """Compare two versions: template line by line, configuration field by field, rendered."""
    a = template_lines(left.template_type, left.template)
    b = template_lines(right.template_type, right.template)
    unified = "\n".join(
        difflib.unified_diff(a, b, f"v{left.version}", f"v{right.version}", lineterm="")
    )
    return VersionDiff(
        left=left,
        right=right,
        template_lines=line_diff(a, b),
        unified=unified,
        fields=field_changes(_version_fields(left), _version_fields(right)),
        rendered_left=rendered_text(left, variables, expand),
        rendered_right=rendered_text(right, variables, expand),
    )
