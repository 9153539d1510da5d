"""A prompt's settings: rename, move, description and tags, archive, delete."""

from __future__ import annotations

import streamlit as st

from core.prompts import (
    PromptRegistryError,
    PromptSummary,
    archive_prompt,
    delete_prompt,
    list_folders,
    move_prompt,
    rename_prompt,
    update_prompt,
)
from ui import deps
from ui import prompts_state as state
from ui.prompts_browser import SELECTED_KEY, TOP


def render_settings(prompt: PromptSummary) -> None:
    """Forms that change the prompt itself (never its versions)."""
    db, ws = deps.db(), deps.workspace_id()
    try:
        c = st.columns([3, 1], vertical_alignment="bottom")
        new_name = c[0].text_input("Name", value=prompt.name, key=f"prompts_set_name_{prompt.id}")
        if c[1].button("Rename", key=f"prompts_set_rename_{prompt.id}", disabled=new_name.strip() == prompt.name):
            renamed = rename_prompt(db, ws, prompt.name, new_name)
            draft = state.get_draft(prompt.name)
            state.drop_draft(prompt.name)
            if draft is not None:
                draft["prompt"] = renamed.name
                state.put_draft(draft)
            st.session_state[SELECTED_KEY] = renamed.name
            st.session_state["prompts_flash"] = f"Renamed to {renamed.name}; code must use the new name."
            st.rerun()

        paths = [f.path for f in list_folders(db, ws)]
        current = prompt.folder_path or TOP
        c = st.columns([3, 1], vertical_alignment="bottom")
        target = c[0].selectbox("Folder", [TOP, *paths], index=[TOP, *paths].index(current),
                                key=f"prompts_set_folder_{prompt.id}")
        if c[1].button("Move", key=f"prompts_set_move_{prompt.id}", disabled=target == current):
            move_prompt(db, ws, prompt.name, None if target == TOP else target)
            st.session_state["prompts_flash"] = f"Moved {prompt.name} to {target}."
            st.rerun()

        desc = st.text_area("Description", value=prompt.description, key=f"prompts_set_desc_{prompt.id}")
        tags = st.text_input("Tags (comma-separated)", value=", ".join(prompt.tags), key=f"prompts_set_tags_{prompt.id}")
        if st.button("Save description and tags", key=f"prompts_set_meta_{prompt.id}"):
            update_prompt(db, ws, prompt.name, description=desc,
                          tags=[t.strip() for t in tags.split(",") if t.strip()])
            st.session_state["prompts_flash"] = "Saved."
            st.rerun()

        st.divider()
        if prompt.archived:
            if st.button("♻️ Restore from archive", key=f"prompts_set_unarchive_{prompt.id}"):
                archive_prompt(db, ws, prompt.name, archived=False)
                st.session_state["prompts_flash"] = f"Restored {prompt.name}."
                st.rerun()
        elif st.button("🗄️ Archive", key=f"prompts_set_archive_{prompt.id}",
                       help="Hidden from the list; code can still fetch it by name"):
            archive_prompt(db, ws, prompt.name)
            st.session_state["prompts_flash"] = f"Archived {prompt.name}."
            st.rerun()
        with st.expander("Delete permanently", key=f"prompts_set_delete_exp_{prompt.id}"):
            st.warning("Deletes every version, label and comment. Archive instead to keep history.")
            sure = st.checkbox(f"Yes, delete {prompt.name}", key=f"prompts_set_delete_ok_{prompt.id}")
            if st.button("Delete", key=f"prompts_set_delete_{prompt.id}", disabled=not sure):
                delete_prompt(db, ws, prompt.name)
                state.drop_draft(prompt.name)
                st.session_state.pop(SELECTED_KEY, None)
                st.session_state["prompts_flash"] = f"Deleted {prompt.name}."
                st.rerun()
    except PromptRegistryError as exc:
        st.error(exc.message)
