"""Datasets page (DS1, DS2): filled in by the datasets release."""

from core.db.models import Dataset
from ui.placeholder import coming_soon
from ui.router import ensure_router

ensure_router()

coming_soon(
    "Datasets",
    "Datasets from CSV/JSONL uploads, recorded spans and playground outputs are coming.",
    [("Datasets", Dataset)],
)
