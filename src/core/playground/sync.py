"""Pure edits of the playground state; sync switches propagate an edit to every card.

Every function returns a new :class:`PlaygroundState` and leaves its input untouched, so
the page can keep the old state until the new one is complete.
"""

from __future__ import annotations

from typing import Any, Literal

from core.playground.state import (
    Card,
    Message,
    PlaygroundState,
    Role,
    default_card,
    new_card_id,
)

SyncPart = Literal["models", "messages", "params", "variables", "tools"]
SYNC_PARTS: tuple[SyncPart, ...] = ("models", "messages", "params", "variables", "tools")
# Which card fields each switch keeps identical across cards.
PART_FIELDS: dict[SyncPart, tuple[str, ...]] = {
    "models": ("model", "endpoint"),
    "messages": ("operation", "template_format", "messages", "prompt"),
    "params": ("invocation_parameters", "extra_params_json"),
    "variables": ("variables",),
    "tools": ("tools", "tool_choice", "response_format"),
}
# Fields a card owns alone, whatever the switches say.
PRIVATE_FIELDS = ("title", "history", "trace_id", "prompt_ref", "replay")
_FIELD_PART: dict[str, SyncPart] = {f: p for p, fs in PART_FIELDS.items() for f in fs}
MAX_CARDS = 12


class PlaygroundEditError(ValueError):
    """An edit that the playground can't apply (unknown card or field, last card…)."""


def part_of(field: str) -> SyncPart | None:
    """The sync switch governing ``field``, or None for a card's private fields."""
    if field in _FIELD_PART:
        return _FIELD_PART[field]
    if field in PRIVATE_FIELDS:
        return None
    raise PlaygroundEditError(f"cards have no field {field!r}")


def _copy_fields(source: Card, target: Card, fields: tuple[str, ...]) -> Card:
    update = {f: _deep(getattr(source, f)) for f in fields}
    return target.model_copy(update=update)


def _deep(value: Any) -> Any:
    # Pydantic models and containers are copied so cards never share mutable parts.
    if hasattr(value, "model_copy"):
        return value.model_copy(deep=True)
    if isinstance(value, list):
        return [_deep(v) for v in value]
    if isinstance(value, dict):
        return {k: _deep(v) for k, v in value.items()}
    return value


def apply_edit(state: PlaygroundState, card_id: str, **changes: Any) -> PlaygroundState:
    """Set ``changes`` on one card, and on every card for the parts whose switch is on."""
    try:
        idx = state.index_of(card_id)
    except KeyError as exc:
        raise PlaygroundEditError(str(exc)) from exc
    edited = state.cards[idx]
    for field in changes:
        part_of(field)  # raises on unknown fields
    validated = Card.model_validate({**edited.model_dump(), **_plain(changes)})
    cards = list(state.cards)
    cards[idx] = validated
    synced = tuple(
        f for f in changes if (p := part_of(f)) is not None and getattr(state.sync, p)
    )
    if synced:
        cards = [c if c.id == card_id else _copy_fields(validated, c, synced) for c in cards]
    return state.model_copy(update={"cards": cards})


def _plain(changes: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in changes.items():
        if hasattr(v, "model_dump"):
            out[k] = v.model_dump()
        elif isinstance(v, list):
            out[k] = [x.model_dump() if hasattr(x, "model_dump") else x for x in v]
        else:
            out[k] = v
    return out


def set_sync(
    state: PlaygroundState, part: SyncPart | Literal["chat_input"], on: bool,
    source_card_id: str | None = None,
) -> PlaygroundState:
    """Turn a switch on (copying that part from ``source_card_id``, default the first card) or off."""
    if part != "chat_input" and part not in PART_FIELDS:
        raise PlaygroundEditError(f"unknown sync switch {part!r}")
    sync = state.sync.model_copy(update={part: on})
    cards = list(state.cards)
    if on and part != "chat_input" and cards:
        source = state.card(source_card_id) if source_card_id else cards[0]
        fields = PART_FIELDS[part]
        cards = [c if c.id == source.id else _copy_fields(source, c, fields) for c in cards]
    # Switching off leaves every card with the value it has now.
    return state.model_copy(update={"sync": sync, "cards": cards})


def add_card(state: PlaygroundState, model: str) -> PlaygroundState:
    """Append a default card on ``model``; synced parts are copied from the first card."""
    if len(state.cards) >= MAX_CARDS:
        raise PlaygroundEditError(f"a playground holds at most {MAX_CARDS} cards")
    card = default_card(model)
    if state.cards:
        first = state.cards[0]
        for part in SYNC_PARTS:
            if getattr(state.sync, part):
                card = _copy_fields(first, card, PART_FIELDS[part])
    return state.model_copy(update={"cards": [*state.cards, card]})


def duplicate_card(state: PlaygroundState, card_id: str) -> PlaygroundState:
    """Insert a copy of a card (setup and conversation) right after it."""
    if len(state.cards) >= MAX_CARDS:
        raise PlaygroundEditError(f"a playground holds at most {MAX_CARDS} cards")
    idx = _index(state, card_id)
    source = state.cards[idx]
    # The copy starts its own trace when it continues the conversation.
    copy = source.model_copy(
        deep=True,
        update={"id": new_card_id(), "trace_id": None,
                "title": f"{source.title or 'Card ' + str(idx + 1)} (copy)"},
    )
    cards = list(state.cards)
    cards.insert(idx + 1, copy)
    return state.model_copy(update={"cards": cards})


def remove_card(state: PlaygroundState, card_id: str) -> PlaygroundState:
    """Remove a card; the last card can't be removed."""
    idx = _index(state, card_id)
    if len(state.cards) <= 1:
        raise PlaygroundEditError("the playground keeps at least one card")
    return state.model_copy(update={"cards": state.cards[:idx] + state.cards[idx + 1 :]})


def move_card(state: PlaygroundState, card_id: str, delta: int) -> PlaygroundState:
    """Move a card ``delta`` places left (negative) or right, clamped to the ends."""
    idx = _index(state, card_id)
    cards = list(state.cards)
    card = cards.pop(idx)
    cards.insert(max(0, min(len(cards), idx + delta)), card)
    return state.model_copy(update={"cards": cards})


def clear_history(state: PlaygroundState, card_id: str) -> PlaygroundState:
    """Delete a card's conversation, keeping its setup."""
    idx = _index(state, card_id)
    cards = list(state.cards)
    cards[idx] = cards[idx].model_copy(update={"history": [], "trace_id": None})
    return state.model_copy(update={"cards": cards})


def replace_card(state: PlaygroundState, card: Card) -> PlaygroundState:
    """Put ``card`` in place of the card with the same id (no sync propagation)."""
    idx = _index(state, card.id)
    cards = list(state.cards)
    cards[idx] = card
    return state.model_copy(update={"cards": cards})


def insert_card(state: PlaygroundState, card: Card) -> PlaygroundState:
    """Append a ready-made card (from replay or the registry) as it is."""
    if len(state.cards) >= MAX_CARDS:
        raise PlaygroundEditError(f"a playground holds at most {MAX_CARDS} cards")
    if any(c.id == card.id for c in state.cards):
        card = card.model_copy(update={"id": new_card_id()})
    return state.model_copy(update={"cards": [*state.cards, card]})


def _index(state: PlaygroundState, card_id: str) -> int:
    try:
        return state.index_of(card_id)
    except KeyError as exc:
        raise PlaygroundEditError(str(exc)) from exc


# Message-list helpers: they return a new list for apply_edit(..., messages=...).


def add_message(messages: list[Message], role: Role = "user", content: str = "") -> list[Message]:
    """The list with a new message at the end."""
    return [*messages, Message(role=role, content=content)]


def remove_message(messages: list[Message], index: int) -> list[Message]:
    """The list without message ``index``."""
    if not 0 <= index < len(messages):
        raise PlaygroundEditError(f"no message {index + 1}")
    return messages[:index] + messages[index + 1 :]


def move_message(messages: list[Message], index: int, delta: int) -> list[Message]:
    """The list with message ``index`` moved by ``delta`` places (clamped)."""
    if not 0 <= index < len(messages):
        raise PlaygroundEditError(f"no message {index + 1}")
    out = list(messages)
    msg = out.pop(index)
    out.insert(max(0, min(len(out), index + delta)), msg)
    return out


def edit_message(messages: list[Message], index: int, **changes: Any) -> list[Message]:
    """The list with message ``index`` changed (role, content, name, tool_call_id…)."""
    if not 0 <= index < len(messages):
        raise PlaygroundEditError(f"no message {index + 1}")
    out = list(messages)
    out[index] = Message.model_validate({**out[index].model_dump(), **changes})
    return out
