"""Corpus of template cases across all formats: outputs, variable lists, errors, escapes."""

from __future__ import annotations

from typing import Any

import pytest

from core.templating import (
    InvalidValueError,
    MissingVariableError,
    SandboxViolationError,
    TemplateError,
    TemplateLimitError,
    TemplateSyntaxError,
    list_variables,
    render,
    validate,
)

F, M, J, N = "f-string", "mustache", "jinja2", "none"

USER = {"name": "Ada", "langs": ["en", "fr"], "age": 36}

# (format, template, variables, expected output or expected exception class)
RENDER_CASES = [
    # ---- none
    pytest.param(N, "plain text", {}, "plain text", id="none-plain"),
    pytest.param(N, "{x} {{ y }} {% z %}", {"x": 1}, "{x} {{ y }} {% z %}", id="none-verbatim"),
    pytest.param(N, "", {}, "", id="none-empty"),
    # ---- f-string
    pytest.param(F, "Hello {name}", {"name": "Ada"}, "Hello Ada", id="f-basic"),
    pytest.param(F, "{a}{b}{a}", {"a": 1, "b": 2}, "121", id="f-repeat"),
    pytest.param(F, "{{literal}} {{{x}}}", {"x": 1}, "{literal} {1}", id="f-escaped-braces"),
    pytest.param(F, "{x!r} {x!s} {x!a}", {"x": "é"}, "'é' é '\\xe9'", id="f-conversions"),
    pytest.param(F, "{n:05.1f}|{n:e}", {"n": 3.14159}, "003.1|3.141590e+00", id="f-float-spec"),
    pytest.param(F, "{n:,}|{n:x}|{n:>6}", {"n": 65535}, "65,535|ffff| 65535", id="f-int-spec"),
    pytest.param(F, "{s:*^7}", {"s": "ab"}, "**ab***", id="f-fill-align"),
    pytest.param(F, "{s:.2}", {"s": "abcdef"}, "ab", id="f-str-precision"),
    pytest.param(F, "{x:>{w}}", {"x": "a", "w": 3}, "  a", id="f-nested-spec"),
    pytest.param(F, "{b}", {"b": True}, "True", id="f-bool"),
    pytest.param(F, "{v}", {"v": None}, "None", id="f-none-value"),
    pytest.param(F, "{xs}", {"xs": [1, "a"]}, "[1, 'a']", id="f-list-value"),
    pytest.param(F, "line1\n{x}\n", {"x": "y"}, "line1\ny\n", id="f-multiline"),
    pytest.param(F, "{missing}", {}, MissingVariableError, id="f-missing"),
    pytest.param(F, "{n:d}", {"n": "7"}, InvalidValueError, id="f-wrong-type-for-spec"),
    pytest.param(F, "{n:%}", {"n": "7"}, InvalidValueError, id="f-percent-on-str"),
    pytest.param(F, "{x", {"x": 1}, TemplateSyntaxError, id="f-unclosed"),
    pytest.param(F, "x}", {}, TemplateSyntaxError, id="f-single-close"),
    pytest.param(F, "{}", {}, TemplateSyntaxError, id="f-positional-empty"),
    pytest.param(F, "{0}", {"0": 1}, TemplateSyntaxError, id="f-positional-index"),
    pytest.param(F, "{x!q}", {"x": 1}, TemplateSyntaxError, id="f-bad-conversion"),
    pytest.param(F, "{x:{y:{z}}}", {"x": 1, "y": 2, "z": 3}, TemplateSyntaxError, id="f-deep-nest"),
    pytest.param(F, "{x:>999999999}", {"x": 1}, TemplateLimitError, id="f-huge-width"),
    pytest.param(F, "{x:.99999}", {"x": 1.5}, TemplateLimitError, id="f-huge-precision"),
    # ---- mustache
    pytest.param(M, "Hello {{name}}", {"name": "Ada"}, "Hello Ada", id="m-basic"),
    pytest.param(M, "{{ name }}", {"name": "Ada"}, "Ada", id="m-spaces-in-tag"),
    pytest.param(M, "{{x}}|{{{x}}}|{{&x}}", {"x": "<&>"}, "<&>|<&>|<&>", id="m-no-escaping"),
    pytest.param(M, "{{user.name}}", {"user": USER}, "Ada", id="m-dotted"),
    pytest.param(
        M, "{{#user}}{{name}} {{age}}{{/user}}", {"user": USER}, "Ada 36", id="m-dict-section"
    ),
    pytest.param(
        M, "{{#user.langs}}<{{.}}>{{/user.langs}}", {"user": USER}, "<en><fr>", id="m-list-section"
    ),
    pytest.param(
        M, "{{#xs}}{{n}}{{/xs}}", {"xs": [{"n": 1}, {"n": 2}]}, "12", id="m-list-of-dicts"
    ),
    pytest.param(M, "{{#xs}}{{top}}{{/xs}}", {"xs": [{}], "top": "T"}, "T", id="m-outer-context"),
    pytest.param(M, "{{#f}}yes{{/f}}", {"f": False}, "", id="m-false-section"),
    pytest.param(M, "{{#f}}yes{{/f}}", {"f": 0}, "", id="m-zero-section"),
    pytest.param(M, "{{#f}}[{{.}}]{{/f}}", {"f": "str"}, "[str]", id="m-scalar-section"),
    pytest.param(M, "{{^xs}}empty{{/xs}}", {"xs": []}, "empty", id="m-inverted-empty"),
    pytest.param(M, "{{^xs}}empty{{/xs}}", {"xs": [1]}, "", id="m-inverted-full"),
    pytest.param(M, "a{{! comment }}b", {}, "ab", id="m-comment"),
    pytest.param(M, "{{#a}}\n  x\n{{/a}}\n", {"a": True}, "  x\n", id="m-standalone"),
    pytest.param(M, "  {{! c }}\nnext", {}, "next", id="m-standalone-comment"),
    pytest.param(M, "{{=| |=}}|x| {{x}}", {"x": 1}, "1 {{x}}", id="m-set-delimiters"),
    pytest.param(M, "{{v}}", {"v": None}, "", id="m-none-renders-empty"),
    pytest.param(M, "{{xs.1}}", {"xs": ["a", "b"]}, "b", id="m-list-index"),
    pytest.param(M, "{{missing}}", {}, MissingVariableError, id="m-missing"),
    pytest.param(M, "{{user.nick}}", {"user": USER}, MissingVariableError, id="m-missing-dotted"),
    pytest.param(M, "{{#s}}", {"s": True}, TemplateSyntaxError, id="m-unclosed-section"),
    pytest.param(M, "{{#a}}{{/b}}", {"a": 1}, TemplateSyntaxError, id="m-mismatched-close"),
    pytest.param(M, "{{name", {"name": 1}, TemplateSyntaxError, id="m-unclosed-tag"),
    pytest.param(M, "{{> other}}", {}, TemplateSyntaxError, id="m-partial"),
    pytest.param(M, "{{=x=}}", {}, TemplateSyntaxError, id="m-bad-delimiters"),
    # ---- jinja2
    pytest.param(J, "Hello {{ name }}", {"name": "Ada"}, "Hello Ada", id="j-basic"),
    pytest.param(
        J, "{{ user.name }}/{{ user['age'] }}", {"user": USER}, "Ada/36", id="j-attr-item"
    ),
    pytest.param(J, "{{ x }}", {"x": "<b>&"}, "<b>&", id="j-no-autoescape"),
    pytest.param(J, "a\n", {}, "a\n", id="j-keep-trailing-newline"),
    pytest.param(
        J,
        "{% for l in user.langs %}{{ loop.index }}{{ l }} {% endfor %}",
        {"user": USER},
        "1en 2fr ",
        id="j-for-loop",
    ),
    pytest.param(
        J, "{% if n > 1 %}many{% elif n %}one{% else %}none{% endif %}", {"n": 1}, "one", id="j-if"
    ),
    pytest.param(
        J, "{{ xs|join(', ') }}|{{ xs|length }}", {"xs": ["a", "b"]}, "a, b|2", id="j-filters"
    ),
    pytest.param(J, "{{ s|upper|replace('A', 'x') }}", {"s": "abc"}, "xBC", id="j-filter-chain"),
    pytest.param(J, "{{ x|default('d') }}", {}, "d", id="j-default-filter"),
    pytest.param(J, "{{ d|tojson }}", {"d": {"a": [1, None]}}, '{"a": [1, null]}', id="j-tojson"),
    pytest.param(J, "{% set y = x * 2 %}{{ y }}", {"x": 21}, "42", id="j-set"),
    pytest.param(
        J, "{% macro m(a, b=2) %}{{ a + b }}{% endmacro %}{{ m(1) }}", {}, "3", id="j-macro"
    ),
    pytest.param(J, "{{ 'ab' ~ 1 ~ none }}", {}, "ab1None", id="j-concat"),
    pytest.param(J, "{{ '%s=%d' % ('a', 1) }}", {}, "a=1", id="j-percent-format"),
    pytest.param(J, "{{ '{}-{:>3}'.format('a', 1) }}", {}, "a-  1", id="j-str-format"),
    pytest.param(J, "{{ 2 ** 8 }} {{ 7 // 2 }} {{ 7 % 3 }}", {}, "256 3 1", id="j-arithmetic"),
    pytest.param(J, "{{ 'a'.ljust(3) }}|", {}, "a  |", id="j-small-padding-ok"),
    pytest.param(J, "{{ range(3)|list }}", {}, "[0, 1, 2]", id="j-range"),
    pytest.param(J, "{{ cycler('a', 'b').next() }}", {}, "a", id="j-cycler-global"),
    pytest.param(J, "{% raw %}{{ x }}{% endraw %}", {}, "{{ x }}", id="j-raw"),
    pytest.param(J, "{{ missing }}", {}, MissingVariableError, id="j-missing"),
    pytest.param(J, "{{ user.nick }}", {"user": USER}, MissingVariableError, id="j-missing-attr"),
    pytest.param(
        J, "{% for x in missing %}{% endfor %}", {}, MissingVariableError, id="j-missing-loop"
    ),
    pytest.param(J, "{{ 1 / 0 }}", {}, InvalidValueError, id="j-zero-division"),
    pytest.param(J, "{{ 'a' - 1 }}", {}, InvalidValueError, id="j-type-error"),
    pytest.param(J, "{{ x }", {}, TemplateSyntaxError, id="j-unclosed-expr"),
    pytest.param(J, "{% if x %}", {"x": 1}, TemplateSyntaxError, id="j-unclosed-block"),
    pytest.param(J, "{% include 'f' %}", {}, TemplateSyntaxError, id="j-include"),
    pytest.param(J, "{{ 'A' * 10**9 }}", {}, TemplateLimitError, id="j-huge-repeat"),
    pytest.param(J, "{{ 9 ** (9 ** 9) }}", {}, TemplateLimitError, id="j-huge-power"),
]


@pytest.mark.parametrize(("fmt", "template", "variables", "expected"), RENDER_CASES)
def test_render_corpus(fmt: str, template: str, variables: dict[str, Any], expected: Any) -> None:
    if isinstance(expected, str):
        assert render(template, fmt, variables) == expected
        validate(template, fmt)
        return
    with pytest.raises(TemplateError) as info:
        render(template, fmt, variables)
    assert type(info.value) is expected, f"{type(info.value).__name__}: {info.value}"


def test_corpus_is_large_and_covers_every_format() -> None:
    formats = {case.values[0] for case in RENDER_CASES}
    assert formats == {F, M, J, N}
    assert len(RENDER_CASES) >= 60


# (format, template, expected variables)
VARIABLE_CASES = [
    pytest.param(N, "{a} {{ b }}", [], id="none"),
    pytest.param(F, "{b} {a} {b}", ["b", "a"], id="f-order-unique"),
    pytest.param(F, "{{x}} {y!r:>5}", ["y"], id="f-escaped-ignored"),
    pytest.param(F, "{x:{width}.{prec}}", ["x", "width", "prec"], id="f-nested-spec-names"),
    pytest.param(M, "{{b}} {{a}} {{b}}", ["b", "a"], id="m-order-unique"),
    pytest.param(M, "{{user.name}} {{user.age}}", ["user"], id="m-dotted-top-level"),
    pytest.param(
        M,
        "{{#items}}{{name}}{{/items}} {{footer}}",
        ["items", "footer"],
        id="m-section-context-excluded",
    ),
    pytest.param(
        M, "{{^items}}{{fallback}}{{/items}}", ["items", "fallback"], id="m-inverted-keeps-context"
    ),
    pytest.param(M, "{{! x }}{{.}}{{=<% %>=}}<% y %>", ["y"], id="m-comment-dot-delims"),
    pytest.param(J, "{{ b }}{{ a }}{{ b }}", ["b", "a"], id="j-order-unique"),
    pytest.param(J, "{{ user.name }} {{ name }}", ["user", "name"], id="j-top-level-only"),
    pytest.param(J, "{% for x in xs %}{{ x }}{{ y }}{% endfor %}", ["xs", "y"], id="j-loop-var"),
    pytest.param(J, "{% set t = 1 %}{{ t }}{{ u }}", ["u"], id="j-set-declared"),
    pytest.param(
        J, "{% for i in range(n) %}{{ cycler }}{% endfor %}", ["n"], id="j-globals-excluded"
    ),
    pytest.param(
        J, "{% macro m(a) %}{{ a }}{{ g }}{% endmacro %}{{ m(v) }}", ["g", "v"], id="j-macro-args"
    ),
    pytest.param(J, "{{ a if b else c|join(d) }}", ["a", "b", "c", "d"], id="j-expression-order"),
]


@pytest.mark.parametrize(("fmt", "template", "expected"), VARIABLE_CASES)
def test_variables_corpus(fmt: str, template: str, expected: list[str]) -> None:
    assert list_variables(template, fmt) == expected


# Sandbox escapes: every one must RAISE, never render.
ESCAPES = [
    pytest.param(J, "{{ ''.__class__.__mro__ }}", SandboxViolationError, id="j-class-mro"),
    pytest.param(
        J, "{{ cycler.__init__.__globals__ }}", SandboxViolationError, id="j-cycler-globals"
    ),
    pytest.param(
        J,
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        SandboxViolationError,
        id="j-subclasses",
    ),
    pytest.param(J, "{{ self.__init__.__globals__ }}", SandboxViolationError, id="j-self-globals"),
    pytest.param(J, "{{ lipsum.__globals__ }}", SandboxViolationError, id="j-lipsum-globals"),
    pytest.param(J, "{{ ''|attr('__class__') }}", SandboxViolationError, id="j-attr-filter-class"),
    pytest.param(J, '{{ "{0.__class__}".format(1) }}', SandboxViolationError, id="j-format-attr"),
    pytest.param(
        J, "{{ ''|attr('format')('{0.__class__}', 1) }}", SandboxViolationError, id="j-attr-format"
    ),
    pytest.param(
        J,
        "{{ '{0.__class__}'|attr('format')(1) }}",
        SandboxViolationError,
        id="j-attr-format-bound",
    ),
    pytest.param(
        J,
        "{{ '{a.__class__}'.format_map({'a': 1}) }}",
        SandboxViolationError,
        id="j-format-map-attr",
    ),
    pytest.param(J, "{{ namespace.__init__ }}", SandboxViolationError, id="j-namespace-init"),
    pytest.param(J, "{{ config }}", MissingVariableError, id="j-config-undefined"),
    pytest.param(J, "{{ request.application }}", MissingVariableError, id="j-request-undefined"),
    pytest.param(J, "{{ x.__len__() }}", SandboxViolationError, id="j-dunder-method"),
    pytest.param(J, "{{ dict.mro() }}", SandboxViolationError, id="j-type-mro"),
    pytest.param(
        J, "{{ (x|map('upper')).gi_frame }}", SandboxViolationError, id="j-generator-frame"
    ),
    pytest.param(J, "{{ xs.append(1) }}{{ xs }}", SandboxViolationError, id="j-mutate-list"),
    pytest.param(J, "{{ d.update({'a': 1}) }}", SandboxViolationError, id="j-mutate-dict"),
    pytest.param(
        J, "{{ x|attr('__class__')|attr('__base__') }}", SandboxViolationError, id="j-attr-chain"
    ),
    pytest.param(J, "{{ cycler['__init__'] }}", SandboxViolationError, id="j-getitem-dunder"),
    pytest.param(F, "{x.__class__}", SandboxViolationError, id="f-attribute"),
    pytest.param(F, "{x[0]}", SandboxViolationError, id="f-index"),
    pytest.param(F, "{x.__class__.__mro__[1]}", SandboxViolationError, id="f-attribute-chain"),
    pytest.param(F, "{x:{x.__class__}}", SandboxViolationError, id="f-attribute-in-spec"),
    pytest.param(M, "{{x.__class__}}", MissingVariableError, id="m-no-getattr"),
    pytest.param(M, "{{#x}}{{__class__}}{{/x}}", MissingVariableError, id="m-no-getattr-section"),
]


@pytest.mark.parametrize(("fmt", "template", "expected"), ESCAPES)
def test_sandbox_escapes_raise(fmt: str, template: str, expected: type[TemplateError]) -> None:
    variables = {"x": "abc", "xs": [1], "d": {"k": 1}}
    with pytest.raises(TemplateError) as info:
        render(template, fmt, variables)
    assert type(info.value) is expected, f"{type(info.value).__name__}: {info.value}"


# Mustache cases where the spec, chevron and this implementation must agree
# (no HTML-special characters, every name present).
CHEVRON_CASES = [
    pytest.param("Hi {{name}}!", {"name": "Ada"}, id="interpolation"),
    pytest.param("{{#xs}}- {{n}}\n{{/xs}}", {"xs": [{"n": 1}, {"n": 2}]}, id="list-section"),
    pytest.param("{{#u}}{{name}}{{/u}}", {"u": {"name": "x"}}, id="dict-section"),
    pytest.param("{{^xs}}none{{/xs}}", {"xs": []}, id="inverted"),
    pytest.param("  {{#a}}\n  x\n  {{/a}}\ny\n", {"a": True}, id="standalone-lines"),
    pytest.param("| {{#a}} {{/a}} |\n", {"a": True}, id="inline-section-whitespace"),
    pytest.param(" {{#a}}\n{{b}}\n {{/a}}\n", {"a": [1], "b": "x"}, id="standalone-indented"),
    pytest.param("{{a.b.c}}", {"a": {"b": {"c": "deep"}}}, id="dotted"),
    pytest.param("{{#xs}}[{{.}}]{{/xs}}", {"xs": [1, "two", 3.5]}, id="implicit-iterator"),
    pytest.param("{{=<% %>=}}(<% x %>)", {"x": "y"}, id="set-delimiters"),
    pytest.param("a\n{{! multi\nline }}\nb", {}, id="comment-standalone"),
    pytest.param("{{x}} {{y}} {{z}}", {"x": 1, "y": True, "z": None}, id="scalars"),
    pytest.param("{{#a}}{{#b}}{{c}}{{/b}}{{/a}}", {"a": {"b": [{"c": 1}, {"c": 2}]}}, id="nested"),
    pytest.param("{{#t}}yes{{/t}}{{#f}}no{{/f}}", {"t": 1, "f": 0}, id="truthiness"),
    pytest.param("a\r\n{{#s}}\r\nb\r\n{{/s}}\r\n", {"s": True}, id="crlf-standalone"),
]


@pytest.mark.parametrize(("template", "data"), CHEVRON_CASES)
def test_mustache_agrees_with_chevron(template: str, data: dict[str, Any]) -> None:
    chevron = pytest.importorskip("chevron")
    assert render(template, M, data) == chevron.render(template, data)
