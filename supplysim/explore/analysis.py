"""Sensitivity indices of an outcome over a design, with confidence intervals (SALib).

=========  ======================================================================  ===================
design     indices                                                                 SALib
=========  ======================================================================  ===================
sobol      first-order S1 and total-order ST (Saltelli 2002; Jansen 1999)          ``analyze.sobol``
morris     mu* (mean absolute elementary effect, outcome units per full range of   ``analyze.morris``
           the input's distribution), sigma (interactions and non-linearity)
lhs        first-order S1 by random balance designs FAST from the Latin hypercube   ``analyze.rbd_fast``
           (Tarantola et al. 2006; Plischke 2010)
full       main-effect shares Var(E[Y | Xi]) / Var(Y) on the grid (exact for the   none
           grid, no interval)
=========  ======================================================================  ===================

Intervals are SALib's bootstrap intervals at 95% (``*_conf`` is the
half-width). The indices are taken over the unit-hypercube design, which is
the same as over the inputs' own distributions (the map is one-to-one and
increasing), and over the mean of each point's replications. The bootstrap's
seed comes from the root entropy (``SeedSequence(entropy,
spawn_key=(crc32("explore:analysis"),))``), so the same store gives the same
intervals.

Examples
--------
>>> import numpy as np
>>> rows = [{"a": a, "b": b} for a in (0.0, 1.0) for b in (0.0, 1.0, 2.0)]
>>> y = np.array([r["a"] * 2 + r["b"] * 0 for r in rows])
>>> r = main_effects(rows, ["a", "b"], y)
>>> r["indices"]["a"]["S1"], r["indices"]["b"]["S1"]
(1.0, 0.0)
"""
from __future__ import annotations

import math
import warnings
import zlib

import numpy as np

__all__ = ["sensitivity", "main_effects", "analysis_seed", "SensitivityError", "COLUMNS"]

#: Per method: (index, its interval half-width or None, what it means) in display order.
COLUMNS = {
    "sobol": [("S1", "S1_conf", "first order"), ("ST", "ST_conf", "total order")],
    "morris": [("mu_star", "mu_star_conf", "mu* (outcome units per full range)"), ("sigma", None, "sigma")],
    "rbd_fast": [("S1", "S1_conf", "first order (RBD-FAST)")],
    "main_effects": [("S1", None, "main-effect share")],
}


class SensitivityError(ValueError):
    """Indices that cannot be computed from this design or these values."""


def analysis_seed(entropy) -> int:
    ss = np.random.SeedSequence(int(entropy), spawn_key=(zlib.crc32(b"explore:analysis"),))
    return int(ss.generate_state(1, np.uint32)[0]) or 1   # SALib's sobol treats seed 0 as no seed


def _finite(y, outcome):
    y = np.asarray(y, float)
    bad = int((~np.isfinite(y)).sum())
    if bad:
        raise SensitivityError(f"outcome {outcome} is undefined (NaN) at {bad} of {y.size} design points; "
                               "sensitivity indices need a value at every point")
    return y


def sensitivity(design, y, entropy, outcome="outcome") -> dict:
    """Indices of ``y`` (one value per scenario row of ``design``, in order) for each uncertainty.

    Returns ``{"method", "names", "indices": {name: {index: value}}, "columns"}``.
    """
    y = _finite(y, outcome)
    names = list(design.names)
    if design.kind == "full":
        return main_effects(design.rows, names, y)
    try:
        from SALib.analyze import morris, rbd_fast, sobol
    except ImportError:
        raise SensitivityError("sensitivity indices of lhs, sobol and morris designs need SALib: "
                               "pip install 'supplysim[explore]'") from None
    problem = {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}
    u = np.asarray(design.unit, float)
    seed = analysis_seed(entropy)
    if np.ptp(y) == 0:
        raise SensitivityError(f"outcome {outcome} takes one value ({y[0]:g}) at every design point: it does not "
                               "depend on the uncertainties in this range")
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)   # bootstrap resamples of a near-constant outcome
        r, method = _salib_indices(design, problem, u, y, seed, morris, rbd_fast, sobol)
    cols = [c for c, _, _ in COLUMNS[method]] + [h for _, h, _ in COLUMNS[method] if h]
    idx = {n: {c: _num(r[c][i]) for c in cols} for i, n in enumerate(names)}
    return {"method": method, "names": names, "indices": idx, "columns": COLUMNS[method]}


def _salib_indices(design, problem, u, y, seed, morris, rbd_fast, sobol):
    if design.kind == "sobol":
        r = sobol.analyze(problem, y, calc_second_order=design.second_order, conf_level=0.95, num_resamples=200,
                          seed=seed)
        method = "sobol"
    elif design.kind == "morris":
        r = morris.analyze(problem, u, y, conf_level=0.95, num_resamples=200, num_levels=design.levels, seed=seed)
        method = "morris"
    else:
        if len(y) < 32:
            raise SensitivityError(f"RBD-FAST indices need at least 32 design points, found {len(y)} (--n 32 or "
                                   "more; their intervals stay wide below about 128)")
        # 4 harmonics below 500 points: on the Ishigami function with 64-256 points SALib's default of 10
        # doubles the interval widths and biases S3 upwards; 10 from 500 points on
        r = rbd_fast.analyze(problem, u, y, M=4 if len(y) < 500 else 10, conf_level=0.95, num_resamples=200,
                             seed=seed)
        method = "rbd_fast"
    return r, method


def _num(v):
    v = float(v)
    return v if math.isfinite(v) else None


def main_effects(rows, names, y) -> dict:
    """First-order shares on a full-factorial grid: the variance of the mean of ``y`` per level of an
    input over the variance of ``y`` (exact for the grid's points; no interval)."""
    y = np.asarray(y, float)
    var = float(y.var())
    idx = {}
    for n in names:
        levels = {}
        for r, v in zip(rows, y):
            levels.setdefault(r[n], []).append(v)
        means = np.array([np.mean(v) for v in levels.values()])
        weights = np.array([len(v) for v in levels.values()], float)
        between = float((weights * (means - y.mean()) ** 2).sum() / weights.sum())
        idx[n] = {"S1": between / var if var > 0 else 0.0}
    return {"method": "main_effects", "names": list(names), "indices": idx, "columns": COLUMNS["main_effects"]}
