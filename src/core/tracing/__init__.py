"""Recording LLM calls as OpenInference spans and run rows; queries, OTLP and Phoenix export."""

from core.tracing.recorder import (
    FIRST_TOKEN_EVENT,
    Recorder,
    RecordingHandle,
    get_recorder,
    phoenix_status,
    reset_recorders,
)

__all__ = [
    "FIRST_TOKEN_EVENT",
    "Recorder",
    "RecordingHandle",
    "get_recorder",
    "phoenix_status",
    "reset_recorders",
]
