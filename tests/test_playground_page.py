"""The Playground page under AppTest: cards, sync, errors in the card, runs, feedback, sessions."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from core import annotations as ann
from core.playground import sessions

ROOT = Path(__file__).resolve().parents[1]
PAGE = str(ROOT / "pages" / "playground.py")


def open_page(**query: str) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    return at


def state(at: AppTest):  # type: ignore[no-untyped-def]
    return at.session_state["playground_state"]


def key(cid: str, name: str) -> str:
    return f"playground_{cid}_{name}"


def test_starts_with_one_card_on_the_embedded_model() -> None:
    from core.providers import DEFAULT_MODEL

    at = open_page()
    assert at.title[0].value == "Playground"
    cards = state(at).cards
    assert len(cards) == 1 and cards[0].model == DEFAULT_MODEL
    assert at.selectbox(key=key(cards[0].id, "model")).value == DEFAULT_MODEL
    assert at.text_area(key=key(cards[0].id, "var_question")) is not None


def test_add_cards_and_sync_messages_across_them() -> None:
    at = open_page()
    for _ in range(4):
        at.button(key="playground_add").click().run()
    assert len(state(at).cards) == 5  # 4 per row, the fifth wraps to a new row
    a, b = state(at).cards[0].id, state(at).cards[1].id
    at.toggle(key="playground_sync_messages").set_value(True).run()
    at.text_area(key=key(a, "msg_1_content")).set_value("Summarise: {text}").run()
    assert at.text_area(key=key(b, "msg_1_content")).value == "Summarise: {text}"
    assert all(c.messages[1].content == "Summarise: {text}" for c in state(at).cards)
    # the variables panel follows the template
    assert at.text_area(key=key(b, "var_text")) is not None
    # switching sync off keeps values; a later edit stays in its card
    at.toggle(key="playground_sync_messages").set_value(False).run()
    at.text_area(key=key(b, "msg_1_content")).set_value("Other {text}").run()
    assert state(at).card(a).messages[1].content == "Summarise: {text}"
    assert state(at).card(b).messages[1].content == "Other {text}"
    # remove a card (the confirmation lives in the card's menu)
    at.button(key=key(b, "remove")).click().run()
    assert b not in [c.id for c in state(at).cards]


def test_bad_tools_json_is_shown_in_that_card_and_others_still_run(sqlite_database) -> None:  # type: ignore[no-untyped-def]
    at = open_page()
    at.button(key="playground_add").click().run()
    a, b = (c.id for c in state(at).cards)
    for cid in (a, b):
        at.text_area(key=key(cid, "var_question")).set_value("Say hi")
        at.number_input(key=key(cid, "p_max_tokens")).set_value(6)
    bad = '[{"name": "f",\n  "parameters": {]'
    at.text_area(key=key(a, "tools")).set_value(bad).run()
    at.button(key="playground_run_all").click().run()
    assert not at.exception, at.exception
    errors = [e.value for e in at.error]
    assert any(e.startswith("Tools JSON: line 2 column") for e in errors), errors
    assert state(at).card(a).tools == bad  # what the user typed is kept
    assert state(at).card(a).history == []  # nothing was sent
    out = state(at).card(b).history[0].outputs[0]
    assert out.status == "ok" and out.text and out.span_id
    assert any(c.value.startswith("⏱ ") and "TTFT" in c.value for c in at.caption)
    # the setup folds once a card has run (its output moves up); the card that sent nothing
    # keeps its setup open so the user can fix it
    assert at.session_state[key(b, "setup")] is False
    assert at.session_state[key(a, "setup")] is True


def test_chat_sync_input_feedback_and_session_restore(sqlite_database) -> None:  # type: ignore[no-untyped-def]
    at = open_page()
    at.button(key="playground_add").click().run()
    a, b = (c.id for c in state(at).cards)
    for cid in (a, b):
        at.text_area(key=key(cid, "var_question")).set_value("Hello")
        at.number_input(key=key(cid, "p_max_tokens")).set_value(6)
    at.toggle(key="playground_sync_chat_input").set_value(True).run()
    at.chat_input(key=key(a, "chat")).set_value("Name a colour.").run()
    assert not at.exception, at.exception
    for cid in (a, b):
        turn = state(at).card(cid).history[-1]
        assert turn.user.content == "Name a colour." and turn.outputs[0].status == "ok"
    # a second turn continues the same trace
    at.chat_input(key=key(b, "chat")).set_value("Another one.").run()
    hist = state(at).card(b).history
    assert len(hist) == 2 and hist[0].outputs[0].trace_id == hist[1].outputs[0].trace_id
    # 👍 on card a's output becomes a HUMAN annotation on its span
    turn = state(at).card(a).history[-1]
    at.feedback(key=key(a, f"fb_{turn.id}_0")).set_value(1).run()
    assert not at.exception, at.exception
    span_id = turn.outputs[0].span_id
    db = sqlite_database
    rows = ann.list_span_annotations(db, db.default_workspace_id(), [span_id])
    assert [(r["name"], r["annotator_kind"], r["result"]["score"]) for r in rows] == [("feedback", "HUMAN", 1.0)]
    # the session was saved as it changed; the URL carries it; a fresh page restores it
    sid = at.query_params["session"][0] if isinstance(at.query_params["session"], list) else at.query_params["session"]
    assert [s.id for s in sessions.list_sessions(db, db.default_workspace_id())] == [sid]
    again = open_page(session=sid)
    restored = state(again)
    assert [c.id for c in restored.cards] == [a, b]
    assert restored.sync.chat_input is True
    assert restored.card(a).history[-1].outputs[0].feedback == 1
    assert again.feedback(key=key(a, f"fb_{turn.id}_0")).value == 1


def test_unknown_session_in_url_starts_fresh_with_a_warning() -> None:
    at = open_page(session="does-not-exist")
    assert any("was not found" in w.value for w in at.warning)
    assert len(state(at).cards) == 1


def test_clear_history_keeps_setup(sqlite_database) -> None:  # type: ignore[no-untyped-def]
    from core.playground import sync
    from core.playground.state import RunOutput, Turn

    at = open_page()
    cid = state(at).cards[0].id
    at.text_area(key=key(cid, "msg_0_content")).set_value("Be terse.").run()
    at.session_state["playground_state"] = sync.apply_edit(
        state(at), cid, history=[Turn(outputs=[RunOutput(text="old")])])
    at.run()
    at.button(key=key(cid, "clear")).click().run()
    card = state(at).card(cid)
    assert card.history == [] and card.messages[0].content == "Be terse."
