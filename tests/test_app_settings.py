"""Workbench-wide settings: the Phoenix collector saved on the Settings page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import app_settings
from core.db import Database
from core.providers.types import ModelRequest, ModelResult, Usage
from core.tracing import Recorder, get_recorder
from core.tracing.phoenix import ENDPOINT_ENV, endpoint_from_env, endpoint_source
from tests.servers.otlp_receiver import OtlpReceiver

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _isolated_sources(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(ENDPOINT_ENV, raising=False)
    monkeypatch.setenv("WORKBENCH_SECRETS_FILE", str(tmp_path / "no-secrets.toml"))


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as rx:
        yield rx


def test_settings_round_trip_and_removal(workbench_home: Path) -> None:
    assert app_settings.load_settings() == {}
    app_settings.save_setting(app_settings.PHOENIX_ENDPOINT, "http://127.0.0.1:6006")
    assert app_settings.get_setting(app_settings.PHOENIX_ENDPOINT) == "http://127.0.0.1:6006"
    assert (workbench_home / "settings.json").is_file()
    app_settings.save_setting(app_settings.PHOENIX_ENDPOINT, None)
    assert app_settings.get_setting(app_settings.PHOENIX_ENDPOINT) is None


def test_unknown_settings_and_credentials_in_urls_are_refused() -> None:
    with pytest.raises(app_settings.SettingsError, match="unknown setting"):
        app_settings.save_setting("api_key", "x")
    with pytest.raises(app_settings.SettingsError, match="credentials"):
        app_settings.save_setting(app_settings.PHOENIX_ENDPOINT, "http://user:pw@host:6006")
    assert app_settings.load_settings() == {}


def test_a_corrupt_settings_file_reads_as_empty(workbench_home: Path) -> None:
    workbench_home.mkdir(parents=True, exist_ok=True)
    (workbench_home / "settings.json").write_text("{not json")
    assert app_settings.load_settings() == {}


def test_endpoint_priority_environment_then_secrets_then_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert endpoint_from_env() is None and endpoint_source() is None
    app_settings.save_setting(app_settings.PHOENIX_ENDPOINT, "http://saved:1")
    assert (endpoint_from_env(), endpoint_source()) == ("http://saved:1", "settings")
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'{ENDPOINT_ENV} = "http://secret:2"\n')
    monkeypatch.setenv("WORKBENCH_SECRETS_FILE", str(secrets))
    assert (endpoint_from_env(), endpoint_source()) == ("http://secret:2", "secrets")
    monkeypatch.setenv(ENDPOINT_ENV, "http://env:3")
    assert (endpoint_from_env(), endpoint_source()) == ("http://env:3", "environment")


def test_a_saved_collector_is_used_by_a_new_recorder(
    sqlite_database: Database, receiver: OtlpReceiver
) -> None:
    app_settings.save_setting(app_settings.PHOENIX_ENDPOINT, receiver.endpoint)
    rec = Recorder(sqlite_database.url)
    try:
        assert rec.phoenix_status()["enabled"]
        handle = rec.start(ModelRequest(model="openai/gpt-4o-mini",
                                        messages=[{"role": "user", "content": "hi"}]))
        handle.finish(ModelResult(text="hello", usage=Usage(1, 1, 2)))
        assert rec.flush_export(10)
        assert receiver.wait_for_spans(1, timeout=10)
    finally:
        rec.shutdown()
    assert receiver.spans[0]["attributes"]["llm.output_messages.0.message.content"] == "hello"


def test_settings_page_saves_applies_and_stops_export(
    sqlite_database: Database, receiver: OtlpReceiver
) -> None:
    at = AppTest.from_file(str(ROOT / "pages" / "settings.py"), default_timeout=30)
    at.run()
    at.text_input(key="settings_phoenix_url").input("ftp://nope")
    at.button[[b.label for b in at.button].index("Save and export")].click().run()
    assert any("must start with http" in e.value for e in at.error)
    assert app_settings.get_setting(app_settings.PHOENIX_ENDPOINT) is None

    at.text_input(key="settings_phoenix_url").input(receiver.endpoint)
    at.button[[b.label for b in at.button].index("Save and export")].click().run()
    assert not at.exception
    assert app_settings.get_setting(app_settings.PHOENIX_ENDPOINT) == receiver.endpoint
    status = get_recorder(sqlite_database.url).phoenix_status()
    assert status["enabled"] and receiver.endpoint in status["endpoint"]

    at.button[[b.label for b in at.button].index("Stop exporting")].click().run()
    assert app_settings.get_setting(app_settings.PHOENIX_ENDPOINT) is None
    assert not get_recorder(sqlite_database.url).phoenix_status()["enabled"]
