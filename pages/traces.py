"""Traces: the request log of recorded LLM spans, span detail, annotations, replay."""

from ui import traces_page

traces_page.render()
