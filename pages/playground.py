"""Playground: cards side by side, sync switches, concurrent streaming, sessions, replay."""

from ui import playground_page

playground_page.render()
