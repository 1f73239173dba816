"""PRIM: the Patient Rule Induction Method for scenario discovery (Friedman and Fisher 1999).

Given the sampled inputs ``X`` of the design points and ``y`` (1 where the
outcome is worse than its threshold, or the share of a point's replications
that are), PRIM finds a box (a range per input) that holds many of the bad
cases (*coverage*: bad cases in the box / all bad cases) and few good ones
(*density*: bad cases in the box / points in the box). It peels: at each step
it removes the slice of ``peel_alpha`` of the box's points, at the low or the
high end of one input, that leaves the densest box, and stops when no peel
raises the density or the box would hold less than ``mass_min`` of all points.
It then pastes: it widens a limit again by ``paste_alpha`` of the box's points
while that raises the density. The boxes along the way are the *peeling
trajectory*: the coverage-density trade-off analysts choose from (Bryant and
Lempert 2010, as in ema-workbench's ``prim``). :func:`prim` picks the box of
greatest coverage among those with density at least ``density``.

A restricted input's *quasi p-value* is the one-sided binomial probability of
finding at least the box's bad cases among its points if that restriction were
dropped (the box's density without it as the rate): a large value says the
restriction does little (Bryant and Lempert 2010).

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X = rng.random((2000, 2))
>>> y = (X[:, 0] > 0.7).astype(float)
>>> box = prim(X, y, ["a", "b"]).box
>>> box.restricted, round(box.limits["a"][0], 1), box.coverage == 1.0 and box.density > 0.95
(('a',), 0.7, True)
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["prim", "PrimResult", "Box", "fmt_number"]



def fmt_number(v, digits=3, scale=None) -> str:
    """``v`` to ``digits`` significant digits, thousands written out (``2,200``, not ``2.2e+03``); with
    ``scale``, a value below ``1e-9 * scale`` (rounding noise next to the numbers it is shown with) is 0.

    >>> fmt_number(2213.7), fmt_number(5000), fmt_number(0.1234), fmt_number(8e-15, 2, scale=20)
    ('2,210', '5,000', '0.123', '0')
    """
    if v is None or not math.isfinite(float(v)):
        return "n/a"
    v = float(v)
    if v == 0 or (scale is not None and abs(v) < 1e-9 * abs(scale)):
        return "0"
    r = float(f"{v:.{digits}g}")
    return f"{r:,.0f}" if abs(r) >= 1000 else f"{r:.{digits}g}"

@dataclass(frozen=True)
class Box:
    """One box of a peeling trajectory."""

    limits: dict          # name -> (low, high), inclusive
    restricted: tuple     # names whose limits cut into the data's range
    coverage: float
    density: float
    mass: float
    n: int                # points in the box
    cases: float          # bad cases in the box
    qp: dict              # restricted name -> quasi p-value
    cuts: dict            # restricted name -> (low side cut, high side cut)

    def describe(self, fmt=None) -> str:
        """``a >= 0.7 and b <= 0.3`` (unrestricted sides omitted)."""
        fmt = fmt or (lambda name, v: fmt_number(v))
        parts = []
        for k in self.restricted:
            lo, hi = self.limits[k]
            lo_cut, hi_cut = self.cuts[k]
            if lo_cut and hi_cut:
                parts.append(f"{fmt(k, lo)} <= {k} <= {fmt(k, hi)}")
            elif lo_cut:
                parts.append(f"{k} >= {fmt(k, lo)}")
            else:
                parts.append(f"{k} <= {fmt(k, hi)}")
        return " and ".join(parts) or "all points (no restriction)"


@dataclass
class PrimResult:
    """A peeling (and pasting) trajectory, the chosen box and the data's ranges."""

    names: list
    trajectory: list
    chosen: int
    n: int
    cases: float
    ranges: dict          # name -> (data min, data max)
    density_target: float

    @property
    def box(self) -> Box:
        return self.trajectory[self.chosen]


def _in_box(X, lo, hi):
    return np.all((X >= lo) & (X <= hi), axis=1)


def _binom_sf(k, n, p):
    """P(X >= k) for X ~ Binomial(n, p), summed in log space (no scipy needed)."""
    if k <= 0:
        return 1.0
    if p <= 0:
        return 0.0
    if p >= 1:
        return 1.0
    lp, lq = math.log(p), math.log1p(-p)
    lg = math.lgamma(n + 1)
    terms = [lg - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * lp + (n - i) * lq for i in range(int(k), n + 1)]
    m = max(terms)
    return min(1.0, math.exp(m) * sum(math.exp(t - m) for t in terms))


def _make_box(X, y, names, lo, hi, dmin, dmax, total_cases):
    inside = _in_box(X, lo, hi)
    nb = int(inside.sum())
    cases = float(y[inside].sum())
    restricted, cuts = [], {}
    for j, k in enumerate(names):
        lc, hc = lo[j] > dmin[j], hi[j] < dmax[j]
        if lc or hc:
            restricted.append(k)
            cuts[k] = (bool(lc), bool(hc))
    qp = {}
    for j, k in enumerate(names):
        if k not in cuts:
            continue
        lo2, hi2 = lo.copy(), hi.copy()
        lo2[j], hi2[j] = dmin[j], dmax[j]
        wide = _in_box(X, lo2, hi2)
        rate = float(y[wide].mean()) if wide.any() else 0.0
        qp[k] = _binom_sf(int(round(cases)), nb, rate)
    box = Box({k: (float(lo[j]), float(hi[j])) for j, k in enumerate(names)}, tuple(restricted),
              cases / total_cases if total_cases > 0 else float("nan"), cases / nb if nb else float("nan"),
              nb / len(y), nb, cases, qp, cuts)
    return box


def prim(X, y, names, peel_alpha=0.05, paste_alpha=0.05, mass_min=0.05, density=0.8) -> PrimResult:
    """Peel and paste a box around the cases ``y`` (0/1 or shares in [0, 1]) in inputs ``X`` (points x inputs).

    Parameters
    ----------
    X : array (n, d)
        Input values of the design points (numbers; discrete inputs are peeled one value at a time).
    y : array (n,)
        1 for a case of interest, 0 otherwise (or the share of a point's replications that are).
    names : list of str
        The inputs' names.
    peel_alpha, paste_alpha : float
        Share of the box's points removed by a peel, added by a paste.
    mass_min : float
        Smallest share of all points a box may hold.
    density : float
        The chosen box is the one of greatest coverage with at least this density
        (the densest box when none reaches it; ties go to the denser box).
    """
    X = np.asarray(X, float)
    y = np.asarray(y, float)
    if X.ndim != 2 or X.shape[0] != y.shape[0] or X.shape[1] != len(names):
        raise ValueError(f"X must be (points x {len(names)} inputs) with one y per point; found X {X.shape}, "
                         f"y {y.shape}")
    ok = np.isfinite(y) & np.all(np.isfinite(X), axis=1)
    X, y = X[ok], y[ok]
    n = len(y)
    if n == 0:
        raise ValueError("PRIM needs at least one point with finite inputs and outcome")
    total = float(y.sum())
    dmin, dmax = X.min(axis=0), X.max(axis=0)
    lo, hi = dmin.copy(), dmax.copy()
    traj = [_make_box(X, y, names, lo, hi, dmin, dmax, total)]
    inside = np.ones(n, bool)
    while True:
        cur_mean = float(y[inside].mean())
        best = None
        for j in range(X.shape[1]):
            xj = X[inside, j]
            vals = np.unique(xj)
            if vals.size < 2:
                continue
            for side in (0, 1):
                if side == 0:
                    b = float(np.quantile(xj, peel_alpha, method="higher"))
                    b = b if b > vals[0] else float(vals[1])
                    keep = inside & (X[:, j] >= b)
                else:
                    b = float(np.quantile(xj, 1 - peel_alpha, method="lower"))
                    b = b if b < vals[-1] else float(vals[-2])
                    keep = inside & (X[:, j] <= b)
                nk = int(keep.sum())
                if nk == 0 or nk / n < mass_min:
                    continue
                m = float(y[keep].mean())
                if best is None or m > best[0] + 1e-12 or (abs(m - best[0]) <= 1e-12 and nk > best[1]):
                    best = (m, nk, j, side, b, keep)
        if best is None or best[0] <= cur_mean + 1e-12:
            break
        _, _, j, side, b, keep = best
        if side == 0:
            lo[j] = b
        else:
            hi[j] = b
        inside = keep
        traj.append(_make_box(X, y, names, lo, hi, dmin, dmax, total))
    # pasting: widen one limit at a time while that raises the density
    while len(traj) > 1:
        cur_mean = float(y[inside].mean())
        nb = int(inside.sum())
        best = None
        for j in range(X.shape[1]):
            others = np.ones(n, bool)
            for jj in range(X.shape[1]):
                if jj != j:
                    others &= (X[:, jj] >= lo[jj]) & (X[:, jj] <= hi[jj])
            for side in (0, 1):
                out = others & ((X[:, j] < lo[j]) if side == 0 else (X[:, j] > hi[j]))
                if not out.any():
                    continue
                xs = np.sort(X[out, j])[::-1] if side == 0 else np.sort(X[out, j])
                k = max(1, int(math.ceil(paste_alpha * nb)))
                b = float(xs[min(k, xs.size) - 1])
                grown = others & ((X[:, j] >= b) & (X[:, j] <= hi[j]) if side == 0 else
                                  (X[:, j] >= lo[j]) & (X[:, j] <= b))
                m = float(y[grown].mean())
                if m > cur_mean + 1e-12 and (best is None or m > best[0]):
                    best = (m, j, side, b, grown)
        if best is None:
            break
        _, j, side, b, grown = best
        if side == 0:
            lo[j] = b
        else:
            hi[j] = b
        inside = grown
        traj.append(_make_box(X, y, names, lo, hi, dmin, dmax, total))
    good = [i for i, bx in enumerate(traj) if bx.density >= density - 1e-12]
    chosen = max(good, key=lambda i: (traj[i].coverage, traj[i].density)) if good else max(
        range(len(traj)), key=lambda i: (traj[i].density, traj[i].coverage))
    return PrimResult(list(names), traj, chosen, n, total, {k: (float(dmin[j]), float(dmax[j]))
                                                            for j, k in enumerate(names)}, density)
