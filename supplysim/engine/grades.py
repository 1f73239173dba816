"""Grade shares of demand at run time: the hook that moves demand from one grade to another.

A ``[demand.ID]`` entry with ``grades`` becomes one sink per grade, each with its
share of the entry's rate (see ``docs/model-format.md``). :func:`grade_demand`
gives the entry's :class:`GradeDemand`, whose :meth:`~GradeDemand.move` shifts a
part of one grade's demand to another while the run goes on: a Dy-free design
replacing a grain-boundary-diffused magnet, say. It acts through the sinks'
``add_factor`` hook (each order multiplied by the grade's current over nominal
share), so the sinks' draws, and with them common random numbers, stay as they
are; in expectation the entry's total demand is unchanged. The makers' grade
mixes follow the orders (see :class:`~.recipes.GradeRecipe`).

Examples
--------
>>> from supplysim import Simulation, load_model
>>> from supplysim.paths import models_dir
>>> sim = Simulation(load_model(models_dir() / "examples" / "grades.toml"), seed=1)
>>> motors = grade_demand(sim, "motors")
>>> motors.shares
{'magnet_n': 0.1, 'magnet_gbd': 0.75, 'magnet_hd': 0.15}
>>> motors.move("magnet_hd", "magnet_gbd", 0.5)   # half the bulk high-Dy demand moves to GBD designs
>>> {g: round(x, 3) for g, x in motors.shares.items()}
{'magnet_n': 0.1, 'magnet_gbd': 0.825, 'magnet_hd': 0.075}
"""
from __future__ import annotations

from functools import partial

__all__ = ["GradeDemand", "grade_demand"]


class GradeDemand:
    """The grades of one graded demand entry: their nominal and current shares of its demand."""

    def __init__(self, group, sinks):
        self.group = group
        self.sinks = {s.commodity: s for s in sinks}
        self.nominal = {g: s.spec.grade_share for g, s in self.sinks.items()}
        self.shares = dict(self.nominal)
        for g, s in self.sinks.items():
            s.add_factor(partial(self._factor, g))

    def _factor(self, g, now):
        return self.shares[g] / self.nominal[g]

    def move(self, src, dst, fraction):
        """Move ``fraction`` (0..1) of grade ``src``'s current share of demand to grade ``dst``."""
        for g in (src, dst):
            if g not in self.shares:
                raise KeyError(f"demand '{self.group}' has no grade '{g}' (grades: {', '.join(self.shares)})")
        if not 0.0 <= fraction <= 1.0:
            raise ValueError(f"fraction must be in [0, 1], got {fraction}")
        x = self.shares[src] * fraction
        self.shares[src] -= x
        self.shares[dst] += x


def grade_demand(sim, group) -> GradeDemand:
    """The :class:`GradeDemand` of graded demand entry ``group`` (made on first use: an entry nobody
    moves costs nothing)."""
    gd = sim.grade_demands.get(group)
    if gd is None:
        sinks = [s for s in sim.sinks.values() if s.spec.group == group]
        if not sinks:
            groups = sorted({s.spec.group for s in sim.sinks.values() if s.spec.group})
            raise KeyError(f"no graded demand entry '{group}' (graded entries: {', '.join(groups) or 'none'})")
        gd = sim.grade_demands[group] = GradeDemand(group, sinks)
    return gd
