"""Exception hierarchy shared by every template format.

All errors derive from :class:`TemplateError`, which carries a human message and,
when known, the 1-based ``line``/``column`` of the problem, the ``variable``
involved and (for chat templates) the 0-based ``message_index``.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "InvalidValueError",
    "MissingVariableError",
    "SandboxViolationError",
    "TemplateError",
    "TemplateLimitError",
    "TemplateSyntaxError",
    "line_col",
]


class TemplateError(Exception):
    """Base class for every templating error; says what went wrong and where."""

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        variable: str | None = None,
        message_index: int | None = None,
    ) -> None:
        """Store the message and optional location details."""
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.variable = variable
        self.message_index = message_index

    @property
    def location(self) -> str:
        """Human-readable location prefix, e.g. ``"message 2, line 3, column 7"``."""
        parts: list[str] = []
        if self.message_index is not None:
            parts.append(f"message {self.message_index + 1}")
        if self.line is not None:
            parts.append(f"line {self.line}")
            if self.column is not None:
                parts.append(f"column {self.column}")
        return ", ".join(parts)

    def __str__(self) -> str:
        """Return ``"<location>: <message>"`` (or just the message without a location)."""
        where = self.location
        return f"{where}: {self.message}" if where else self.message

    def __repr__(self) -> str:
        """Return a debugging representation with every attribute."""
        return (
            f"{type(self).__name__}({self.message!r}, line={self.line!r}, "
            f"column={self.column!r}, variable={self.variable!r}, "
            f"message_index={self.message_index!r})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        """Support pickling despite keyword-only constructor arguments."""
        return (_rebuild, (type(self), self.message, self.__dict__.copy()))


def _rebuild(cls: type[TemplateError], message: str, state: dict[str, Any]) -> TemplateError:
    """Recreate a pickled :class:`TemplateError`."""
    err = cls(message)
    err.__dict__.update(state)
    return err


class MissingVariableError(TemplateError):
    """A variable used by the template was not supplied; ``.variable`` names it."""


class TemplateSyntaxError(TemplateError):
    """The template cannot be parsed or compiled; ``.line``/``.column`` when known."""


class SandboxViolationError(TemplateError):
    """The template tried something unsafe (private attribute access, indexing, ...)."""


class TemplateLimitError(TemplateError):
    """A time, memory or output-size limit was hit while rendering."""


class InvalidValueError(TemplateError):
    """A value has the wrong type or value for what the template does with it."""


def line_col(text: str, index: int) -> tuple[int, int]:
    """Convert a 0-based character offset into a 1-based ``(line, column)`` pair."""
    index = max(0, min(index, len(text)))
    line = text.count("\n", 0, index) + 1
    last_nl = text.rfind("\n", 0, index)
    return line, index - last_nl
