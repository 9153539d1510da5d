"""Starting, stopping and watching playground runs from the page.

Runs happen in threads (``core.playground.runner``); the script only draws. At the end of
a script run :func:`stream_live` loops over the live cards, redrawing each card's
placeholder as its tokens arrive, so every card streams at once. Any click interrupts
that loop (Streamlit reruns the script); the threads carry on and the next script run
re-attaches to them, which is also how Stop works.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from core.playground.requests import CardFieldError
from core.playground.runner import (
    CardJob,
    RunHandle,
    make_job,
    new_trace_id,
    prewarm_embedded_model,
)
from core.playground.state import Card, Message, Turn
from ui import deps
from ui import playground_output as output
from ui import playground_state as ps

HEARTBEAT_S = 0.25  # redraw live cards at least this often (elapsed time; lets clicks through)


def supported_params(card: Card) -> set[str] | None:
    """Parameters the card's model accepts, when the catalog knows (None: unknown)."""
    if card.endpoint is not None:
        return None
    try:
        from core.providers import catalog
    except ImportError:
        return None
    finder = getattr(catalog, "supported_params", None)
    if finder is None:
        return None
    try:
        found = finder(card.model)
    except Exception:  # an unknown model: say nothing rather than guess
        return None
    return set(found) if found else None


def api_key_for(card: Card) -> str | None:
    """The key to send: the card's typed token, or a key typed on the Settings page."""
    if card.endpoint is not None:
        return st.session_state.get(ps.TOKENS, {}).get(card.id) or None
    keys: dict[str, str] = st.session_state.get(ps.SETTINGS_KEYS) or {}
    if not keys:
        return None
    try:
        from core.credentials import resolve_api_key
    except ImportError:
        provider = card.model.split("/", 1)[0] if "/" in card.model else ""
        return keys.get(provider) or None
    return resolve_api_key(card.model, session_keys=keys)  # type: ignore[no-any-return]


def start(card_ids: list[str], *, fresh: bool = False, message: Message | None = None) -> None:
    """Validate and start the given cards (cards already running are skipped)."""
    state = ps.get_state()
    busy = ps.running_cards()
    jobs: list[CardJob] = []
    for cid in card_ids:
        if cid in busy:
            continue
        card = state.card(cid)
        ps.clear_errors(cid)
        try:
            job = make_job(
                card, user_message=message, fresh=fresh or not card.history and message is None,
                session_id=ps.run_key(), repetitions=state.repetitions, api_key=api_key_for(card),
                user=deps.current_user(), workspace_id=deps.workspace_id(),
            )
        except CardFieldError as exc:
            ps.field_error_from(exc)
            continue
        jobs.append(job)
    if jobs:
        ps.add_handle(RunHandle(jobs).start())


def prewarm(cards: list[Card]) -> None:
    """Make one embedded-model context per local card in the background (returns at once).

    Called on every script run (page load, card added or duplicated): a no-op once the
    contexts exist. ``WORKBENCH_WARM_UP=0`` (hosts short of memory) switches it off.
    """
    if deps.warm_up_contexts() == 0:
        return
    try:
        prewarm_embedded_model(cards)
    except Exception:  # warming is an optimisation: a real Run reports any problem
        logging.getLogger(__name__).warning("could not warm the embedded model", exc_info=True)


def run_all() -> None:
    """Run every card's template from the start, all at once."""
    start([c.id for c in ps.get_state().cards], fresh=True)


def on_chat(card_id: str) -> None:
    """Send the chat box's message to this card, or to every chat card when synced."""
    text = st.session_state.get(ps.wkey(card_id, "chat")) or ""
    if not text.strip():
        return
    state = ps.get_state()
    targets = [c.id for c in state.cards if c.operation == "chat"] if state.sync.chat_input else [card_id]
    start(targets, message=Message(role="user", content=text))


def stop(card_id: str | None = None) -> None:
    """Stop one card's run, or every run of this playground."""
    for handle in ps.active_handles():
        handle.cancel(card_id)


def rerun_as_recorded(card_id: str) -> None:
    """Send the replayed span's original request exactly as it was recorded."""
    from core.replay import replay_span
    from core.replay import rerun_as_recorded as recorded_request

    card = ps.get_state().card(card_id)
    if card.replay is None or card.replay.span is None:
        ps.set_error(card_id, "run", "This card has no recorded span to re-run.")
        return
    try:
        request = recorded_request(replay_span(card.replay.span))
    except Exception as exc:  # a span that parsed once should parse again; say so if not
        ps.set_error(card_id, "run", f"Could not rebuild the recorded request: {exc}")
        return
    trace_id = new_trace_id()
    request.context.source = "replay"
    request.context.session_id = ps.run_key()
    request.context.card_id = card_id
    request.context.trace_id = trace_id
    request.context.workspace_id = deps.workspace_id()
    request.context.user = deps.current_user()
    if card.endpoint is not None and not request.api_key:
        request.api_key = api_key_for(card)
    job = CardJob(card_id, request, Turn(), True, trace_id, 1)
    ps.clear_errors(card_id)
    ps.add_handle(RunHandle([job]).start())


def stream_live(placeholders: dict[str, DeltaGenerator]) -> None:
    """Draw live cards as tokens arrive until every run ends, then commit, save and rerun."""
    handles = ps.active_handles()
    if not handles:
        return
    drawn: dict[str, float] = {}
    while True:
        changed: set[str] = set()
        for handle in handles:
            changed |= handle.wait_changes(0.1 / len(handles))
        now = time.monotonic()
        for handle in handles:
            for cid in handle.cards:
                ph = placeholders.get(cid)
                if ph is not None and (cid in changed or now - drawn.get(cid, 0.0) >= HEARTBEAT_S):
                    output.draw_live(ph, handle.snapshot(cid))
                    drawn[cid] = now
        if all(h.done for h in handles):
            break
    ps.commit_finished()
    ps.autosave()
    st.rerun()


def live_snapshot(card_id: str) -> dict[str, Any] | None:
    """The current snapshot of a running card (for the first draw of its placeholder)."""
    for handle in ps.active_handles():
        if card_id in handle.cards:
            return handle.snapshot(card_id)
    return None
