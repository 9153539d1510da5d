"""A card's conversation: turns, outputs with metrics, tool calls, schema check, feedback."""

from __future__ import annotations

import json
from typing import Any

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from core.playground.requests import validate_output
from core.playground.state import Card, RunOutput, Turn
from ui import playground_feedback as feedback
from ui import playground_runs as runs
from ui import playground_state as ps
from ui.playground_state import wkey


def fmt_ms(value: float | None) -> str:
    """``812 ms`` / ``2.4 s`` / ``—``."""
    if value is None:
        return "—"
    return f"{value:.0f} ms" if value < 1000 else f"{value / 1000:.2f} s"


def fmt_cost(value: float | None) -> str:
    """``$0.00012`` or ``—`` when the price is unknown."""
    if value is None:
        return "—"
    return "$0" if value == 0 else f"${value:.6f}".rstrip("0")


def metrics_line(out: RunOutput) -> str:
    """Latency, TTFT, tokens in/out, cost and finish reason on one line."""
    est = " (est.)" if out.usage_estimated else ""
    tokens_in = "—" if out.prompt_tokens is None else str(out.prompt_tokens)
    tokens_out = "—" if out.completion_tokens is None else str(out.completion_tokens)
    return (f"⏱ {fmt_ms(out.latency_ms)} · TTFT {fmt_ms(out.ttft_ms)} · "
            f"tokens {tokens_in} in / {tokens_out} out{est} · cost {fmt_cost(out.cost)} · "
            f"finish {out.finish_reason or '—'}")


def conversation(card: Card, running: bool, placeholders: dict[str, DeltaGenerator]) -> None:
    """The card's turns, then a placeholder where a live run streams."""
    snap = runs.live_snapshot(card.id) if running else None
    if not (snap is not None and snap["fresh"]):  # a fresh run replaces the conversation
        for n, turn in enumerate(card.history):
            _turn(card, turn, last=n == len(card.history) - 1)
    ph = st.empty()
    placeholders[card.id] = ph
    if snap is not None:
        draw_live(ph, snap)


def _turn(card: Card, turn: Turn, last: bool) -> None:
    if turn.user is not None:
        with st.chat_message("user"):
            st.text(turn.user.content)
    if not turn.outputs:
        return
    if len(turn.outputs) == 1:
        _output(card, turn, 0, turn.outputs[0])
        return
    marks = ["✓" if o.status == "ok" else "✗" for o in turn.outputs]
    tabs = st.tabs([f"#{i + 1} {m}" for i, m in enumerate(marks)])
    for i, (tab, out) in enumerate(zip(tabs, turn.outputs, strict=True)):
        with tab:
            _output(card, turn, i, out)
            if last and card.operation == "chat":
                chosen = i == turn.chosen
                st.button("✔ Continuing with this reply" if chosen else "Continue with this reply",
                          key=wkey(card.id, f"choose_{turn.id}_{i}"), disabled=chosen,
                          on_click=_choose, args=(card.id, turn.id, i))


def _choose(card_id: str, turn_id: str, index: int) -> None:
    card = ps.get_state().card(card_id)
    history = [t.model_copy(update={"chosen": index}) if t.id == turn_id else t for t in card.history]
    ps.edit(card_id, history=history)


def _output(card: Card, turn: Turn, rep: int, out: RunOutput) -> None:
    with st.chat_message("assistant"):
        if out.text:
            st.markdown(out.text)
        for call in out.tool_calls:
            tool_call(call.name, call.arguments)
        if out.status == "cancelled":
            st.warning("Stopped — the partial output is kept.", icon="⏹")
        elif out.status in ("error", "interrupted") and out.error:
            st.error(out.error, icon="🚫")
        if out.status == "ok" and out.text:
            ok, detail = validate_output(card, out.text)
            if ok is True:
                st.markdown(f":green[✅ Output schema: {detail}]")
            elif ok is False:
                st.markdown(f":red[❌ Output schema: {detail}]")
        st.caption(metrics_line(out))
        if out.span_id:
            feedback.feedback_row(card.id, turn.id, rep, out)


def tool_call(name: str, arguments: str) -> None:
    """A tool call as its name and pretty-printed JSON arguments."""
    st.markdown(f"🔧 **{name or '(unnamed tool)'}**")
    try:
        st.json(json.loads(arguments or "{}"), expanded=True)
    except ValueError:
        st.code(arguments or "", language="json")


def draw_live(ph: DeltaGenerator, snap: dict[str, Any]) -> None:
    """Redraw a running card's placeholder: text so far, tool calls, progress."""
    with ph.container():
        if snap["user"] is not None and snap["fresh"] is False:
            with st.chat_message("user"):
                st.text(snap["user"].content)
        with st.chat_message("assistant"):
            if snap["text"]:
                st.markdown(snap["text"] + ("" if snap["done"] else " ▌"))
            for call in snap["tool_calls"]:
                st.markdown(f"🔧 **{call['name']}** `{call['arguments']}`")
            reps = snap["repetitions"]
            rep = f"run {snap['repetition'] + 1}/{reps} · " if reps > 1 else ""
            state = "stopping…" if snap["cancelled"] and not snap["done"] else (
                "done" if snap["done"] else "streaming…" if snap["text"] else "waiting for the model…")
            st.caption(f"{rep}{state} {snap['elapsed_s']:.1f} s")


def replay_report(card: Card) -> None:
    """The fidelity report of a replayed card, with "Re-run as recorded"."""
    origin = card.replay
    assert origin is not None
    counts: dict[str, int] = {}
    for item in origin.report:
        counts[item.status] = counts.get(item.status, 0) + 1
    summary = " · ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    with st.expander(f"⏪ Replayed span `{origin.span_id or '?'}` — {summary or 'no report'}"):
        icons = {"copied": "✅", "guessed": "🟡", "dropped": "❌", "defaulted": "⚪"}
        rows = [{"": icons.get(i.status, ""), "field": i.field, "status": i.status,
                 "detail": i.detail, "value": i.value_preview} for i in origin.report]
        if rows:
            st.dataframe(rows, hide_index=True, width="stretch")
        for warning in origin.warnings:
            st.warning(warning)
        if origin.original_output:
            st.caption("Original output")
            st.text(origin.original_output[:2000])
        st.button("⟲ Re-run as recorded", key=wkey(card.id, "rerun_recorded"),
                  on_click=runs.rerun_as_recorded, args=(card.id,),
                  disabled=origin.span is None or card.id in ps.running_cards(),
                  help="Send the original request exactly as recorded, ignoring edits")
