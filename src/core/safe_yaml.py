"""YAML for files users hand us: safe tags only, no anchors/aliases (no alias bombs), bounded.

Output keeps keys in the given order and multi-line text as literal blocks, so files diff
line by line in git.
"""

from __future__ import annotations

from typing import Any

import yaml

YAMLError = yaml.YAMLError


class StrictLoader(yaml.SafeLoader):
    """SafeLoader (no object tags) that also refuses anchors and aliases."""

    def compose_node(self, parent: Any, index: Any) -> Any:  # type: ignore[override]
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            mark = event.start_mark
            raise yaml.YAMLError(
                f"line {mark.line + 1}, column {mark.column + 1}: "
                "YAML anchors and aliases are not allowed"
            )
        return super().compose_node(parent, index)


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    # Literal blocks keep multi-line templates readable and make git diffs line-based.
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_representer)


def loads(text: str) -> Any:
    """Parse YAML text safely; raises ``yaml.YAMLError`` with line/column on bad input."""
    return yaml.load(text, Loader=StrictLoader)  # noqa: S506 - StrictLoader is a SafeLoader


def dumps(data: Any, *, width: int = 10_000) -> str:
    """YAML text with keys in the given order, unicode kept, long lines not folded."""
    return yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=width,
        default_flow_style=False,
    )
