"""Unit tests for core.templating: every format, error details, chat rendering and limits."""

from __future__ import annotations

import pickle
import threading
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest

from core.templating import (
    Formatter,
    InvalidValueError,
    MissingVariableError,
    RenderLimits,
    SandboxViolationError,
    TemplateError,
    TemplateFormat,
    TemplateLimitError,
    TemplateSyntaxError,
    get_formatter,
    list_chat_variables,
    list_variables,
    render,
    render_chat,
    validate,
)

F, M, J, N = (
    TemplateFormat.F_STRING,
    TemplateFormat.MUSTACHE,
    TemplateFormat.JINJA2,
    TemplateFormat.NONE,
)

MB = 1024 * 1024


def bounded(call: Callable[[], Any], *, seconds: float = 5.0, megabytes: float = 100.0) -> Any:
    """Run ``call`` under tracemalloc; assert it finished in time and within memory."""
    tracemalloc.start()
    start = time.monotonic()
    try:
        return call()
    finally:
        elapsed = time.monotonic() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert elapsed < seconds, f"took {elapsed:.2f}s"
        assert peak < megabytes * MB, f"peak memory {peak / MB:.1f} MB"


# ----------------------------------------------------------------------------- formats


def test_template_format_values() -> None:
    assert [f.value for f in TemplateFormat] == ["f-string", "mustache", "jinja2", "none"]
    assert TemplateFormat("jinja2") is J
    assert str(F) == "f-string"
    assert F == "f-string"  # str enum: compares equal to stored values


@pytest.mark.parametrize("fmt", [*TemplateFormat, "f-string", "MUSTACHE", " jinja2 ", "none"])
def test_get_formatter_dispatches_every_format(fmt: TemplateFormat | str) -> None:
    formatter = get_formatter(fmt)
    assert isinstance(formatter, Formatter)
    assert get_formatter(fmt) is formatter  # shared, stateless


def test_get_formatter_formats_are_distinct() -> None:
    assert len({id(get_formatter(f)) for f in TemplateFormat}) == 4


def test_get_formatter_unknown_format() -> None:
    with pytest.raises(ValueError, match="unknown template format 'handlebars'"):
        get_formatter("handlebars")


# ----------------------------------------------------------------------------- errors


def test_error_hierarchy() -> None:
    for cls in (
        MissingVariableError,
        TemplateSyntaxError,
        SandboxViolationError,
        TemplateLimitError,
        InvalidValueError,
    ):
        assert issubclass(cls, TemplateError)
    assert issubclass(TemplateError, Exception)


def test_error_str_says_what_and_where() -> None:
    err = TemplateSyntaxError("unexpected '}'", line=2, column=5)
    assert str(err) == "line 2, column 5: unexpected '}'"
    assert str(TemplateError("boom")) == "boom"
    assert str(TemplateError("boom", line=3)) == "line 3: boom"
    err.message_index = 1
    assert str(err) == "message 2, line 2, column 5: unexpected '}'"
    assert err.message == "unexpected '}'"


def test_error_pickles_with_attributes() -> None:
    err = MissingVariableError("missing variable 'x'", line=1, column=2, variable="x")
    err.message_index = 3
    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is MissingVariableError
    assert (copy.message, copy.line, copy.column, copy.variable, copy.message_index) == (
        "missing variable 'x'",
        1,
        2,
        "x",
        3,
    )


# ----------------------------------------------------------------------------- none


def test_none_format_is_verbatim() -> None:
    text = "Hello {name} {{ name }} {% if %} {{#x}}"
    assert render(text, N, {"name": "ignored"}) == text
    assert list_variables(text, N) == []
    validate(text, N)


def test_none_format_respects_output_limit() -> None:
    with pytest.raises(TemplateLimitError):
        render("x" * 11, "none", {}, limits=RenderLimits(max_output_chars=10))


# ----------------------------------------------------------------------------- f-string


def test_fstring_render_basics() -> None:
    out = render(
        "Hi {name}! {{literal}} {n:03d} {x!r} {pi:.2f}",
        F,
        {
            "name": "Ada",
            "n": 7,
            "x": "q",
            "pi": 3.14159,
        },
    )
    assert out == "Hi Ada! {literal} 007 'q' 3.14"


def test_fstring_nested_spec() -> None:
    assert render("[{x:>{w}}]", F, {"x": "ab", "w": 4}) == "[  ab]"
    assert list_variables("[{x:>{w}}]", F) == ["x", "w"]


def test_fstring_variables_order_and_unique() -> None:
    assert list_variables("{b} {a} {b!r} {{c}} {d:>5}", F) == ["b", "a", "d"]


@pytest.mark.parametrize(
    ("template", "line", "column"),
    [
        ("ab\ncd}", 2, 3),
        ("hello\n  {name", 2, 3),
        ("x {", 1, 3),
        ("ok {a}\n\n}} fine }", 3, 9),
        ("{a{b}", 1, 3),
    ],
)
def test_fstring_unbalanced_braces_have_location(template: str, line: int, column: int) -> None:
    with pytest.raises(TemplateSyntaxError) as info:
        validate(template, F)
    assert (info.value.line, info.value.column) == (line, column)
    assert f"line {line}, column {column}:" in str(info.value)


@pytest.mark.parametrize("template", ["{}", "a {0} b", "{!r}"])
def test_fstring_positional_rejected(template: str) -> None:
    with pytest.raises(TemplateSyntaxError, match="positional"):
        render(template, F, {"0": 1})


@pytest.mark.parametrize("template", ["{x.__class__}", "{x[0]}", "{x.real}"])
def test_fstring_attribute_and_index_rejected(template: str) -> None:
    with pytest.raises(SandboxViolationError) as info:
        render(template, F, {"x": [1]})
    assert info.value.line == 1 and info.value.column == 1


def test_fstring_missing_variable() -> None:
    with pytest.raises(MissingVariableError) as info:
        render("line one\n  {who} here", F, {})
    assert info.value.variable == "who"
    assert (info.value.line, info.value.column) == (2, 3)


def test_fstring_json_like_text_gets_a_hint() -> None:
    with pytest.raises(MissingVariableError, match=r"double it"):
        render('Return {"a": 1}', F, {})


def test_fstring_invalid_value() -> None:
    with pytest.raises(InvalidValueError) as info:
        render("{n:d}", F, {"n": "seven"})
    assert info.value.variable == "n"
    with pytest.raises(InvalidValueError):
        render("{n:>5}", F, {"n": None})


def test_fstring_unknown_conversion() -> None:
    with pytest.raises(TemplateSyntaxError, match="conversion"):
        validate("{x!z}", F)


def test_fstring_width_limits() -> None:
    with pytest.raises(TemplateLimitError):
        validate("{x:>999999999}", F)  # static spec: caught before rendering
    with pytest.raises(TemplateLimitError) as info:
        bounded(lambda: render("{x:>999999999}", F, {"x": 1}), seconds=1)
    assert info.value.variable == "x"
    with pytest.raises(TemplateLimitError):
        bounded(lambda: render("{x:{w}}", F, {"x": 1, "w": 999_999_999}), seconds=1)
    with pytest.raises(TemplateLimitError):
        render("{x:.999999999f}", F, {"x": 1.0})
    assert (
        render("{x:>20}", F, {"x": 1}, limits=RenderLimits(max_format_width=20)) == " " * 19 + "1"
    )
    with pytest.raises(TemplateLimitError):
        render("{x:>21}", F, {"x": 1}, limits=RenderLimits(max_format_width=20))


# ----------------------------------------------------------------------------- mustache


def test_mustache_basics_and_no_html_escaping() -> None:
    out = render(
        "{{greeting}}, {{{name}}} & {{&name}} <{{ name }}>",
        M,
        {
            "greeting": "Hi",
            "name": "<Ada & Bob>",
        },
    )
    assert out == "Hi, <Ada & Bob> & <Ada & Bob> <<Ada & Bob>>"


def test_mustache_sections() -> None:
    template = "{{#items}}- {{name}} ({{shop}})\n{{/items}}{{^items}}none\n{{/items}}"
    data = {"items": [{"name": "a"}, {"name": "b"}], "shop": "S"}
    assert render(template, M, data) == "- a (S)\n- b (S)\n"
    assert render(template, M, {"items": [], "shop": "S"}) == "none\n"
    assert render("{{#user}}{{name}}{{/user}}", M, {"user": {"name": "Ada"}}) == "Ada"
    assert render("{{#on}}yes{{/on}}{{^on}}no{{/on}}", M, {"on": False}) == "no"
    assert render("{{#xs}}[{{.}}]{{/xs}}", M, {"xs": [1, 2]}) == "[1][2]"


def test_mustache_standalone_lines_comments_and_delimiters() -> None:
    template = "Items:\n  {{#xs}}\n  - {{.}}\n  {{/xs}}\n{{! note }}\nend\n"
    assert render(template, M, {"xs": ["a", "b"]}) == "Items:\n  - a\n  - b\nend\n"
    assert render("{{=<% %>=}}<% x %> {{x}}", M, {"x": 1}) == "1 {{x}}"


def test_mustache_values() -> None:
    assert render("{{a}}|{{b}}|{{c}}|{{d}}", M, {"a": None, "b": True, "c": 1.5, "d": 0}) == (
        "|True|1.5|0"
    )
    assert render("{{user.name}} {{xs.1}}", M, {"user": {"name": "Ada"}, "xs": [1, 2]}) == "Ada 2"


@pytest.mark.parametrize(
    ("template", "variables", "variable"),
    [
        ("{{who}}", {}, "who"),
        ("{{user.nick}}", {"user": {"name": "x"}}, "user.nick"),
        ("{{#xs}}{{missing}}{{/xs}}", {"xs": [{}]}, "missing"),
        ("{{#flag}}x{{/flag}}", {}, "flag"),
        ("{{x.__class__}}", {"x": "s"}, "x.__class__"),
    ],
)
def test_mustache_strict_missing(template: str, variables: dict[str, Any], variable: str) -> None:
    with pytest.raises(MissingVariableError) as info:
        render(template, M, variables)
    assert info.value.variable == variable
    assert info.value.line == 1 and info.value.column is not None


@pytest.mark.parametrize(
    ("template", "line", "column", "match"),
    [
        ("ok\n  {{#items}}\n{{x}}", 2, 3, "unclosed section 'items'"),
        ("{{#a}}x{{/b}}", 1, 8, "closed by 'b'"),
        ("a\nb {{name", 2, 3, "unclosed tag"),
        ("{{/a}}", 1, 1, "without an open section"),
        ("{{> partial}}", 1, 1, "partials"),
        ("{{}}", 1, 1, "empty tag"),
    ],
)
def test_mustache_syntax_errors(template: str, line: int, column: int, match: str) -> None:
    with pytest.raises(TemplateSyntaxError, match=match) as info:
        validate(template, M)
    assert (info.value.line, info.value.column) == (line, column)


def test_mustache_variables() -> None:
    template = "{{a}} {{#s}}{{b}}{{#t}}{{c}}{{/t}}{{/s}} {{^n}}{{d.e}}{{/n}} {{a}} {{! c }} {{.}}"
    assert list_variables(template, M) == ["a", "s", "n", "d"]


# ----------------------------------------------------------------------------- jinja2


def test_jinja_render_basics() -> None:
    template = "Hi {{ user.name }}{% for t in tags %} #{{ t|upper }}{% endfor %}\n"
    out = render(template, J, {"user": {"name": "<Ada>"}, "tags": ["a", "b"]})
    assert out == "Hi <Ada> #A #B\n"  # no autoescape, trailing newline kept


def test_jinja_features_still_work() -> None:
    template = (
        "{% macro greet(n) %}hi {{ n }}{% endmacro %}{{ greet('x') }}|"
        "{{ range(3)|join(',') }}|{{ '%05.1f' % 3.14159 }}|{{ '{:>4}'.format('ab') }}|"
        "{{ 'ab' * 2 }}|{{ 2 ** 10 }}|{{ [1, 2] + [3] }}|{{ 'a' ~ 1 }}|"
        "{% set ns = namespace(n=0) %}{% for i in range(4) %}{% set ns.n = ns.n + i %}{% endfor %}"
        "{{ ns.n }}|{{ 'x'|center(5) }}|{{ {'b': 1, 'a': 2}|dictsort|first|first }}"
    )
    assert render(template, J, {}) == "hi x|0,1,2|003.1|  ab|abab|1024|[1, 2, 3]|a1|6|  x  |a"


def test_jinja_missing_variable_names_it() -> None:
    with pytest.raises(MissingVariableError) as info:
        render("line\n{{ customer }}", J, {})
    assert info.value.variable == "customer"
    assert info.value.line == 2
    with pytest.raises(MissingVariableError) as info:
        render("{{ user.nick }}", J, {"user": {"name": "x"}})
    assert info.value.variable == "nick"


def test_jinja_defined_checks_are_allowed() -> None:
    assert render("{% if x is defined %}{{ x }}{% else %}-{% endif %}", J, {}) == "-"
    assert render("{{ x|default('d') }}", J, {}) == "d"


@pytest.mark.parametrize(
    ("template", "line", "column"),
    [
        ("{{ x }", 1, 6),
        ("line1\n{% if x %}\n{% endfor %}", 3, 4),
        ("a\nb\n{% for %}", 3, None),
        ("{{ x | nosuchfilter }}", 1, 8),
    ],
)
def test_jinja_syntax_errors(template: str, line: int, column: int | None) -> None:
    with pytest.raises(TemplateSyntaxError) as info:
        validate(template, J)
    assert info.value.line == line
    assert info.value.column == column


@pytest.mark.parametrize(
    "template", ["{% include 'x.txt' %}", "{% extends 'base' %}", "{% import 'm' as m %}"]
)
def test_jinja_no_includes(template: str) -> None:
    with pytest.raises(TemplateSyntaxError, match="not supported"):
        validate(template, J)


def test_jinja_variables_ordered_by_first_appearance() -> None:
    template = (
        "{{ b }}{{ a.x }}{% for i in range(3) %}{{ i }}{{ c }}{% endfor %}"
        "{% set d = 1 %}{{ d }}{{ e if f else g }}{{ b }}{{ h|join(sep) }}"
    )
    assert list_variables(template, J) == ["b", "a", "c", "e", "f", "g", "h", "sep"]


def test_jinja_variables_attribute_names_do_not_count_as_first_use() -> None:
    assert list_variables("{{ user.name }} {{ name }}", J) == ["user", "name"]
    assert list_variables("{{ a.b }}{{ b }}", J) == ["a", "b"]


def test_jinja_invalid_values() -> None:
    with pytest.raises(InvalidValueError):
        render("{{ 1 / 0 }}", J, {})
    with pytest.raises(InvalidValueError):
        render("{{ 'a' + n }}", J, {"n": 1})


def test_jinja_sandbox_violation() -> None:
    with pytest.raises(SandboxViolationError) as info:
        render("ok\n{{ x.__class__ }}", J, {"x": 1})
    assert info.value.line == 2
    with pytest.raises(SandboxViolationError):
        render("{{ xs.append(1) }}", J, {"xs": []})  # immutable sandbox


def test_jinja_intercepted_binops_are_not_constant_folded() -> None:
    """Compile must not evaluate ``9 ** (9 ** 9)``; the runtime hook must refuse it."""
    from core.templating.jinja import _ENV

    source = _ENV.compile("{{ 9 ** (9 ** 9) }}{{ 'A' * 10**9 }}", raw=True)
    assert "call_binop(context, '**'" in source and "call_binop(context, '*'" in source
    bounded(lambda: validate("{{ 9 ** (9 ** 9) }}", J), seconds=1)
    with pytest.raises(TemplateLimitError):
        bounded(lambda: render("{{ 9 ** (9 ** 9) }}", J, {}), seconds=1)


def test_jinja_filters_never_run_at_compile_time() -> None:
    """Filters are pass_context wrappers, so the optimiser can't fold them outside a budget."""
    from core.templating.jinja import _ENV

    source = _ENV.compile("{{ 'abc'|upper }}{{ 'x'|center(10**9) }}", raw=True)
    assert "ABC" not in source
    validate("{{ 'x'|center(10**9) }}", J)  # compiles fine; fails only when rendered
    with pytest.raises(TemplateLimitError):
        render("{{ 'x'|center(10**9) }}", J, {})


# ----------------------------------------------------------------------------- chat

MESSAGES: list[dict[str, Any]] = [
    {"role": "system", "content": "You help {{ user }} with {{ topic }}."},
    {"role": "assistant", "content": None, "tool_calls": [{"id": "1", "args": {"q": "x"}}]},
    {"role": "user", "content": "{{ question }} ({{ user }})", "name": "u1"},
]


def test_list_chat_variables() -> None:
    assert list_chat_variables(MESSAGES, J) == ["user", "topic", "question"]
    assert list_chat_variables([], J) == []


def test_render_chat_copies_messages() -> None:
    variables = {"user": "Ada", "topic": "maths", "question": "2+2?"}
    out = render_chat(MESSAGES, "jinja2", variables)
    assert out == [
        {"role": "system", "content": "You help Ada with maths."},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "1", "args": {"q": "x"}}]},
        {"role": "user", "content": "2+2? (Ada)", "name": "u1"},
    ]
    assert MESSAGES[0]["content"] == "You help {{ user }} with {{ topic }}."
    assert out[1]["tool_calls"] is not MESSAGES[1]["tool_calls"]


def test_render_chat_other_formats() -> None:
    messages = [{"role": "user", "content": "{a}"}, {"role": "user", "content": ["part"]}]
    assert render_chat(messages, F, {"a": 1}) == [
        {"role": "user", "content": "1"},
        {"role": "user", "content": ["part"]},
    ]
    assert render_chat([{"role": "user", "content": "{{a}}"}], M, {"a": 1})[0]["content"] == "1"


def test_render_chat_error_has_message_index() -> None:
    with pytest.raises(MissingVariableError) as info:
        render_chat(MESSAGES, J, {"user": "Ada", "topic": "t"})
    assert info.value.message_index == 2
    assert info.value.variable == "question"
    assert str(info.value).startswith("message 3, line 1:")


def test_list_chat_variables_error_has_message_index() -> None:
    messages = [{"role": "system", "content": "ok"}, {"role": "user", "content": "{% if %}"}]
    with pytest.raises(TemplateSyntaxError) as info:
        list_chat_variables(messages, J)
    assert info.value.message_index == 1


def test_render_chat_shares_the_output_budget() -> None:
    messages = [{"role": "user", "content": "x" * 6}, {"role": "user", "content": "y" * 6}]
    limits = RenderLimits(max_output_chars=10)
    with pytest.raises(TemplateLimitError) as info:
        render_chat(messages, N, {}, limits=limits)
    assert info.value.message_index == 1
    assert len(render_chat(messages[:1], N, {}, limits=limits)[0]["content"]) == 6


# ----------------------------------------------------------------------------- limits


def test_render_limits_defaults_and_validation() -> None:
    limits = RenderLimits()
    assert limits.max_output_chars == 1_000_000
    assert limits.timeout_s == 2.0
    assert limits.max_range == 10_000
    assert limits.max_repeat_chars == 1_000_000
    with pytest.raises(ValueError):
        RenderLimits(timeout_s=0)
    with pytest.raises(AttributeError):
        limits.timeout_s = 5  # type: ignore[misc]


HOSTILE_JINJA = [
    pytest.param("{{ 'A' * 10**9 }}", id="string-repeat"),
    pytest.param("{{ [0] * 10**9 }}", id="list-repeat"),
    pytest.param("{{ 9 ** (9 ** 9) }}", id="huge-power"),
    pytest.param("{% set n = 2 %}{{ n ** 100000 }}", id="huge-power-runtime"),
    pytest.param(
        "{% set ns = namespace(s='x') %}{% for i in range(60) %}{% set ns.s = ns.s ~ ns.s %}"
        "{% endfor %}",
        id="doubling-concat",
    ),
    pytest.param("{{ ('x' * 999999) ~ ('y' * 999999) }}", id="big-concat"),
    pytest.param(
        "{% set ns = namespace(l=[1]) %}{% for i in range(60) %}{% set ns.l = ns.l + ns.l %}"
        "{% endfor %}",
        id="doubling-list",
    ),
    pytest.param("{% for i in range(10**9) %}{% endfor %}", id="huge-range"),
    pytest.param("{{ range(10**100)|list }}", id="astronomic-range"),
    pytest.param(
        "{% for i in range(10000) %}{% for j in range(10000) %}x{% endfor %}{% endfor %}",
        id="nested-loop-output",
    ),
    pytest.param(
        "{% filter upper %}{% for i in range(10000) %}{% for j in range(10000) %}"
        "xxxxxxxxxx{% endfor %}{% endfor %}{% endfilter %}",
        id="buffered-filter-block",
    ),
    pytest.param(
        "{% macro m() %}{% for j in range(10000) %}xxxxxxxxxx{% endfor %}{% endmacro %}"
        "{% for i in range(10000) %}{% set x = m() %}{% endfor %}",
        id="discarded-macro-output",
    ),
    pytest.param("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", id="recursive-macro"),
    pytest.param(
        "{% for x in [[1]] recursive %}{{ loop([[x]]) }}{% endfor %}", id="recursive-loop"
    ),
    pytest.param("{{ 'A'.ljust(10**9) }}", id="ljust"),
    pytest.param("{{ 'A'.center(10**9) }}", id="center-method"),
    pytest.param("{{ '7'.zfill(10**9) }}", id="zfill"),
    pytest.param("{{ '\t'.expandtabs(10**9) }}", id="expandtabs"),
    pytest.param("{{ ('a' * 1000000).replace('a', 'aa') }}", id="replace-method"),
    pytest.param("{{ ('x' * 1000).join(range(10000)|map('string')) }}", id="join-method"),
    pytest.param("{{ 'aaaa'.translate({97: 'x' * 1000000}) }}", id="translate"),
    pytest.param("{{ (1).to_bytes(10**9, 'big') }}", id="to-bytes"),
    pytest.param("{{ '{:>999999999}'.format(1) }}", id="format-width"),
    pytest.param("{{ '{:.999999999f}'.format(1.0) }}", id="format-precision"),
    pytest.param("{{ '{:{}}'.format('a', 999999999) }}", id="format-nested-width"),
    pytest.param("{{ ('{0}' * 1000).format('x' * 10000) }}", id="format-repeat-arg"),
    pytest.param("{{ '{a:>999999999}'.format_map({'a': 1}) }}", id="format-map"),
    pytest.param('{{ "%999999999d" % 1 }}', id="percent-width"),
    pytest.param('{{ "%.999999999f" % 1.0 }}', id="percent-precision"),
    pytest.param('{{ "%*d" % (999999999, 1) }}', id="percent-star"),
    pytest.param("{{ '%999999999d'|format(1) }}", id="format-filter"),
    pytest.param("{{ 'a'|center(10**9) }}", id="center-filter"),
    pytest.param("{{ 'a\nb'|indent(10**9) }}", id="indent-filter"),
    pytest.param("{{ ('a\n' * 500000)|indent(100) }}", id="indent-many-lines"),
    pytest.param("{{ 'a b c'|wordwrap(1, wrapstring='x' * 999999) }}", id="wordwrap-wrapstring"),
    pytest.param("{{ 'x'|replace('', 'y' * 999999) }}", id="replace-filter-empty-old"),
    pytest.param("{{ range(10000)|join('x' * 1000) }}", id="join-filter-separator"),
    pytest.param("{{ [1]|batch(10**9, 0)|list }}", id="batch-fill"),
    pytest.param("{{ [1]|slice(10**9)|list }}", id="slice-many"),
    pytest.param("{{ [1]|tojson(10**9) }}", id="tojson-indent"),
    pytest.param("{{ [[1] * 1000] * 1000 }}", id="print-shared-structure"),
    pytest.param("{{ ([[1] * 1000] * 1000)|string }}", id="string-filter"),
    pytest.param("{{ ([[1] * 1000] * 1000)|pprint }}", id="pprint-filter"),
    pytest.param("{{ lipsum(10**6) }}", id="lipsum"),
    pytest.param(
        "{% set ns = namespace(l=[]) %}{% for i in range(10000) %}"
        "{% set ns.l = ns.l + [range(10000)|list] %}{% endfor %}",
        id="accumulate-lists",
    ),
    pytest.param(
        "{% set ns = namespace(l=[]) %}{% for i in range(10000) %}"
        "{% set ns.l = ns.l + [dict.fromkeys(range(10000))] %}{% endfor %}",
        id="accumulate-dicts",
    ),
    pytest.param("{{ 10 ** 4300 }}", id="int-too-long-to-print"),
    pytest.param("{{ 10.0 ** 1000 }}", id="float-overflow"),
    pytest.param("{{ ('x ' * 200000)|urlize }}", id="urlize-input"),
]


@pytest.mark.parametrize("template", HOSTILE_JINJA)
def test_jinja_resource_bounds(template: str) -> None:
    with pytest.raises(TemplateLimitError):
        bounded(lambda: render(template, J, {}))


DEADLINE_JINJA = [
    pytest.param(
        "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}",
        id="silent-nested-loops",
    ),
    pytest.param(
        "{% for a in xs %}{% for b in xs %}{% for c in xs %}{% endfor %}{% endfor %}{% endfor %}",
        id="loops-over-user-data",
    ),
    pytest.param(
        "{% set ns = namespace(l=[]) %}{% for i in range(10000) %}{% set ns.l = [ns.l, ns.l] %}"
        "{% endfor %}{{ ns.l }}",
        id="exponential-structure",
    ),
    pytest.param(
        "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(60) }}",
        id="exponential-macro",
    ),
]


@pytest.mark.parametrize("template", DEADLINE_JINJA)
def test_jinja_deadline(template: str) -> None:
    limits = RenderLimits(timeout_s=0.5)
    start = time.monotonic()
    with pytest.raises(TemplateLimitError):
        bounded(lambda: render(template, J, {"xs": list(range(1000))}, limits=limits))
    assert time.monotonic() - start < 2.5


def test_default_deadline_is_about_two_seconds() -> None:
    template = "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}"
    start = time.monotonic()
    with pytest.raises(TemplateLimitError, match="time limit"):
        render(template, J, {})
    assert 1.9 < time.monotonic() - start < 5


def test_mustache_resource_bounds() -> None:
    data = {"a": list(range(1000))}
    with pytest.raises(TemplateLimitError):
        bounded(lambda: render("{{#a}}{{#a}}{{#a}}x{{/a}}{{/a}}{{/a}}", M, data))
    with pytest.raises(TemplateLimitError):
        limits = RenderLimits(timeout_s=0.5)
        bounded(lambda: render("{{#a}}{{#a}}{{#a}}{{/a}}{{/a}}{{/a}}", M, data, limits=limits))
    with pytest.raises(TemplateLimitError):
        bounded(lambda: render("{{#a}}" * 3000 + "{{/a}}" * 3000, M, {"a": [1]}))
    with pytest.raises(TemplateLimitError):
        bounded(lambda: render("{{x}}", M, {"x": [[1] * 1000] * 1000}))


def test_fstring_resource_bounds() -> None:
    with pytest.raises(TemplateLimitError):
        bounded(lambda: render("{x!r}", F, {"x": [[1] * 1000] * 1000}))
    with pytest.raises(TemplateLimitError):
        bounded(lambda: render("{x}" * 3, F, {"x": "y" * 400_000}))


@pytest.mark.parametrize("fmt", [F, M, J])
def test_output_limit(fmt: TemplateFormat) -> None:
    template = {F: "{x}{x}", M: "{{x}}{{x}}", J: "{{ x }}{{ x }}"}[fmt]
    limits = RenderLimits(max_output_chars=10)
    assert render(template, fmt, {"x": "12345"}, limits=limits) == "1234512345"
    with pytest.raises(TemplateLimitError, match="output"):
        render(template, fmt, {"x": "123456"}, limits=limits)


def test_custom_range_limit() -> None:
    assert render("{{ range(5)|list|length }}", J, {}, limits=RenderLimits(max_range=5)) == "5"
    with pytest.raises(TemplateLimitError, match="range"):
        render("{{ range(6)|list|length }}", J, {}, limits=RenderLimits(max_range=5))


def test_limits_are_per_render_across_threads() -> None:
    """Concurrent renders with different limits must not see each other's budget."""
    results: dict[str, Any] = {}

    def slow() -> None:
        try:
            render(
                "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}",
                J,
                {},
                limits=RenderLimits(timeout_s=0.3),
            )
        except TemplateLimitError as exc:
            results["slow"] = exc

    def fast() -> None:
        results["fast"] = [
            render("{{ range(20000)|length }}", J, {}, limits=RenderLimits(max_range=20_000))
            for _ in range(50)
        ]

    threads = [threading.Thread(target=slow), threading.Thread(target=fast)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert isinstance(results["slow"], TemplateLimitError)
    assert results["fast"] == ["20000"] * 50


def test_normal_prompt_is_fast() -> None:
    template = (
        "You are {{ persona }}.\n{% for doc in docs %}[{{ loop.index }}] {{ doc.title }}: "
        "{{ doc.body|truncate(200) }}\n{% endfor %}Question: {{ q }}"
    )
    docs = [{"title": f"t{i}", "body": "word " * 100} for i in range(200)]
    out = bounded(lambda: render(template, J, {"persona": "p", "docs": docs, "q": "?"}), seconds=1)
    assert out.count("\n") == 201
