"""Analytics page (AN1): filled in by the analytics release."""

from core.db.models import Run, Span
from ui.placeholder import coming_soon
from ui.router import ensure_router

ensure_router()

coming_soon(
    "Analytics",
    "Cost, latency, token and quality dashboards by model, prompt version and tag are coming.",
    [("Recorded runs", Run), ("Spans", Span)],
)
