"""Traces: the request log of recorded LLM spans, span detail, annotations, replay."""

from ui import traces_page
from ui.router import ensure_router

ensure_router()

traces_page.render()
