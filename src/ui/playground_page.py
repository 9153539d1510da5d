"""The Playground page body: toolbar, cards in a grid, live streaming, autosave."""

from __future__ import annotations

from typing import Any

import streamlit as st

from ui import playground_card, playground_sessions, playground_sync
from ui import playground_runs as runs
from ui import playground_state as ps

CARDS_PER_ROW = 4
CARD_MAX_WIDTH = 640  # px


@st.cache_data(ttl=300, show_spinner=False)
def _catalog_ids() -> list[str]:
    from core.providers import catalog

    # Only models that can chat or complete text belong in a playground card.
    return [m.id for m in catalog.list_models() if m.mode in ("chat", "completion")]


def model_options() -> list[str]:
    """Models offered in the model picker: the catalog's, the default first."""
    default = ps.default_model()
    return [default, *[n for n in dict.fromkeys(_catalog_ids()) if n != default]]


def render() -> None:
    """Draw the whole page (call from pages/playground.py)."""
    state = ps.get_state()
    options = model_options()
    ps.commit_finished()
    ps.push_widgets(options)
    st.title("Playground")
    notice = st.session_state.pop(ps.NOTICE, None)
    if notice:
        getattr(st, notice[0], st.info)(notice[1])
    playground_sessions.sidebar()
    running = ps.running_cards()
    playground_sync.toolbar(running)
    state = ps.get_state()
    placeholders: dict[str, Any] = {}
    n = len(state.cards)
    # One or two cards don't stretch across a wide screen: each is capped at CARD_MAX_WIDTH
    # px (the row shrinks with a narrow window). Three or more share the width as columns.
    row = st.container(width=CARD_MAX_WIDTH * n + 16 * (n - 1)) if n <= 2 else st.container()
    for start in range(0, n, CARDS_PER_ROW):
        cols = row.columns(min(n, CARDS_PER_ROW))
        for offset, col in enumerate(cols):
            index = start + offset
            if index >= n:
                break
            card = state.cards[index]
            with col:
                playground_card.render_card(card, index, n, list(options), card.id in running, placeholders)
    runs.prewarm(state.cards)  # so the first Run all streams every card at once
    runs.stream_live(placeholders)  # returns at once when nothing runs
    ps.autosave()
