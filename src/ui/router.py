"""Keep every page behind app.py's router, even when a page's URL is the first one opened.

Streamlit decides once per process whether the app is an old-style multipage app by
checking for a ``pages/`` folder next to the main script. Until ``st.navigation`` has run,
opening ``/prompts`` directly makes Streamlit execute ``pages/prompts.py`` on its own: no
router, no shared sidebar, the wrong navigation for every later visitor. Our pages live in
``pages/`` (the design card wants that layout), so each page calls ``ensure_router()`` first.
"""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager


def ensure_router() -> None:
    """If Streamlit ran this page without app.py, switch to the router and rerun."""
    if PagesManager.uses_pages_directory:
        # st.navigation sets this to False itself; doing it here makes the rerun go
        # through app.py, which then resolves the same URL to the same page.
        PagesManager.uses_pages_directory = False
        st.rerun()
