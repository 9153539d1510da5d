"""Every page renders without an exception on an empty and on a seeded database (AppTest)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.db import get_database
from core.db.models import Prompt, PromptVersion, Run

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted(p.name for p in (ROOT / "pages").glob("*.py") if not p.name.startswith("_"))


def seed() -> None:
    """Put a little of everything into the configured database."""
    db = get_database()
    ws = db.default_workspace_id()
    with db.session() as s:
        p = Prompt(workspace_id=ws, name="seeded-prompt")
        s.add(p)
        s.flush()
        s.add(PromptVersion(prompt_id=p.id, version=1, template_type="chat", template_format="f-string",
                            template=[{"role": "user", "content": "Hi {name}"}], content_hash="h"))
        s.add(Run(workspace_id=ws, model="local/smollm2", started_at=datetime.now(UTC), output_text="hello"))


def run_page(name: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / name), default_timeout=30)
    at.run()
    return at


def test_every_feature_page_exists() -> None:
    expected = {"playground.py", "prompts.py", "datasets.py", "experiments.py", "traces.py", "analytics.py", "settings.py"}
    assert expected <= set(PAGES)


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_on_empty_database(page: str) -> None:
    at = run_page(page)
    assert not at.exception, at.exception
    assert at.title or at.markdown or at.header


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_on_seeded_database(page: str) -> None:
    seed()
    at = run_page(page)
    assert not at.exception, at.exception


def test_app_router_renders_default_page() -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.run()
    assert not at.exception, at.exception
    assert any("Database" in c.value for c in at.sidebar.caption)


def test_unreachable_database_shows_error_not_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_DATABASE_URL", "postgresql+psycopg://u:hunter2@127.0.0.1:1/x")
    at = run_page("prompts.py")
    assert not at.exception
    assert at.error and "can't be used" in at.error[0].value
    assert "hunter2" not in at.error[0].value
