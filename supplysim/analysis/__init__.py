"""Static network analysis: capacity bounds, chokepoints and concentration.

Nothing here runs the simulation: every result follows from the model's
capacities, recipes and lanes at one date (see ``docs/analysis.md``).

Examples
--------
>>> from supplysim.model import load_model
>>> from supplysim import analysis
>>> m = load_model("models/examples/tutorial.toml")     # doctest: +SKIP
>>> analysis.capacity_bounds(m)["all"]["bound_t_yr"]    # doctest: +SKIP
"""
from .bounds import (ALL, FlowProblem, capacity_bounds, country_stress, demand_at, effective_capacities,
                     single_points_of_failure)
from .concentration import betweenness, concentration, hhi, top_shares

__all__ = ["ALL", "FlowProblem", "capacity_bounds", "single_points_of_failure", "country_stress",
           "concentration", "betweenness", "hhi", "top_shares", "effective_capacities", "demand_at"]
