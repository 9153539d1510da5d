"""Experiments page."""

from core.db.models import Experiment
from ui.placeholder import coming_soon

coming_soon("Experiments", "Experiments over datasets with evaluators and comparisons are coming.", [("Experiments", Experiment)])
