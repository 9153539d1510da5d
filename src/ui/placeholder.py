"""A page body for parts of the product that a later release fills in."""

from __future__ import annotations

import streamlit as st
from sqlalchemy import func, select

from ui import deps


def coming_soon(title: str, what: str, counted: list[tuple[str, type]]) -> None:
    """Render the page title, what is coming, and live counts of what is already stored."""
    st.title(title)
    st.info(what, icon="🚧")
    database = deps.db()
    ws = deps.workspace_id()
    if counted:
        cols = st.columns(len(counted))
        with database.session() as s:
            for col, (label, model) in zip(cols, counted, strict=True):
                n = s.scalar(select(func.count()).select_from(model).where(model.workspace_id == ws))
                col.metric(label, n or 0)
