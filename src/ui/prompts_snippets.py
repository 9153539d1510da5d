"""Snippets (RG3): create, edit as new versions, see where each is used."""

from __future__ import annotations

import streamlit as st

from core.prompts import (
    PromptRegistryError,
    archive_snippet,
    list_snippet_versions,
    list_snippets,
    save_snippet,
    snippet_usages,
)
from ui import deps
from ui.code_editor import code_editor

SELECTED = "prompts_snip_selected"


def render_snippets() -> None:
    """The snippet list on the left, the chosen snippet on the right."""
    db, ws = deps.db(), deps.workspace_id()
    st.caption(
        "Reusable text blocks. Include one in any template, in every format, with "
        "`[[snippet:name]]` (always the newest version) or `[[snippet:name@3]]` (pinned). "
        "Includes are expanded before variables are detected, so variables inside a snippet "
        "become variables of the prompt."
    )
    left, right = st.columns([1, 2.5])
    with left:
        search = st.text_input("Search snippets", key="prompts_snip_search")
        snippets = list_snippets(db, ws, search=search or None)
        with st.expander("➕ New snippet", key="prompts_snip_new_exp"):
            name = st.text_input("Name", key="prompts_snip_new_name", placeholder="e.g. tone-of-voice")
            desc = st.text_input("Description", key="prompts_snip_new_desc")
            body = st.text_area("Text", key="prompts_snip_new_body")
            if st.button("Create snippet", key="prompts_snip_create", type="primary"):
                try:
                    save_snippet(db, ws, name, body, description=desc, author=deps.current_user(), create=True)
                except PromptRegistryError as exc:
                    st.error(exc.message)
                else:
                    st.session_state[SELECTED] = name.strip()
                    st.session_state["prompts_flash"] = f"Created snippet {name.strip()}: include it with [[snippet:{name.strip()}]]."
                    for key in ("prompts_snip_new_name", "prompts_snip_new_desc", "prompts_snip_new_body"):
                        st.session_state.pop(key, None)
                    st.rerun()
        for s in snippets:
            if st.button(f"🧩 {s.name} · v{s.latest_version}", key=f"prompts_snip_open_{s.id}",
                         width="stretch",
                         type="primary" if s.name == st.session_state.get(SELECTED) else "secondary"):
                st.session_state[SELECTED] = s.name
                st.rerun()
        if not snippets:
            st.caption("No snippets yet.")
    with right:
        current = next((s for s in snippets if s.name == st.session_state.get(SELECTED)), None)
        if current is None:
            st.info("Pick a snippet, or create one.")
            return
        st.subheader(f"🧩 {current.name}")
        if current.description:
            st.caption(current.description)
        st.code(f"[[snippet:{current.name}]]", language=None)
        edited = code_editor(current.body, key=f"prompts_snip_body_{current.id}_{current.latest_version}",
                             label="Snippet text", min_lines=4)
        note = st.text_input("Version note", key=f"prompts_snip_note_{current.id}_{current.latest_version}")
        c = st.columns(2)
        if c[0].button(f"💾 Save as v{current.latest_version + 1}", key=f"prompts_snip_save_{current.id}",
                       type="primary", disabled=edited == current.body):
            try:
                save_snippet(db, ws, current.name, edited, note=note, author=deps.current_user(), create=False)
            except PromptRegistryError as exc:
                st.error(f"Not saved: {exc.message}")
            else:
                st.session_state["prompts_flash"] = f"Saved snippet {current.name} v{current.latest_version + 1}."
                st.rerun()
        if c[1].button("🗄️ Archive", key=f"prompts_snip_archive_{current.id}",
                       help="Hide from the list; templates that include it keep working"):
            archive_snippet(db, ws, current.name)
            st.session_state.pop(SELECTED, None)
            st.session_state["prompts_flash"] = f"Archived snippet {current.name}."
            st.rerun()
        st.markdown("**Used in**")
        usages = snippet_usages(db, ws, current.name)
        if not usages:
            st.caption("Not included anywhere yet.")
        for u in usages:
            versions = ", ".join(f"v{v}" for v in u.versions)
            pinned = f" (pinned to {', '.join(f'v{p}' for p in u.pinned)})" if u.pinned else ""
            latest = " · newest version" if u.in_latest else " · older versions only"
            st.markdown(f"- {'📝' if u.kind == 'prompt' else '🧩'} **{u.name}** — {versions}{pinned}{latest}")
        with st.expander("Versions", key=f"prompts_snip_versions_exp_{current.id}"):
            for v in list_snippet_versions(db, ws, current.name):
                st.markdown(f"**v{v.version}** · {v.author or ''} · {v.created_at:%Y-%m-%d %H:%M} · {v.note}")
                st.code(v.body, language=None, wrap_lines=True)
