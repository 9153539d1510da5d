"""The playground's core: state, sync edits, request building, concurrent runs, sessions."""

from core.playground.requests import CardFieldError, build_request, validate_output
from core.playground.state import Card, Message, PlaygroundState, SyncSwitches, Turn

__all__ = [
    "Card",
    "CardFieldError",
    "Message",
    "PlaygroundState",
    "SyncSwitches",
    "Turn",
    "build_request",
    "validate_output",
]
