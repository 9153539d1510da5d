"""Snippets: versioned blocks included with [[snippet:name]] / [[snippet:name@N]] in every format."""

from __future__ import annotations

import pytest

from core import prompts as P
from core.prompts.snippets import expand_text, snippet_references


@pytest.mark.parametrize(
    ("fmt", "template", "variables", "expected"),
    [
        pytest.param("f-string", "[[snippet:tone]] Hi {name}", {"name": "Ada", "style": "kind"}, "Be kind. Hi Ada", id="f-string"),
        pytest.param("mustache", "[[snippet:tone]] Hi {{name}}", {"name": "Ada", "style": "kind"}, "Be kind. Hi Ada", id="mustache"),
        pytest.param("jinja2", "[[snippet:tone]] Hi {{ name }}", {"name": "Ada", "style": "kind"}, "Be kind. Hi Ada", id="jinja2"),
        pytest.param("none", "[[snippet:plain]] Hi {name}", {}, "No variables here. Hi {name}", id="none"),
    ],
)
def test_include_works_in_every_format_and_variables_inside_are_detected(database, fmt, template, variables, expected) -> None:  # type: ignore[no-untyped-def]
    ws = database.default_workspace_id()
    body = {"f-string": "Be {style}.", "mustache": "Be {{style}}.", "jinja2": "Be {{ style }}.", "none": ""}[fmt]
    if fmt == "none":
        P.save_snippet(database, ws, "plain", "No variables here.")
    else:
        P.save_snippet(database, ws, "tone", body)
    P.save_version(database, ws, "p", template_type="text", template_format=fmt, template=template)
    stored = P.get_version(database, ws, "p")
    assert "[[snippet:" in stored.template  # stored as written
    expanded = P.get_version(database, ws, "p", expand_snippets=True)
    if fmt != "none":
        assert P.template_variables(expanded.template, fmt) == ["style", "name"]
    assert P.render_template("text", fmt, expanded.template, variables) == expected


def test_unpinned_follows_newest_pinned_stays(database) -> None:  # type: ignore[no-untyped-def]
    ws = database.default_workspace_id()
    P.save_snippet(database, ws, "sig", "-- v1", author="ann")
    P.save_version(database, ws, "p", template_type="chat", template_format="f-string",
                   template=[{"role": "system", "content": "A [[snippet:sig]]"},
                             {"role": "user", "content": "B [[snippet:sig@1]]"}])
    v2 = P.save_snippet(database, ws, "sig", "-- v2", note="shorter", create=False)
    assert v2.version == 2
    got = P.get_version(database, ws, "p", expand_snippets=True).template
    assert [m["content"] for m in got] == ["A -- v2", "B -- v1"]
    assert [v.version for v in P.list_snippet_versions(database, ws, "sig")] == [2, 1]
    assert P.get_snippet(database, ws, "sig", 1).body == "-- v1"


def test_unknown_snippet_or_version_is_a_clear_error_and_nothing_saved(database) -> None:  # type: ignore[no-untyped-def]
    ws = database.default_workspace_id()
    with pytest.raises(P.SnippetNotFoundError, match=r"unknown snippet 'nope'"):
        P.save_version(database, ws, "p", template_type="text", template_format="f-string",
                       template="x [[snippet:nope]]")
    P.save_snippet(database, ws, "s", "body")
    with pytest.raises(P.SnippetNotFoundError, match=r"has no version 4"):
        P.save_version(database, ws, "p", template_type="text", template_format="f-string",
                       template="x [[snippet:s@4]]")
    assert P.list_prompts(database, ws) == []


def test_cycles_are_detected(database) -> None:  # type: ignore[no-untyped-def]
    ws = database.default_workspace_id()
    with pytest.raises(P.SnippetCycleError, match="self -> self"):
        P.save_snippet(database, ws, "self", "again [[snippet:self]]")
    P.save_snippet(database, ws, "a", "A")
    P.save_snippet(database, ws, "b", "B [[snippet:a]]")
    P.save_snippet(database, ws, "c", "C [[snippet:b]]")
    with pytest.raises(P.SnippetCycleError) as info:
        P.save_snippet(database, ws, "a", "A [[snippet:c]]")
    assert info.value.cycle == ["a", "c", "b", "a"]
    assert P.get_snippet(database, ws, "a").body == "A"  # refused: nothing saved
    assert P.list_snippets(database, ws)[0].name == "a"


def test_expansion_is_bounded() -> None:
    bodies = {"x0": "0123456789" * 10}
    for i in range(1, 6):
        bodies[f"x{i}"] = f"[[snippet:x{i - 1}]]" * 10
    with pytest.raises(P.ValidationError, match="more than"):
        expand_text("[[snippet:x5]]", lambda n, v: bodies[n])
    assert snippet_references("a [[snippet:x@2]] b [[snippet: y ]] [[snippet:]]") == [("x", 2), ("y", None)]


def test_usage_index_lists_prompts_and_snippets(database) -> None:  # type: ignore[no-untyped-def]
    ws = database.default_workspace_id()
    P.save_snippet(database, ws, "tone", "Be nice.")
    P.save_snippet(database, ws, "tone-ext", "Other.")
    P.save_snippet(database, ws, "wrapper", "[[snippet:tone]] and more")
    P.save_version(database, ws, "uses", template_type="chat", template_format="f-string",
                   template=[{"role": "system", "content": "[[snippet:tone@1]]"}])
    P.save_version(database, ws, "uses", template_type="chat", template_format="f-string",
                   template=[{"role": "system", "content": "none any more"}])
    P.save_version(database, ws, "other", template_type="text", template_format="f-string",
                   template="[[snippet:tone-ext]]")
    usages = {(u.kind, u.name): u for u in P.snippet_usages(database, ws, "tone")}
    assert set(usages) == {("prompt", "uses"), ("snippet", "wrapper")}
    assert usages[("prompt", "uses")].versions == [1]
    assert usages[("prompt", "uses")].in_latest is False
    assert usages[("prompt", "uses")].pinned == [1]
    assert usages[("snippet", "wrapper")].in_latest is True


def test_snippet_names_duplicates_archive_and_search(database) -> None:  # type: ignore[no-untyped-def]
    ws = database.default_workspace_id()
    P.save_snippet(database, ws, "footer", "Thanks", description="sign-off", create=True)
    with pytest.raises(P.DuplicateNameError):
        P.save_snippet(database, ws, "footer", "x", create=True)
    with pytest.raises(P.SnippetNotFoundError):
        P.save_snippet(database, ws, "missing", "x", create=False)
    with pytest.raises(P.ValidationError):
        P.save_snippet(database, ws, "bad@name", "x")
    assert [s.name for s in P.list_snippets(database, ws, search="thanks")] == ["footer"]
    P.archive_snippet(database, ws, "footer")
    assert P.list_snippets(database, ws) == []
    assert P.get_snippet(database, ws, "footer").body == "Thanks"  # includes keep working
