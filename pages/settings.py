"""Settings page: provider keys, custom endpoints, model catalog, API tokens, tracing."""

from __future__ import annotations

from ui.settings_page import render_settings_page

render_settings_page()
