"""Credentials: lookup order, masking, redaction; the Settings page's session-only keys."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from streamlit.testing.v1 import AppTest

from core import credentials
from core.credentials import CredentialsError, mask_key, redact, resolve_key, resolve_named
from core.db import Database

ROOT = Path(__file__).resolve().parents[1]
KEY = "sk-test-SECRET123456abcd"


@pytest.fixture
def secrets_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "secrets.toml"
    monkeypatch.setenv("WORKBENCH_SECRETS_FILE", str(path))
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    return path


def test_lookup_order_session_then_secrets_then_env(secrets_file: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_key("openai").source == "none"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env-1111")
    found = resolve_key("openai")
    assert (found.source, found.name, found.key) == ("env", "OPENAI_API_KEY", "sk-from-env-1111")
    secrets_file.write_text('OPENAI_API_KEY = "sk-from-secrets-2222"\n')
    assert resolve_key("openai").source == "secrets"
    found = resolve_key("openai", session_keys={"openai": "sk-typed-3333"})
    assert (found.source, found.key) == ("session", "sk-typed-3333")


def test_secrets_sections_alternate_names_and_named_tokens(secrets_file: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    secrets_file.write_text('GOOGLE_API_KEY = "AIzaFromSecrets000000000000"\n'
                            '[anthropic]\napi_key = "sk-ant-section-4444"\n'
                            'MY_ENDPOINT_TOKEN = "tok-in-section"\n')
    assert resolve_key("gemini").key == "AIzaFromSecrets000000000000"
    assert resolve_key("anthropic").name == "anthropic.api_key"
    monkeypatch.setenv("MY_ENDPOINT_TOKEN", "tok-env-5555")
    assert resolve_named("MY_ENDPOINT_TOKEN").source == "env"
    assert resolve_named("MY_ENDPOINT_TOKEN", session_keys={"MY_ENDPOINT_TOKEN": "t"}).source == "session"


def test_broken_secrets_file_is_a_clear_error_without_content(secrets_file: Path) -> None:
    secrets_file.write_text('OPENAI_API_KEY = "sk-unterminated-SECRET\n')
    with pytest.raises(CredentialsError) as info:
        resolve_key("openai")
    assert "not valid TOML" in str(info.value) and "SECRET" not in str(info.value)


def test_mask_key_shows_prefix_and_last_four() -> None:
    assert mask_key("sk-proj-abcdefghijklmnopa1b2") == "sk-…a1b2"
    assert mask_key("AIzaSyXXXXXXXXXXXXXXXXXXXXXXX9z8y") == "AI…9z8y"
    assert mask_key("short") == "…***" and mask_key(None) == ""
    assert "SECRET" not in repr(resolve_key("openai", session_keys={"openai": KEY}))


@pytest.mark.parametrize("raw", [
    pytest.param(f"Incorrect API key provided: {KEY}", id="openai-key"),
    pytest.param("Authorization: Bearer abcdefghijklmnop.qrstu", id="bearer"),
    pytest.param('{"api_key": "plainsecretvalue"}', id="json-field"),
    pytest.param("x-api-key=zzzzzzzzzzzz&q=1", id="query"),
    pytest.param("key sk-ant-api03-AAAAAAAAAAAAAAAA here", id="anthropic"),
    pytest.param("gemini AIzaSyA1234567890123456789012345 bad", id="google"),
])
def test_redact_masks_key_shapes_in_text(raw: str) -> None:
    out = redact(raw)
    assert "***" in out
    for secret in ("SECRET123456", "abcdefghijklmnop", "plainsecretvalue", "zzzzzzzzzzzz",
                   "AAAAAAAAAAAAAAAA", "A1234567890123456789012345"):
        assert secret not in out


def test_redact_masks_secret_fields_at_any_depth_and_known_values() -> None:
    data = {"model": "m", "invocation_parameters": {"temperature": 0.2, "max_tokens": 5},
            "extra": [{"headers": {"Authorization": "Bearer x", "X-Api-Key": "k"}}],
            "note": "the user typed hunter2hunter2 here", "token_count": 3}
    out = redact(data, secrets=["hunter2hunter2"])
    assert out["extra"][0]["headers"] == {"Authorization": "***", "X-Api-Key": "***"}
    assert out["invocation_parameters"] == {"temperature": 0.2, "max_tokens": 5}
    assert "hunter2hunter2" not in json.dumps(out) and out["token_count"] == 3
    assert data["extra"][0]["headers"]["Authorization"] == "Bearer x"  # input untouched


def test_innocent_text_is_left_alone() -> None:
    text_ = "The token count exceeded the context window; basic usage is fine."
    assert redact(text_) == text_


def test_dropping_fields_removes_secrets_and_header_containers() -> None:
    params = {"temperature": 0.2, "max_tokens": 5, "api_key": KEY, "openai_api_key": KEY,
              "extra_headers": {"X-Trace": "1"}, "nested": {"client_secret": "abcdefgh",
                                                            "token_count": 3, "note": f"k={KEY}"},
              "stop": ["password:"], "top_k": 4}
    out = redact(params, [KEY], drop_fields=True)
    assert out == {"temperature": 0.2, "max_tokens": 5, "nested": {"token_count": 3, "note": "k=***"},
                   "stop": ["password:"], "top_k": 4}
    masked = redact(params, [KEY])  # the default masks in place and keeps the shape
    assert masked["api_key"] == "***" and masked["extra_headers"] == {"X-Trace": "1"}


@pytest.mark.parametrize(("name", "secret"), [
    pytest.param("api_key", True, id="api_key"),
    pytest.param("OPENAI_API_KEY", True, id="env-style"),
    pytest.param("x-api-key", True, id="header"),
    pytest.param("llm.credentials", True, id="dotted"),
    pytest.param("session_token", True, id="suffix-token"),
    pytest.param("max_tokens", False, id="max_tokens"),
    pytest.param("budget_tokens", False, id="tokens-count"),
    pytest.param("token_env_var", False, id="names-a-variable"),
    pytest.param("headers", False, id="container-when-masking"),
    pytest.param("aws_secret_access_key", True, id="access-key"),
    pytest.param("secret_key", True, id="secret-key"),
])
def test_is_secret_field(name: str, secret: bool) -> None:
    assert credentials.is_secret_field(name) is secret
    assert credentials.is_secret_field("extra_headers", containers=True)
    assert credentials.is_secret_field("llm.http_headers", containers=True)


def test_user_content_keeps_its_keys_and_only_known_secrets_go() -> None:
    tools = [{"name": "login", "parameters": {"properties": {"password": {"type": "string"}}}},
             f"my key is {KEY}", "sk-shaped-but-mine-123456"]
    out = credentials.scrub_values(tools, [KEY])
    assert out[0] == tools[0] and out[1] == "my key is ***" and out[2] == tools[2]


def test_clean_url_and_secrets_of() -> None:
    url = f"https://user:{KEY}@llm.example.invalid/v1?api_key={KEY}&sig=abc&model=m"
    assert credentials.clean_url(url) == "https://llm.example.invalid/v1?model=m"
    assert credentials.clean_url(None) is None
    found = credentials.secrets_of(KEY, {"Authorization": "Bearer tok-abcdef123456", "X-N": 1})
    assert found == [KEY, "Bearer tok-abcdef123456", "tok-abcdef123456"]
    assert credentials.redact_text("echo tok-abcdef123456", found) == "echo ***"


def test_keyless_and_cloud_providers() -> None:
    assert not credentials.needs_key("local") and not credentials.needs_key("ollama")
    assert not credentials.needs_key("bedrock") and credentials.needs_key("openai")
    assert credentials.key_env_vars("some_new_provider") == ("SOME_NEW_PROVIDER_API_KEY",)


def _dump(db: Database) -> str:
    parts = []
    with db.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            rows = conn.execute(text(f'SELECT * FROM "{table}"')).fetchall()
            parts.append(f"{table}:{[tuple(r) for r in rows]}")
    return "\n".join(parts)


def test_settings_page_masks_a_typed_key_and_stores_nothing(database: Database,
                                                            secrets_file: Path) -> None:
    database.default_workspace_id()  # the page creates it on first visit: not a secret
    before = _dump(database)
    at = AppTest.from_file(str(ROOT / "pages" / "settings.py"), default_timeout=60)
    at.run()
    assert not at.exception and not at.error
    at.text_input(key="settings_key_input_openai").input(KEY)
    at.button(key="settings_key_save_openai").click()
    at.run()
    assert not at.exception
    assert at.session_state["settings_session_keys"] == {"openai": KEY}
    assert at.text_input(key="settings_key_input_openai").value == ""  # plaintext left the widget
    shown = " ".join([m.value for m in at.success] + [m.value for m in at.markdown])
    assert "sk-…abcd" in shown and KEY not in shown
    table = at.tabs[0].dataframe[0].value
    row = table[table["Provider"] == "OpenAI"].iloc[0]
    assert row["Key"] == "sk-…abcd" and row["Source"] == "typed for this session"
    assert KEY not in table.to_string()
    at.button(key="settings_key_forget_openai").click()
    at.run()
    assert at.session_state["settings_session_keys"] == {}
    after = _dump(database)
    assert KEY not in after and "SECRET123456" not in after
    assert after == before


def test_settings_page_reports_a_broken_secrets_file(secrets_file: Path) -> None:
    secrets_file.write_text("not = [valid")
    at = AppTest.from_file(str(ROOT / "pages" / "settings.py"), default_timeout=60)
    at.run()
    assert not at.exception
    assert any("secrets.toml can't be read" in e.value for e in at.error)


def test_resolve_api_key_for_a_model(secrets_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-env-000000000")
    assert credentials.resolve_api_key("anthropic/claude-3-5-haiku-latest") == "sk-ant-env-000000000"
    assert credentials.resolve_api_key("gpt-4o", session_keys={"openai": "sk-typed"}) == "sk-typed"
    assert credentials.resolve_api_key("local/smollm2-135m-instruct") is None
    assert credentials.resolve_api_key("no-such-model-zzz") is None
    secrets_file.write_text("broken = [")
    assert credentials.resolve_api_key("anthropic/x") == "sk-ant-env-000000000"


@pytest.mark.parametrize("token", [
    pytest.param("xoxb-1234567890-abcdefghij", id="slack"),
    pytest.param("ghs_abcdefghijklmnopqrstuv", id="github-server"),
])
def test_more_token_shapes_are_masked_in_text(token: str) -> None:
    masked = credentials.redact_text(f"token is {token} ok")
    assert token not in masked and masked.endswith("*** ok")
