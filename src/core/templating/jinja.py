"""``jinja2`` templates rendered in a hardened, resource-bounded sandbox.

The environment is an :class:`~jinja2.sandbox.ImmutableSandboxedEnvironment`
(``StrictUndefined``, ``autoescape=False``, ``keep_trailing_newline=True``) with:

* ``intercepted_binops`` for ``* ** + %``, so the compile-time optimiser leaves them
  to :meth:`call_binop`, which checks operand sizes *before* computing
  (``'A' * 10**9``, ``9 ** (9 ** 9)``, ``'%999999999d' % 1``);
* a code generator that routes every ``~`` concatenation, every piece of output
  (including macro/``set``/``filter`` block buffers) and every ``for`` loop iterable
  through size/deadline checks;
* ``getattr``/``getitem``/``call`` hooks that check the deadline and bound
  amplifying methods (``ljust``, ``replace``, ``join``, ``str.format`` specs, ...);
* wrapped filters (``center``, ``indent``, ``join``, ``tojson``, ...) and bounded
  ``range``/``lipsum`` globals;
* ``include``/``extends``/``import`` rejected (templates are self-contained).

Requires jinja2 >= 3.1.6 (sandbox fixes for ``str.format`` and ``|attr``).
"""

from __future__ import annotations

import re
import types
from collections.abc import Callable, Mapping
from functools import lru_cache, update_wrapper
from typing import Any

import jinja2
from jinja2 import meta, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.runtime import StrictUndefined, Undefined
from jinja2.sandbox import (
    ImmutableSandboxedEnvironment,
    SandboxedEscapeFormatter,
    SandboxedFormatter,
)
from jinja2.utils import missing
from markupsafe import Markup

from core.templating import jinja_guards as guards
from core.templating.errors import (
    InvalidValueError,
    MissingVariableError,
    SandboxViolationError,
    TemplateError,
    TemplateLimitError,
    TemplateSyntaxError,
)
from core.templating.limits import RenderBudget, RenderLimits, budget_var, current_budget

__all__ = ["Jinja2Formatter"]

_MIN_VERSION = (3, 1, 6)
_TEMPLATE_FILENAME = "<template>"
_FORBIDDEN_TAGS: dict[type[nodes.Node], str] = {
    nodes.Extends: "extends",
    nodes.Include: "include",
    nodes.Import: "import",
    nodes.FromImport: "from ... import",
}


def _version_tuple(version: str) -> tuple[int, ...]:
    """Parse ``"3.1.6"`` (ignoring suffixes) into ``(3, 1, 6)``."""
    return tuple(int(m) for m in re.findall(r"\d+", version)[:3])


if _version_tuple(jinja2.__version__) < _MIN_VERSION:  # pragma: no cover - env check
    raise ImportError(f"core.templating needs jinja2 >= 3.1.6, found {jinja2.__version__}")


class _UndefinedNameError(UndefinedError):
    """``UndefinedError`` that remembers which name was undefined."""

    def __init__(self, message: str | None = None, *, name: Any = None, top_level: bool = True):
        """Record the undefined ``name`` and whether it was a top-level variable."""
        super().__init__(message)
        self.name = name
        self.top_level = top_level


class _StrictUndefined(StrictUndefined):
    """``StrictUndefined`` whose error carries the missing name."""

    __slots__ = ()

    def __init__(
        self,
        hint: str | None = None,
        obj: Any = missing,
        name: str | None = None,
        exc: Any = UndefinedError,
    ) -> None:
        """Like ``Undefined.__init__``, but undefined-name errors remember ``name``.

        An undefined derived from an *unsafe* one (``x|attr('__class__')|attr('y')``)
        keeps raising the original :class:`SecurityError`.
        """
        if isinstance(obj, Undefined) and obj._undefined_exception is SecurityError:
            hint, exc = obj._undefined_message, SecurityError
        elif exc is UndefinedError:
            top_level = obj is missing

            def exc(message: str | None = None) -> _UndefinedNameError:
                return _UndefinedNameError(message, name=name, top_level=top_level)

        super().__init__(hint, obj, name, exc)


class _BoundedFormatterMixin:
    """Bounds ``str.format`` widths, converted values and total result size."""

    _total = 0

    def vformat(self, format_string: str, args: Any, kwargs: Any) -> str:
        """Reset the per-call size counter, then format."""
        current_budget().check_size(len(format_string), "str.format()")
        self._total = len(format_string)
        return super().vformat(format_string, args, kwargs)  # type: ignore[misc, no-any-return]

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        """Check the value's size before ``!r``/``!s``/``!a`` converts it."""
        if conversion is not None:
            current_budget().check_value(value, "str.format() argument")
        return super().convert_field(value, conversion)  # type: ignore[misc]

    def format_field(self, value: Any, format_spec: str) -> Any:
        """Check the spec's widths and the value's size before formatting."""
        budget = current_budget()
        budget.check_time()
        guards.check_spec(budget, format_spec)
        self._total += budget.check_value(value, "str.format() argument")
        budget.check_size(self._total, "str.format()")
        return super().format_field(value, format_spec)  # type: ignore[misc]


class _BoundedFormatter(_BoundedFormatterMixin, SandboxedFormatter):
    """Sandboxed, bounded ``str.format``."""


class _BoundedEscapeFormatter(_BoundedFormatterMixin, SandboxedEscapeFormatter):
    """Sandboxed, bounded ``Markup.format``."""


class _BoundedCodeGenerator(CodeGenerator):
    """Code generator that instruments loops, concatenation and output."""

    def visit_Template(self, node: nodes.Template, frame: Frame | None = None) -> None:
        """Reject imports/includes and wrap every ``for`` iterable with a deadline check."""
        for kind, tag in _FORBIDDEN_TAGS.items():
            for found in node.find_all(kind):
                self.fail(
                    f"'{tag}' is not supported: templates must be self-contained", found.lineno
                )
        for loop in list(node.find_all(nodes.For)):
            loop.iter = nodes.Call(
                nodes.EnvironmentAttribute("wb_iter"),
                [loop.iter],
                [],
                None,
                None,
                lineno=loop.iter.lineno,
            )
        super().visit_Template(node, frame)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        """Compile ``a ~ b`` to a size-checked join."""
        if frame.eval_ctx.volatile:
            func_name = "(markup_join if context.eval_ctx.volatile else str_join)"
        elif frame.eval_ctx.autoescape:
            func_name = "markup_join"
        else:
            func_name = "str_join"
        self.write(f"environment.wb_concat({func_name}, (")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")

    def _output_const_repr(self, group: Any) -> str:
        """Count constant output (also inside macro and block buffers)."""
        return f"environment.wb_out({super()._output_const_repr(group)})"

    def _output_child_pre(self, node: nodes.Expr, frame: Frame, finalize: Any) -> None:
        """Open the counting wrapper around a runtime output expression."""
        self.write("environment.wb_out(")
        super()._output_child_pre(node, frame, finalize)

    def _output_child_post(self, node: nodes.Expr, frame: Frame, finalize: Any) -> None:
        """Close the counting wrapper around a runtime output expression."""
        super()._output_child_post(node, frame, finalize)
        self.write(")")


class _Environment(ImmutableSandboxedEnvironment):
    """The hardened sandbox used for every Jinja template."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})
    code_generator_class = _BoundedCodeGenerator

    def __init__(self) -> None:
        """Configure strictness, no autoescaping, bounded globals and wrapped filters."""
        super().__init__(
            undefined=_StrictUndefined,
            autoescape=False,
            keep_trailing_newline=True,
            finalize=guards.finalize,
            auto_reload=False,
        )
        self.globals["range"] = guards.bounded_range
        self.globals["lipsum"] = guards.bounded_lipsum
        self.filters = guards.wrap_filters(self.filters)

    # -- hooks called from generated code ------------------------------------------------
    def wb_iter(self, iterable: Any) -> Any:
        """Loop iterable wrapper: every iteration checks the deadline."""
        return guards.deadline_iter(iterable)

    def wb_out(self, text: str) -> str:
        """Count produced text (top level and buffers) against the work limit."""
        current_budget().add_work(len(text))
        return text

    def wb_concat(self, join: Callable[[Any], str], parts: tuple[Any, ...]) -> str:
        """``~`` concatenation with a size check before joining."""
        budget = current_budget()
        budget.check_time()
        total = 0
        for part in parts:
            total += len(part) if isinstance(part, str) else budget.check_value(part, "'~'")
            budget.check_size(total, "concatenation with '~'")
        budget.add_work(total)
        return join(parts)

    # -- sandbox hooks --------------------------------------------------------------------
    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        """Check operand sizes before evaluating ``* ** + %``."""
        guards.check_binop(current_budget(), operator, left, right)
        return super().call_binop(context, operator, left, right)

    def getattr(self, obj: Any, attribute: str) -> Any:
        """Sandboxed attribute access plus a deadline check."""
        current_budget().check_time()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        """Sandboxed item access plus a deadline check."""
        budget = current_budget()
        budget.check_time()
        value = super().getitem(obj, argument)
        if isinstance(argument, slice):
            guards.account_result(budget, value, "slicing")
        return value

    def call(self, context: Any, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        """Sandboxed call plus deadline and size checks on amplifying methods."""
        budget = current_budget()
        args = guards.check_call(budget, obj, args, kwargs)
        result = super().call(context, obj, *args, **kwargs)
        return guards.account_result(budget, result, "call result")

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """Like the base class, but with a width/size-bounded formatter."""
        if not isinstance(value, types.MethodType | types.BuiltinMethodType) or (
            value.__name__ not in ("format", "format_map")
        ):
            return None
        f_self: Any = value.__self__
        if not isinstance(f_self, str):
            return None
        str_type: type[str] = type(f_self)
        is_format_map = value.__name__ == "format_map"
        formatter: SandboxedFormatter
        if isinstance(f_self, Markup):
            formatter = _BoundedEscapeFormatter(self, escape=f_self.escape)
        else:
            formatter = _BoundedFormatter(self)

        def wrapper(*args: Any, **kwargs: Any) -> str:
            if is_format_map:
                if kwargs:
                    raise TypeError("format_map() takes no keyword arguments")
                if len(args) != 1:
                    raise TypeError(f"format_map() takes exactly one argument ({len(args)} given)")
                kwargs = args[0]
                args = ()
            return str_type(formatter.vformat(f_self, args, kwargs))

        return update_wrapper(wrapper, value)


_ENV = _Environment()


@lru_cache(maxsize=256)
def _compile(source: str) -> jinja2.Template:
    """Compile ``source`` (cached; compiled code does not depend on limits)."""
    return _ENV.from_string(source)


def _template_line(exc: BaseException) -> int | None:
    """The innermost template line in ``exc``'s (jinja-rewritten) traceback."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == _TEMPLATE_FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


_QUOTED = re.compile(r"'([^']+)'")


def _guess_column(source: str, line: int | None, message: str) -> int | None:
    """Column of the token quoted in a Jinja syntax error, if it occurs once on that line."""
    if line is None:
        return None
    lines = source.splitlines()
    if not 1 <= line <= len(lines):
        return None
    text = lines[line - 1]
    for token in _QUOTED.findall(message):
        if text.count(token) == 1:
            return text.index(token) + 1
    return None


def _translate(exc: BaseException, source: str) -> TemplateError:
    """Map any exception raised while compiling/rendering to a :class:`TemplateError`."""
    err: TemplateError
    if isinstance(exc, TemplateError):
        err = exc
    elif isinstance(exc, jinja2.TemplateSyntaxError):
        message = exc.message or "syntax error"
        err = TemplateSyntaxError(
            message, line=exc.lineno, column=_guess_column(source, exc.lineno, message)
        )
    elif isinstance(exc, SecurityError):
        err = SandboxViolationError(str(exc))
    elif isinstance(exc, _UndefinedNameError):
        name = None if exc.name is None else str(exc.name)
        message = f"missing variable {name!r}" if exc.top_level else str(exc.message)
        err = MissingVariableError(message, variable=name)
    elif isinstance(exc, UndefinedError):
        err = MissingVariableError(str(exc.message))
    elif isinstance(exc, RecursionError):
        err = TemplateLimitError("recursion or nesting is too deep (e.g. a macro calling itself)")
    elif isinstance(exc, MemoryError):
        err = TemplateLimitError("out of memory")
    elif isinstance(exc, OverflowError):
        err = TemplateLimitError(f"number too large: {exc}")
    elif isinstance(exc, ValueError) and "integer string conversion" in str(exc):
        err = TemplateLimitError(f"number too large to print: {exc}")
    elif isinstance(exc, TypeError | ValueError | ArithmeticError | LookupError | AttributeError):
        err = InvalidValueError(f"{type(exc).__name__}: {exc}")
    elif isinstance(exc, jinja2.TemplateError):
        err = TemplateError(str(exc))
    else:
        err = TemplateError(f"{type(exc).__name__}: {exc}")
    if err.line is None:
        err.line = _template_line(exc)
    return err


def _first_appearance(source: str, names: set[str]) -> list[str]:
    """Order ``names`` by the first time they appear as a (non-attribute) name token."""
    ordered: list[str] = []
    previous = ""
    for _lineno, kind, value in _ENV.lex(source):
        if kind == "whitespace":
            continue
        if kind == "name" and value in names and previous != "." and value not in ordered:
            ordered.append(value)
        previous = value
    ordered.extend(sorted(names.difference(ordered)))
    return ordered


class Jinja2Formatter:
    """Formatter for Jinja2 templates."""

    def variables(self, template: str) -> list[str]:
        """Undeclared top-level names (globals like ``range`` excluded), by first appearance."""
        try:
            ast = _ENV.parse(template)
            names = set(meta.find_undeclared_variables(ast)) - set(_ENV.globals)
            return _first_appearance(template, names)
        except Exception as exc:
            raise _translate(exc, template) from exc

    def validate(self, template: str) -> None:
        """Compile the template; raise :class:`TemplateSyntaxError` and friends on failure."""
        token = budget_var().set(RenderBudget())
        try:
            _compile(template)
        except Exception as exc:
            raise _translate(exc, template) from exc
        finally:
            budget_var().reset(token)

    def render(self, template: str, variables: Mapping[str, Any], limits: RenderLimits) -> str:
        """Render with streaming output, cut off at the limits."""
        budget = RenderBudget(limits)
        token = budget_var().set(budget)
        try:
            compiled = _compile(template)
            out: list[str] = []
            chunks = compiled.generate(dict(variables))
            try:
                for chunk in chunks:
                    budget.check_time()
                    budget.add_output(len(chunk))
                    out.append(chunk)
            finally:
                close = getattr(chunks, "close", None)
                if close is not None:
                    close()
            return "".join(out)
        except Exception as exc:
            raise _translate(exc, template) from exc
        finally:
            budget_var().reset(token)
