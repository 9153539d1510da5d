"""Prompt Workbench: router only (page config, navigation, shared sidebar)."""

from __future__ import annotations

import streamlit as st

from core.config import redact_url

st.set_page_config(page_title="Prompt Workbench", page_icon="🧪", layout="wide")

PAGES = [
    st.Page("pages/playground.py", title="Playground", icon="🛝", default=True),
    st.Page("pages/prompts.py", title="Prompts", icon="📝"),
    st.Page("pages/datasets.py", title="Datasets", icon="🗂️"),
    st.Page("pages/experiments.py", title="Experiments", icon="🧪"),
    st.Page("pages/traces.py", title="Traces", icon="🔎"),
    st.Page("pages/analytics.py", title="Analytics", icon="📈"),
    st.Page("pages/settings.py", title="Settings", icon="⚙️"),
]

navigation = st.navigation(PAGES)

from ui import deps  # noqa: E402  (after set_page_config)

with st.sidebar:
    cfg = deps.settings()
    st.caption(f"Workspace: **{cfg.workspace}** · user **{cfg.user}**")
    st.caption(f"Database: `{redact_url(cfg.database_url)}`")

try:
    navigation.run()
finally:
    # After the page is drawn (also when it stopped early), so the warm-up thread never
    # competes with the first render for CPU; the first Run then skips litellm's import
    # and the embedded model's load.
    deps.warm_up_once()
