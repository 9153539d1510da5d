"""API tokens for the REST API (called from the Settings page): create, list, revoke."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.auth import TokenError, create_token, list_tokens, revoke_token
from ui import deps

_NEW_TOKEN = "settings_tokens_new_plaintext"
_REVOKED = "settings_tokens_revoked"


def render_api_tokens() -> None:
    """Create a token (its secret is shown once), list tokens, revoke one."""
    db, ws = deps.db(), deps.workspace_id()
    st.caption(
        "Applications call the REST API (`workbench api`) with `Authorization: Bearer <token>`. "
        "Only a hash of each token is stored: copy a new token when it is shown."
    )
    revoked = st.session_state.pop(_REVOKED, None)
    if revoked:
        st.success(f"Revoked token **{revoked}**: requests using it now get 401.")
    shown = st.session_state.pop(_NEW_TOKEN, None)
    if shown:
        st.success(f"Token **{shown[0]}** created. Copy it now; it will not be shown again.")
        st.code(shown[1], language=None)
    c = st.columns([3, 1], vertical_alignment="bottom")
    name = c[0].text_input("New token name", key="settings_tokens_name", placeholder="e.g. checkout-service")
    if c[1].button("Create token", key="settings_tokens_create", type="primary"):
        try:
            plaintext, info = create_token(db, ws, name)
        except TokenError as exc:
            st.error(str(exc))
        else:
            st.session_state[_NEW_TOKEN] = (info.name, plaintext)
            st.rerun()
    tokens = list_tokens(db, ws)
    if not tokens:
        st.caption("No tokens yet.")
        return
    st.dataframe(
        pd.DataFrame([
            {"id": t.id, "name": t.name, "token": f"{t.prefix}…", "created": f"{t.created_at:%Y-%m-%d %H:%M}",
             "last used": f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never",
             "status": "revoked" if t.revoked_at else "active"}
            for t in tokens
        ]),
        hide_index=True, width="stretch", key="settings_tokens_table",
    )
    active = [t for t in tokens if t.active]
    if active:
        c = st.columns([3, 1], vertical_alignment="bottom")
        pick = c[0].selectbox("Revoke", active, format_func=lambda t: f"{t.name} ({t.prefix}…)",
                              key="settings_tokens_revoke_pick")
        if c[1].button("Revoke", key="settings_tokens_revoke"):
            revoke_token(db, ws, pick.id)
            st.session_state[_REVOKED] = pick.name
            st.rerun()
