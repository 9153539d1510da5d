"""The sessions sidebar: name, new, reopen, delete, export and import."""

from __future__ import annotations

import streamlit as st

from core.playground import sessions
from core.playground.state import default_state
from ui import deps
from ui import playground_state as ps


def _on_rename() -> None:
    name = (st.session_state.get("playground_session_rename") or "").strip()
    if not name:
        ps.notice("error", "A session name can't be empty.")
        return
    st.session_state[ps.SESSION_NAME] = name
    sid = st.session_state.get(ps.SESSION_ID)
    if sid and st.session_state.get(ps.SAVED_HASH) is not None:
        try:
            sessions.rename_session(deps.db(), deps.workspace_id(), sid, name)
        except (sessions.SessionError, sessions.SessionNotFoundError) as exc:
            ps.notice("error", str(exc))
    else:
        st.session_state[ps.PRISTINE] = None  # a named playground is worth saving


def _on_new() -> None:
    ps.open_state(default_state(ps.default_model()), session_id=None, name=sessions.DEFAULT_NAME)
    st.session_state["playground_session_rename"] = sessions.DEFAULT_NAME


def _on_open(session_id: str) -> None:
    try:
        info, state = sessions.load_session(deps.db(), deps.workspace_id(), session_id)
    except (sessions.SessionError, sessions.SessionNotFoundError) as exc:
        ps.notice("error", str(exc))
        return
    ps.open_state(state, session_id=info.id, name=info.name, saved=True)
    st.session_state["playground_session_rename"] = info.name


def _on_delete(session_id: str) -> None:
    sessions.delete_session(deps.db(), deps.workspace_id(), session_id)
    if session_id == st.session_state.get(ps.SESSION_ID):
        _on_new()
    ps.notice("success", "Session deleted (its recorded runs stay in Traces).")


def _on_import() -> None:
    upload = st.session_state.get("playground_import")
    if upload is None:
        return
    try:
        name, state = sessions.import_session(upload.getvalue(), filename=upload.name)
    except sessions.SessionError as exc:
        ps.notice("error", f"Import failed: {exc}")
        return
    ps.open_state(state, session_id=None, name=name)
    st.session_state[ps.PRISTINE] = None
    st.session_state["playground_session_rename"] = name
    ps.notice("success", f"Imported “{name}” as a new session.")


def sidebar() -> None:
    """Draw the sessions panel in the sidebar."""
    with st.sidebar:
        st.subheader("Playground session")
        ps.init_widget("playground_session_rename", st.session_state.get(ps.SESSION_NAME))
        st.text_input("Name", key="playground_session_rename", on_change=_on_rename)
        state = ps.get_state()
        name = st.session_state.get(ps.SESSION_NAME) or sessions.DEFAULT_NAME
        c1, c2 = st.columns(2)
        c1.download_button("⬇ YAML", sessions.export_session(state, name=name, fmt="yaml"),
                           file_name=f"{_slug(name)}.playground.yaml", mime="application/yaml",
                           key="playground_export_yaml", width="stretch")
        c2.download_button("⬇ JSON", sessions.export_session(state, name=name, fmt="json"),
                           file_name=f"{_slug(name)}.playground.json", mime="application/json",
                           key="playground_export_json", width="stretch")
        st.file_uploader("Import a session file", type=["yaml", "yml", "json"], key="playground_import",
                         on_change=_on_import)
        st.button("+ New session", key="playground_new_session", on_click=_on_new, width="stretch")
        saved = sessions.list_sessions(deps.db(), deps.workspace_id(), limit=30)
        if saved:
            st.caption("Recent sessions")
        current = st.session_state.get(ps.SESSION_ID)
        for info in saved:
            c_open, c_del = st.columns([5, 1], vertical_alignment="center")
            label = f"{'▸ ' if info.id == current else ''}{info.name} · {info.n_cards} card{'s' * (info.n_cards != 1)}"
            c_open.button(label, key=f"playground_open_{info.id}", on_click=_on_open, args=(info.id,),
                          width="stretch", disabled=info.id == current,
                          help=f"Last changed {info.updated_at:%Y-%m-%d %H:%M} UTC")
            with c_del.popover("🗑", help="Delete this session"):
                st.caption(f"Delete “{info.name}”?")
                st.button("Delete", key=f"playground_delete_{info.id}", type="primary",
                          on_click=_on_delete, args=(info.id,))


def _slug(name: str) -> str:
    keep = "".join(c if c.isalnum() or c in "-_" else "-" for c in name.lower())
    return "-".join(filter(None, keep.split("-")))[:60] or "session"
