"""Size and time guards for the Jinja sandbox (operators, method calls, filters, globals).

Each guard predicts the size of what an operation is about to build and raises
:class:`TemplateLimitError` *before* the allocation.  They all read the active
:class:`~core.templating.limits.RenderBudget` from a context variable, so one
shared environment serves concurrent renders with different limits.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from jinja2.exceptions import SecurityError
from jinja2.runtime import Undefined
from jinja2.utils import generate_lorem_ipsum, pass_context

from core.templating.errors import TemplateLimitError
from core.templating.limits import (
    RenderBudget,
    check_format_spec,
    check_printf_format,
    current_budget,
)

__all__ = [
    "bounded_lipsum",
    "bounded_range",
    "check_binop",
    "check_call",
    "check_percent_format",
    "deadline_iter",
    "finalize",
    "wrap_filters",
]

_SEQUENCES = (str, bytes, list, tuple)


def account_result(budget: RenderBudget, result: Any, what: str) -> Any:
    """Add a freshly built container/string result to the render's work total."""
    budget.account_value(result, what)
    return result


def _as_text(value: Any) -> str:
    """Text view of a str/bytes format string (bytes decoded losslessly)."""
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


def check_percent_format(budget: RenderBudget, fmt: Any, args: Any) -> None:
    """Guard ``fmt % args``: bounded widths and a bounded result size."""
    text = _as_text(fmt)
    check_printf_format(text, budget)
    arg_size = budget.check_value(args, "% formatting")
    uses = text.count("%") if isinstance(args, Mapping) else 1
    budget.check_size(len(text) + uses * arg_size, "% formatting")


def _replace_size(s: str | bytes, old: Any, new: Any, count: Any) -> int:
    """Length of ``s.replace(old, new, count)`` computed without building it."""
    if not isinstance(old, str | bytes) or not isinstance(new, str | bytes):
        return len(s)
    occurrences = s.count(old) if old else len(s) + 1  # type: ignore[arg-type]
    if isinstance(count, int) and count >= 0:
        occurrences = min(occurrences, count)
    return len(s) + occurrences * max(0, len(new) - len(old))


def _weight(seq: Any) -> int:
    """Approximate bytes per item of a string/sequence about to be built."""
    if isinstance(seq, list | tuple):
        return 8  # copies references only
    if isinstance(seq, str) and not seq.isascii():
        return 4
    return 1


def check_binop(budget: RenderBudget, op: str, left: Any, right: Any) -> None:
    """Guard an intercepted binary operator before Python evaluates it."""
    budget.check_time()
    if op == "*":
        if isinstance(left, _SEQUENCES) and isinstance(right, int):
            budget.account(len(left) * max(right, 0), "repetition with '*'", weight=_weight(left))
        elif isinstance(right, _SEQUENCES) and isinstance(left, int):
            budget.account(len(right) * max(left, 0), "repetition with '*'", weight=_weight(right))
        elif isinstance(left, int) and isinstance(right, int):
            budget.check_int_bits(left.bit_length() + right.bit_length(), "multiplication")
    elif op == "**":
        if isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1:
            budget.check_int_bits(right * math.log2(abs(left)), "exponentiation")
    elif op == "+":
        if isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES):
            size = len(left) + len(right)
            budget.account(size, "concatenation with '+'", weight=_weight(left))
    elif op == "%" and isinstance(left, str | bytes):
        check_percent_format(budget, left, right)


def _arg(
    args: tuple[Any, ...], kwargs: Mapping[str, Any], index: int, name: str, default: Any
) -> Any:
    """Fetch a call argument by position or keyword."""
    if len(args) > index:
        return args[index]
    return kwargs.get(name, default)


def check_call(
    budget: RenderBudget, obj: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[Any, ...]:
    """Guard a sandboxed call; returns (possibly materialised) positional arguments."""
    budget.check_time()
    owner = getattr(obj, "__self__", None)
    name = getattr(obj, "__name__", "")
    if isinstance(owner, str | bytes):
        if name in ("center", "ljust", "rjust", "zfill"):
            budget.check_width(_arg(args, kwargs, 0, "width", 0), f"{name}() width")
        elif name == "expandtabs":
            tabsize = _arg(args, kwargs, 0, "tabsize", 8)
            budget.check_width(tabsize, "expandtabs() tab size")
            if isinstance(tabsize, int):
                tab = "\t" if isinstance(owner, str) else b"\t"
                budget.check_size(len(owner) + owner.count(tab) * tabsize, "expandtabs()")  # type: ignore[arg-type]
        elif name == "replace":
            size = _replace_size(
                owner,
                _arg(args, kwargs, 0, "old", None),
                _arg(args, kwargs, 1, "new", None),
                _arg(args, kwargs, 2, "count", -1),
            )
            budget.check_size(size, "replace()")
        elif name == "join" and args:
            items = list(deadline_iter(args[0]))
            budget.check_size(len(items), "join()")
            total = sum(len(i) for i in items if isinstance(i, str | bytes))
            budget.check_size(total + len(owner) * max(len(items) - 1, 0), "join()")
            args = (items, *args[1:])
        elif name == "translate" and args and isinstance(args[0], Mapping):
            longest = max(
                (len(v) for v in args[0].values() if isinstance(v, str | bytes)), default=1
            )
            budget.check_size(len(owner) * max(longest, 1), "translate()")
    elif isinstance(owner, int) and name == "to_bytes":
        length = _arg(args, kwargs, 0, "length", 1)
        if isinstance(length, int):
            budget.check_size(length, "to_bytes()")
    return args


def deadline_iter(iterable: Any) -> Any:
    """Wrap a loop iterable so every iteration checks the render deadline."""
    if isinstance(iterable, Undefined):
        return iterable  # let the (strict) undefined raise its own error
    budget = current_budget()
    budget.check_time()
    return _deadline_gen(iter(iterable), budget)


def _deadline_gen(iterator: Iterator[Any], budget: RenderBudget) -> Iterator[Any]:
    """Yield from ``iterator``, checking the deadline before each item."""
    check = budget.check_time
    for item in iterator:
        check()
        yield item


def bounded_range(*args: Any) -> range:
    """``range()`` for templates, limited to ``RenderLimits.max_range`` items."""
    budget = current_budget()
    budget.check_time()
    rng = range(*args)
    try:
        size = f"{len(rng):,}"
        too_big = len(rng) > budget.limits.max_range
    except OverflowError:
        size, too_big = "astronomically many", True
    if too_big:
        raise TemplateLimitError(
            f"range() with {size} items exceeds the limit of {budget.limits.max_range:,}"
        )
    return rng


def bounded_lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:  # noqa: A002
    """``lipsum()`` for templates, limited to 100 paragraphs of at most 1000 words."""
    budget = current_budget()
    budget.check_time()
    if not isinstance(n, int) or not isinstance(max, int) or n > 100 or max > 1000:
        raise TemplateLimitError("lipsum() is limited to n <= 100 paragraphs and max <= 1000 words")
    return str(generate_lorem_ipsum(n=n, html=html, min=min, max=max))


def finalize(value: Any) -> Any:
    """Environment ``finalize``: refuse to print values whose text would be huge."""
    if isinstance(value, str | Undefined):
        return value
    current_budget().check_value(value, "printing this value")
    return value


# ---------------------------------------------------------------- filter guards

_Args = dict[str, Any]


def _g_center(b: RenderBudget, a: _Args) -> None:
    """``center(width)``."""
    b.check_width(a.get("width"), "center() width")


def _g_indent(b: RenderBudget, a: _Args) -> None:
    """``indent(width)``: width may be a number or a string."""
    width = a.get("width")
    size = len(width) if isinstance(width, str) else width
    b.check_width(size, "indent() width")
    text = a.get("s")
    if isinstance(text, str) and isinstance(size, int):
        b.check_size(len(text) + (text.count("\n") + 1) * size, "indent()")


def _g_wordwrap(b: RenderBudget, a: _Args) -> None:
    """``wordwrap(width, wrapstring=...)``: the wrap string is inserted per line."""
    text, wrap, width = a.get("s"), a.get("wrapstring") or "\n", a.get("width")
    if isinstance(text, str) and isinstance(wrap, str) and isinstance(width, int):
        lines = len(text) // max(width, 1) + sum(ch.isspace() for ch in text) + 1
        b.check_size(len(text) + lines * len(wrap), "wordwrap()")


def _g_format(b: RenderBudget, a: _Args) -> None:
    """``format(*args, **kwargs)`` is printf-style ``value % args``."""
    check_percent_format(b, a.get("value", ""), a.get("kwargs") or a.get("args"))


def _g_replace(b: RenderBudget, a: _Args) -> None:
    """``replace(old, new, count)``."""
    text = a.get("s")
    if not isinstance(text, str):
        b.check_value(text, "replace()")
        text = str(text)
    old, new = a.get("old"), a.get("new")
    b.check_size(_replace_size(text, str(old), str(new), a.get("count")), "replace()")


def _g_join(b: RenderBudget, a: _Args) -> None:
    """``join(d)``: materialise the items once and bound items + separators."""
    value = a.get("value")
    if isinstance(value, Undefined):
        return
    items = list(deadline_iter(value))
    a["value"] = items
    b.check_size(len(items), "join()")
    sep = a.get("d")
    sep_len = len(sep) if isinstance(sep, str) else 0
    b.check_size(b.check_value(items, "join()") + sep_len * max(len(items) - 1, 0), "join()")


def _g_sum(b: RenderBudget, a: _Args) -> None:
    """``sum(start=...)``: concatenating sequences is bounded like ``+``."""
    start = a.get("start")
    if isinstance(start, int | float) or isinstance(a.get("iterable"), Undefined):
        return
    items = list(deadline_iter(a.get("iterable")))
    a["iterable"] = items
    b.check_value([start, items], "sum()")


def _g_batch(b: RenderBudget, a: _Args) -> None:
    """``batch(linecount, fill_with)`` pads the last batch to ``linecount`` items."""
    count = a.get("linecount")
    if a.get("fill_with") is not None and isinstance(count, int):
        b.check_size(count, "batch() with fill_with")


def _g_slice(b: RenderBudget, a: _Args) -> None:
    """``slice(slices)`` creates ``slices`` lists."""
    count = a.get("slices")
    if isinstance(count, int) and count > b.limits.max_range:
        raise TemplateLimitError(f"slice() into {count:,} parts exceeds {b.limits.max_range:,}")


def _g_tojson(b: RenderBudget, a: _Args) -> None:
    """``tojson(indent)``: indentation is repeated per nesting level."""
    indent = a.get("indent")
    size = len(indent) if isinstance(indent, str) else indent if isinstance(indent, int) else 0
    b.check_width(size, "tojson() indent")
    b.check_value(a.get("value"), "tojson()", indent=max(size, 0))


def _g_pprint(b: RenderBudget, a: _Args) -> None:
    """``pprint`` indents nested items."""
    b.check_value(a.get("value"), "pprint()", indent=1)


def _g_string(b: RenderBudget, a: _Args) -> None:
    """``string`` converts any value to text."""
    b.check_value(a.get("s"), "string()")


_URLIZE_MAX_CHARS = 100_000


def _g_urlize(b: RenderBudget, a: _Args) -> None:
    """``urlize`` runs several regexes per word: bound its input (~0.5 s worst case)."""
    value = a.get("value")
    if isinstance(value, str) and len(value) > _URLIZE_MAX_CHARS:
        raise TemplateLimitError(
            f"urlize() is limited to {_URLIZE_MAX_CHARS:,} characters of input"
        )


def _g_truncate(b: RenderBudget, a: _Args) -> None:
    """``truncate(end=...)`` appends ``end`` once."""
    end = a.get("end")
    if isinstance(end, str):
        b.check_size(len(end), "truncate() end")


def _g_attr(b: RenderBudget, a: _Args) -> None:
    """``attr('format')`` on a string is a known sandbox-escape vector: refuse it outright."""
    if isinstance(a.get("obj"), str) and a.get("name") in ("format", "format_map"):
        raise SecurityError("attr('format') is not allowed on strings; call .format() directly")


_FILTER_GUARDS: dict[str, Callable[[RenderBudget, _Args], None]] = {
    "attr": _g_attr,
    "batch": _g_batch,
    "center": _g_center,
    "format": _g_format,
    "indent": _g_indent,
    "join": _g_join,
    "pprint": _g_pprint,
    "replace": _g_replace,
    "slice": _g_slice,
    "string": _g_string,
    "sum": _g_sum,
    "tojson": _g_tojson,
    "truncate": _g_truncate,
    "urlize": _g_urlize,
    "wordwrap": _g_wordwrap,
}


def _context_arg(kind: str | None, context: Any) -> tuple[Any, ...]:
    """The leading argument a filter declared with ``pass_<kind>`` expects."""
    if kind == "context":
        return (context,)
    if kind == "eval_context":
        return (context.eval_ctx,)
    if kind == "environment":
        return (context.environment,)
    return ()


def _wrap_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap one filter with the deadline check, its guard and a result-size check.

    The wrapper is a ``pass_context`` filter, which also stops Jinja's optimiser from
    running filters at compile time: they always run inside a render's budget.
    """
    guard = _FILTER_GUARDS.get(name)
    signature = inspect.signature(func) if guard is not None else None
    kind = getattr(getattr(func, "jinja_pass_arg", None), "name", None)
    # jinja's ``async_variant`` adds an eval-context argument that the signature
    # (taken from the wrapped sync function) does not show.
    inner = getattr(func, "__wrapped__", None)
    skip = int(
        kind is not None and inner is not None and getattr(inner, "jinja_pass_arg", None) is None
    )

    @functools.wraps(func)
    def wrapper(context: Any, *args: Any, **kwargs: Any) -> Any:
        budget = current_budget()
        budget.check_time()
        args = (*_context_arg(kind, context), *args)
        if guard is not None and signature is not None:
            try:
                bound = signature.bind(*args[skip:], **kwargs)
            except TypeError:
                return func(*args, **kwargs)  # let the filter report its own usage error
            bound.apply_defaults()
            guard(budget, bound.arguments)
            args, kwargs = (*args[:skip], *bound.args), bound.kwargs
        result = func(*args, **kwargs)
        budget.account_value(result, f"filter {name!r}")
        return result

    return pass_context(wrapper)


def wrap_filters(filters: Mapping[str, Callable[..., Any]]) -> dict[str, Callable[..., Any]]:
    """Return a copy of ``filters`` with every filter wrapped by :func:`_wrap_filter`."""
    return {name: _wrap_filter(name, func) for name, func in filters.items()}


def check_spec(budget: RenderBudget, spec: str) -> None:
    """Guard a ``str.format`` field spec inside a Jinja template."""
    check_format_spec(spec, budget)
