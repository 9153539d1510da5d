"""The Playground in headless Chromium on the embedded model: cards, sync, streaming, 👍, reload."""

from __future__ import annotations

import contextlib
import time

import pytest

from tests.browser.conftest import (
    assert_no_exception,
    commit_input,
    rerun,
    screenshot,
    wait_for_app,
)

pytestmark = pytest.mark.browser

METRICS = 'text=/⏱ .* · TTFT/'


def cards(page):  # type: ignore[no-untyped-def]
    return page.locator('[class*="st-key-playground_card_"]')


def set_max_tokens(page, card, value: int) -> None:  # type: ignore[no-untyped-def]
    def locate():  # type: ignore[no-untyped-def]
        card.get_by_role("tab", name="Params").click()  # tabs switch in the browser, no rerun
        return card.get_by_label("max_tokens")

    commit_input(page, locate, str(value))


def wait_metrics(page, n: int, timeout_s: float = 120) -> None:  # type: ignore[no-untyped-def]
    page.locator(METRICS).nth(n - 1).wait_for(timeout=timeout_s * 1000)
    wait_for_app(page)


def test_two_cards_sync_input_stream_feedback_and_reload(page, app_url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(app_url)
    wait_for_app(page)
    page.wait_for_selector("h1:has-text('Playground')")
    assert cards(page).count() == 1
    set_max_tokens(page, cards(page).first, 24)
    rerun(page, lambda: page.get_by_text("Parameters", exact=True).first.click())  # sync switch
    rerun(page, lambda: page.get_by_role("button", name="+ Add card").click())
    assert cards(page).count() == 2
    rerun(page, lambda: page.get_by_text("Sync input", exact=True).click())
    chat = cards(page).first.locator('[data-testid="stChatInputTextArea"]')
    chat.fill("Name one colour.")
    chat.press("Enter")
    # Watch the cards stream: partial text with the cursor appears before the metrics.
    lengths: list[int] = []
    deadline = time.monotonic() + 120
    while page.locator(METRICS).count() < 2 and time.monotonic() < deadline:
        live = page.locator("text=/▌/")
        if live.count():
            # The element may be redrawn between count() and the read.
            with contextlib.suppress(Exception):
                lengths.append(len(live.first.inner_text(timeout=1000)))
        page.wait_for_timeout(50)  # sampling interval of the DOM, not a wait-for
    wait_metrics(page, 2)
    assert len(set(lengths)) >= 2, f"no streaming seen: {lengths}"
    assert_no_exception(page)
    for i in range(2):
        assert cards(page).nth(i).get_by_text("Name one colour.").count() == 1  # the synced message
        assert cards(page).nth(i).locator(METRICS).count() == 1
    # Run all: every card runs its template from the start, all finish with metrics. Wait in
    # the browser for a finished script run showing exactly that (stale elements of the
    # previous run stay in the DOM while a run is in progress).
    page.get_by_role("button", name="▶ Run all").click()
    page.wait_for_function(
        """() => {
          const app = document.querySelector('[data-testid="stApp"]');
          const text = app.innerText;
          return app.getAttribute('data-test-script-state') === 'notRunning'
            && !text.includes('Name one colour.') && (text.match(/⏱ /g) || []).length === 2;
        }""",
        timeout=120_000,
    )
    wait_for_app(page)
    assert page.locator(METRICS).count() == 2
    # 👍 on the first card's output
    thumbs_up = cards(page).first.locator('[data-testid="stFeedback"] button').first
    rerun(page, lambda: thumbs_up.click())
    assert_no_exception(page)
    page.set_viewport_size({"width": 1600, "height": 2400})
    screenshot(page, "playground-two-cards-after-run")
    url = page.url
    assert "session=" in url
    page.reload()
    wait_for_app(page)
    page.wait_for_selector("h1:has-text('Playground')")
    assert cards(page).count() == 2
    assert page.locator(METRICS).count() == 2
    assert page.locator(".st-key-playground_sync_chat_input input[type=checkbox]").is_checked()
    assert cards(page).first.locator('[data-testid="stFeedback"] button').count() == 2
    assert_no_exception(page)


def test_three_cards_after_run_screenshot(page, app_url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(app_url)
    wait_for_app(page)
    rerun(page, lambda: page.get_by_role("button", name="+ New session").click())
    set_max_tokens(page, cards(page).first, 24)
    rerun(page, lambda: page.get_by_text("Parameters", exact=True).first.click())
    # One card: capped width, its setup folds at the first run so the output sits under the header.
    page.get_by_role("button", name="▶ Run all").click()
    wait_metrics(page, 1)
    card = cards(page).first
    assert card.bounding_box()["width"] < 700  # type: ignore[index]
    assert not card.get_by_role("tab", name="Template").is_visible()  # the setup folded
    output_top = card.locator(METRICS).bounding_box()["y"]  # type: ignore[index]
    assert output_top < 1000, output_top  # visible without scrolling a laptop-sized window
    page.mouse.move(5, 990)
    screenshot(page, "playground-one-card-after-run")
    for _ in range(2):
        rerun(page, lambda: page.get_by_role("button", name="+ Add card").click())
    assert cards(page).count() == 3
    third = cards(page).nth(2)
    def tools_box():  # type: ignore[no-untyped-def]
        third.get_by_role("tab", name="Tools").click()
        return third.get_by_label("Tools (JSON list)")

    commit_input(page, tools_box, '[{"name": "f",\n "parameters": {]', key="Control+Enter")
    third.get_by_role("tab", name="Template").click()
    page.get_by_role("button", name="▶ Run all").click()
    wait_metrics(page, 2)
    assert cards(page).nth(2).get_by_text("Not sent. Tools JSON: line 2 column").is_visible()
    # Same structure in every card: the outputs of the two that ran start at the same height.
    tops = [cards(page).nth(i).locator('[data-testid="stChatMessage"]').first.bounding_box()["y"]
            for i in range(2)]  # type: ignore[index]
    assert abs(tops[0] - tops[1]) < 2, tops
    assert_no_exception(page)
    # Streamlit scrolls inside its own container: a tall viewport shows the whole page.
    page.set_viewport_size({"width": 1600, "height": 2400})
    page.mouse.move(5, 2300)  # no tooltip of the last-clicked button over the page
    wait_for_app(page)
    shot = screenshot(page, "playground-three-cards")
    assert shot.stat().st_size > 50_000


STOPPED = "text=Stopped — the partial output is kept."
STORY = "Write a very long story about a lighthouse keeper and her cat."


def long_story_card(page, card) -> None:  # type: ignore[no-untyped-def]
    """Make a card ask for ~400 tokens of story (long enough to stop it mid-way)."""
    set_max_tokens(page, card, 400)
    def locate():  # type: ignore[no-untyped-def]
        card.get_by_role("tab", name="Variables (1)").click()
        return card.get_by_label("question")

    commit_input(page, locate, STORY, key="Control+Enter")


def wait_streaming(page, card) -> None:  # type: ignore[no-untyped-def]
    """Wait until the card shows partial text with the streaming cursor."""
    card.locator("text=/▌/").first.wait_for(timeout=60_000)


def runs_of(server, session_id: str) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    from core.db import Database
    from core.tracing.store import list_runs

    db = Database(f"sqlite:///{server.home / 'workbench.db'}")
    try:
        return list_runs(db, db.default_workspace_id(), session_id=session_id)
    finally:
        db.engine.dispose()


def wait_runs(server, session_id: str, n: int) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    """The session's runs once ``n`` of them are recorded (the recorder writes in batches)."""
    deadline = time.monotonic() + 30
    while True:
        found = runs_of(server, session_id)
        if len(found) >= n or time.monotonic() > deadline:
            return found
        time.sleep(0.2)  # polling interval of a condition, not a wait-for


def session_of(page) -> str:  # type: ignore[no-untyped-def]
    from urllib.parse import parse_qs, urlsplit

    return parse_qs(urlsplit(page.url).query)["session"][0]


def test_stop_keeps_partial_output_and_records_cancelled(page, app_server) -> None:  # type: ignore[no-untyped-def]
    page.goto(app_server.url)
    wait_for_app(page)
    rerun(page, lambda: page.get_by_role("button", name="+ New session").click())
    card = cards(page).first
    long_story_card(page, card)
    card.get_by_role("button", name="▶ Run").click()
    wait_streaming(page, card)
    started = time.monotonic()
    card.get_by_role("button", name="■ Stop").click()
    page.locator(STOPPED).first.wait_for(timeout=30_000)
    stopped_s = time.monotonic() - started
    wait_for_app(page)
    assert_no_exception(page)
    assert stopped_s < 10, f"Stop took {stopped_s:.1f} s"
    card = cards(page).first
    assert card.locator(METRICS).count() == 1
    assert "finish" in card.locator(METRICS).inner_text()
    kept = card.locator('[data-testid="stChatMessage"]').last.inner_text()
    assert len(kept.split("Stopped")[0].strip()) > 10, kept  # the partial output is kept
    assert card.get_by_role("button", name="▶ Run").is_enabled()
    assert card.get_by_role("button", name="■ Stop").is_disabled()
    runs = wait_runs(app_server, session_of(page), 1)
    assert [r["status"] for r in runs] == ["cancelled"], runs
    assert runs[0]["output_text"] and (runs[0]["completion_tokens"] or 0) < 400
    page.set_viewport_size({"width": 1600, "height": 1800})
    page.mouse.move(5, 1700)
    screenshot(page, "playground-stopped")


def test_stop_all_stops_every_card(page, app_server) -> None:  # type: ignore[no-untyped-def]
    page.goto(app_server.url)
    wait_for_app(page)
    rerun(page, lambda: page.get_by_role("button", name="+ New session").click())
    rerun(page, lambda: page.get_by_text("Parameters", exact=True).first.click())
    rerun(page, lambda: page.get_by_text("Variables", exact=True).first.click())
    long_story_card(page, cards(page).first)
    rerun(page, lambda: page.get_by_role("button", name="+ Add card").click())
    assert cards(page).count() == 2
    page.get_by_role("button", name="▶ Run all").click()
    for i in range(2):
        wait_streaming(page, cards(page).nth(i))
    page.get_by_role("button", name="■ Stop all").click()
    page.wait_for_function(
        """() => {
          const app = document.querySelector('[data-testid="stApp"]');
          return app.getAttribute('data-test-script-state') === 'notRunning'
            && (app.innerText.match(/Stopped — the partial output is kept/g) || []).length === 2;
        }""",
        timeout=30_000,
    )
    assert_no_exception(page)
    assert page.get_by_role("button", name="■ Stop all").is_disabled()
    runs = wait_runs(app_server, session_of(page), 2)
    assert sorted(r["status"] for r in runs) == ["cancelled", "cancelled"], runs
