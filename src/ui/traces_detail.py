"""One span in detail: messages, output, attributes, annotations, "Open in playground"."""

from __future__ import annotations

import json
from typing import Any

import streamlit as st
from streamlit.errors import StreamlitAPIException

from core import annotations as ann
from core.tracing import store
from ui import deps


def messages_from_attributes(attrs: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    """``llm.input_messages.{i}.message.*`` flat attributes as a list of message dicts."""
    found: dict[int, dict[str, Any]] = {}
    head = f"{prefix}."
    for key, value in attrs.items():
        if not key.startswith(head):
            continue
        rest = key[len(head):].split(".", 2)
        if len(rest) < 3 or not rest[0].isdigit() or rest[1] != "message":
            continue
        msg = found.setdefault(int(rest[0]), {})
        field = rest[2]
        if field.startswith("tool_calls."):
            parts = field.split(".", 3)  # tool_calls.{k}.tool_call.{...}
            if len(parts) == 4 and parts[1].isdigit():
                call = msg.setdefault("tool_calls", {}).setdefault(int(parts[1]), {})
                call[parts[3]] = value
        else:
            msg[field] = value
    out = []
    for i in sorted(found):
        msg = found[i]
        if isinstance(msg.get("tool_calls"), dict):
            msg["tool_calls"] = [msg["tool_calls"][k] for k in sorted(msg["tool_calls"])]
        out.append(msg)
    return out


def _show_messages(messages: list[dict[str, Any]]) -> None:
    for msg in messages:
        role = str(msg.get("role", "user"))
        avatar = {"system": "⚙️", "developer": "⚙️", "tool": "🔧"}.get(role)
        with st.chat_message("assistant" if role == "assistant" else "user", avatar=avatar):
            st.caption(role + (f" · tool call `{msg['tool_call_id']}`" if msg.get("tool_call_id") else ""))
            if msg.get("content"):
                st.text(str(msg["content"]))
            for call in msg.get("tool_calls") or []:
                st.markdown(f"🔧 **{call.get('function.name', '?')}**")
                try:
                    st.json(json.loads(call.get("function.arguments") or "{}"))
                except ValueError:
                    st.code(str(call.get("function.arguments")))


def _open_in_playground(span: dict[str, Any]) -> None:
    from core.playground.state import PlaygroundState
    from core.playground.sync import PlaygroundEditError
    from core.replay import ReplayError, SpanParseError
    from ui import playground_dialogs, playground_state

    try:
        if playground_state.STATE not in st.session_state:
            from core.playground.cards import card_from_replay
            from core.replay import replay_span

            card = card_from_replay(replay_span(span), span)
            playground_state.open_state(PlaygroundState(cards=[card]), session_id=None,
                                        name=f"Replay of {span['context']['span_id']}")
            st.session_state[playground_state.PRISTINE] = None
        else:
            card = playground_dialogs.add_replayed_card(span)
    except (SpanParseError, ReplayError, PlaygroundEditError, ValueError) as exc:
        st.error(f"This span can't be opened in the playground: {exc}")
        return
    playground_state.notice("success", f"Opened span {span['context']['span_id']} in a new card.")
    try:
        st.switch_page("pages/playground.py")
    except StreamlitAPIException:  # run outside the app's navigation (tests): link instead
        st.success("Opened in the playground.")


def _on_thumbs(span_id: str) -> None:
    value = st.session_state.get(f"traces_fb_{span_id}")
    if value is None:
        return
    try:
        ann.upsert_span_annotation(deps.db(), deps.workspace_id(), ann.thumbs(span_id, up=value == 1),
                                   user=deps.current_user(), source="APP")
    except (ann.AnnotationError, ann.SpanNotFoundError) as exc:
        st.session_state["traces_ann_error"] = str(exc)


def _on_annotate(span_id: str) -> None:
    get = lambda k: st.session_state.get(f"traces_ann_{k}")  # noqa: E731
    label = (get("label") or "").strip() or None
    explanation = (get("explanation") or "").strip() or None
    score = get("score")
    if label is None and score is None and explanation is None:
        st.session_state["traces_ann_error"] = "Give a label, a score or an explanation."
        return
    try:
        ann.upsert_span_annotation(
            deps.db(), deps.workspace_id(),
            {"span_id": span_id, "name": (get("name") or "").strip() or "note",
             "annotator_kind": get("kind") or "HUMAN",
             "result": {"label": label, "score": score, "explanation": explanation}},
            user=deps.current_user(), source="APP")
    except (ann.AnnotationError, ann.SpanNotFoundError) as exc:
        st.session_state["traces_ann_error"] = str(exc)


def _annotations(span_id: str) -> None:
    db, ws = deps.db(), deps.workspace_id()
    rows = ann.list_span_annotations(db, ws, [span_id])
    error = st.session_state.pop("traces_ann_error", None)
    if error:
        st.error(f"Annotation not saved: {error}")
    feedback = next((r for r in rows if r["name"] == ann.FEEDBACK_NAME and r["result"]), None)
    key = f"traces_fb_{span_id}"
    if key not in st.session_state and feedback and feedback["result"]["score"] is not None:
        st.session_state[key] = int(feedback["result"]["score"] >= 0.5)
    st.feedback("thumbs", key=key, on_change=_on_thumbs, args=(span_id,))
    if rows:
        st.dataframe([{
            "name": r["name"], "kind": r["annotator_kind"],
            "label": (r["result"] or {}).get("label"), "score": (r["result"] or {}).get("score"),
            "explanation": (r["result"] or {}).get("explanation"), "by": r["user_id"],
            "updated": r["updated_at"],
        } for r in rows], hide_index=True, width="stretch")
    with st.form("traces_ann_form", border=True):
        st.markdown("**Add an annotation**")
        c1, c2 = st.columns(2)
        c1.text_input("Name", value="note", key="traces_ann_name")
        c2.selectbox("Annotator", ["HUMAN", "LLM", "CODE"], key="traces_ann_kind")
        c1.text_input("Label", key="traces_ann_label", placeholder="correct")
        c2.number_input("Score", value=None, key="traces_ann_score", placeholder="e.g. 1")
        st.text_area("Explanation", key="traces_ann_explanation", height=68)
        st.form_submit_button("Save annotation", on_click=_on_annotate, args=(span_id,))


def render(span_id: str) -> None:
    """Draw the detail of one span."""
    db, ws = deps.db(), deps.workspace_id()
    span = store.get_span(db, span_id, workspace_id=ws)
    if span is None:
        st.warning(f"Span `{span_id}` is no longer recorded.")
        return
    attrs = span["attributes"]
    st.divider()
    c_title, c_open = st.columns([4, 1], vertical_alignment="center")
    status = span["status_code"]
    badge = {"OK": ":green[OK]", "ERROR": ":red[ERROR]"}.get(status, status)
    c_title.subheader(f"{span['name']} · {badge}")
    if c_open.button("⏪ Open in playground", key="traces_open_playground", type="primary",
                     width="stretch"):
        _open_in_playground(span)
    if span["status_message"]:
        st.error(span["status_message"])
    m = st.columns(5)
    m[0].metric("Model", attrs.get("llm.model_name") or "—")
    m[1].metric("Latency", f"{span['latency_ms']:.0f} ms" if span["latency_ms"] is not None else "—")
    m[2].metric("Tokens in/out", f"{attrs.get('llm.token_count.prompt', '—')} / {attrs.get('llm.token_count.completion', '—')}")
    cost = attrs.get("llm.cost.total")
    m[3].metric("Cost", f"${cost:.6f}" if isinstance(cost, int | float) else "—")
    m[4].metric("Finish", str(attrs.get("llm.finish_reason") or "—"))
    st.caption(f"span `{span_id}` · trace `{span['context']['trace_id']}` · started {span['start_time']}")
    tab_msgs, tab_attrs, tab_ann = st.tabs(["Messages", "Attributes", "Annotations"])
    with tab_msgs:
        inputs = messages_from_attributes(attrs, "llm.input_messages")
        if inputs:
            _show_messages(inputs)
        elif attrs.get("input.value"):
            st.caption("Input")
            st.code(str(attrs["input.value"])[:5000])
        outputs = messages_from_attributes(attrs, "llm.output_messages")
        st.markdown("**Output**")
        if outputs:
            _show_messages(outputs)
        elif attrs.get("output.value"):
            st.code(str(attrs["output.value"])[:5000])
        else:
            st.caption("No output recorded.")
    with tab_attrs:
        st.json(attrs, expanded=True)
        if span["events"]:
            st.caption("Events")
            st.json(span["events"], expanded=False)
    with tab_ann:
        _annotations(span_id)
