"""Resource limits for rendering and the per-render budget that enforces them.

Every renderer creates a :class:`RenderBudget` from a :class:`RenderLimits` and
checks it while it works: the wall-clock deadline (``check_time``), the size of
values about to be built (``check_size``, ``check_width``) and the size of the
output (``add_output``).  Checks happen *before* large allocations whenever the
size can be predicted, so a hostile template fails fast instead of exhausting
memory.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import ItemsView, Iterable, Iterator, KeysView, Mapping, ValuesView
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from core.templating.errors import TemplateLimitError

__all__ = [
    "RenderBudget",
    "RenderLimits",
    "check_format_spec",
    "check_printf_format",
    "current_budget",
    "estimate_chars",
]

_LOG2_10 = math.log2(10)
_LIST_ITEM_BYTES = 48  # pointer + a typical freshly created element object
_HASHED_ITEM_BYTES = 128  # hash-table entry + key/value objects


@dataclass(frozen=True, slots=True)
class RenderLimits:
    """Bounds applied to one render (or one chat render, shared by its messages)."""

    #: Maximum number of characters in the rendered result.
    max_output_chars: int = 1_000_000
    #: Wall-clock budget for compiling and rendering, in seconds.
    timeout_s: float = 2.0
    #: Largest ``range()`` a Jinja template may create.
    max_range: int = 10_000
    #: Largest string/sequence a single operation (``*``, ``+``, ``~``, ``join``,
    #: ``replace``, ...) may build.
    max_repeat_chars: int = 1_000_000
    #: Largest width/precision in a format spec, ``%`` format or padding call.
    max_format_width: int = 10_000
    #: Largest integer (in decimal digits) arithmetic may produce.
    max_int_digits: int = 4_300
    #: Approximate bytes built during one render: output, intermediate buffers
    #: (macros, blocks), strings/lists/dicts created by operators, filters and calls.
    #: Bounds memory even when a template accumulates data in a loop.
    max_work_bytes: int = 50_000_000

    def __post_init__(self) -> None:
        """Reject nonsensical (non-positive) limits early."""
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if not value > 0:
                raise ValueError(f"RenderLimits.{name} must be positive, got {value!r}")

    @property
    def max_int_bits(self) -> int:
        """Largest integer size in bits, derived from :attr:`max_int_digits`."""
        return int(self.max_int_digits * _LOG2_10) + 1


class RenderBudget:
    """Mutable per-render accounting of time and characters against a :class:`RenderLimits`."""

    __slots__ = ("deadline", "limits", "output", "work")

    def __init__(self, limits: RenderLimits | None = None) -> None:
        """Start the clock for a render bounded by ``limits`` (defaults if ``None``)."""
        self.limits = limits if limits is not None else RenderLimits()
        self.deadline = time.monotonic() + self.limits.timeout_s
        self.output = 0
        self.work = 0

    def check_time(self) -> None:
        """Raise :class:`TemplateLimitError` once the wall-clock deadline has passed."""
        if time.monotonic() > self.deadline:
            raise TemplateLimitError(
                f"rendering took longer than the {self.limits.timeout_s:g} s time limit"
            )

    def add_output(self, n: int) -> None:
        """Account ``n`` characters of final output; raise past ``max_output_chars``."""
        self.output += n
        if self.output > self.limits.max_output_chars:
            raise TemplateLimitError(
                f"output is longer than the limit of {self.limits.max_output_chars:,} characters"
            )

    def add_work(self, n: int) -> None:
        """Add ``n`` approximate bytes built to the work total; also checks the clock."""
        self.work += n
        if self.work > self.limits.max_work_bytes:
            raise TemplateLimitError(
                f"template built more than ~{self.limits.max_work_bytes // 1_000_000:,} MB of "
                "text and data in total (output, intermediate strings, lists and blocks)"
            )
        self.check_time()

    def check_size(self, n: int, what: str) -> None:
        """Raise if an operation would build a value of ``n`` characters/items."""
        if n > self.limits.max_repeat_chars:
            raise TemplateLimitError(
                f"{what} would produce {n:,} characters or items; "
                f"the limit is {self.limits.max_repeat_chars:,}"
            )

    def account(self, n: int, what: str, *, weight: int = 1) -> None:
        """Check a value of ``n`` chars/items about to be built; add ``n * weight`` to the work."""
        self.check_size(n, what)
        self.add_work(n * weight)

    def account_value(self, value: Any, what: str) -> None:
        """Account a freshly built string or container (weighted by approximate bytes per item)."""
        if isinstance(value, str):
            self.account(len(value), what, weight=1 if value.isascii() else 4)
        elif isinstance(value, bytes | bytearray):
            self.account(len(value), what)
        elif isinstance(value, list | tuple):
            self.account(len(value), what, weight=_LIST_ITEM_BYTES)
        elif isinstance(value, dict | set | frozenset):
            self.account(len(value), what, weight=_HASHED_ITEM_BYTES)

    def check_width(self, n: Any, what: str) -> None:
        """Raise if a padding width / precision ``n`` exceeds ``max_format_width``."""
        if isinstance(n, int) and n > self.limits.max_format_width:
            raise TemplateLimitError(
                f"{what} of {n:,} is larger than the limit of {self.limits.max_format_width:,}"
            )

    def check_int_bits(self, bits: float, what: str) -> None:
        """Raise if an integer result of ``bits`` bits would exceed ``max_int_digits``."""
        if bits > self.limits.max_int_bits:
            raise TemplateLimitError(
                f"{what} would produce a number with more than "
                f"{self.limits.max_int_digits:,} digits"
            )

    def check_value(self, value: Any, what: str, *, indent: int = 0) -> int:
        """Estimate ``value``'s text size and raise if it exceeds ``max_repeat_chars``."""
        limit = self.limits.max_repeat_chars
        size = estimate_chars(value, limit, indent=indent, budget=self)
        if size > limit:
            raise TemplateLimitError(f"{what} would produce more than {limit:,} characters")
        return size


_CURRENT: ContextVar[RenderBudget | None] = ContextVar("core_templating_budget", default=None)


def current_budget() -> RenderBudget:
    """Return the budget of the render in progress (a fresh default one outside renders)."""
    budget = _CURRENT.get()
    return budget if budget is not None else RenderBudget()


def budget_var() -> ContextVar[RenderBudget | None]:
    """Return the context variable holding the active :class:`RenderBudget`."""
    return _CURRENT


_SCALAR_SIZES: dict[type, int] = {bool: 5, type(None): 4, float: 24, complex: 48}


def estimate_chars(
    value: Any, limit: int, *, indent: int = 0, budget: RenderBudget | None = None
) -> int:
    """Estimate how many characters ``str(value)`` would take, stopping once above ``limit``.

    The walk is iterative (memory proportional to nesting depth only) and stops as
    soon as the estimate passes ``limit``, so huge or deeply shared structures
    (``[[x] * 1000] * 1000``) are estimated without ever being converted.
    ``indent`` adds ``indent * depth`` characters per nested item (pretty printers).
    """
    total = 0
    steps = 0
    stack: list[Iterator[Any]] = [iter((value,))]
    while stack:
        item = next(stack[-1], _DONE)
        if item is _DONE:
            stack.pop()
            continue
        depth = len(stack) - 1
        steps += 1
        if budget is not None and steps % 4096 == 0:
            budget.check_time()
        if indent and depth:
            total += indent * depth + 1
        children: Iterable[Any] | None = None
        if isinstance(item, str | bytes | bytearray):
            total += len(item) + (2 if depth else 0)
        elif isinstance(item, int) and not isinstance(item, bool):
            total += int(item.bit_length() / _LOG2_10) + 2
        elif type(item) in _SCALAR_SIZES:
            total += _SCALAR_SIZES[type(item)]
        elif isinstance(item, Mapping | ItemsView):
            pairs = item.items() if isinstance(item, Mapping) else item
            total += 2 + 4 * len(pairs)
            children = (part for pair in pairs for part in pair)
        elif isinstance(item, list | tuple | set | frozenset | KeysView | ValuesView):
            total += 2 + 2 * len(item)
            children = item
        elif isinstance(item, range):
            total += 32
        else:
            attrs = _namespace_attrs(item)
            if attrs is not None:
                total += 2 + 4 * len(attrs)
                children = (part for pair in attrs.items() for part in pair)
            else:
                total += 64
        if total > limit:
            return limit + 1
        if children is not None:
            stack.append(iter(children))
    return total


_DONE = object()


def _namespace_attrs(item: Any) -> dict[str, Any] | None:
    """Return the attribute dict of a ``jinja2`` ``namespace()`` object, else ``None``."""
    cls = type(item)
    if cls.__name__ == "Namespace" and cls.__module__ == "jinja2.utils":
        attrs = object.__getattribute__(item, "_Namespace__attrs")
        return attrs if isinstance(attrs, dict) else None
    return None


# [[fill]align][sign][z][#][0][width][grouping][.precision][type] -- we only need the numbers:
# any run of digits in a spec bounds some allocation, so bounding all of them is safe.
_DIGITS = re.compile(r"\d+")


def check_format_spec(
    spec: str, budget: RenderBudget, what: str = "format width/precision"
) -> None:
    """Reject a ``str.format`` spec whose width/precision exceeds ``max_format_width``."""
    if len(spec) > 64:
        raise TemplateLimitError(f"format spec {spec[:20]!r}... is too long")
    for match in _DIGITS.finditer(spec):
        digits = match.group()
        if len(digits) > 9:
            budget.check_width(10**9, what)
        budget.check_width(int(digits), what)


_PRINTF = re.compile(
    r"%(?:\((?P<key>[^)]*)\))?(?P<flags>[#0\- +]*)(?P<width>\*|\d+)?"
    r"(?:\.(?P<precision>\*|\d*))?[hlL]?(?P<conv>.?)",
    re.DOTALL,
)


def check_printf_format(fmt: str, budget: RenderBudget) -> None:
    """Reject a printf-style (``%``) format with huge or dynamic (``*``) widths."""
    for match in _PRINTF.finditer(fmt):
        for group in ("width", "precision"):
            text = match.group(group)
            if not text:
                continue
            if text == "*":
                raise TemplateLimitError(f"'*' {group} in a % format is not supported")
            if len(text) > 9:
                budget.check_width(10**9, f"% format {group}")
            budget.check_width(int(text), f"% format {group}")
