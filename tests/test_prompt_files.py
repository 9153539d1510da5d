"""YAML export/import: round trip, idempotence, stable files, safe loading, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import prompts as P
from core.prompts.files import (
    MAX_FILE_BYTES,
    export_prompts,
    file_stem,
    import_prompts,
    prompt_document,
)


def _seed(db, ws) -> None:  # type: ignore[no-untyped-def]
    P.save_snippet(db, ws, "tone", "Be {style}.")
    P.save_version(db, ws, "support reply", template_type="chat", template_format="f-string",
                   template=[{"role": "system", "content": "[[snippet:tone]]\nYou help with:\n- orders\n- refunds"},
                             {"role": "user", "content": "{question}"}],
                   llm_config={"model": "gpt-4o-mini", "invocation_parameters": {"temperature": 0.3},
                               "response_format": {"type": "json_object"}},
                   sample_variables={"style": "kind", "question": "Where is it?"},
                   note="first", author="ann", folder="support/en")
    P.save_version(db, ws, "support reply", template_type="chat", template_format="f-string",
                   template=[{"role": "user", "content": "{question}"}], note="second", author="bob")
    P.rollback(db, ws, "support reply", 1, author="carol")
    P.add_comment(db, ws, "support reply", 2, "too short", author="dave")
    P.set_label(db, ws, "support reply", "production", version=1)
    P.set_label(db, ws, "support reply", "canary", weights={1: 80, 3: 20})
    P.update_prompt(db, ws, "support reply", description="Replies", tags=["support"])
    P.save_version(db, ws, "summary", template_type="text", template_format="jinja2",
                   template="Summarise {{ text }}", note="")
    P.archive_prompt(db, ws, "summary")


def _snapshot(db, ws) -> dict:  # type: ignore[no-untyped-def,type-arg]
    out = {}
    for p in P.list_prompts(db, ws, include_archived=True):
        versions = [(v.version, v.template_type, v.template_format, v.template, v.llm_config,
                     v.sample_variables, v.note, v.author, v.created_at, v.content_hash)
                    for v in P.list_versions(db, ws, p.name)]
        comments = [(c.version, c.author, c.body) for c in P.list_comments(db, ws, p.name)]
        out[p.name] = (p.folder_path, p.description, p.tags, p.archived, p.labels, versions, comments)
    return out


def test_export_delete_import_round_trip_is_identical(database, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ws = database.default_workspace_id()
    _seed(database, ws)
    before = _snapshot(database, ws)
    report = export_prompts(database, ws, tmp_path / "out", all_versions=True)
    assert report.prompts == 2 and report.snippets == 1
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "summary.prompt.yaml", f"{file_stem('support reply')}.prompt.yaml", "tone.snippet.yaml"]
    P.delete_prompt(database, ws, "support reply")
    P.delete_prompt(database, ws, "summary")
    result = import_prompts(database, ws, tmp_path / "out", actor="importer")
    assert sorted(result.created) == ["summary", "support reply"]
    assert result.skipped == ["snippet:tone"]
    assert _snapshot(database, ws) == before
    # a second import changes nothing and says so
    again = import_prompts(database, ws, tmp_path / "out")
    assert again.created == [] and again.updated == []
    assert sorted(again.skipped) == ["snippet:tone", "summary", "support reply"]
    assert _snapshot(database, ws) == before


def test_import_into_fresh_workspace_brings_snippets_first(database, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ws = database.default_workspace_id()
    _seed(database, ws)
    export_prompts(database, ws, tmp_path)
    fresh = database.ensure_workspace("fresh")
    report = import_prompts(database, fresh, tmp_path)
    assert sorted(report.created) == ["snippet:tone", "summary", "support reply"]
    # latest-only export: the newest and the labelled versions, with their numbers
    assert [v.version for v in P.list_versions(database, fresh, "support reply")] == [3, 1]
    assert P.get_version(database, fresh, "support reply", label="production").version == 1
    rendered = P.get_version(database, fresh, "support reply", version=1, expand_snippets=True)
    assert rendered.template[0]["content"].startswith("Be {style}.")


def test_files_are_stable_and_readable(database, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ws = database.default_workspace_id()
    _seed(database, ws)
    export_prompts(database, ws, tmp_path / "a", all_versions=True)
    export_prompts(database, ws, tmp_path / "b", all_versions=True)
    for f in (tmp_path / "a").iterdir():
        assert f.read_text() == (tmp_path / "b" / f.name).read_text()
    text = (tmp_path / "a" / f"{file_stem('support reply')}.prompt.yaml").read_text()
    assert text.startswith("kind: prompt\nformat_version: 1\nname: support reply\n")
    assert "content: |-\n      [[snippet:tone]]\n      You help with:\n      - orders" in text  # literal block
    assert text.index("\n- version: 1\n  template_type") < text.index("\n- version: 2\n  template_type") < text.index("\n- version: 3\n  template_type")
    # an import of the other copy after a change updates only what changed
    P.save_version(database, ws, "summary", template_type="text", template_format="jinja2",
                   template="Summarise {{ text }} briefly")
    report = import_prompts(database, ws, tmp_path / "a")
    assert report.updated == [] and "summary" in report.skipped  # v1 content already stored


def test_import_adds_new_versions_to_existing_prompt(database, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ws = database.default_workspace_id()
    _seed(database, ws)
    export_prompts(database, ws, tmp_path, all_versions=True)
    other = database.ensure_workspace("other")
    P.save_version(database, other, "summary", template_type="text", template_format="none",
                   template="local only")
    report = import_prompts(database, other, tmp_path)
    assert "summary" in report.updated
    assert [v.template for v in P.list_versions(database, other, "summary")] == ["Summarise {{ text }}", "local only"]
    assert any("summary: v1 added as v2" in d for d in report.details)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        pytest.param("name: x\nversions:\n- version: 1\n  template: hi\n  colour: red\n", "versions.0.colour: unknown field", id="unknown-field"),
        pytest.param("name: x\nversions:\n- version: one\n  template: hi\n", "versions.0.version", id="wrong-type"),
        pytest.param("name: x\nversions: []\n", "versions", id="no-versions"),
        pytest.param("name: x\nversions:\n- version: 1\n  template_type: text\n  template: 'Hi {name'\n", "versions.0 (v1)", id="bad-template"),
        pytest.param("name: x\nversions:\n- version: 1\n  template_type: text\n  template: '[[snippet:ghost]]'\n", "unknown snippet 'ghost'", id="unknown-snippet"),
        pytest.param("name: x\nlabels: {production: 4}\nversions:\n- version: 1\n  template_type: text\n  template: a\n", "labels.production", id="label-target"),
        pytest.param("name: a/b\nversions:\n- version: 1\n  template_type: text\n  template: a\n", "name:", id="bad-name"),
        pytest.param("x: &a [1]\ny: *a\n", "anchors and aliases are not allowed", id="alias"),
        pytest.param("name: !!python/object/apply:os.system ['true']\n", "not valid YAML", id="object-tag"),
        pytest.param("- just\n- a list\n", "expected a mapping", id="not-a-mapping"),
        pytest.param("name: [unclosed\n", "not valid YAML", id="syntax"),
    ],
)
def test_bad_files_are_refused_naming_file_and_field(database, tmp_path: Path, content: str, fragment: str) -> None:  # type: ignore[no-untyped-def]
    ws = database.default_workspace_id()
    (tmp_path / "good.prompt.yaml").write_text("name: good\nversions:\n- version: 1\n  template_type: text\n  template: fine\n")
    bad = tmp_path / "zz-bad.prompt.yaml"
    bad.write_text(content)
    with pytest.raises(P.PromptFileError) as info:
        import_prompts(database, ws, tmp_path)
    assert str(bad) in str(info.value)
    assert fragment in str(info.value)
    assert P.list_prompts(database, ws, include_archived=True) == []  # all-or-nothing


def test_alias_bomb_and_huge_file_are_refused(sqlite_database, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ws = sqlite_database.default_workspace_id()
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8))
    (tmp_path / "bomb.yaml").write_text(bomb)
    with pytest.raises(P.PromptFileError, match="anchors and aliases"):
        import_prompts(sqlite_database, ws, tmp_path)
    (tmp_path / "bomb.yaml").unlink()
    (tmp_path / "huge.yaml").write_text("name: x\n# " + "x" * MAX_FILE_BYTES + "\n")
    with pytest.raises(P.PromptFileError, match="the limit is"):
        import_prompts(sqlite_database, ws, tmp_path)


def test_file_names_cannot_escape_the_directory(sqlite_database, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for name in ["..", "../etc/passwd", "a/../../b", ".hidden", "CON", "naïve prompt", "a b", "a_b"]:
        stem = file_stem(name)
        assert "/" not in stem and not stem.startswith(".") and stem
        assert (tmp_path / f"{stem}.yaml").resolve().parent == tmp_path.resolve()
    assert file_stem("a b") != file_stem("a_b")
    assert file_stem("simple-name.v2") == "simple-name.v2"
    ws = sqlite_database.default_workspace_id()
    P.save_version(sqlite_database, ws, "weird..name", template_type="text", template_format="none", template="x")
    report = export_prompts(sqlite_database, ws, tmp_path / "out")
    assert all(p.parent == (tmp_path / "out").resolve() for p in report.written)


def test_duplicate_names_across_files_are_refused(sqlite_database, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    body = "name: same\nversions:\n- version: 1\n  template_type: text\n  template: a\n"
    (tmp_path / "one.yaml").write_text(body)
    (tmp_path / "two.yaml").write_text(body)
    with pytest.raises(P.PromptFileError, match="also defined in"):
        import_prompts(sqlite_database, sqlite_database.default_workspace_id(), tmp_path)


def test_document_of_latest_only_keeps_labelled_versions(sqlite_database) -> None:  # type: ignore[no-untyped-def]
    ws = sqlite_database.default_workspace_id()
    for i in range(4):
        P.save_version(sqlite_database, ws, "p", template_type="text", template_format="none", template=f"v{i + 1}")
    P.set_label(sqlite_database, ws, "p", "production", version=2)
    doc = prompt_document(sqlite_database, ws, "p", all_versions=False)
    assert [v["version"] for v in doc["versions"]] == [2, 4]
    assert doc["labels"] == {"production": 2}
