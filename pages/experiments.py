"""Experiments page (EX1-EX5): filled in by the experiments release."""

from core.db.models import Experiment
from ui.placeholder import coming_soon
from ui.router import ensure_router

ensure_router()

coming_soon(
    "Experiments",
    "Experiments over datasets with evaluators and side-by-side comparisons are coming.",
    [("Experiments", Experiment)],
)
