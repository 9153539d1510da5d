"""Feedback under an output: 👍/👎 and a label/score/explanation, stored as span annotations."""

from __future__ import annotations

import streamlit as st

from core import annotations as ann
from core.playground.state import RunOutput
from ui import deps
from ui import playground_state as ps
from ui.playground_state import wkey


def _flush_recorder() -> None:
    # The recorder writes spans in batches; annotate only once the span is stored.
    try:
        from core.tracing import get_recorder

        get_recorder(deps.db().url).flush()
    except Exception:  # no recorder yet: the run row check in core covers this
        pass


def _set_output_feedback(card_id: str, turn_id: str, rep: int, value: int | None) -> None:
    card = ps.get_state().card(card_id)
    history = []
    for turn in card.history:
        if turn.id == turn_id:
            outputs = list(turn.outputs)
            outputs[rep] = outputs[rep].model_copy(update={"feedback": value})
            turn = turn.model_copy(update={"outputs": outputs})
        history.append(turn)
    ps.edit(card_id, history=history)


def _on_thumbs(card_id: str, turn_id: str, rep: int, span_id: str) -> None:
    value = st.session_state.get(wkey(card_id, f"fb_{turn_id}_{rep}"))
    db, ws = deps.db(), deps.workspace_id()
    _flush_recorder()
    try:
        if value is None:  # un-clicked: remove the feedback annotation
            for row in ann.list_span_annotations(db, ws, [span_id], names=[ann.FEEDBACK_NAME]):
                ann.delete_span_annotation(db, ws, row["id"])
        else:
            ann.upsert_span_annotation(db, ws, ann.thumbs(span_id, up=value == 1),
                                       user=deps.current_user(), source="APP")
    except (ann.AnnotationError, ann.SpanNotFoundError) as exc:
        ps.set_error(card_id, "run", f"Feedback not saved: {exc}")
        return
    _set_output_feedback(card_id, turn_id, rep, value)


def _on_annotate(card_id: str, turn_id: str, rep: int, span_id: str) -> None:
    prefix = f"ann_{turn_id}_{rep}_"
    get = lambda name: st.session_state.get(wkey(card_id, prefix + name))  # noqa: E731
    label = (get("label") or "").strip() or None
    explanation = (get("explanation") or "").strip() or None
    score = get("score")
    if label is None and score is None and explanation is None:
        ps.set_error(card_id, "run", "Annotation not saved: give a label, a score or an explanation.")
        return
    _flush_recorder()
    try:
        ann.upsert_span_annotation(
            deps.db(), deps.workspace_id(),
            {"span_id": span_id, "name": (get("name") or "").strip() or "note", "annotator_kind": "HUMAN",
             "result": {"label": label, "score": score, "explanation": explanation}},
            user=deps.current_user(), source="APP",
        )
    except (ann.AnnotationError, ann.SpanNotFoundError) as exc:
        ps.set_error(card_id, "run", f"Annotation not saved: {exc}")
        return
    ps.notice("success", f"Annotation saved on span {span_id}.")


def feedback_row(card_id: str, turn_id: str, rep: int, out: RunOutput) -> None:
    """👍/👎 and an "Annotate" popover for the output's span."""
    assert out.span_id is not None
    c_thumbs, c_more = st.columns([1, 2], vertical_alignment="center")
    with c_thumbs:
        key = wkey(card_id, f"fb_{turn_id}_{rep}")
        ps.init_widget(key, out.feedback)
        st.feedback("thumbs", key=key, on_change=_on_thumbs, args=(card_id, turn_id, rep, out.span_id))
    with c_more.popover("🏷 Annotate", width="stretch"):
        prefix = f"ann_{turn_id}_{rep}_"
        with st.form(wkey(card_id, prefix + "form"), border=False):
            st.text_input("Name", value="note", key=wkey(card_id, prefix + "name"))
            st.text_input("Label", key=wkey(card_id, prefix + "label"), placeholder="correct")
            st.number_input("Score", value=None, key=wkey(card_id, prefix + "score"), placeholder="e.g. 1")
            st.text_area("Explanation", key=wkey(card_id, prefix + "explanation"), height=68)
            st.form_submit_button("Save annotation", on_click=_on_annotate,
                                  args=(card_id, turn_id, rep, out.span_id))
        st.caption(f"Span `{out.span_id}` · HUMAN")
