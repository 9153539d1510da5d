"""Playground page."""

from core.db.models import Run, PlaygroundSession
from ui.placeholder import coming_soon

coming_soon("Playground", "Side-by-side playground cards with streaming, sync and replay are being built.", [("Runs", Run), ("PlaygroundSessions", PlaygroundSession)])
