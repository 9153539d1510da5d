"""Playground cards on the embedded model: the page warms one context per local card so the
first "Run all" streams every card at once; Stop works on a card waiting for a context."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.playground import sync
from core.playground.runner import RunHandle, embedded_model_cards, make_job
from core.playground.state import Endpoint, PlaygroundState, default_state
from core.providers import DEFAULT_MODEL, TextDelta
from core.providers import local as local_module

ROOT = Path(__file__).resolve().parents[1]
PAGE = str(ROOT / "pages" / "playground.py")


@pytest.fixture
def fresh_model(monkeypatch: pytest.MonkeyPatch) -> Iterator[local_module.LocalModel]:
    """A process-wide embedded model with no context yet, as right after start-up."""
    model = local_module.LocalModel(contexts=4)
    monkeypatch.setattr(local_module, "_model", model)
    monkeypatch.delenv("WORKBENCH_WARM_UP", raising=False)
    yield model
    model.close()


def three_local_cards(max_tokens: int) -> PlaygroundState:
    state = default_state(DEFAULT_MODEL)
    for _ in range(2):
        state = sync.add_card(state, DEFAULT_MODEL)
    for i, card in enumerate(state.cards):
        # A story rather than the sample question: every card runs to max_tokens, none
        # stops early, so "interleaved" is about when the cards start.
        state = sync.apply_edit(
            state, card.id, variables={"question": f"Write a long story about lighthouse keeper {i}."},
            invocation_parameters={"max_tokens": max_tokens, "temperature": 0.8, "seed": i})
    return state


def wait_until(condition, timeout_s: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)  # polling interval of a condition, not a wait-for


def test_counts_only_cards_on_the_embedded_model() -> None:
    state = three_local_cards(8)
    state = sync.apply_edit(state, state.cards[2].id,
                            endpoint=Endpoint(base_url="http://127.0.0.1:9/v1", model_id="m"))
    state = sync.apply_edit(state, state.cards[1].id, model="openai/gpt-4o-mini")
    assert embedded_model_cards(state.cards) == 1


@pytest.mark.slow
def test_page_warms_a_context_per_local_card_and_first_run_all_interleaves(
        fresh_model: local_module.LocalModel, sqlite_database) -> None:  # type: ignore[no-untyped-def]
    # That the warm-up did the work is shown by the pool stats (no context created during
    # the run, nobody waited); the runs are long enough that scheduling noise on a busy
    # machine can't make one card finish before another's first token.
    state = three_local_cards(max_tokens=40)
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["playground_state"] = state
    at.run()
    assert not at.exception, at.exception
    # The page returned at once; contexts are made in the background, one at a time.
    wait_until(lambda: fresh_model.stats().ready >= 3)
    assert fresh_model.stats().created == 3  # one per card, not the whole pool
    fresh_model.pool.reset_stats()

    jobs = [make_job(c, fresh=True, workspace_id=sqlite_database.default_workspace_id())
            for c in state.cards]
    handle = RunHandle(jobs).start()
    stamps: dict[str, list[float]] = {c.id: [] for c in state.cards}
    for cid, event in handle.events():
        if isinstance(event, TextDelta):
            stamps[cid].append(time.perf_counter())
    outputs = {cid: job.turn.outputs[0] for cid, job in handle.finished_turns().items()}
    assert all(o.status == "ok" and o.finish_reason == "length" for o in outputs.values()), outputs
    assert all(s for s in stamps.values()), "a card streamed nothing"
    # Interleaved: every card's first token came before any card's last token.
    assert max(s[0] for s in stamps.values()) < min(s[-1] for s in stamps.values()), {
        cid[:6]: (round(s[0], 3), round(s[-1], 3)) for cid, s in stamps.items()}
    stats = fresh_model.stats()
    assert stats.peak_in_use == 3 and stats.waits == 0 and stats.created == 3


@pytest.mark.slow
def test_adding_a_card_raises_the_warm_target(fresh_model: local_module.LocalModel) -> None:
    state = three_local_cards(max_tokens=8)
    from core.playground.runner import prewarm_embedded_model

    first = prewarm_embedded_model(state.cards[:1])
    assert first is not None
    more = prewarm_embedded_model(state.cards)  # a card was added while warming
    wait_until(lambda: fresh_model.stats().ready >= 3)
    assert more is None or more is first or not first.is_alive()
    wait_until(lambda: fresh_model._warm_thread is None)
    assert prewarm_embedded_model(state.cards) is None  # warm already: nothing to do
    assert fresh_model.stats().created == 3


@pytest.mark.slow
def test_stop_on_a_card_waiting_for_a_context_is_immediate(monkeypatch: pytest.MonkeyPatch,
                                                           sqlite_database) -> None:  # type: ignore[no-untyped-def]
    """More local cards than contexts: the extra card waits; its Stop must not wait too."""
    model = local_module.LocalModel(contexts=1)
    monkeypatch.setattr(local_module, "_model", model)
    try:
        state = three_local_cards(max_tokens=8)
        busy = model.pool.acquire(timeout=60)  # every context is taken by someone else
        job = make_job(state.cards[0], fresh=True, workspace_id=sqlite_database.default_workspace_id())
        handle = RunHandle([job]).start()
        wait_until(lambda: model.stats().waiting == 1)  # the card is waiting for the context
        started = time.monotonic()
        handle.cancel(state.cards[0].id)
        assert handle.join(timeout=10), "Stop waited for a context"
        assert time.monotonic() - started < 2
        out = handle.finished_turns()[state.cards[0].id].turn.outputs[0]
        assert out.status == "cancelled" and out.text == ""
        model.pool.release(busy)
        assert model.stats().in_use == 0
        # The pool is not harmed: the next call gets the context.
        again = RunHandle([make_job(state.cards[1], fresh=True)]).start()
        assert again.join(timeout=60)
        assert again.finished_turns()[state.cards[1].id].turn.outputs[0].status == "ok"
    finally:
        model.close()


@pytest.mark.slow
def test_unseeded_cards_on_fresh_contexts_sample_differently(
        fresh_model: local_module.LocalModel) -> None:
    """Three identical cards without a seed are three samples, not one answer three times."""
    state = three_local_cards(max_tokens=16)
    for card in state.cards:
        state = sync.apply_edit(state, card.id, invocation_parameters={"max_tokens": 16,
                                                                       "temperature": 1.0},
                                variables={"question": "Write a long story about a lighthouse."})
    fresh_model.load(3)  # one fresh context per card, as after start-up
    handle = RunHandle([make_job(c, fresh=True) for c in state.cards]).start()
    assert handle.join(timeout=120)
    texts = [job.turn.outputs[0].text for job in handle.finished_turns().values()]
    assert all(texts) and len(set(texts)) > 1, texts
