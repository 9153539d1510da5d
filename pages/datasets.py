"""Datasets page."""

from core.db.models import Dataset
from ui.placeholder import coming_soon

coming_soon("Datasets", "Datasets from CSV/JSONL uploads, spans and playground outputs are coming.", [("Datasets", Dataset)])
