"""The visual template editor (RG1): messages and roles, format, variables, preview, save."""

from __future__ import annotations

from typing import Any

import streamlit as st

from core.prompts import PromptRegistryError, PromptSummary, save_version
from core.prompts.drafts import DraftCheck, check_draft, preview
from ui import deps
from ui import prompts_state as state
from ui.code_editor import MODE_KEY, code_editor, editor_mode

FORMAT_HELP = {
    "f-string": "Variables as `{name}`; write `{{` for a literal brace.",
    "mustache": "Variables as `{{name}}`; sections `{{#items}}…{{/items}}`.",
    "jinja2": "Variables as `{{ name }}`, `{% if %}`/`{% for %}` blocks (sandboxed).",
    "none": "Plain text: nothing is substituted.",
}
SNIPPET_HELP = "Include a snippet with `[[snippet:name]]` (newest) or `[[snippet:name@3]]` (pinned)."


def render_editor(prompt: PromptSummary) -> None:
    """The editor of one prompt, working on its draft in session_state."""
    draft = state.get_draft(prompt.name)
    if draft is None:
        st.error("No draft loaded.")
        return
    rev = draft["rev"]
    top = st.columns([1, 1, 1.4])
    draft["template_type"] = top[0].selectbox(
        "Template type", ["chat", "text"], index=["chat", "text"].index(draft["template_type"]),
        key=f"prompts_ed_type_{rev}", help="A list of role/content messages, or one text",
    )
    fmt = top[1].selectbox(
        "Template format", state.FORMATS, index=state.FORMATS.index(draft["template_format"]),
        key=f"prompts_ed_format_{rev}",
    )
    draft["template_format"] = fmt
    with top[2]:
        plain = st.toggle("Plain text editor", value=editor_mode() == "plain", key="prompts_ed_plain",
                          help="Use simple text boxes instead of the code editor")
        st.session_state[MODE_KEY] = "plain" if plain else "ace"
    st.caption(f"{FORMAT_HELP[fmt]} {SNIPPET_HELP}")

    db, ws = deps.db(), deps.workspace_id()
    # The check runs on what the editors held at the end of the previous run; each
    # editor below then re-checks its own text so the error sits right under it.
    if draft["template_type"] == "chat":
        _messages(draft, db, ws, fmt)
    else:
        check = check_draft(db, ws, draft["text"], fmt)
        draft["text"] = code_editor(
            draft["text"], key=f"prompts_ed_text_{rev}", template_format=fmt,
            problems=check.problems_for(None), min_lines=6,
        )
        _show_problems(check_draft(db, ws, draft["text"], fmt), None)

    check = check_draft(db, ws, state.draft_template(draft), fmt)
    _model_config(draft)
    _variables_and_preview(draft, check)
    _save_bar(prompt, draft, check)


def _show_problems(check: DraftCheck, index: int | None) -> None:
    for p in check.problems_for(index):
        where = f"{p.location}: " if p.location else ""
        st.error(f"{where}{p.message}", icon="⚠️")


def _messages(draft: dict[str, Any], db: Any, ws: int, fmt: str) -> None:
    rev = draft["rev"]
    msgs = draft["messages"]
    for i, msg in enumerate(list(msgs)):
        mid = msg["id"]
        with st.container(border=True):
            cols = st.columns([2, 0.5, 0.5, 0.5, 4])
            role = cols[0].selectbox(
                f"Role of message {i + 1}", state.ROLES, index=state.ROLES.index(msg["role"]) if msg["role"] in state.ROLES else 2,
                key=f"prompts_ed_role_{rev}_{mid}", label_visibility="collapsed",
            )
            msg["role"] = role
            if cols[1].button("↑", key=f"prompts_ed_up_{rev}_{mid}", help="Move up", disabled=i == 0):
                state.move_message(draft, mid, -1)
                st.rerun()
            if cols[2].button("↓", key=f"prompts_ed_down_{rev}_{mid}", help="Move down", disabled=i == len(msgs) - 1):
                state.move_message(draft, mid, +1)
                st.rerun()
            if cols[3].button("🗑", key=f"prompts_ed_del_{rev}_{mid}", help="Remove message", disabled=len(msgs) == 1):
                state.remove_message(draft, mid)
                st.rerun()
            if msg.get("tool_calls") or msg.get("tool_call_id"):
                cols[4].caption("carries tool calls / a tool result (kept as is)")
            before = check_draft(db, ws, [{"role": role, "content": msg["content"]}], fmt)
            msg["content"] = code_editor(
                msg["content"], key=f"prompts_ed_msg_{rev}_{mid}", template_format=fmt,
                problems=before.problems_for(0), placeholder=f"{role} message…",
            )
            after = check_draft(db, ws, [{"role": role, "content": msg["content"]}], fmt)
            for p in after.problems_for(0):
                where = ", ".join(x for x in (f"line {p.line}" if p.line else "", f"column {p.column}" if p.column else "") if x)
                st.error(f"Message {i + 1}{' — ' + where if where else ''}: {p.message}", icon="⚠️")
    cols = st.columns(4)
    new_role = cols[0].selectbox("New message role", state.ROLES, index=2, key=f"prompts_ed_newrole_{rev}",
                                 label_visibility="collapsed")
    if cols[1].button("➕ Add message", key=f"prompts_ed_add_{rev}"):
        state.add_message(draft, new_role)
        st.rerun()


def _model_config(draft: dict[str, Any]) -> None:
    rev, llm = draft["rev"], draft["llm"]
    with st.expander("Model configuration", expanded=bool(llm.get("model")), key=f"prompts_ed_cfg_exp_{rev}"):
        c = st.columns(2)
        llm["model"] = c[0].text_input("Model", value=llm.get("model", ""), key=f"prompts_ed_model_{rev}",
                                       placeholder="e.g. gpt-4o-mini, local/smollm2")
        llm["provider"] = c[1].text_input("Provider (optional)", value=llm.get("provider", ""),
                                          key=f"prompts_ed_provider_{rev}", placeholder="e.g. openai")
        c = st.columns(3)
        llm["temperature"] = c[0].number_input("Temperature", 0.0, 2.0, value=llm.get("temperature"), step=0.1,
                                               key=f"prompts_ed_temp_{rev}", placeholder="default")
        max_tokens = c[1].number_input("Max tokens", 1, 1_000_000, value=llm.get("max_tokens"), step=1,
                                       key=f"prompts_ed_maxtok_{rev}", placeholder="default")
        llm["max_tokens"] = int(max_tokens) if max_tokens is not None else None
        llm["top_p"] = c[2].number_input("Top p", 0.0, 1.0, value=llm.get("top_p"), step=0.05,
                                         key=f"prompts_ed_topp_{rev}", placeholder="default")
        llm["extra_params"] = st.text_area("More parameters (JSON object)", value=llm.get("extra_params", ""),
                                           key=f"prompts_ed_params_{rev}", placeholder='{"seed": 7, "stop": ["\\n\\n"]}')
        llm["tools"] = st.text_area("Tools (JSON list of OpenAI-style tool definitions)", value=llm.get("tools", ""),
                                    key=f"prompts_ed_tools_{rev}")
        c = st.columns(2)
        llm["tool_choice"] = c[0].text_input("Tool choice", value=llm.get("tool_choice", ""), key=f"prompts_ed_toolchoice_{rev}",
                                             placeholder='auto, none, required or {"type": "function", ...}')
        llm["response_format"] = c[1].text_area("Response format (JSON object)", value=llm.get("response_format", ""),
                                                key=f"prompts_ed_respfmt_{rev}", placeholder='{"type": "json_object"}')
        for err in state.draft_llm_config(draft)[1]:
            st.error(err, icon="⚠️")


def _variables_and_preview(draft: dict[str, Any], check: DraftCheck) -> None:
    rev = draft["rev"]
    left, right = st.columns(2)
    with left:
        st.markdown("**Variables**")
        if not check.variables:
            st.caption("No variables detected. Add some, e.g. `{name}` in f-string format.")
        for name in check.variables:
            draft["samples"][name] = st.text_input(
                f"`{name}`", value=draft["samples"].get(name, ""), key=f"prompts_ed_var_{rev}_{name}",
                help="Sample value for the preview (JSON lists/objects are parsed)",
            )
    with right:
        st.markdown("**Preview**")
        if not check.ok:
            st.info("Fix the template errors to see the preview.")
            return
        samples = state.draft_samples(draft, check.variables)
        missing = [n for n in check.variables if draft["samples"].get(n, "") == ""]
        if missing:
            st.caption("Without a sample value: " + ", ".join(f"`{n}`" for n in missing))
        rendered, error = preview(draft["template_type"], draft["template_format"], check.expanded, samples)
        if error:
            st.warning(error)
        elif isinstance(rendered, str):
            st.code(rendered, language=None, wrap_lines=True)
        else:
            for m in rendered or []:
                with st.chat_message(m["role"], avatar={"system": "⚙️", "developer": "🛠️", "tool": "🔧"}.get(m["role"])):
                    st.markdown(f"**{m['role']}**")
                    st.text(m.get("content") or "")


def _save_bar(prompt: PromptSummary, draft: dict[str, Any], check: DraftCheck) -> None:
    rev = draft["rev"]
    st.divider()
    next_version = prompt.latest_version + 1
    base = draft["base_version"]
    if base and base != prompt.latest_version:
        st.caption(f"Editing from v{base}; the newest is v{prompt.latest_version}.")
    cols = st.columns([4, 1], vertical_alignment="bottom")
    draft["note"] = cols[0].text_input("Version note", value=draft.get("note", ""), key=f"prompts_ed_note_{rev}",
                                       placeholder="What changed and why")
    if cols[1].button(f"💾 Save as v{next_version}", key=f"prompts_ed_save_{rev}", type="primary",
                      width="stretch"):
        cfg, cfg_errors = state.draft_llm_config(draft)
        if cfg_errors:
            st.error("Not saved: " + "; ".join(cfg_errors))
            return
        if not check.ok:
            first = check.problems[0]
            st.error(f"Not saved: {first.location + ': ' if first.location else ''}{first.message}. "
                     "Your text is still in the editor.")
            return
        try:
            info = save_version(
                deps.db(), deps.workspace_id(), prompt.name,
                template_type=draft["template_type"], template_format=draft["template_format"],
                template=state.draft_template(draft), llm_config=cfg, note=draft["note"].strip(),
                author=deps.current_user(), sample_variables=state.draft_samples(draft, check.variables),
                create_if_missing=False,
            )
        except PromptRegistryError as exc:
            st.error(f"Not saved: {exc.message}. Your text is still in the editor.")
            return
        draft["base_version"] = info.version
        draft["note"] = ""
        draft["rev"] = state.next_rev()  # fresh widgets: the note box empties
        st.session_state["prompts_flash"] = f"Saved {prompt.name} v{info.version}."
        st.rerun()
