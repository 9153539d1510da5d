"""Settings page: provider keys, custom endpoints, model catalog, API tokens, tracing."""

from __future__ import annotations

from ui.router import ensure_router
from ui.settings_page import render_settings_page

ensure_router()

render_settings_page()
