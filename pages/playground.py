"""Playground: cards side by side, sync switches, concurrent streaming, sessions, replay."""

from ui import playground_page
from ui.router import ensure_router

ensure_router()

playground_page.render()
