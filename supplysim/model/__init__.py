"""Model layer: reading, validating and describing networks (no simulation)."""
from .errors import ModelError, Problem
from .network import Model, list_scenarios, load_model, scenario_path
from .specs import YEAR_DAYS, Calendar

__all__ = ["Model", "ModelError", "Problem", "load_model", "list_scenarios", "scenario_path", "Calendar",
           "YEAR_DAYS"]
