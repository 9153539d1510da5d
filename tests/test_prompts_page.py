"""Prompts page (AppTest, plain-text editor mode): create, edit, preview, save, history, labels, snippets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import prompts as P

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "prompts.py")


def page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.session_state["prompts_code_editor"] = "plain"  # Ace is a custom component AppTest can't type into
    at.run()
    assert not at.exception, at.exception
    return at


def by_prefix(elements, prefix: str):  # type: ignore[no-untyped-def]
    return [e for e in elements if (e.key or "").startswith(prefix)]


def messages(at: AppTest):  # type: ignore[no-untyped-def]
    return by_prefix(at.text_area, "prompts_ed_msg_")


def click(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click().run()
    assert not at.exception, at.exception
    return at


def open_prompt(at: AppTest, name: str) -> None:
    summary = P.get_prompt_summary(_db(), _db().default_workspace_id(), name)
    click(at, f"prompts_open_{summary.id}")


def _db():  # type: ignore[no-untyped-def]
    from core.db import get_database

    return get_database()


def frame_with(at: AppTest, column: str):  # type: ignore[no-untyped-def]
    """The first dataframe having ``column`` (AppTest doesn't expose dataframe keys)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def texts(at: AppTest) -> str:
    parts = [e.value for e in [*at.markdown, *at.code, *at.caption, *at.text] if isinstance(e.value, str)]
    return "\n".join(parts)


def test_create_folder_and_prompt_edit_preview_and_save(database) -> None:  # type: ignore[no-untyped-def]
    at = page()
    at.text_input(key="prompts_newfolder_path").input("support/en")
    click(at, "prompts_newfolder_create")
    assert [f.path for f in P.list_folders(database, database.default_workspace_id())] == ["support", "support/en"]
    at.text_input(key="prompts_new_name").input("greeting")
    at.selectbox(key="prompts_new_folder").select("support/en")
    at.selectbox(key="prompts_new_format").select("jinja2")
    click(at, "prompts_new_create")
    assert at.selectbox(key=by_prefix(at.selectbox, "prompts_ed_format_")[0].key).value == "jinja2"
    system, user = messages(at)
    system.input("You are {{ persona }}.")
    user.input("Hello {{ name }}!\n{% if vip %}Thanks for being a VIP.{% endif %}")
    at.run()
    var_keys = sorted(e.key for e in by_prefix(at.text_input, "prompts_ed_var_"))
    assert [k.rsplit("_", 1)[-1] for k in var_keys] == ["name", "persona", "vip"]
    for e in by_prefix(at.text_input, "prompts_ed_var_"):
        e.input({"persona": "a concierge", "name": "Ada", "vip": "true"}[e.key.rsplit("_", 1)[-1]])
    at.run()
    rendered = texts(at)
    assert "You are a concierge." in rendered and "Hello Ada!" in rendered and "Thanks for being a VIP." in rendered
    by_prefix(at.text_input, "prompts_ed_note_")[0].input("first draft")
    by_prefix(at.text_input, "prompts_ed_model_")[0].input("gpt-4o-mini")
    at.run()
    click(at, by_prefix(at.button, "prompts_ed_save_")[0].key)
    ws = database.default_workspace_id()
    v1 = P.get_version(database, ws, "greeting")
    assert v1.version == 1 and v1.note == "first draft" and v1.template_format == "jinja2"
    assert v1.template[1]["content"].startswith("Hello {{ name }}!")
    assert v1.llm_config == {"model": "gpt-4o-mini"}
    assert v1.sample_variables == {"persona": "a concierge", "name": "Ada", "vip": True}
    assert P.get_prompt_summary(database, ws, "greeting").folder_path == "support/en"
    assert any("Saved greeting v1" in s.value for s in at.success)


def test_unparsable_template_shows_inline_error_and_is_not_saved(sqlite_database) -> None:  # type: ignore[no-untyped-def]
    ws = sqlite_database.default_workspace_id()
    P.save_version(sqlite_database, ws, "p", template_type="chat", template_format="f-string",
                   template=[{"role": "user", "content": "Hi {name}"}])
    at = page()
    open_prompt(at, "p")
    (msg,) = messages(at)
    msg.input("line one\nHi {name")
    at.run()
    errors = [e.value for e in at.error]
    assert any("Message 1" in e and "line 2" in e and "column 4" in e for e in errors), errors
    click(at, by_prefix(at.button, "prompts_ed_save_")[0].key)
    assert any("Not saved" in e.value and "still in the editor" in e.value for e in at.error)
    assert messages(at)[0].value == "line one\nHi {name"  # nothing lost
    assert [v.version for v in P.list_versions(sqlite_database, ws, "p")] == [1]


def test_unknown_snippet_is_an_inline_error_and_blocks_save(sqlite_database) -> None:  # type: ignore[no-untyped-def]
    ws = sqlite_database.default_workspace_id()
    P.save_version(sqlite_database, ws, "p", template_type="chat", template_format="f-string",
                   template=[{"role": "user", "content": "Hi {name}"}])
    at = page()
    open_prompt(at, "p")
    messages(at)[0].input("Hi {name}. [[snippet:no-such-snippet]]")
    at.run()
    assert any("no-such-snippet" in e.value for e in at.error), [e.value for e in at.error]
    click(at, by_prefix(at.button, "prompts_ed_save_")[0].key)
    assert any("Not saved" in e.value for e in at.error)
    assert messages(at)[0].value == "Hi {name}. [[snippet:no-such-snippet]]"  # nothing lost
    assert [v.version for v in P.list_versions(sqlite_database, ws, "p")] == [1]


def test_label_removal_gives_feedback(sqlite_database) -> None:  # type: ignore[no-untyped-def]
    ws = sqlite_database.default_workspace_id()
    P.save_version(sqlite_database, ws, "p", template_type="chat", template_format="f-string",
                   template=[{"role": "user", "content": "Hi {name}"}])
    P.set_label(sqlite_database, ws, "p", "staging", version=1)
    at = page()
    open_prompt(at, "p")
    pid = P.get_prompt_summary(sqlite_database, ws, "p").id
    click(at, f"prompts_lbl_remove_{pid}")
    assert any("Removed label staging" in s.value for s in at.success)
    assert P.list_labels(sqlite_database, ws, "p") == []


def test_add_remove_reorder_messages_and_roles(sqlite_database) -> None:  # type: ignore[no-untyped-def]
    ws = sqlite_database.default_workspace_id()
    P.save_version(sqlite_database, ws, "p", template_type="chat", template_format="f-string",
                   template=[{"role": "system", "content": "S"}, {"role": "user", "content": "U"}])
    at = page()
    open_prompt(at, "p")
    by_prefix(at.selectbox, "prompts_ed_newrole_")[0].select("assistant")
    click(at, by_prefix(at.button, "prompts_ed_add_")[0].key)
    assert len(messages(at)) == 3
    messages(at)[2].input("A")
    at.run()
    up = [b for b in by_prefix(at.button, "prompts_ed_up_")][2]
    click(at, up.key)  # assistant above user
    assert [m.value for m in messages(at)] == ["S", "A", "U"]
    click(at, by_prefix(at.button, "prompts_ed_del_")[0].key)  # drop the system message
    role = by_prefix(at.selectbox, "prompts_ed_role_")[1]
    role.select("developer")
    at.run()
    click(at, by_prefix(at.button, "prompts_ed_save_")[0].key)
    assert P.get_version(sqlite_database, ws, "p").template == [
        {"role": "assistant", "content": "A"}, {"role": "developer", "content": "U"}]


def test_bad_model_configuration_json_blocks_save(sqlite_database) -> None:  # type: ignore[no-untyped-def]
    ws = sqlite_database.default_workspace_id()
    P.save_version(sqlite_database, ws, "p", template_type="text", template_format="f-string", template="Hi {x}")
    at = page()
    open_prompt(at, "p")
    by_prefix(at.text_area, "prompts_ed_tools_")[0].input("{not json")
    at.run()
    assert any("Tools: not valid JSON" in e.value for e in at.error)
    click(at, by_prefix(at.button, "prompts_ed_save_")[0].key)
    assert any(e.value.startswith("Not saved: Tools") for e in at.error)
    assert len(P.list_versions(sqlite_database, ws, "p")) == 1
    by_prefix(at.text_area, "prompts_ed_tools_")[0].input('[{"type": "function", "function": {"name": "f", "parameters": {}}}]')
    by_prefix(at.text_area, "prompts_ed_respfmt_")[0].input('{"type": "json_object"}')
    at.run()
    click(at, by_prefix(at.button, "prompts_ed_save_")[0].key)
    cfg = P.get_version(sqlite_database, ws, "p").llm_config
    assert cfg["tools"][0]["function"]["name"] == "f" and cfg["response_format"] == {"type": "json_object"}


def test_history_diff_rollback_and_comments(sqlite_database) -> None:  # type: ignore[no-untyped-def]
    ws = sqlite_database.default_workspace_id()
    for i, text in enumerate(["Hello {name}", "Hi {name}", "Hey {name}!"]):
        P.save_version(sqlite_database, ws, "p", template_type="chat", template_format="f-string",
                       template=[{"role": "user", "content": text}], note=f"n{i + 1}",
                       llm_config={"model": "m", "invocation_parameters": {"temperature": 0.1 * (i + 1)}},
                       sample_variables={"name": "Ada"})
    at = page()
    open_prompt(at, "p")
    pid = P.get_prompt_summary(sqlite_database, ws, "p").id
    at.selectbox(key=f"prompts_diff_left_{pid}_3").select(1)
    at.selectbox(key=f"prompts_diff_right_{pid}_3").select(3)
    at.run()
    diff_html = [e for e in at.get("html")]
    body = diff_html[0].proto.body if diff_html else ""
    plain = re.sub(r"<[^>]+>", "", body)
    assert "Hello {name}" in plain and "Hey {name}!" in plain
    # changed words are marked inside the changed line; the shared "{name}" is not
    assert "<span class='del'>Hello</span>" in body and "<span class='ins'>Hey</span>" in body
    assert "<span class='ins'>!</span>" in body and "<span class='ins'>{" not in body
    assert "Hello Ada" in texts(at) and "Hey Ada!" in texts(at)  # rendered side by side
    fields = frame_with(at, "field")
    assert list(fields["field"]) == ["llm_config.invocation_parameters.temperature"]
    assert list(fields["v3"]) == ["0.3"]  # not 0.30000000000000004
    at.selectbox(key=f"prompts_hist_pick_{pid}_3").select(1)
    at.run()
    at.text_input(key=f"prompts_hist_comment_{pid}_1").input("Too formal")
    click(at, f"prompts_hist_comment_btn_{pid}_1")
    assert [c.body for c in P.list_comments(sqlite_database, ws, "p", 1)] == ["Too formal"]
    click(at, f"prompts_hist_rollback_{pid}_1")
    v4 = P.get_version(sqlite_database, ws, "p")
    assert v4.version == 4 and v4.template == [{"role": "user", "content": "Hello {name}"}]
    assert v4.note == "Rollback to v1"


def test_labels_plain_and_weighted(sqlite_database) -> None:  # type: ignore[no-untyped-def]
    ws = sqlite_database.default_workspace_id()
    for i in range(2):
        P.save_version(sqlite_database, ws, "p", template_type="text", template_format="none", template=f"v{i}")
    at = page()
    open_prompt(at, "p")
    pid = P.get_prompt_summary(sqlite_database, ws, "p").id
    at.selectbox(key=f"prompts_lbl_name_{pid}").select("production")
    at.selectbox(key=f"prompts_lbl_version_{pid}").select(1)
    at.run()
    click(at, f"prompts_lbl_set_{pid}")
    assert P.get_version(sqlite_database, ws, "p", label="production").version == 1
    at.selectbox(key=f"prompts_lbl_name_{pid}").select("custom…")
    at.run()
    at.text_input(key=f"prompts_lbl_custom_{pid}").input("canary")
    at.toggle(key=f"prompts_lbl_weighted_{pid}").set_value(True)
    at.run()
    at.number_input(key=f"prompts_lbl_w_{pid}_2").set_value(90.0)
    at.number_input(key=f"prompts_lbl_w_{pid}_1").set_value(10.0)
    at.run()
    click(at, f"prompts_lbl_setw_{pid}")
    (canary,) = [li for li in P.list_labels(sqlite_database, ws, "p") if li.name == "canary"]
    assert sorted(canary.weights or []) == [(1, 10.0), (2, 90.0)]
    history = frame_with(at, "who")
    assert set(history["label"]) == {"production", "canary"}


def test_snippet_created_included_expanded_and_usage_shown(sqlite_database) -> None:  # type: ignore[no-untyped-def]
    ws = sqlite_database.default_workspace_id()
    P.save_version(sqlite_database, ws, "p", template_type="chat", template_format="mustache",
                   template=[{"role": "user", "content": "Q: {{q}}"}])
    at = page()
    at.segmented_control(key="prompts_mode").set_value("Snippets").run()
    at.text_input(key="prompts_snip_new_name").input("tone")
    at.text_area(key="prompts_snip_new_body").input("Answer as {{persona}}.")
    click(at, "prompts_snip_create")
    assert P.get_snippet(sqlite_database, ws, "tone").body == "Answer as {{persona}}."
    at.segmented_control(key="prompts_mode").set_value("Prompts").run()
    open_prompt(at, "p")
    messages(at)[0].input("[[snippet:tone]] Q: {{q}}")
    at.run()
    names = sorted(e.key.rsplit("_", 1)[-1] for e in by_prefix(at.text_input, "prompts_ed_var_"))
    assert names == ["persona", "q"]  # the snippet's variable is detected
    for e in by_prefix(at.text_input, "prompts_ed_var_"):
        e.input({"persona": "a pirate", "q": "where?"}[e.key.rsplit("_", 1)[-1]])
    at.run()
    assert "Answer as a pirate. Q: where?" in texts(at)
    click(at, by_prefix(at.button, "prompts_ed_save_")[0].key)
    messages(at)[0].input("[[snippet:ghost]]")
    at.run()
    assert any("unknown snippet 'ghost'" in e.value for e in at.error)
    at.segmented_control(key="prompts_mode").set_value("Snippets").run()
    snip_id = P.list_snippets(sqlite_database, ws)[0].id
    click(at, f"prompts_snip_open_{snip_id}")
    assert "**p** — v2" in texts(at)


def test_search_and_archive(sqlite_database) -> None:  # type: ignore[no-untyped-def]
    ws = sqlite_database.default_workspace_id()
    for name, text in [("alpha", "about refunds"), ("beta", "about shipping")]:
        P.save_version(sqlite_database, ws, name, template_type="text", template_format="none", template=text)
    at = page()
    buttons = lambda: [b.label for b in by_prefix(at.button, "prompts_open_")]  # noqa: E731
    assert len(buttons()) == 2
    at.text_input(key="prompts_search").input("shipping").run()
    assert [b.split(" ·")[0] for b in buttons()] == ["beta"]
    at.text_input(key="prompts_search").input("").run()
    open_prompt(at, "alpha")
    pid = P.get_prompt_summary(sqlite_database, ws, "alpha").id
    click(at, f"prompts_set_archive_{pid}")
    assert [b.split(" ·")[0] for b in buttons()] == ["beta"]
    at.toggle(key="prompts_show_archived").set_value(True).run()
    assert len(buttons()) == 2


def test_duplicate_prompt_name_is_a_clear_error(sqlite_database) -> None:  # type: ignore[no-untyped-def]
    P.create_prompt(sqlite_database, sqlite_database.default_workspace_id(), "taken")
    at = page()
    at.text_input(key="prompts_new_name").input("taken")
    click(at, "prompts_new_create")
    assert any("already exists" in e.value for e in at.error)


def test_api_tokens_view_shows_secret_once_and_revokes(sqlite_database) -> None:  # type: ignore[no-untyped-def]
    def script() -> None:
        from ui.api_tokens import render_api_tokens

        render_api_tokens()

    at = AppTest.from_function(script, default_timeout=30)
    at.run()
    at.text_input(key="settings_tokens_name").input("ci")
    at.button(key="settings_tokens_create").click().run()
    assert not at.exception
    (secret,) = [c.value for c in at.code]
    from core.auth import list_tokens, verify_token

    assert verify_token(sqlite_database, secret) is not None
    at.run()
    assert not [c.value for c in at.code]  # shown once
    click(at, "settings_tokens_revoke")
    assert verify_token(sqlite_database, secret) is None
    assert list_tokens(sqlite_database, sqlite_database.default_workspace_id())[0].revoked_at is not None


@pytest.mark.parametrize("fmt", ["f-string", "mustache", "jinja2"])
def test_variables_detected_in_each_format(sqlite_database, fmt: str) -> None:  # type: ignore[no-untyped-def]
    text = {"f-string": "{a} and {b}", "mustache": "{{a}} and {{b}}", "jinja2": "{{ a }} and {{ b }}"}[fmt]
    P.save_version(sqlite_database, sqlite_database.default_workspace_id(), "p", template_type="text",
                   template_format=fmt, template=text)
    at = page()
    open_prompt(at, "p")
    assert sorted(e.key.rsplit("_", 1)[-1] for e in by_prefix(at.text_input, "prompts_ed_var_")) == ["a", "b"]
