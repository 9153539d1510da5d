"""The Traces page: recorded LLM spans, searchable by text, model, status and time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import streamlit as st

from core import annotations as ann
from core.tracing import store
from ui import deps, traces_detail

WINDOWS = {
    "Last hour": timedelta(hours=1),
    "Last 24 hours": timedelta(days=1),
    "Last 7 days": timedelta(days=7),
    "Last 30 days": timedelta(days=30),
    "All time": None,
}
PAGE_SIZE = 200


def _preview(text: str | None, n: int = 80) -> str:
    text = (text or "").replace("\n", " ")
    return text if len(text) <= n else text[: n - 1] + "…"


def _rows(spans: list[dict[str, Any]], summary: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for s in spans:
        fb = summary.get(s["span_id"], {}).get("feedback")
        rows.append({
            "time": s["start_time"],
            "model": s["model_name"] or "—",
            "status": s["status_code"],
            "latency ms": round(s["latency_ms"]) if s["latency_ms"] is not None else None,
            "tokens": s["total_tokens"],
            "cost $": s["cost"],
            "👍": "👍" if fb == 1 else "👎" if fb == 0 else "",
            "input": _preview(s["input_value"]),
            "output": _preview(s["output_value"]),
            "span": s["span_id"],
        })
    return rows


def render() -> None:
    """Draw the Traces page."""
    st.title("Traces")
    st.caption("Every recorded LLM call: from the playground, experiments and apps sending OTLP spans.")
    db, ws = deps.db(), deps.workspace_id()
    c_text, c_model, c_status, c_time = st.columns([4, 3, 2, 2])
    text = c_text.text_input("Search", key="traces_text", placeholder="words in input, output, model, attributes…")
    known = sorted({s["model_name"] for s in store.list_spans(db, ws, limit=1000) if s["model_name"]})
    model = c_model.selectbox("Model", ["All models", *known], key="traces_model")
    status = c_status.selectbox("Status", ["Any", "OK", "ERROR", "UNSET"], key="traces_status")
    window = c_time.selectbox("Time", list(WINDOWS), index=4, key="traces_window")
    session = st.query_params.get("session_id")
    since = datetime.now(UTC) - WINDOWS[window] if WINDOWS[window] else None
    filters: dict[str, Any] = {
        "text": text.strip() or None,
        "model": None if model == "All models" else model,
        "status": None if status == "Any" else status,
        "since": since,
        "session_id": session or None,
    }
    try:
        spans = store.list_spans(db, ws, limit=PAGE_SIZE, **filters)
        total = store.count_spans(db, ws, **filters)
    except ValueError as exc:
        st.error(f"Bad filter: {exc}")
        return
    if session:
        st.info(f"Showing the playground session `{session}` only.")
    if not spans:
        st.info("No LLM spans match. Run something in the Playground, or send spans over OTLP.")
        return
    st.caption(f"{total} span{'s' * (total != 1)}" + (f" (newest {PAGE_SIZE} shown)" if total > PAGE_SIZE else ""))
    summary = ann.annotation_summary(db, ws, [s["span_id"] for s in spans])
    event = st.dataframe(
        _rows(spans, summary), key="traces_table", hide_index=True, width="stretch",
        on_select="rerun", selection_mode="single-row",
        column_config={
            "time": st.column_config.DatetimeColumn("time", format="YYYY-MM-DD HH:mm:ss"),
            "cost $": st.column_config.NumberColumn("cost $", format="%.6f"),
        },
    )
    selected = event.selection.rows if event is not None else []  # type: ignore[union-attr]
    span_id = spans[selected[0]]["span_id"] if selected else st.session_state.get("traces_selected")
    if selected:
        st.session_state["traces_selected"] = span_id
    if span_id:
        traces_detail.render(span_id)
    else:
        st.caption("Select a row to see the span's messages, attributes and annotations.")
