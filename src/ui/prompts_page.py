"""Layout of the Prompts page: list on the left, the open prompt's tabs on the right."""

from __future__ import annotations

from urllib.parse import quote

import streamlit as st

from core.prompts import PromptSummary
from ui.prompts_browser import open_prompt, render_browser
from ui.prompts_editor import render_editor
from ui.prompts_history import render_history
from ui.prompts_labels import render_labels
from ui.prompts_settings import render_settings
from ui.prompts_snippets import render_snippets

TABS = ["✏️ Editor", "🕘 History & diff", "🏷️ Labels", "⚙️ Settings"]


def render_prompts_page() -> None:
    """The whole page."""
    st.title("Prompts")
    # Always one slot for the message, so elements below keep their place (and expanders
    # their open state) whether or not there is a message.
    slot = st.container(key="prompts_flash_slot")
    flash = st.session_state.pop("prompts_flash", None)
    if flash:
        slot.success(flash)
    mode = st.segmented_control("View", ["Prompts", "Snippets"], default="Prompts", key="prompts_mode",
                                label_visibility="collapsed")
    if mode == "Snippets":
        render_snippets()
        return
    left, right = st.columns([1, 3], gap="medium")
    with left:
        selected = render_browser()
    with right:
        if selected is None:
            st.info("Pick a prompt on the left, or create one with **➕ New prompt**.")
            return
        _prompt_view(selected)


def _prompt_view(prompt: PromptSummary) -> None:
    open_prompt(prompt.name)  # make sure a draft exists
    where = f"📁 {prompt.folder_path} · " if prompt.folder_path else ""
    st.subheader(prompt.name)
    labels = " ".join(f":blue-badge[{k}: {v}]" for k, v in prompt.labels.items())
    state = "🗄️ archived · " if prompt.archived else ""
    st.markdown(f"{state}{where}{prompt.template_type} · "
                f"{'v' + str(prompt.latest_version) if prompt.latest_version else 'no versions yet'} {labels}")
    if prompt.description:
        st.caption(prompt.description)
    with st.expander("Use from code", key=f"prompts_code_exp_{prompt.id}"):
        label = "production" if "production" in prompt.labels else None
        args = f'"{prompt.name}"' + (f', label="{label}"' if label else "")
        st.code(f"from core.client import get_prompt\n\nprompt = get_prompt({args})\n"
                "messages = prompt.render(**variables)  # or prompt.openai_kwargs(**variables)",
                language="python")
        ref = quote(prompt.name + (f"@{label}" if label else ""))
        st.code(f'curl -H "Authorization: Bearer $WORKBENCH_API_TOKEN" http://127.0.0.1:8000/v1/prompts/{ref}',
                language="bash")
    tabs_key = f"prompts_tabs_{prompt.id}"
    goto = st.session_state.pop("prompts_goto_tab", None)
    if goto in TABS:
        st.session_state[tabs_key] = goto
    editor, history, labels_tab, settings = st.tabs(TABS, key=tabs_key, on_change="rerun")
    with editor:
        render_editor(prompt)
    with history:
        render_history(prompt)
    with labels_tab:
        render_labels(prompt)
    with settings:
        render_settings(prompt)
