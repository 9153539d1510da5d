"""Prompts page: folders and search, visual editor, history and diffs, labels, snippets."""

from __future__ import annotations

from ui.prompts_page import render_prompts_page

render_prompts_page()
