"""Playground dialogs: replay a pasted span, open a registry prompt, save a card as a version."""

from __future__ import annotations

import streamlit as st

from core.playground import sync
from core.playground.cards import card_from_replay, card_from_version, version_fields
from core.playground.requests import CardFieldError
from core.playground.state import Card, PromptRef
from ui import deps
from ui import playground_state as ps


def add_replayed_card(span: dict | str) -> Card:
    """Translate a span and append it to the playground as a new card; returns the card."""
    from core.replay import replay_span

    result = replay_span(span)
    card = card_from_replay(result, span)
    ps.set_state(sync.insert_card(ps.get_state(), card))
    return card


@st.dialog("Replay a span", width="large")
def replay_dialog() -> None:
    """Paste span JSON (OpenInference attributes, Phoenix REST span or OTLP JSON)."""
    st.caption("The span opens in a new card with a report of what was copied, guessed or dropped.")
    text = st.text_area("Span JSON", key="playground_replay_json", height=260,
                        placeholder='{"name": "ChatCompletion", "attributes": {"llm.model_name": …}}')
    if st.button("Open in a new card", key="playground_replay_open", type="primary", disabled=not text.strip()):
        from core.replay import ReplayError, SpanParseError

        try:
            card = add_replayed_card(text)
        except (SpanParseError, ReplayError, ValueError) as exc:
            st.error(f"This span can't be opened: {exc}")
            return
        except sync.PlaygroundEditError as exc:
            st.error(str(exc))
            return
        ps.notice("success", f"Opened span {card.replay.span_id if card.replay else ''} in a new card.")
        st.rerun()


@st.dialog("Open a prompt from the registry")
def open_prompt_dialog() -> None:
    """Pick ``name@label`` or a version and load it into a new card."""
    from core.prompts import PromptRegistryError, get_version, list_prompts

    prompts = list_prompts(deps.db(), deps.workspace_id())
    if not prompts:
        st.info("The registry has no prompts yet. Save a card as a prompt version first.")
        return
    names = [p.name for p in prompts]
    name = st.selectbox("Prompt", names, key="playground_open_name")
    summary = next(p for p in prompts if p.name == name)
    labels = sorted(summary.labels)
    how = st.radio("Which version", ["latest", "label", "version"], horizontal=True, key="playground_open_how")
    label = version = None
    if how == "label":
        if not labels:
            st.caption("This prompt has no labels.")
        label = st.selectbox("Label", labels, key="playground_open_label") if labels else None
    elif how == "version":
        version = int(st.number_input("Version", min_value=1, max_value=summary.latest_version,
                                      value=summary.latest_version, key="playground_open_version"))
    if st.button("Open in a new card", key="playground_open_go", type="primary",
                 disabled=how == "label" and not label):
        try:
            info = get_version(deps.db(), deps.workspace_id(), name, label=label, version=version)
            card = card_from_version(info, label=label)
            if not card.model:
                card = card.model_copy(update={"model": ps.default_model()})
            ps.set_state(sync.insert_card(ps.get_state(), card))
        except (PromptRegistryError, sync.PlaygroundEditError, ValueError) as exc:
            st.error(str(exc))
            return
        ps.notice("success", f"Loaded {card.title} into a new card.")
        st.rerun()


@st.dialog("Save as prompt version")
def save_prompt_dialog(card_id: str) -> None:
    """Save the card's template and model config as a new prompt or its next version."""
    from core.prompts import PromptRegistryError, save_version

    card = ps.get_state().card(card_id)
    options = ["New prompt"]
    if card.prompt_ref is not None:
        options.insert(0, f"Next version of {card.prompt_ref.name}")
    target = st.radio("Save to", options, key=ps.wkey(card_id, "save_target"))
    if target == "New prompt":
        name = st.text_input("Prompt name", key=ps.wkey(card_id, "save_name"), placeholder="support-answer")
    else:
        assert card.prompt_ref is not None
        name = card.prompt_ref.name
    note = st.text_area("Note", key=ps.wkey(card_id, "save_note"), placeholder="What changed and why")
    if st.button("Save version", key=ps.wkey(card_id, "save_go"), type="primary", disabled=not (name or "").strip()):
        try:
            fields = version_fields(card)
            info = save_version(deps.db(), deps.workspace_id(), name.strip(), note=note,
                                author=deps.current_user(), create_if_missing=target == "New prompt",
                                **fields)
        except CardFieldError as exc:
            st.error(str(exc))
            return
        except (PromptRegistryError, ValueError) as exc:
            st.error(f"Not saved: {exc}")
            return
        ref = PromptRef(name=info.prompt_name, version=info.version, prompt_version_id=info.version_id)
        ps.edit(card_id, prompt_ref=ref)
        ps.notice("success", f"Saved {info.ref}.")
        st.rerun()
