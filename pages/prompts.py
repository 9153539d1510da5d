"""Prompts page: folders and search, visual editor, history and diffs, labels, snippets."""

from __future__ import annotations

from ui.prompts_page import render_prompts_page
from ui.router import ensure_router

ensure_router()

render_prompts_page()
