"""Every page opens in headless Chromium without an exception box."""

from __future__ import annotations

import urllib.request

import pytest

from tests.browser.conftest import assert_no_exception, screenshot, wait_for_app

pytestmark = pytest.mark.browser

PAGES = ["", "prompts", "datasets", "experiments", "traces", "analytics", "settings"]


def test_health_endpoint_says_ok(app_url: str) -> None:
    with urllib.request.urlopen(f"{app_url}/_stcore/health", timeout=5) as resp:
        assert resp.read().strip() == b"ok"


@pytest.mark.parametrize("path", PAGES, ids=[p or "playground" for p in PAGES])
def test_page_opens_without_exception(page, app_url: str, path: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{app_url}/{path}")
    wait_for_app(page)
    page.wait_for_selector("h1")
    assert_no_exception(page)
    shot = screenshot(page, f"smoke-{path or 'playground'}")
    assert shot.stat().st_size > 10_000  # a rendered page, not a blank canvas
