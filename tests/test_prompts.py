"""Prompt registry: folders, prompts, append-only versions, rollback, comments, search, bad input."""

from __future__ import annotations

import threading

import pytest

from core import prompts as P

CHAT = [
    {"role": "system", "content": "You are {persona}."},
    {"role": "user", "content": "Hello {name}"},
]


def save(db, ws, name="greet", template=None, **kw):  # type: ignore[no-untyped-def]
    kw.setdefault("template_type", "chat")
    kw.setdefault("template_format", "f-string")
    kw.setdefault("note", "")
    return P.save_version(db, ws, name, template=template or CHAT, **kw)


def test_save_version_creates_prompt_and_numbers_versions(database) -> None:  # type: ignore[no-untyped-def]
    ws = database.default_workspace_id()
    v1 = save(database, ws, note="first", author="ann", folder="support/en",
              llm_config={"model": "gpt-4o-mini", "invocation_parameters": {"temperature": 0.2}},
              sample_variables={"persona": "a helper", "name": "Ada"})
    v2 = save(database, ws, template=[{"role": "user", "content": "Hi {name}"}], note="second", author="bob")
    assert (v1.version, v2.version) == (1, 2)
    assert v1.prompt_id == v2.prompt_id and v1.prompt_name == "greet"
    assert v1.llm_config == {"model": "gpt-4o-mini", "invocation_parameters": {"temperature": 0.2}}
    assert v1.sample_variables == {"persona": "a helper", "name": "Ada"}
    assert v1.created_at.tzinfo is not None and v1.author == "ann" and v1.note == "first"
    got = P.get_version(database, ws, "greet", version=1)
    assert got.template == CHAT and got.note == "first"
    assert P.get_version(database, ws, "greet").version == 2  # newest by default
    assert P.get_version(database, ws, "greet", label="latest").version == 2
    assert [v.version for v in P.list_versions(database, ws, "greet")] == [2, 1]
    summary = P.get_prompt_summary(database, ws, "greet")
    assert summary.folder_path == "support/en" and summary.latest_version == 2


def test_versions_are_immutable_values(database) -> None:  # type: ignore[no-untyped-def]
    ws = database.default_workspace_id()
    v1 = save(database, ws)
    with pytest.raises(AttributeError):
        v1.note = "changed"  # type: ignore[misc]
    save(database, ws, template=[{"role": "user", "content": "other"}])
    assert P.get_version(database, ws, "greet", version=1).template == CHAT


def test_text_prompt_and_every_format(database) -> None:  # type: ignore[no-untyped-def]
    ws = database.default_workspace_id()
    cases = {
        "f-string": "Hi {name}",
        "mustache": "Hi {{name}}",
        "jinja2": "Hi {{ name }}{% if vip %}!{% endif %}",
        "none": "Hi {name} stays literal",
    }
    for fmt, text in cases.items():
        v = P.save_version(database, ws, f"text-{fmt}", template_type="text", template_format=fmt,
                           template=text, note="")
        assert v.template == text
        expected = {"none": [], "jinja2": ["name", "vip"]}.get(fmt, ["name"])
        assert P.template_variables(v.template, fmt) == expected
    assert P.render_template("text", "jinja2", cases["jinja2"], {"name": "Ada", "vip": True}) == "Hi Ada!"
    assert P.render_template("text", "none", cases["none"], {}) == "Hi {name} stays literal"


@pytest.mark.parametrize(
    ("template", "fmt", "where"),
    [
        pytest.param([{"role": "user", "content": "ok"}, {"role": "user", "content": "Hi {name"}], "f-string", (1, 1), id="fstring-brace"),
        pytest.param([{"role": "user", "content": "line\n{% if x %}never closed"}], "jinja2", (0, 2), id="jinja-unclosed"),
        pytest.param([{"role": "user", "content": "{{#items}}x"}], "mustache", (0, 1), id="mustache-section"),
    ],
)
def test_unparsable_template_is_refused_with_location_and_nothing_saved(database, template, fmt, where) -> None:  # type: ignore[no-untyped-def]
    ws = database.default_workspace_id()
    save(database, ws)
    with pytest.raises(P.InvalidTemplateError) as info:
        P.save_version(database, ws, "greet", template_type="chat", template_format=fmt, template=template)
    assert info.value.message_index == where[0]
    assert info.value.line == where[1]
    assert f"message {where[0] + 1}" in str(info.value)
    assert [v.version for v in P.list_versions(database, ws, "greet")] == [1]


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        pytest.param({"template": [{"role": "wizard", "content": "x"}]}, "template.0", id="bad-role"),
        pytest.param({"template": [{"role": "user", "content": "x", "colour": 1}]}, "unknown field", id="extra-field"),
        pytest.param({"template": []}, "at least one message", id="empty-chat"),
        pytest.param({"template_format": "handlebars"}, "template_format", id="bad-format"),
        pytest.param({"llm_config": {"model": "m", "temprature": 1}}, "llm_config.temprature", id="config-typo"),
        pytest.param({"template_type": "text"}, "text prompt's template must be a string", id="type-mismatch"),
    ],
)
def test_bad_version_input_names_the_field(database, kwargs, fragment) -> None:  # type: ignore[no-untyped-def]
    ws = database.default_workspace_id()
    args = {"template_type": "chat", "template_format": "f-string", "template": CHAT, **kwargs}
    with pytest.raises(P.ValidationError) as info:
        P.save_version(database, ws, "p", **args)
    assert fragment in str(info.value)
    assert P.list_prompts(database, ws) == []


def test_concurrent_saves_get_distinct_gapless_numbers(database) -> None:  # type: ignore[no-untyped-def]
    ws = database.default_workspace_id()
    threads_n, per_thread = 6, 5
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads_n)

    def worker(i: int) -> None:
        try:
            barrier.wait()
            for j in range(per_thread):
                save(database, ws, "race", template=[{"role": "user", "content": f"t{i} s{j}"}],
                     note=f"{i}-{j}", author=f"user{i}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    versions = P.list_versions(database, ws, "race")
    assert sorted(v.version for v in versions) == list(range(1, threads_n * per_thread + 1))
    assert sorted(v.note for v in versions) == sorted(f"{i}-{j}" for i in range(threads_n) for j in range(per_thread))
    assert P.get_prompt_summary(database, ws, "race").latest_version == threads_n * per_thread


def test_rollback_appends_a_copy_of_the_old_version(database) -> None:  # type: ignore[no-untyped-def]
    ws = database.default_workspace_id()
    v1 = save(database, ws, llm_config={"model": "a"}, note="one")
    save(database, ws, template=[{"role": "user", "content": "two"}], llm_config={"model": "b"})
    v3 = P.rollback(database, ws, "greet", 1, author="carol")
    assert v3.version == 3 and v3.author == "carol" and v3.note == "Rollback to v1"
    assert v3.template == v1.template and v3.llm_config == v1.llm_config
    assert v3.content_hash == v1.content_hash
    assert [v.version for v in P.list_versions(database, ws, "greet")] == [3, 2, 1]
    with pytest.raises(P.VersionNotFoundError):
        P.rollback(database, ws, "greet", 9)


def test_comments_on_versions(database) -> None:  # type: ignore[no-untyped-def]
    ws = database.default_workspace_id()
    save(database, ws)
    save(database, ws, template=[{"role": "user", "content": "v2"}])
    c = P.add_comment(database, ws, "greet", 1, "  Too formal?  ", author="ann")
    P.add_comment(database, ws, "greet", 2, "Better", author="bob")
    assert [(x.version, x.body, x.author) for x in P.list_comments(database, ws, "greet", 1)] == [(1, "Too formal?", "ann")]
    assert len(P.list_comments(database, ws, "greet")) == 2
    P.delete_comment(database, ws, "greet", c.id)
    assert [x.body for x in P.list_comments(database, ws, "greet")] == ["Better"]
    with pytest.raises(P.ValidationError):
        P.add_comment(database, ws, "greet", 1, "   ")
    with pytest.raises(P.VersionNotFoundError):
        P.add_comment(database, ws, "greet", 7, "x")


def test_folders_nested_rename_move_delete(database) -> None:  # type: ignore[no-untyped-def]
    ws = database.default_workspace_id()
    P.create_folder(database, ws, "support/en")
    P.create_folder(database, ws, "marketing")
    with pytest.raises(P.DuplicateNameError):
        P.create_folder(database, ws, "support/en")
    with pytest.raises(P.DuplicateNameError):
        P.create_folder(database, ws, "marketing")  # root-level duplicate (NULL parent)
    P.create_prompt(database, ws, "faq", folder="support/en")
    assert [f.path for f in P.list_folders(database, ws)] == ["marketing", "support", "support/en"]
    P.rename_folder(database, ws, "support", "help")
    assert P.get_prompt_summary(database, ws, "faq").folder_path == "help/en"
    P.move_folder(database, ws, "help/en", "marketing")
    assert P.get_prompt_summary(database, ws, "faq").folder_path == "marketing/en"
    with pytest.raises(P.ValidationError, match="into itself"):
        P.move_folder(database, ws, "marketing", "marketing/en")
    with pytest.raises(P.ValidationError, match="not empty"):
        P.delete_folder(database, ws, "marketing/en")
    P.move_prompt(database, ws, "faq", None)
    P.delete_folder(database, ws, "marketing/en")
    assert [f.path for f in P.list_folders(database, ws)] == ["help", "marketing"]
    with pytest.raises(P.FolderNotFoundError):
        P.list_prompts(database, ws, folder="nowhere")


def test_prompt_create_rename_move_archive_and_duplicates(database) -> None:  # type: ignore[no-untyped-def]
    ws = database.default_workspace_id()
    P.create_prompt(database, ws, "a", folder="x", tags=["support", "support", "en"], description="d")
    assert P.get_prompt_summary(database, ws, "a").tags == ["support", "en"]
    with pytest.raises(P.DuplicateNameError, match="in folder 'x'"):
        P.create_prompt(database, ws, "a", folder="y")
    with pytest.raises(P.DuplicateNameError):
        P.save_version(database, ws, "a", template_type="chat", template_format="f-string",
                       template=CHAT) and P.create_prompt(database, ws, "a")
    P.create_prompt(database, ws, "b")
    with pytest.raises(P.DuplicateNameError):
        P.rename_prompt(database, ws, "b", "a")
    P.rename_prompt(database, ws, "a", "a2")
    assert P.get_version(database, ws, "a2").version == 1  # versions follow the rename
    with pytest.raises(P.PromptNotFoundError):
        P.get_version(database, ws, "a")
    P.archive_prompt(database, ws, "a2")
    assert [p.name for p in P.list_prompts(database, ws)] == ["b"]
    assert {p.name for p in P.list_prompts(database, ws, include_archived=True)} == {"a2", "b"}
    assert P.get_version(database, ws, "a2").version == 1  # still fetchable by code
    P.archive_prompt(database, ws, "a2", archived=False)
    assert {p.name for p in P.list_prompts(database, ws)} == {"a2", "b"}
    for bad in ["", "a/b", "x@prod", "[[y]]", " ", "a" * 201]:
        with pytest.raises(P.ValidationError):
            P.create_prompt(database, ws, bad)


def test_empty_prompt_has_no_versions_yet(database) -> None:  # type: ignore[no-untyped-def]
    ws = database.default_workspace_id()
    P.create_prompt(database, ws, "empty")
    with pytest.raises(P.VersionNotFoundError, match="no versions yet"):
        P.get_version(database, ws, "empty")
    with pytest.raises(P.PromptNotFoundError):
        P.save_version(database, ws, "missing", template_type="chat", template_format="f-string",
                       template=CHAT, create_if_missing=False)


def test_search_by_name_tag_description_and_text(database) -> None:  # type: ignore[no-untyped-def]
    ws = database.default_workspace_id()
    save(database, ws, "refund-reply", template=[{"role": "user", "content": "Explain the REFUND policy"}])
    save(database, ws, "greeting", template=[{"role": "user", "content": "Hello"}], folder="support/en")
    P.update_prompt(database, ws, "greeting", tags=["onboarding"], description="first contact")
    names = lambda **kw: [p.name for p in P.list_prompts(database, ws, **kw)]  # noqa: E731
    assert names(search="refund") == ["refund-reply"]          # name and text
    assert names(search="policy") == ["refund-reply"]          # text only
    assert names(search="onboard") == ["greeting"]             # tag
    assert names(search="CONTACT") == ["greeting"]             # description, case-insensitive
    assert names(tag="onboarding") == ["greeting"]
    assert names(folder="support") == ["greeting"]             # recursive
    assert names(folder="support", recursive=False) == []
    assert names(folder="", recursive=False) == ["refund-reply"]  # top level only
    save(database, ws, "refund-reply", template=[{"role": "user", "content": "changed"}])
    assert names(search="policy") == []                        # searches the newest version


def test_workspaces_are_isolated(database) -> None:  # type: ignore[no-untyped-def]
    ws = database.default_workspace_id()
    other = database.ensure_workspace("other")
    save(database, ws, "shared-name")
    save(database, other, "shared-name", template=[{"role": "user", "content": "other"}])
    assert P.get_version(database, other, "shared-name").template == [{"role": "user", "content": "other"}]
    assert P.get_version(database, ws, "shared-name").template == CHAT
