"""The fidelity report: for every request field, whether it was copied, guessed, dropped or defaulted."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any, Literal

from core.credentials import MASK, is_secret_field, redact_text

FieldStatus = Literal["copied", "guessed", "dropped", "defaulted"]
STATUSES: tuple[FieldStatus, ...] = ("copied", "guessed", "dropped", "defaulted")

PREVIEW_CHARS = 160
REDACTED = MASK


def is_secret_key(key: str) -> bool:
    """True when a parameter name says its value is a credential (``api_key``, ``extra_headers``…)."""
    # Header containers count: a replayed request must not carry anyone's Authorization.
    return is_secret_field(key, containers=True)


def looks_secret(value: Any) -> bool:
    """True when a string value looks like an API key or bearer token."""
    return isinstance(value, str) and redact_text(value) != value


def preview(value: Any, limit: int = PREVIEW_CHARS) -> str | None:
    """A short, redacted, one-line rendering of a value for the report table."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, default=str, sort_keys=False)
        except (TypeError, ValueError):
            text = repr(value)
    text = redact_text(" ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class FieldReport:
    """What happened to one request field during replay, and why."""

    field: str  # e.g. "model", "messages[2].role", "invocation_parameters.temperature"
    status: FieldStatus
    detail: str
    value_preview: str | None = None

    def as_row(self) -> dict[str, str]:
        """A flat dict for tables (``st.dataframe``) and exports."""
        return {
            "field": self.field,
            "status": self.status,
            "detail": self.detail,
            "value": self.value_preview or "",
        }


class Reporter:
    """Collects report entries while a span is translated; details are redacted on the way in."""

    def __init__(self) -> None:
        self.entries: list[FieldReport] = []

    def add(self, field: str, status: FieldStatus, detail: str, value: Any = None) -> None:
        """Record one entry; ``value`` is previewed (truncated, redacted)."""
        self.entries.append(FieldReport(field, status, redact_text(detail), preview(value)))

    def copied(self, field: str, detail: str, value: Any = None) -> None:
        """The field was taken from the span as recorded."""
        self.add(field, "copied", detail, value)

    def guessed(self, field: str, detail: str, value: Any = None) -> None:
        """The field was inferred or converted; ``detail`` says from what."""
        self.add(field, "guessed", detail, value)

    def dropped(self, field: str, detail: str, value: Any = None) -> None:
        """Something recorded was not carried over; ``detail`` says why."""
        self.add(field, "dropped", detail, value)

    def defaulted(self, field: str, detail: str, value: Any = None) -> None:
        """Nothing usable was recorded; a default stands in."""
        self.add(field, "defaulted", detail, value)


def summarize(report: list[FieldReport]) -> dict[str, int]:
    """Counts per status, every status present (for badges like "12 copied · 2 guessed")."""
    counts = Counter(entry.status for entry in report)
    return {status: counts.get(status, 0) for status in STATUSES}


def entries_for(report: list[FieldReport], field: str) -> list[FieldReport]:
    """Entries about ``field`` itself or any sub-field (``messages`` → ``messages[0].role``…)."""
    return [
        e
        for e in report
        if e.field == field or e.field.startswith(field + ".") or e.field.startswith(field + "[")
    ]


def report_rows(report: list[FieldReport]) -> list[dict[str, str]]:
    """The report as plain rows, in order."""
    return [entry.as_row() for entry in report]
