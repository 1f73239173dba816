"""Output analysis: Student-t intervals, quantiles, Wilson intervals, paired differences.

Rules A2 and A4 of the methodology. No SciPy needed: the Student-t quantile
comes from the closed-form CDF for integer degrees of freedom.

Examples
--------
>>> round(t_quantile(0.975, 9), 4)
2.2622
>>> s = mean_ci([1.0, 2.0, 3.0, 4.0])
>>> s["mean"], round(s["ci_low"], 4), round(s["ci_high"], 4)
(2.5, 0.4457, 4.5543)
"""
from __future__ import annotations

import functools
import math
from statistics import NormalDist

import numpy as np

__all__ = ["t_cdf", "t_quantile", "mean_ci", "wilson", "paired"]


def t_cdf(t: float, df: int) -> float:
    """CDF of Student's t with integer ``df`` (closed form)."""
    if df < 1:
        raise ValueError("df must be >= 1")
    th = math.atan2(t, math.sqrt(df))
    c2 = math.cos(th) ** 2
    s = math.sin(th)
    if df % 2 == 1:
        a = th
        if df > 1:
            term, tot = 1.0, 1.0
            for k in range(1, (df - 1) // 2):
                term *= c2 * (2 * k) / (2 * k + 1)
                tot += term
            a += s * math.cos(th) * tot
        a *= 2 / math.pi
    else:
        term, tot = 1.0, 1.0
        for k in range(1, df // 2):
            term *= c2 * (2 * k - 1) / (2 * k)
            tot += term
        a = s * tot
    return 0.5 * (1 + a)


@functools.lru_cache(maxsize=256)   # an export asks for the same few (p, df) thousands of times
def t_quantile(p: float, df: int) -> float:
    """Quantile of Student's t (bisection on :func:`t_cdf`, to 1e-12)."""
    if not 0 < p < 1:
        raise ValueError("p must be in (0, 1)")
    if df > 10_000:
        return NormalDist().inv_cdf(p)
    lo, hi = -1.0, 1.0
    while t_cdf(lo, df) > p:
        lo *= 2
    while t_cdf(hi, df) < p:
        hi *= 2
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-12:
            break
    return 0.5 * (lo + hi)


def mean_ci(x, level=0.95) -> dict:
    """Mean with a Student-t interval (ddof=1) and P5/P50/P95 (rule A2)."""
    a = np.asarray(x, float)
    a = a[~np.isnan(a)]
    n = int(a.size)
    if n == 0:
        return {"mean": float("nan"), "ci_low": float("nan"), "ci_high": float("nan"), "half_width": float("nan"),
                "n": 0, "p05": float("nan"), "p50": float("nan"), "p95": float("nan")}
    m = float(a.mean())
    if n > 1:
        h = t_quantile(0.5 + level / 2, n - 1) * float(a.std(ddof=1)) / math.sqrt(n)
    else:
        h = float("nan")
    q = np.quantile(a, [0.05, 0.5, 0.95])
    return {"mean": m, "ci_low": m - h, "ci_high": m + h, "half_width": h, "n": n,
            "p05": float(q[0]), "p50": float(q[1]), "p95": float(q[2])}


def wilson(k: int, n: int, level=0.95) -> tuple:
    """Wilson score interval for a probability ``k / n``."""
    if n == 0:
        return (float("nan"), float("nan"))
    z = NormalDist().inv_cdf(0.5 + level / 2)
    p = k / n
    den = 1 + z * z / n
    c = (p + z * z / (2 * n)) / den
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return (c - h, c + h)


def paired(x, y, level=0.95, comparisons=1) -> dict:
    """Paired-t interval on ``y - x`` per replication (rule A4).

    ``comparisons`` > 1 applies Bonferroni (each interval at
    ``1 - (1 - level) / comparisons``). Also reports the correlation of
    ``x`` and ``y`` and the variance-reduction factor
    ``(var x + var y) / var(y - x)`` that common random numbers bought.
    """
    a = np.asarray(x, float)
    b = np.asarray(y, float)
    if a.shape != b.shape:
        raise ValueError("paired samples must have the same length")
    ok = ~(np.isnan(a) | np.isnan(b))
    a, b = a[ok], b[ok]
    lvl = 1 - (1 - level) / comparisons
    d = mean_ci(b - a, lvl)
    if a.size > 1:
        va, vb, vd = a.var(ddof=1), b.var(ddof=1), (b - a).var(ddof=1)
        corr = float(np.corrcoef(a, b)[0, 1]) if va > 0 and vb > 0 else float("nan")
        vrf = float((va + vb) / vd) if vd > 0 else float("inf")
    else:
        corr = vrf = float("nan")
    d.update({"correlation": corr, "variance_reduction": vrf, "level": lvl})
    return d
