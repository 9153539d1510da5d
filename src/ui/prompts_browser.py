"""The prompt list: folders, search by name/tag/text, create prompts and folders, open one."""

from __future__ import annotations

import streamlit as st

from core.prompts import (
    PromptRegistryError,
    create_folder,
    create_prompt,
    get_version,
    list_folders,
    list_prompts,
)
from core.prompts.models import PromptSummary
from ui import deps
from ui import prompts_state as state

SELECTED_KEY = "prompts_selected"
ALL, TOP = "All folders", "(top level)"


def selected_name() -> str | None:
    """The prompt open on the right, if any."""
    return st.session_state.get(SELECTED_KEY)


def open_prompt(name: str, *, template_type: str = "chat", template_format: str = "f-string") -> None:
    """Select ``name`` and load its newest version into a draft unless one is open."""
    st.session_state[SELECTED_KEY] = name
    if state.get_draft(name) is None:
        try:
            info = get_version(deps.db(), deps.workspace_id(), name)
        except PromptRegistryError:
            info = None  # a prompt without versions gets the starter template
        state.put_draft(state.new_draft(name, info, template_type=template_type, template_format=template_format))


def render_browser() -> PromptSummary | None:
    """The left column; returns the summary of the selected prompt (if still listed)."""
    db, ws = deps.db(), deps.workspace_id()
    folders = list_folders(db, ws)
    search = st.text_input("Search", key="prompts_search", placeholder="name, tag or text…")
    paths = [f.path for f in folders]
    c = st.columns(2)
    folder = c[0].selectbox("Folder", [ALL, TOP, *paths], key="prompts_folder_filter")
    show_archived = c[1].toggle("Archived", key="prompts_show_archived", help="Also list archived prompts")
    try:
        prompts = list_prompts(
            db, ws, search=search or None, include_archived=show_archived,
            folder=None if folder == ALL else ("" if folder == TOP else folder),
            recursive=folder != TOP,
        )
    except PromptRegistryError as exc:
        st.error(exc.message)
        prompts = []
    tags = sorted({t for p in prompts for t in p.tags})
    if tags:
        tag = st.selectbox("Tag", ["Any tag", *tags], key="prompts_tag_filter")
        if tag != "Any tag":
            prompts = [p for p in prompts if tag in p.tags]

    _new_prompt_form(paths)
    _new_folder_form()

    st.caption(f"{len(prompts)} prompt{'s' if len(prompts) != 1 else ''}")
    by_folder: dict[str, list[PromptSummary]] = {}
    for p in prompts:
        by_folder.setdefault(p.folder_path or "", []).append(p)
    current = selected_name()
    for path in sorted(by_folder, key=lambda x: (x != "", x.lower())):
        if path:
            st.markdown(f"📁 **{path}**")
        for p in by_folder[path]:
            labels = " ".join(f"`{k}`" for k in p.labels)
            badge = f"v{p.latest_version}" if p.latest_version else "new"
            text = f"{'🗄️ ' if p.archived else ''}{p.name} · {badge}"
            if st.button(text, key=f"prompts_open_{p.id}", width="stretch",
                         type="primary" if p.name == current else "secondary", help=labels or None):
                open_prompt(p.name)
                st.rerun()
    return next((p for p in prompts if p.name == current), None)


def _new_prompt_form(paths: list[str]) -> None:
    with st.expander("➕ New prompt", expanded=False, key="prompts_new_prompt_exp"):
        name = st.text_input("Name", key="prompts_new_name", placeholder="e.g. support-reply")
        folder = st.selectbox("Folder", [TOP, *paths], key="prompts_new_folder")
        c = st.columns(2)
        ttype = c[0].selectbox("Type", ["chat", "text"], key="prompts_new_type")
        fmt = c[1].selectbox("Format", state.FORMATS, key="prompts_new_format")
        if st.button("Create prompt", key="prompts_new_create", type="primary"):
            try:
                created = create_prompt(
                    deps.db(), deps.workspace_id(), name, folder=None if folder == TOP else folder,
                    template_type=ttype, created_by=deps.current_user(),
                )
            except PromptRegistryError as exc:
                st.error(exc.message)
                return
            state.drop_draft(created.name)
            st.session_state.pop("prompts_new_name", None)  # an empty form for the next one
            open_prompt(created.name, template_type=ttype, template_format=fmt)
            st.session_state["prompts_flash"] = f"Created {created.name}: write the template and save v1."
            st.rerun()


def _new_folder_form() -> None:
    with st.expander("📁 New folder", expanded=False, key="prompts_new_folder_exp"):
        path = st.text_input("Folder path", key="prompts_newfolder_path", placeholder="e.g. support/en",
                             help="Use / to nest folders; missing parents are created")
        if st.button("Create folder", key="prompts_newfolder_create"):
            try:
                info = create_folder(deps.db(), deps.workspace_id(), path)
            except PromptRegistryError as exc:
                st.error(exc.message)
                return
            st.session_state["prompts_flash"] = f"Created folder {info.path}."
            st.rerun()
