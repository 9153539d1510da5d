"""Analytics page."""

from core.db.models import Run, Span
from ui.placeholder import coming_soon

coming_soon("Analytics", "Cost, latency, tokens and quality dashboards are coming.", [("Runs", Run), ("Spans", Span)])
