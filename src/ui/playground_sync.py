"""The playground toolbar: run all, stop all, repetitions, add card, and the sync switches."""

from __future__ import annotations

import streamlit as st

from core.playground import sync
from ui import playground_runs as runs
from ui import playground_state as ps

SWITCHES = {
    "models": ("Models", "Same model in every card"),
    "messages": ("Templates", "Same messages/prompt, operation and template format in every card"),
    "params": ("Parameters", "Same invocation parameters in every card"),
    "variables": ("Variables", "Same variable values (inputs) in every card"),
    "tools": ("Tools", "Same tools, tool choice and response format in every card"),
    "chat_input": ("Sync input", "A chat message typed in any card is sent to every card"),
}


def _on_switch(part: str) -> None:
    on = bool(st.session_state.get(f"playground_sync_{part}"))
    ps.set_state(sync.set_sync(ps.get_state(), part, on))  # type: ignore[arg-type]


def _on_repeat() -> None:
    value = st.session_state.get("playground_repeat") or 1
    ps.set_state(ps.get_state().model_copy(update={"repetitions": max(1, min(int(value), 20))}))


def _on_add() -> None:
    try:
        ps.set_state(sync.add_card(ps.get_state(), ps.default_model()))
    except sync.PlaygroundEditError as exc:
        ps.notice("error", str(exc))


def toolbar(running: set[str]) -> None:
    """Draw the page-level actions and the sync switches."""
    state = ps.get_state()
    from ui import playground_dialogs as dialogs

    c_run, c_stop, c_rep, c_add, c_replay, c_open = st.columns([2, 2, 2, 2, 2, 2], vertical_alignment="bottom")
    c_run.button("▶ Run all", key="playground_run_all", type="primary", width="stretch",
                 on_click=runs.run_all, disabled=len(running) == len(state.cards),
                 help="Run every card at the same time; tokens stream into each card")
    c_stop.button("■ Stop all", key="playground_stop_all", width="stretch",
                  on_click=runs.stop, disabled=not running)
    ps.init_widget("playground_repeat", state.repetitions)
    c_rep.number_input("Repeat each run", min_value=1, max_value=20, step=1, key="playground_repeat",
                       on_change=_on_repeat, help="Run each card N times to see the spread")
    c_add.button("+ Add card", key="playground_add", width="stretch", on_click=_on_add,
                 disabled=len(state.cards) >= sync.MAX_CARDS)
    if c_replay.button("⏪ Replay a span", key="playground_replay", width="stretch",
                       help="Paste an LLM span (OpenInference, Phoenix or OTLP JSON) to open it in a card"):
        dialogs.replay_dialog()
    if c_open.button("📂 Open prompt", key="playground_open_prompt", width="stretch",
                     help="Load name@label or a version from the prompt registry into a new card"):
        dialogs.open_prompt_dialog()
    cols = st.columns(len(SWITCHES) + 1, vertical_alignment="center")
    cols[0].markdown("**Sync**")
    for col, (part, (label, help_text)) in zip(cols[1:], SWITCHES.items(), strict=True):
        ps.init_widget(f"playground_sync_{part}", getattr(state.sync, part))
        col.toggle(label, key=f"playground_sync_{part}", help=help_text, on_change=_on_switch, args=(part,))
