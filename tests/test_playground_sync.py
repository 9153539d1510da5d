"""Sync semantics: an edit reaches every card only for parts whose switch is on."""

from __future__ import annotations

import pytest

from core.playground import sync
from core.playground.state import (
    DEFAULT_QUESTION,
    Endpoint,
    Message,
    PlaygroundState,
    RunOutput,
    Turn,
    default_state,
)


def three_cards() -> PlaygroundState:
    state = default_state("local/smollm2")
    state = sync.add_card(state, "local/smollm2")
    return sync.add_card(state, "local/smollm2")


def test_edit_with_switch_off_changes_only_that_card() -> None:
    state = three_cards()
    a, b, c = (card.id for card in state.cards)
    new = sync.apply_edit(state, b, model="openai/gpt-4o-mini")
    assert [card.model for card in new.cards] == ["local/smollm2", "openai/gpt-4o-mini", "local/smollm2"]
    assert state.cards[1].model == "local/smollm2"  # input untouched


@pytest.mark.parametrize(
    ("part", "changes"),
    [
        pytest.param("models", {"model": "openai/gpt-4o", "endpoint": None}, id="models"),
        pytest.param("messages", {"messages": [Message(role="user", content="Hi {name}")]}, id="messages"),
        pytest.param("params", {"invocation_parameters": {"temperature": 0.2}}, id="params"),
        pytest.param("variables", {"variables": {"question": "why?"}}, id="variables"),
        pytest.param("tools", {"tools": '[{"name": "f"}]', "tool_choice": "f"}, id="tools"),
    ],
)
def test_edit_with_switch_on_reaches_every_card(part: sync.SyncPart, changes: dict) -> None:
    state = sync.set_sync(three_cards(), part, True)
    edited = state.cards[2].id
    new = sync.apply_edit(state, edited, **changes)
    for card in new.cards:
        for field, value in changes.items():
            got = getattr(card, field)
            got = [m.model_dump() for m in got] if field == "messages" else got
            want = [m.model_dump() for m in value] if field == "messages" else value
            assert got == want, (card.id, field)


def test_switch_on_copies_part_from_source_and_off_keeps_values() -> None:
    state = three_cards()
    a, b, c = (card.id for card in state.cards)
    state = sync.apply_edit(state, b, invocation_parameters={"temperature": 1.5}, variables={"question": "B"})
    state = sync.set_sync(state, "params", True, source_card_id=b)
    assert all(card.invocation_parameters == {"temperature": 1.5} for card in state.cards)
    # variables were not synced: each card kept its own
    assert [card.variables["question"] for card in state.cards] == [DEFAULT_QUESTION, "B", DEFAULT_QUESTION]
    state = sync.set_sync(state, "params", False)
    assert all(card.invocation_parameters == {"temperature": 1.5} for card in state.cards)
    state = sync.apply_edit(state, c, invocation_parameters={"temperature": 0.1})
    assert [card.invocation_parameters["temperature"] for card in state.cards] == [1.5, 1.5, 0.1]


def test_synced_cards_do_not_share_mutable_values() -> None:
    state = sync.set_sync(three_cards(), "messages", True)
    state = sync.apply_edit(state, state.cards[0].id, messages=[Message(content="x")])
    state.cards[1].messages[0].content = "mutated"
    assert state.cards[0].messages[0].content == "x"


def test_private_fields_never_sync() -> None:
    state = three_cards()
    for part in sync.SYNC_PARTS:
        state = sync.set_sync(state, part, True)
    state = sync.apply_edit(state, state.cards[0].id, title="Mine")
    assert [c.title for c in state.cards] == ["Mine", "", ""]


def test_add_card_copies_synced_parts_from_first_card() -> None:
    state = default_state("local/smollm2")
    state = sync.apply_edit(state, state.cards[0].id, model="openai/gpt-4o",
                            invocation_parameters={"temperature": 0.3})
    state = sync.set_sync(state, "params", True)
    state = sync.add_card(state, "local/smollm2")
    assert state.cards[1].model == "local/smollm2"
    assert state.cards[1].invocation_parameters == {"temperature": 0.3}


def test_duplicate_remove_move_and_clear_history() -> None:
    state = default_state("local/smollm2")
    first = state.cards[0].id
    turn = Turn(user=Message(content="hi"), outputs=[RunOutput(text="hello")])
    state = sync.apply_edit(state, first, history=[turn], trace_id="a" * 32,
                            endpoint=Endpoint(base_url="http://127.0.0.1:1/v1", model_id="m"))
    state = sync.duplicate_card(state, first)
    copy = state.cards[1]
    assert copy.id != first and copy.history[0].outputs[0].text == "hello"
    assert copy.trace_id is None and copy.endpoint is not None
    state = sync.clear_history(state, first)
    assert state.cards[0].history == [] and state.cards[0].trace_id is None
    assert state.cards[0].endpoint is not None  # setup kept
    assert state.cards[1].history  # the copy is unaffected
    state = sync.move_card(state, copy.id, -5)
    assert state.cards[0].id == copy.id
    state = sync.remove_card(state, copy.id)
    assert [c.id for c in state.cards] == [first]
    with pytest.raises(sync.PlaygroundEditError, match="at least one card"):
        sync.remove_card(state, first)


def test_bad_edits_raise_clear_errors() -> None:
    state = default_state("local/smollm2")
    with pytest.raises(sync.PlaygroundEditError, match="no card"):
        sync.apply_edit(state, "nope", model="x")
    with pytest.raises(sync.PlaygroundEditError, match="no field"):
        sync.apply_edit(state, state.cards[0].id, modle="x")
    with pytest.raises(sync.PlaygroundEditError, match="unknown sync switch"):
        sync.set_sync(state, "everything", True)  # type: ignore[arg-type]


def test_message_list_helpers() -> None:
    msgs = [Message(role="system", content="s"), Message(content="u")]
    msgs = sync.add_message(msgs, "assistant", "a")
    msgs = sync.move_message(msgs, 2, -1)
    assert [m.role for m in msgs] == ["system", "assistant", "user"]
    msgs = sync.edit_message(msgs, 1, role="tool", tool_call_id="call_1")
    assert msgs[1].tool_call_id == "call_1"
    msgs = sync.remove_message(msgs, 0)
    assert [m.role for m in msgs] == ["tool", "user"]
    with pytest.raises(sync.PlaygroundEditError):
        sync.remove_message(msgs, 7)
