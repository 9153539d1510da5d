"""Version history (RG2): list, view, comments, rollback, and the diff of any two versions."""

from __future__ import annotations

import difflib
import html
import json
import re

import pandas as pd
import streamlit as st

from core.prompts import (
    PromptRegistryError,
    PromptSummary,
    PromptVersionInfo,
    add_comment,
    diff_versions,
    expand_with_db,
    list_comments,
    list_versions,
    rollback,
)
from core.prompts.diff import VersionDiff
from ui import deps
from ui import prompts_state as state

_TOKENS = re.compile(r"\w+|\s+|[^\w\s]")
_COLOURS = {"equal": "", "insert": "#e6ffec", "delete": "#ffebe9", "replace": "#fff8c5"}


def render_history(prompt: PromptSummary) -> None:
    """History table, one version in detail, and the diff of two versions."""
    db, ws = deps.db(), deps.workspace_id()
    versions = list_versions(db, ws, prompt.name)
    if not versions:
        st.info("No versions yet: save the editor's content to create v1.")
        return
    table = pd.DataFrame(
        [{"version": f"v{v.version}", "note": v.note, "author": v.author or "",
          "saved": v.created_at.strftime("%Y-%m-%d %H:%M:%S UTC"), "labels": ", ".join(v.labels)}
         for v in versions]
    )
    st.dataframe(table, hide_index=True, width="stretch", key="prompts_hist_table")
    by_number = {v.version: v for v in versions}
    # Pickers are keyed by the newest version so a new save resets them to "newest".
    numbers = [v.version for v in versions]

    st.subheader("Version", divider="gray")
    chosen = st.selectbox("Show version", numbers, format_func=lambda n: f"v{n} — {by_number[n].note or '(no note)'}",
                          key=f"prompts_hist_pick_{prompt.id}_{numbers[0]}")
    _version_detail(prompt, by_number[chosen], latest=numbers[0])

    st.subheader("Compare versions", divider="gray")
    if len(numbers) < 2:
        st.caption("Save a second version to compare.")
        return
    c = st.columns(2)
    left = c[0].selectbox("From", numbers, index=len(numbers) - 1, format_func=lambda n: f"v{n}",
                          key=f"prompts_diff_left_{prompt.id}_{numbers[0]}")
    right = c[1].selectbox("To", numbers, index=0, format_func=lambda n: f"v{n}",
                           key=f"prompts_diff_right_{prompt.id}_{numbers[0]}")
    render_diff(diff_versions(by_number[left], by_number[right], expand=lambda t: expand_with_db(db, ws, t)))


def _version_detail(prompt: PromptSummary, v: PromptVersionInfo, latest: int) -> None:
    db, ws = deps.db(), deps.workspace_id()
    st.caption(f"v{v.version} · {v.template_type} · {v.template_format} · by {v.author or 'unknown'} · "
               f"{v.created_at:%Y-%m-%d %H:%M UTC}" + (f" · labels: {', '.join(v.labels)}" if v.labels else ""))
    if isinstance(v.template, str):
        st.code(v.template, language=None, wrap_lines=True)
    else:
        for m in v.template:
            st.markdown(f"**{m.get('role')}**")
            st.code(m.get("content") or "", language=None, wrap_lines=True)
    if v.llm_config:
        with st.expander("Model configuration", key=f"prompts_hist_cfg_exp_{prompt.id}_{v.version}"):
            st.json(v.llm_config)
    c = st.columns(3)
    if c[0].button("✏️ Open in editor", key=f"prompts_hist_edit_{prompt.id}_{v.version}",
                   help="Load this version into the editor (saving makes a new version)"):
        state.put_draft(state.new_draft(prompt.name, v))
        st.session_state["prompts_flash"] = f"Loaded v{v.version} into the editor."
        st.session_state["prompts_goto_tab"] = "✏️ Editor"  # applied before the tabs next run
        st.rerun()
    if c[1].button(f"⏪ Roll back to v{v.version}", key=f"prompts_hist_rollback_{prompt.id}_{v.version}",
                   disabled=v.version == latest and latest == prompt.latest_version,
                   help="Creates a new version equal to this one; history is kept"):
        try:
            new = rollback(db, ws, prompt.name, v.version, author=deps.current_user())
        except PromptRegistryError as exc:
            st.error(exc.message)
        else:
            state.put_draft(state.new_draft(prompt.name, new))
            st.session_state["prompts_flash"] = f"Rolled back: v{new.version} is a copy of v{v.version}."
            st.rerun()
    st.markdown("**Comments**")
    for comment in list_comments(db, ws, prompt.name, v.version):
        st.markdown(f"💬 **{comment.author or 'someone'}** · {comment.created_at:%Y-%m-%d %H:%M} — {comment.body}")
    body = st.text_input("Add a comment", key=f"prompts_hist_comment_{prompt.id}_{v.version}",
                         placeholder="Review notes for this version")
    if st.button("Comment", key=f"prompts_hist_comment_btn_{prompt.id}_{v.version}"):
        try:
            add_comment(db, ws, prompt.name, v.version, body, author=deps.current_user())
        except PromptRegistryError as exc:
            st.error(exc.message)
        else:
            st.session_state.pop(f"prompts_hist_comment_{prompt.id}_{v.version}", None)
            st.session_state["prompts_flash"] = f"Comment added to v{v.version}."
            st.rerun()


def _word_marks(left: str, right: str) -> tuple[str, str]:
    """Both sides of a changed line as HTML, with the changed words marked."""
    # Words, runs of spaces and single punctuation marks: "{name}!" shares "{name}" with "{name}".
    a, b = _TOKENS.findall(left), _TOKENS.findall(right)
    out_a, out_b = [], []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        left_part, right_part = html.escape("".join(a[i1:i2])), html.escape("".join(b[j1:j2]))
        if op == "equal":
            out_a.append(left_part)
            out_b.append(right_part)
            continue
        if left_part:
            out_a.append(f"<span class='del'>{left_part}</span>")
        if right_part:
            out_b.append(f"<span class='ins'>{right_part}</span>")
    return "".join(out_a), "".join(out_b)


def diff_table_html(diff: VersionDiff) -> str:
    """A side-by-side line diff as an HTML table (escaped text, coloured rows)."""
    rows = []
    for line in diff.template_lines:
        colour = _COLOURS[line.op]
        left_bg = colour if line.op in ("delete", "replace") else ""
        right_bg = colour if line.op in ("insert", "replace") else ""
        left_html, right_html = html.escape(line.left or ""), html.escape(line.right or "")
        if line.op == "replace" and line.left and line.right:
            left_html, right_html = _word_marks(line.left, line.right)
        rows.append(
            "<tr>"
            f"<td class='n'>{line.left_no or ''}</td>"
            f"<td style='background:{left_bg}'>{left_html}</td>"
            f"<td class='n'>{line.right_no or ''}</td>"
            f"<td style='background:{right_bg}'>{right_html}</td>"
            "</tr>"
        )
    return (
        "<style>.pwdiff{border-collapse:collapse;width:100%;table-layout:fixed;"
        "font-family:monospace;font-size:13px}"
        ".pwdiff td{padding:2px 6px;vertical-align:top;white-space:pre-wrap;border-bottom:1px solid #eee}"
        ".pwdiff td.n{color:#888;width:2.5em;text-align:right}"
        ".pwdiff .del{background:#ffc1c0;text-decoration:line-through}"
        ".pwdiff .ins{background:#abf2bc}</style>"
        "<table class='pwdiff'><colgroup><col style='width:3em'><col><col style='width:3em'><col>"
        f"</colgroup><tr><th></th><th>v{diff.left.version}</th><th></th>"
        f"<th>v{diff.right.version}</th></tr>{''.join(rows)}</table>"
    )


def render_diff(diff: VersionDiff) -> None:
    """Template line by line, configuration field by field, and both rendered side by side."""
    if diff.identical:
        st.success(f"v{diff.left.version} and v{diff.right.version} are identical.")
    st.markdown("**Template**")
    st.html(diff_table_html(diff))
    with st.expander("Unified diff", key="prompts_diff_unified_exp"):
        st.code(diff.unified or "(no template changes)", language="diff")
    st.markdown("**Configuration**")
    if diff.fields:
        st.dataframe(
            pd.DataFrame(
                [{"field": f.path, "change": f.kind, f"v{diff.left.version}": _show(f.before),
                  f"v{diff.right.version}": _show(f.after)} for f in diff.fields]
            ),
            hide_index=True, width="stretch", key="prompts_diff_fields",
        )
    else:
        st.caption("No configuration changes.")
    st.markdown("**Rendered with sample values**")
    c = st.columns(2)
    c[0].caption(f"v{diff.left.version}")
    c[0].code(diff.rendered_left, language=None, wrap_lines=True)
    c[1].caption(f"v{diff.right.version}")
    c[1].code(diff.rendered_right, language=None, wrap_lines=True)


def _show(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.10g}"  # 0.6000000000000001 (float arithmetic) reads as 0.6
    return "" if value is None else value if isinstance(value, str) else json.dumps(value)
