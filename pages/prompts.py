"""Prompts page."""

from core.db.models import Prompt, Snippet
from ui.placeholder import coming_soon

coming_soon("Prompts", "The prompt registry (versions, diffs, labels, snippets) is being built.", [("Prompts", Prompt), ("Snippets", Snippet)])
