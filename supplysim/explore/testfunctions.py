"""Test functions with known sensitivity indices, run through the exploration pipeline as evaluators.

An evaluator takes ``(values, replication, entropy)`` and returns ``{metric: number}``,
the way the simulator's replications return their metrics, so the same design,
store, outcome and analysis code serves both (see
:class:`supplysim.explore.run.FunctionTask`).

Examples
--------
>>> round(ishigami({"x1": 1.0, "x2": 0.5, "x3": -2.0}, 0, 0)["y"], 6)
3.796766
>>> round(ISHIGAMI_S1["x1"], 4), round(ISHIGAMI_ST["x3"], 4)
(0.3139, 0.2437)
"""
from __future__ import annotations

import math

__all__ = ["ishigami", "ISHIGAMI_S1", "ISHIGAMI_ST", "ISHIGAMI_A", "ISHIGAMI_B"]

ISHIGAMI_A, ISHIGAMI_B = 7.0, 0.1


def ishigami(values, replication=0, entropy=0):
    """Ishigami and Homma (1990): ``sin x1 + a sin^2 x2 + b x3^4 sin x1`` with x uniform on [-pi, pi]."""
    x1, x2, x3 = values["x1"], values["x2"], values["x3"]
    return {"y": math.sin(x1) + ISHIGAMI_A * math.sin(x2) ** 2 + ISHIGAMI_B * x3 ** 4 * math.sin(x1)}


def _ishigami_indices(a=ISHIGAMI_A, b=ISHIGAMI_B):
    """Analytic first- and total-order indices (Sobol' and Levitan 1999; Saltelli et al. 2008, 4.7)."""
    pi4 = math.pi ** 4
    v1 = 0.5 * (1 + b * pi4 / 5) ** 2
    v2 = a * a / 8
    v13 = b * b * pi4 ** 2 * (1 / 18 - 1 / 50)
    v = v1 + v2 + v13
    return {"x1": v1 / v, "x2": v2 / v, "x3": 0.0}, {"x1": (v1 + v13) / v, "x2": v2 / v, "x3": v13 / v}


ISHIGAMI_S1, ISHIGAMI_ST = _ishigami_indices()
