"""Traces and the f-string editor in headless Chromium: what AppTest cannot see.

Clicking a row of the request log opens the span's detail, the pager walks to older
spans, and the Ace editor highlights f-string ``{placeholders}``.
"""

from __future__ import annotations

import pytest

from core import prompts as P
from core.db import Database
from tests.browser.conftest import assert_no_exception, rerun, screenshot, wait_for_app
from tests.test_traces_page import _seed_many

pytestmark = pytest.mark.browser


def _db(app_server) -> Database:  # type: ignore[no-untyped-def]
    return Database(f"sqlite:///{app_server.home / 'workbench.db'}")


def test_row_click_opens_detail_and_pager_reaches_older_spans(page, app_url: str, app_server) -> None:  # type: ignore[no-untyped-def]
    ids = _seed_many(_db(app_server), 60)
    page.goto(f"{app_url}/traces")
    wait_for_app(page)
    page.get_by_text("Spans 1–50 of 60").wait_for()
    grid = page.locator('[data-testid="stDataFrame"]').first
    box = grid.bounding_box()
    assert box is not None
    # second data row (the header is ~35px): the failed span
    rerun(page, lambda: page.mouse.click(box["x"] + 15, box["y"] + 35 + 35 + 17))
    page.get_by_text(f"span {ids[1]}", exact=False).first.wait_for()
    page.locator("[data-testid^=stAlert]", has_text="rate limited").first.wait_for()
    assert page.get_by_role("button", name="⏪ Open in playground").is_visible()
    screenshot(page, "traces-detail")
    rerun(page, lambda: page.get_by_role("button", name="Older ▶").click())
    page.get_by_text("Spans 51–60 of 60").wait_for()
    assert_no_exception(page)
    screenshot(page, "traces-page-2")


def test_fstring_placeholders_are_highlighted_in_ace(page, app_url: str, app_server) -> None:  # type: ignore[no-untyped-def]
    db = _db(app_server)
    ws = db.default_workspace_id()
    P.save_version(db, ws, "fstring-look", template_type="chat", template_format="f-string",
                   template=[{"role": "user", "content": "Dear {name}, for your order {order_id}:"}])
    page.goto(f"{app_url}/prompts")
    wait_for_app(page)
    rerun(page, lambda: page.get_by_role("button", name="fstring-look · v1").click())
    frame = page.frame_locator('[class*="st-key-prompts_ed_msg_"] iframe').first
    frame.locator(".ace_content").wait_for()
    # Smarty's highlighter tokenises every {…} block; prose words stay plain text.
    marked = frame.locator(".ace_smarty")
    marked.first.wait_for()
    joined = "".join(marked.all_inner_texts())
    assert "{" in joined and "name" in joined and "order_id" in joined
    assert frame.locator(".ace_keyword", has_text="for").count() == 0  # no Python keywords in prose
    # ...and each placeholder gets a visible box (the theme leaves those tokens uncoloured)
    boxes = frame.locator(".ace_marker-layer .ace_selected-word")
    boxes.nth(1).wait_for()
    assert boxes.count() == 2
    assert_no_exception(page)
    screenshot(page, "prompts-fstring-highlight")
