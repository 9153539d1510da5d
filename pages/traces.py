"""Traces page."""

from core.db.models import Span, SpanAnnotation
from ui.placeholder import coming_soon

coming_soon("Traces", "The request log of every recorded LLM call is being built.", [("Spans", Span), ("SpanAnnotations", SpanAnnotation)])
