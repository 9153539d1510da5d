"""LLM replay (PG6): open any recorded LLM span as a runnable request, field by field.

``replay_span(span)`` accepts OpenInference attributes, Phoenix REST spans or OTLP JSON and
returns a :class:`ReplayResult` whose ``request`` can be run by ``core.providers`` and whose
``report`` says, per field, what was copied, guessed, dropped or defaulted, and why.
"""

from core.replay.parse import ParsedSpan, SpanParseError, parse_span
from core.replay.report import FieldReport, FieldStatus, report_rows, summarize
from core.replay.template import guess_template_format
from core.replay.translate import (
    ReplayError,
    ReplayResult,
    replay_span,
    rerun_as_recorded,
    translate,
)

__all__ = [
    "FieldReport",
    "FieldStatus",
    "ParsedSpan",
    "ReplayError",
    "ReplayResult",
    "SpanParseError",
    "guess_template_format",
    "parse_span",
    "replay_span",
    "report_rows",
    "rerun_as_recorded",
    "summarize",
    "translate",
]
