"""Keys typed in for this browser session only: kept in st.session_state, never persisted.

Other pages pass :func:`session_keys` to ``core.providers.stream(..., session_keys=...)``.
"""

from __future__ import annotations

import streamlit as st

_STATE = "settings_session_keys"


def session_keys() -> dict[str, str]:
    """Provider (or token-variable name) → key typed for this session."""
    return dict(st.session_state.get(_STATE, {}))


def set_session_key(name: str, key: str) -> None:
    """Remember ``key`` for ``name`` until the browser session ends."""
    keys = dict(st.session_state.get(_STATE, {}))
    keys[name] = key.strip()
    st.session_state[_STATE] = keys


def forget_session_key(name: str) -> None:
    """Forget the key typed for ``name``."""
    keys = dict(st.session_state.get(_STATE, {}))
    keys.pop(name, None)
    st.session_state[_STATE] = keys
