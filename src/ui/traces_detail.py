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
                call_id = f" · `{call['id']}`" if call.get("id") else ""
                st.markdown(f"🔧 calls **{call.get('function.name', '?')}**{call_id}")
                raw = call.get("function.arguments") or "{}"
                try:
                    st.code(json.dumps(json.loads(raw), indent=2, ensure_ascii=False), language="json")
                except ValueError:  # streamed arguments can be cut off: show them as they are
                    st.code(str(raw), language=None, wrap_lines=True)


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
        return
    st.session_state["traces_ann_ok"] = f"Saved annotation {(get('name') or '').strip() or 'note'}."
    for k in ("label", "explanation"):
        st.session_state[f"traces_ann_{k}"] = ""
    st.session_state["traces_ann_score"] = None


def _annotations(span_id: str) -> None:
    db, ws = deps.db(), deps.workspace_id()
    rows = ann.list_span_annotations(db, ws, [span_id])
    error = st.session_state.pop("traces_ann_error", None)
    if error:
        st.error(f"Annotation not saved: {error}")
    saved = st.session_state.pop("traces_ann_ok", None)
    if saved:
        st.success(saved)
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
            "updated": (r["updated_at"] or "")[:19].replace("T", " "),
        } for r in rows], hide_index=True, width="stretch")
    else:
        st.caption("No annotations yet: give 👍/👎 or add a label, score or explanation below.")
    with st.form("traces_ann_form", border=True):
        st.markdown("**Add an annotation**")
        c1, c2 = st.columns(2)
        c1.text_input("Name", value="note", key="traces_ann_name")
        c2.selectbox("Annotator", ["HUMAN", "LLM", "CODE"], key="traces_ann_kind")
        c1.text_input("Label", key="traces_ann_label", placeholder="correct")
        c2.number_input("Score", value=None, key="traces_ann_score", placeholder="e.g. 1")
        st.text_area("Explanation", key="traces_ann_explanation", height=68)
        st.form_submit_button("Save annotation", on_click=_on_annotate, args=(span_id,))


def _json_attr(attrs: dict[str, Any], key: str) -> Any:
    value = attrs.get(key)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def tools_from_attributes(attrs: dict[str, Any]) -> list[dict[str, Any]]:
    """``llm.tools.{i}.tool.json_schema`` as a list of tool definitions, in order."""
    found: dict[int, Any] = {}
    for key in attrs:
        parts = key.split(".")
        if len(parts) == 5 and parts[:2] == ["llm", "tools"] and parts[2].isdigit() and parts[3:] == ["tool", "json_schema"]:
            found[int(parts[2])] = _json_attr(attrs, key)
    return [found[i] if isinstance(found[i], dict) else {"raw": found[i]} for i in sorted(found)]


def _show_tools(tools: list[dict[str, Any]]) -> None:
    for tool in tools:
        fn = tool.get("function") if isinstance(tool.get("function"), dict) else tool
        st.markdown(f"🔧 **{fn.get('name', '?')}** — {fn.get('description') or ''}")
        st.json(fn.get("parameters", tool), expanded=False)


def _show_template(attrs: dict[str, Any]) -> None:
    template = _json_attr(attrs, "llm.prompt_template.template")
    if template is None:
        return
    version = attrs.get("llm.prompt_template.version")
    fmt = attrs.get("workbench.prompt_template.format")
    title = "Prompt template" + (f" · {version}" if version else "") + (f" · {fmt}" if fmt else "")
    with st.expander(title, key="traces_detail_template_exp"):
        if isinstance(template, list):
            for m in template:
                st.markdown(f"**{m.get('role', '?')}**")
                st.code(str(m.get("content") or ""), language=None, wrap_lines=True)
        else:
            st.code(str(template), language=None, wrap_lines=True)
        variables = _json_attr(attrs, "llm.prompt_template.variables")
        if isinstance(variables, dict) and variables:
            st.dataframe([{"variable": k, "value": v if isinstance(v, str) else json.dumps(v)}
                          for k, v in variables.items()], hide_index=True, width="stretch")


def _show_trace(span: dict[str, Any]) -> None:
    db, ws = deps.db(), deps.workspace_id()
    siblings = store.get_trace(db, span["context"]["trace_id"], workspace_id=ws)
    if len(siblings) < 2:
        return
    with st.expander(f"This trace has {len(siblings)} spans (retries, turns or children)",
                     key="traces_detail_trace_exp"):
        st.dataframe([{
            "": "▶" if s["context"]["span_id"] == span["context"]["span_id"] else "",
            "started": s["start_time"][:23].replace("T", " "), "name": s["name"],
            "status": s["status_code"], "attempt": s["attributes"].get("workbench.attempt"),
            "latency ms": round(s["latency_ms"]) if s["latency_ms"] is not None else None,
            "message": s["status_message"], "span id": s["context"]["span_id"],
        } for s in siblings], hide_index=True, width="stretch")


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
    badge = {"OK": ":green-badge[OK]", "ERROR": ":red-badge[ERROR]"}.get(status, f":gray-badge[{status}]")
    c_title.subheader(f"{span['name']} {badge}")
    if c_open.button("⏪ Open in playground", key="traces_open_playground", type="primary",
                     width="stretch", help="Replay this call in a new playground card"):
        _open_in_playground(span)
    facts = [f"model `{attrs.get('llm.model_name') or '—'}`"]
    for label, key in (("provider", "llm.provider"), ("source", "workbench.source"),
                       ("session", "session.id"), ("user", "user.id")):
        if attrs.get(key):
            facts.append(f"{label} `{attrs[key]}`")
    st.markdown(" · ".join(facts))
    if span["status_message"]:
        st.error(span["status_message"])
    m = st.columns(5)
    m[0].metric("Latency", f"{span['latency_ms']:,.0f} ms" if span["latency_ms"] is not None else "—")
    ttft = attrs.get("workbench.ttft_ms")
    m[1].metric("First token", f"{ttft:,.0f} ms" if isinstance(ttft, int | float) else "—")
    m[2].metric("Tokens in / out", f"{attrs.get('llm.token_count.prompt', '—')} / {attrs.get('llm.token_count.completion', '—')}")
    cost = attrs.get("llm.cost.total")
    m[3].metric("Cost", f"${cost:.6f}" if isinstance(cost, int | float) else "—")
    m[4].metric("Finish", str(attrs.get("llm.finish_reason") or "—"))
    st.caption(f"span `{span_id}` · trace `{span['context']['trace_id']}` · started "
               f"{span['start_time'][:19].replace('T', ' ')} UTC")

    st.markdown("##### Input")
    inputs = messages_from_attributes(attrs, "llm.input_messages")
    if inputs:
        _show_messages(inputs)
    elif attrs.get("input.value"):
        st.code(str(attrs["input.value"])[:5000], language=None, wrap_lines=True)
    else:
        st.caption("No input recorded.")
    st.markdown("##### Output")
    outputs = messages_from_attributes(attrs, "llm.output_messages")
    if outputs:
        _show_messages(outputs)
    elif attrs.get("output.value"):
        st.code(str(attrs["output.value"])[:5000], language=None, wrap_lines=True)
    else:
        st.caption("No output recorded.")

    _show_template(attrs)
    tools = tools_from_attributes(attrs)
    if tools:
        with st.expander(f"Tools ({len(tools)})", key="traces_detail_tools_exp"):
            _show_tools(tools)
    params = _json_attr(attrs, "llm.invocation_parameters")
    if isinstance(params, dict) and params:
        with st.expander("Invocation parameters", key="traces_detail_params_exp"):
            st.dataframe([{"parameter": k, "value": v if isinstance(v, str) else json.dumps(v)}
                          for k, v in params.items()], hide_index=True, width="stretch")
    _show_trace(span)
    with st.expander(f"All attributes ({len(attrs)})", key="traces_detail_attrs_exp"):
        st.json(attrs, expanded=True)
        if span["events"]:
            st.caption("Events")
            st.json(span["events"], expanded=False)
    st.markdown("##### Annotations")
    _annotations(span_id)
