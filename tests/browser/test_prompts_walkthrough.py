"""The Prompts page in headless Chromium with the real Ace editor.

Create a folder and a chat prompt; write it with variables in f-string, mustache and
jinja2 (one version each), preview, diff v1 vs v3, roll back, label production and
staging, add a snippet and see it expanded in the preview.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from core import prompts as P
from core.db import Database
from tests.browser.conftest import (
    assert_no_exception,
    commit_input,
    rerun,
    screenshot,
    wait_for_app,
)

pytestmark = pytest.mark.browser

NAME = "welcome"


def _db(app_server) -> Database:  # type: ignore[no-untyped-def]
    return Database(f"sqlite:///{app_server.home / 'workbench.db'}")


def ace_frames(page):  # type: ignore[no-untyped-def]
    return page.frame_locator('[class*="st-key-prompts_ed_msg_"] iframe')


def type_in_ace(page, index: int, text: str) -> None:  # type: ignore[no-untyped-def]
    """Replace the content of the index-th message editor (paste-like, no auto-pairing)."""
    frame = page.frame_locator('[class*="st-key-prompts_ed_msg_"] iframe').nth(index)
    editor = frame.locator(".ace_editor")
    # On a loaded machine the component iframe can take a while to load Ace: a click that
    # lands before then focuses nothing and the typing goes nowhere (no rerun follows).
    for attempt in range(3):
        frame.locator(".ace_content").click()
        try:
            expect(editor).to_have_class(re.compile(r"\bace_focus\b"), timeout=10_000)
            break
        except AssertionError:
            if attempt == 2:
                raise
    page.keyboard.press("Control+A")
    rerun(page, lambda: page.keyboard.insert_text(text))
    wait_for_app(page)


def expand(page, title: str) -> None:  # type: ignore[no-untyped-def]
    page.locator('[data-testid="stExpander"] summary', has_text=title).click()


def select(page, label: str, option: str, scope=None) -> None:  # type: ignore[no-untyped-def]
    root = scope or page
    box = root.locator('[data-testid="stSelectbox"]').filter(
        has=page.locator('[data-testid="stWidgetLabel"]', has_text=label)).first
    for attempt in range(3):
        wait_for_app(page)
        if box.locator('[role="combobox"]').first.input_value() == option:
            return  # already chosen: choosing it again would not rerun
        box.locator('[role="combobox"]').first.click(force=True)
        choice = page.get_by_role("option", name=option, exact=True)
        try:
            choice.wait_for(timeout=5000)
            rerun(page, lambda choice=choice: choice.click(timeout=5000))
            return
        except Exception:  # the list was redrawn by a rerun in between: open it again
            if attempt == 2:
                raise
            page.keyboard.press("Escape")


def fill(page, label: str, value: str, scope=None) -> None:  # type: ignore[no-untyped-def]
    commit_input(page, lambda: (scope or page).get_by_label(label, exact=True).first, value,
                 verify=False)


def set_variable(page, name: str, value: str) -> None:  # type: ignore[no-untyped-def]
    commit_input(page, lambda: page.locator(f'[class*="st-key-prompts_ed_var_"][class*="_{name}"] input'),
                 value)


def save(page, note: str, version: int) -> None:  # type: ignore[no-untyped-def]
    fill(page, "Version note", note)
    rerun(page, lambda: page.locator('[class*="st-key-prompts_ed_save_"] button').click())
    page.get_by_text(f"Saved {NAME} v{version}.").first.wait_for()
    wait_for_app(page)
    assert_no_exception(page)


def show(page, selector: str, name: str) -> None:  # type: ignore[no-untyped-def]
    page.locator(selector).first.scroll_into_view_if_needed()
    screenshot(page, name)


def switch_view(page, name: str) -> None:  # type: ignore[no-untyped-def]
    buttons = page.locator('[class*="st-key-prompts_mode"] button')
    rerun(page, lambda: buttons.filter(has_text=name).first.click())


def open_tab(page, name: str) -> None:  # type: ignore[no-untyped-def]
    wait_for_app(page)
    tab = page.get_by_role("tab", name=name)
    if tab.get_attribute("aria-selected") != "true":
        rerun(page, lambda: tab.click())  # the tabs are stateful: switching reruns the page


def test_prompts_walkthrough(page, app_url: str, app_server) -> None:  # type: ignore[no-untyped-def]
    try:
        walkthrough(page, app_url, app_server)
    except BaseException:
        screenshot(page, "prompts-walkthrough-failure")  # what the page showed when it failed
        raise


def walkthrough(page, app_url: str, app_server) -> None:  # type: ignore[no-untyped-def]
    page.set_viewport_size({"width": 1600, "height": 1800})
    page.goto(app_url)
    wait_for_app(page)
    rerun(page, lambda: page.locator('[data-testid="stSidebarNav"]').get_by_text("Prompts").click())
    page.wait_for_selector("h1:has-text('Prompts')")

    # A folder, then a chat prompt in it.
    expand(page, "New folder")
    fill(page, "Folder path", "support/en")
    rerun(page, lambda: page.get_by_role("button", name="Create folder").click())
    expand(page, "New prompt")
    new = page.locator('[data-testid="stExpander"]', has_text="New prompt")
    fill(page, "Name", NAME, new)
    select(page, "Folder", "support/en", new)
    rerun(page, lambda: page.get_by_role("button", name="Create prompt").click())
    page.wait_for_selector(f"h3:has-text('{NAME}')")
    ace_frames(page).nth(0).locator(".ace_editor").wait_for()  # the real code editor

    # v1: f-string, variables detected live, preview with sample values.
    type_in_ace(page, 0, "You are a {tone} concierge.")
    type_in_ace(page, 1, "Welcome {name} to {city}!")
    set_variable(page, "tone", "cheerful")
    set_variable(page, "name", "Ada")
    set_variable(page, "city", "Lisbon")
    page.get_by_text("Welcome Ada to Lisbon!", exact=True).first.wait_for()
    assert page.get_by_text("You are a cheerful concierge.").count() == 1
    show(page, "text=Preview", "prompts-01-fstring-preview")
    save(page, "f-string greeting", 1)

    # An unparsable edit is refused inline with line/column and not saved.
    type_in_ace(page, 1, "Welcome {name to {city}!")
    page.get_by_text("Message 2 — line 1, column 18").first.wait_for()
    show(page, "text=Message 2 — line 1", "prompts-02-inline-error")

    # v2: mustache
    select(page, "Template format", "mustache")
    page.get_by_text("sections").first.wait_for()  # the mustache help line
    type_in_ace(page, 0, "You are a {{tone}} concierge.")
    type_in_ace(page, 1, "Welcome {{name}} to {{city}}!{{#vip}} Enjoy the lounge.{{/vip}}")
    set_variable(page, "vip", "true")
    page.get_by_text("Welcome Ada to Lisbon! Enjoy the lounge.", exact=True).first.wait_for()
    save(page, "mustache with VIP section", 2)

    # v3: jinja2
    select(page, "Template format", "jinja2")
    page.get_by_text("sandboxed").first.wait_for()  # the jinja2 help line
    type_in_ace(page, 0, "You are a {{ tone }} concierge.")
    type_in_ace(page, 1, "Welcome {{ name | upper }} to {{ city }}!{% if vip %} Enjoy the lounge.{% endif %}")
    page.get_by_text("Welcome ADA to Lisbon! Enjoy the lounge.", exact=True).first.wait_for()
    show(page, "text=Preview", "prompts-03-jinja2-preview")
    save(page, "jinja2 with filter", 3)

    db = _db(app_server)
    ws = db.default_workspace_id()
    versions = P.list_versions(db, ws, NAME)
    assert [(v.version, v.template_format) for v in versions] == [(3, "jinja2"), (2, "mustache"), (1, "f-string")]
    assert P.get_prompt_summary(db, ws, NAME).folder_path == "support/en"

    # Diff v1 vs v3 (defaults: oldest vs newest), then roll back to v1.
    open_tab(page, "🕘 History & diff")
    page.get_by_text("Compare versions").scroll_into_view_if_needed()
    diff = page.locator("table.pwdiff")
    diff.wait_for()
    assert "Welcome {name} to {city}!" in diff.inner_text() and "{{ name | upper }}" in diff.inner_text()
    page.get_by_text("Rendered with sample values").scroll_into_view_if_needed()
    screenshot(page, "prompts-04-diff-v1-v3")
    select(page, "Show version", "v1 — f-string greeting")
    rerun(page, lambda: page.get_by_role("button", name="⏪ Roll back to v1").click())
    assert_no_exception(page)
    v4 = P.get_version(db, ws, NAME)
    assert v4.version == 4 and v4.template_format == "f-string" and v4.note == "Rollback to v1"
    screenshot(page, "prompts-05-after-rollback")

    # Labels: production -> v1, staging -> v3.
    open_tab(page, "🏷️ Labels")
    labels = page.locator('[data-testid="stTabPanel"]:visible')  # only the active panel is visible
    select(page, "Label", "production", labels)
    select(page, "Version", "v1", labels)
    rerun(page, lambda: page.get_by_role("button", name="Point production at v1").click())
    open_tab(page, "🏷️ Labels")
    select(page, "Label", "staging", labels)
    select(page, "Version", "v3", labels)
    rerun(page, lambda: page.get_by_role("button", name="Point staging at v3").click())
    assert {li.name: li.version for li in P.list_labels(db, ws, NAME)} == {"production": 1, "staging": 3}
    open_tab(page, "🏷️ Labels")
    page.get_by_text("History", exact=True).scroll_into_view_if_needed()
    screenshot(page, "prompts-06-labels")

    # A snippet, included in the prompt and expanded in the preview.
    switch_view(page, "Snippets")
    expand(page, "New snippet")
    snip = page.locator('[data-testid="stExpander"]', has_text="New snippet")
    fill(page, "Name", "house-style", snip)
    commit_input(page, lambda: snip.get_by_label("Text", exact=True),
                 "Always answer in {language}.", key="Control+Enter")
    rerun(page, lambda: page.get_by_role("button", name="Create snippet").click())
    page.get_by_text("[[snippet:house-style]]").first.wait_for()
    switch_view(page, "Prompts")
    open_tab(page, "✏️ Editor")
    type_in_ace(page, 0, "You are a {tone} concierge. [[snippet:house-style]]")
    set_variable(page, "language", "Portuguese")
    page.get_by_text("You are a cheerful concierge. Always answer in Portuguese.", exact=True).first.wait_for()
    show(page, "text=Preview", "prompts-07-snippet-expanded")
    save(page, "house style snippet", 5)
    assert P.get_version(db, ws, NAME, expand_snippets=True).template[0]["content"].endswith("Always answer in {language}.")
    assert [u.name for u in P.snippet_usages(db, ws, "house-style")] == [NAME]
    assert_no_exception(page)
    db.dispose()
