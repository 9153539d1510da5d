"""Release labels (RG5): point production/staging/custom at a version or a weighted mix."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.prompts import (
    STANDARD_LABELS,
    PromptRegistryError,
    PromptSummary,
    label_history,
    list_labels,
    list_versions,
    remove_label,
    set_label,
)
from ui import deps

CUSTOM = "custom…"


def _target(value: object) -> str:
    if not value:
        return "—"
    if isinstance(value, dict) and value.get("weights"):
        return " / ".join(f"v{w['version']} {w['weight']:g}" for w in value["weights"])
    if isinstance(value, dict):
        return f"v{value.get('version')}"
    return str(value)


def render_labels(prompt: PromptSummary) -> None:
    """Current labels, the form to move one, and the history of moves."""
    db, ws = deps.db(), deps.workspace_id()
    versions = [v.version for v in list_versions(db, ws, prompt.name)]
    if not versions:
        st.info("Save a version first; labels point at versions.")
        return
    labels = list_labels(db, ws, prompt.name)
    if labels:
        st.dataframe(
            pd.DataFrame([{"label": li.name, "points at": li.describe(), "moved by": li.updated_by or "",
                           "when": f"{li.updated_at:%Y-%m-%d %H:%M:%S}"} for li in labels]),
            hide_index=True, width="stretch", key="prompts_labels_table",
        )
    else:
        st.caption("No labels yet. Code fetches `name@production` once you set it.")

    st.markdown("**Move a label**")
    c = st.columns([1, 1])
    choice = c[0].selectbox("Label", [*STANDARD_LABELS, *sorted({li.name for li in labels} - set(STANDARD_LABELS)), CUSTOM],
                            key=f"prompts_lbl_name_{prompt.id}")
    name = choice
    if choice == CUSTOM:
        name = c[1].text_input("Custom label", key=f"prompts_lbl_custom_{prompt.id}", placeholder="e.g. canary")
    weighted = st.toggle("Weighted (gradual release)", key=f"prompts_lbl_weighted_{prompt.id}",
                         help="Split traffic between versions; each user key always gets the same one")
    try:
        if not weighted:
            version = st.selectbox("Version", versions, format_func=lambda n: f"v{n}", key=f"prompts_lbl_version_{prompt.id}")
            if st.button(f"Point {name or 'label'} at v{version}", key=f"prompts_lbl_set_{prompt.id}", type="primary"):
                set_label(db, ws, prompt.name, name, version=version, actor=deps.current_user())
                st.session_state["prompts_flash"] = f"{name} → v{version}"
                st.rerun()
        else:
            chosen = st.multiselect("Versions", versions, default=versions[:2], format_func=lambda n: f"v{n}",
                                    key=f"prompts_lbl_versions_{prompt.id}")
            weights = {}
            cols = st.columns(max(1, len(chosen)))
            for i, v in enumerate(chosen):
                weights[v] = cols[i].number_input(f"v{v} weight (%)", 0.0, 100.0,
                                                  value=100.0 / len(chosen), step=5.0,
                                                  key=f"prompts_lbl_w_{prompt.id}_{v}")
            if weights:
                total = sum(weights.values()) or 1
                st.caption("Split: " + " / ".join(f"v{v} {100 * w / total:.0f}%" for v, w in weights.items()))
            if st.button(f"Set weighted {name or 'label'}", key=f"prompts_lbl_setw_{prompt.id}", type="primary"):
                set_label(db, ws, prompt.name, name, weights=weights, actor=deps.current_user())
                st.session_state["prompts_flash"] = f"{name} is now a weighted release"
                st.rerun()
        if labels:
            c = st.columns([2, 1], vertical_alignment="bottom")
            drop = c[0].selectbox("Remove label", [li.name for li in labels], key=f"prompts_lbl_drop_{prompt.id}")
            if c[1].button("Remove", key=f"prompts_lbl_remove_{prompt.id}"):
                remove_label(db, ws, prompt.name, drop, actor=deps.current_user())
                st.session_state["prompts_flash"] = f"Removed label {drop}; code asking for {prompt.name}@{drop} now fails."
                st.rerun()
    except PromptRegistryError as exc:
        st.error(exc.message)

    history = label_history(db, ws, prompt.name)
    if history:
        st.markdown("**History**")
        st.dataframe(
            pd.DataFrame([{"when": f"{e.created_at:%Y-%m-%d %H:%M:%S}", "label": e.label, "from": _target(e.from_target),
                           "to": _target(e.to_target), "who": e.actor or ""} for e in history]),
            hide_index=True, width="stretch", key="prompts_labels_history",
        )
