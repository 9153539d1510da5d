"""The Traces page: recorded LLM spans, searchable by text, model, status and time, paged."""

from __future__ import annotations

import json
import math
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
PAGE_SIZES = [25, 50, 100, 200]
PAGE_KEY = "traces_page_no"
SELECTED_KEY = "traces_selected"
_STATUS_ICON = {"OK": "✅ OK", "ERROR": "❌ ERROR", "UNSET": "◻️ UNSET"}


def _preview(text: str | None, n: int = 90) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _content_text(content: Any) -> str:
    if isinstance(content, list):  # OpenAI content parts
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return "" if content is None else str(content)


def input_preview(value: str | None) -> str:
    """What a person would call the input: the last user message, not the request JSON."""
    try:
        data = json.loads(value or "")
    except ValueError:
        return _preview(value)
    if isinstance(data, dict):
        messages = data.get("messages")
        if isinstance(messages, list) and messages:
            users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
            last = (users or [m for m in messages if isinstance(m, dict)] or [{}])[-1]
            return _preview(_content_text(last.get("content")))
        if isinstance(data.get("prompt"), str):
            return _preview(data["prompt"])
    return _preview(value)


def output_preview(value: str | None) -> str:
    """The answer text, or ``🔧 name(args)`` for tool calls, when the output is a raw response."""
    try:
        data = json.loads(value or "")
    except ValueError:
        return _preview(value)
    choices = data.get("choices") if isinstance(data, dict) else None
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        msg = choices[0].get("message") or choices[0].get("delta") or {}
        calls = [c.get("function", {}) for c in msg.get("tool_calls") or [] if isinstance(c, dict)]
        if calls:
            return _preview(" ".join(f"🔧 {c.get('name', '?')}({c.get('arguments', '')})" for c in calls))
        return _preview(_content_text(msg.get("content")) or choices[0].get("text"))
    return _preview(value)


def annotation_text(rows: list[dict[str, Any]]) -> str:
    """A one-cell summary of a span's annotations: 👍/👎 first, then ``name: label score``."""
    parts: list[str] = []
    for r in rows:
        result = r.get("result") or {}
        if r["name"] == ann.FEEDBACK_NAME and result.get("score") is not None:
            parts.insert(0, "👍" if result["score"] >= 0.5 else "👎")
            continue
        bits = [str(result["label"])] if result.get("label") else []
        if result.get("score") is not None:
            bits.append(f"{result['score']:g}")
        parts.append(f"{r['name']}: {' '.join(bits) or '📝'}")
    return " · ".join(parts)


def table_rows(spans: list[dict[str, Any]], notes: dict[str, str]) -> list[dict[str, Any]]:
    """One display row per span (the columns of the request log)."""
    rows = []
    for s in spans:
        output = s["output_value"]
        if s["status_code"] == "ERROR" and not output:
            output = "⚠ " + (s["status_message"] or "error")
        rows.append({
            "time": s["start_time"],
            "model": s["model_name"] or "—",
            "status": _STATUS_ICON.get(s["status_code"], s["status_code"]),
            "latency ms": round(s["latency_ms"]) if s["latency_ms"] is not None else None,
            "tokens": s["total_tokens"],
            "cost $": s["cost"],
            "input": input_preview(s["input_value"]),
            "output": output_preview(output),
            "annotations": notes.get(s["span_id"], ""),
            "session": s["session_id"] or "",
            "span": s["span_id"],
        })
    return rows


def _filters() -> dict[str, Any]:
    db, ws = deps.db(), deps.workspace_id()
    c_text, c_model, c_status, c_time = st.columns([4, 3, 2, 2])
    text = c_text.text_input("Search", key="traces_text", placeholder="words in input, output, model, attributes…")
    models = store.list_span_models(db, ws)
    model = c_model.selectbox("Model", ["All models", *models], key="traces_model")
    status = c_status.selectbox("Status", ["Any", "OK", "ERROR", "UNSET"], key="traces_status")
    window = c_time.selectbox("Time", list(WINDOWS), index=4, key="traces_window")
    session = st.query_params.get("session_id")
    span = WINDOWS[window]
    return {
        "text": text.strip() or None,
        "model": None if model == "All models" else model,
        "status": None if status == "Any" else status,
        "since": datetime.now(UTC) - span if span else None,
        "session_id": session or None,
    }


def _pager(total: int) -> tuple[int, int]:
    """Page size and page number widgets under the table; returns (limit, offset)."""
    size = int(st.session_state.get("traces_page_size", 50))
    pages = max(1, math.ceil(total / size))
    page = min(max(1, int(st.session_state.get(PAGE_KEY, 1))), pages)
    st.session_state[PAGE_KEY] = page
    return size, (page - 1) * size


def _pager_controls(total: int, shown: int, offset: int) -> None:
    size = int(st.session_state.get("traces_page_size", 50))
    pages = max(1, math.ceil(total / size))
    page = int(st.session_state[PAGE_KEY])
    c = st.columns([3, 1, 1, 1.2, 1.2], vertical_alignment="bottom")
    c[0].caption(f"Spans {offset + 1}–{offset + shown} of {total} · page {page} of {pages}")
    c[1].button("◀ Newer", key="traces_prev", disabled=page <= 1, width="stretch",
                on_click=_turn, args=(-1,))
    c[2].button("Older ▶", key="traces_next", disabled=page >= pages, width="stretch",
                on_click=_turn, args=(+1,))
    c[3].number_input("Page", 1, pages, key=PAGE_KEY, step=1)
    c[4].selectbox("Rows per page", PAGE_SIZES, key="traces_page_size", index=PAGE_SIZES.index(50),
                   on_change=lambda: st.session_state.__setitem__(PAGE_KEY, 1))


def _turn(delta: int) -> None:
    st.session_state[PAGE_KEY] = int(st.session_state.get(PAGE_KEY, 1)) + delta


def render() -> None:
    """Draw the Traces page."""
    st.title("Traces")
    st.caption("Every recorded LLM call: from the playground, experiments and apps sending OTLP spans.")
    db, ws = deps.db(), deps.workspace_id()
    filters = _filters()
    # New filters start again at the newest spans.
    signature = repr(sorted((k, str(v) if k != "since" else "") for k, v in filters.items()))
    if st.session_state.get("traces_filter_sig") != signature:
        st.session_state["traces_filter_sig"] = signature
        st.session_state[PAGE_KEY] = 1
    try:
        total = store.count_spans(db, ws, **filters)
        limit, offset = _pager(total)
        spans = store.list_spans(db, ws, limit=limit, offset=offset, **filters)
    except ValueError as exc:
        st.error(f"Bad filter: {exc}")
        return
    session = filters["session_id"]
    if session:
        st.info(f"Showing the playground session `{session}` only.")
    if not spans:
        st.info("No LLM spans match. Run something in the Playground, or send spans over OTLP.")
        _detail_from_link()
        return
    notes: dict[str, list[dict[str, Any]]] = {}
    for row in ann.list_span_annotations(db, ws, [s["span_id"] for s in spans]):
        notes.setdefault(row["span_id"], []).append(row)
    event = st.dataframe(
        table_rows(spans, {k: annotation_text(v) for k, v in notes.items()}),
        key=f"traces_table_{offset}_{limit}", hide_index=True, width="stretch",
        height=min(38 + 35 * len(spans), 560),
        on_select="rerun", selection_mode="single-row",
        column_config={
            "time": st.column_config.DatetimeColumn("time", format="YYYY-MM-DD HH:mm:ss", width="medium"),
            "model": st.column_config.TextColumn("model", width="medium"),
            "status": st.column_config.TextColumn("status", width="small"),
            "latency ms": st.column_config.NumberColumn("latency ms", format="%d", width="small"),
            "tokens": st.column_config.NumberColumn("tokens", width="small"),
            "cost $": st.column_config.NumberColumn("cost $", format="%.6f", width="small"),
            "input": st.column_config.TextColumn("input", width="medium"),
            "output": st.column_config.TextColumn("output", width="medium"),
            "annotations": st.column_config.TextColumn("annotations", width="medium"),
            "session": st.column_config.TextColumn("session", width="small"),
            "span": st.column_config.TextColumn("span id", width="small"),
        },
    )
    _pager_controls(total, len(spans), offset)
    selected = event.selection.rows if event is not None else []  # type: ignore[union-attr]
    if selected and selected[0] < len(spans):
        st.session_state[SELECTED_KEY] = spans[selected[0]]["span_id"]
        st.query_params["span_id"] = spans[selected[0]]["span_id"]
    _detail_from_link()


def _detail_from_link() -> None:
    """The selected span's detail (a ``?span_id=`` link selects one too)."""
    linked = st.query_params.get("span_id")
    span_id = st.session_state.get(SELECTED_KEY) or linked
    if span_id:
        traces_detail.render(span_id)
    else:
        st.caption("Select a row to see the span's messages, attributes and annotations.")
