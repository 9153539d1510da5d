"""A page's URL opened as the very first request still goes through app.py's router."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser.conftest import AppServer, assert_no_exception, wait_for_app

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def cold_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """A freshly started app that has served no page yet."""
    server = AppServer(tmp_path_factory.mktemp("cold-home"))
    yield server
    server.stop()


def test_first_request_to_a_page_url_gets_router_and_sidebar(page, cold_server: AppServer) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{cold_server.url}/settings")
    wait_for_app(page)
    page.wait_for_selector("h1")
    assert page.locator("h1").first.inner_text() == "Settings"
    nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
    # The router's titles, not the file names Streamlit would list without it.
    assert "Playground" in nav and "Prompts" in nav
    assert "app" not in nav.split()
    sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
    assert "Workspace:" in sidebar
    assert_no_exception(page)
    # A second visitor arriving at another page's URL is routed too.
    page.goto(f"{cold_server.url}/traces")
    wait_for_app(page)
    page.wait_for_selector("h1")
    assert "Workspace:" in page.locator('[data-testid="stSidebar"]').inner_text()
