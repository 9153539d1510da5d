"""Read flat OpenInference attributes as trees and indexed lists, tolerating damage."""

from __future__ import annotations

import json
from typing import Any

# OpenInference's TraceConfig replaces hidden values with this marker.
REDACTED_MARKER = "__REDACTED__"


class AttributeTree:
    """Flat dotted attributes viewed as a tree; numeric segments become list indices."""

    def __init__(self, flat: dict[str, Any]) -> None:
        self.flat = flat
        self.root: dict[str, Any] = {}
        self.conflicts: list[str] = []
        for key, value in flat.items():
            self._insert(key, value)

    def _insert(self, key: str, value: Any) -> None:
        node = self.root
        parts = key.split(".")
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                # "a.b" = 1 and "a.b.c" = 2: the scalar wins, the deeper key is reported.
                self.conflicts.append(key)
                return
            node = child
        if isinstance(node.get(parts[-1]), dict):
            self.conflicts.append(key)
            return
        node[parts[-1]] = value

    def get(self, key: str) -> Any:
        """The value at a dotted key, whether it was recorded flat or below nested nodes."""
        if key in self.flat:
            return self.flat[key]
        return self.node(key)

    def node(self, path: str) -> Any:
        """The subtree (or value) at a dotted path, or None."""
        node: Any = self.root
        for part in path.split("."):
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node


def indexed(node: Any) -> list[tuple[int, Any]]:
    """Children of a ``{"0": …, "1": …}`` node (or a list) sorted by index; other keys ignored."""
    if isinstance(node, list):
        return list(enumerate(node))
    if not isinstance(node, dict):
        return []
    items = [(int(k), v) for k, v in node.items() if isinstance(k, str) and k.isdigit()]
    return sorted(items, key=lambda kv: kv[0])


def dig(node: Any, path: str) -> Any:
    """Value at a dotted path below a tree node (``"tool_call.function.name"``), or None."""
    for part in path.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def is_redacted(value: Any) -> bool:
    """True when an instrumentor hid this value."""
    return isinstance(value, str) and value.strip() == REDACTED_MARKER


def parse_json_value(value: Any) -> tuple[Any, str | None]:
    """Decode a JSON string attribute; already-decoded values pass through. Returns (value, error)."""
    if value is None:
        return None, None
    if not isinstance(value, str):
        return value, None
    try:
        return json.loads(value), None
    except json.JSONDecodeError as exc:
        return None, f"not valid JSON ({exc.msg} at char {exc.pos})"


def as_text(value: Any) -> str | None:
    """A recorded scalar as text (JSON for structures), None when absent."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)
