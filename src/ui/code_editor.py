"""One code-editor widget for templates: Ace (offline, highlighting) or a plain text area.

The Ace component (streamlit-ace) ships its JavaScript in the wheel, so it works
offline. ``st.session_state["prompts_code_editor"] = "plain"`` (a toggle on the page, or
``WORKBENCH_EDITOR=plain``) switches every editor to ``st.text_area``; automated
tests use that because custom components are opaque to AppTest.
"""

from __future__ import annotations

import os
import re
from typing import Any

import streamlit as st

MODE_KEY = "prompts_code_editor"
# Ace modes that highlight each template syntax best. Ace has no f-string mode; Smarty's
# highlighter marks every single-brace ``{…}`` block, which is exactly an f-string
# placeholder (``python`` highlighted keywords in the prose and left ``{var}`` plain).
ACE_LANGUAGE = {"f-string": "smarty", "mustache": "handlebars", "jinja2": "django", "none": "text"}


# An f-string placeholder: {name}, {user.name}, {items[0]}, {x!r}, {x:>10}; not {{ or }}.
_FSTRING_FIELD = re.compile(r"(?<!\{)\{[A-Za-z_][\w.\[\]]*(?:![rsa])?(?::[^{}\n]*)?\}(?!\})")


def fstring_markers(text: str) -> list[dict[str, Any]]:
    """Ace markers boxing every f-string placeholder (the chrome theme draws them)."""
    markers = []
    for row, line in enumerate(text.split("\n")):
        for m in _FSTRING_FIELD.finditer(line):
            markers.append({"startRow": row, "startCol": m.start(), "endRow": row, "endCol": m.end(),
                            "className": "ace_selected-word", "type": "text"})
    return markers


def editor_mode() -> str:
    """``ace`` or ``plain``."""
    if MODE_KEY not in st.session_state:
        st.session_state[MODE_KEY] = "plain" if os.environ.get("WORKBENCH_EDITOR") == "plain" else "ace"
    return str(st.session_state[MODE_KEY])


def code_editor(
    value: str,
    *,
    key: str,
    template_format: str = "none",
    label: str = "Content",
    problems: list[Any] | None = None,
    min_lines: int = 3,
    placeholder: str = "",
) -> str:
    """Show an editor holding ``value`` and return its current text."""
    if editor_mode() == "plain":
        if key not in st.session_state:
            st.session_state[key] = value
        return str(
            st.text_area(label, key=key, height=max(68, 24 * min_lines), placeholder=placeholder,
                         label_visibility="collapsed")
        )
    from streamlit_ace import st_ace

    annotations = [
        {"row": (p.line or 1) - 1, "column": (p.column or 1) - 1, "type": "error", "text": p.message}
        for p in problems or []
    ]
    result = st_ace(
        value=value,
        key=key,
        language=ACE_LANGUAGE.get(template_format, "text"),
        theme="chrome",
        min_lines=min_lines,
        max_lines=30,
        font_size=14,
        tab_size=2,
        wrap=True,
        show_gutter=True,
        auto_update=True,
        annotations=annotations,
        markers=fstring_markers(value) if template_format == "f-string" else None,
        placeholder=placeholder,
    )
    return value if result is None else str(result)
