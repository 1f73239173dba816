"""Outcomes of a design point's replications, from what the store keeps of each one.

Every outcome is one number per replication, read from the replication's
stored metrics (``kind = "metric"``) or its monthly series (the others):

``undelivered_share``
    The share of the regions' magnet demand in the window that was not
    delivered in the window: ``(demand - delivered) / demand`` over the months
    of the window (series ``demand_t`` and ``delivered_t`` summed over the
    regions), floored at 0 (deliveries that clear a backlog from before the
    window are not negative losses). A fraction in [0, 1]; NaN without demand.
``series``
    A statistic (sum, mean, max, min, last) over the window's months of a
    stored monthly series, summed over the listed keys (for example
    ``delivered_t`` of ``["EU", "US"]`` in t, or ``backlog_t`` max in t).
``metric``
    A per-replication metric as stored (``delivered_share[EU]``, ``time_to_survive_days[US]``,
    any name in ``replications.csv``).

Examples
--------
>>> import numpy as np
>>> from supplysim.explore.spec import Outcome
>>> ser = {"demand_t": (["EU"], np.array([[10.0], [10.0], [10.0]])),
...        "delivered_t": (["EU"], np.array([[10.0], [6.0], [8.0]]))}
>>> o = Outcome("lost", "undelivered_share", keys=("EU",), window=("2026-02", "2026-03"))
>>> replication_outcome(o, {}, ["2026-01", "2026-02", "2026-03"], ser)
0.3
"""
from __future__ import annotations

import difflib
import math

import numpy as np

__all__ = ["replication_outcome", "outcome_matrix", "point_mean", "needs_series", "OutcomeError"]


class OutcomeError(ValueError):
    """An outcome names a metric, series or key the stored results lack."""


def needs_series(outcomes) -> bool:
    return any(o.kind != "metric" for o in outcomes)


def _window(months, window):
    if window is None:
        return np.arange(len(months))
    lo, hi = window
    return np.array([i for i, m in enumerate(months) if lo <= m[:7] <= hi], dtype=int)


def _columns(o, series_name, labels):
    cols = []
    for k in o.keys:
        if k not in labels:
            near = difflib.get_close_matches(k, labels, n=1)
            raise OutcomeError(f"outcome {o.name}: series {series_name} has no key '{k}'"
                               + (f" (did you mean '{near[0]}'?)" if near else "")
                               + f"; its keys: {', '.join(labels[:20])}")
        cols.append(labels.index(k))
    return cols


def replication_outcome(o, metrics, months, series) -> float:
    """The value of outcome ``o`` for one replication (NaN when the window holds no demand or no month)."""
    if o.kind == "metric":
        if o.metric not in metrics:
            near = difflib.get_close_matches(o.metric, list(metrics), n=3)
            raise OutcomeError(f"outcome {o.name}: no stored metric '{o.metric}'"
                               + (f" (close: {', '.join(near)})" if near else ""))
        v = metrics[o.metric]
        return float("nan") if v is None else float(v)
    sel = _window(months, o.window)
    if o.kind == "undelivered_share":
        for name in ("demand_t", "delivered_t"):
            if name not in series:
                raise OutcomeError(f"outcome {o.name}: the stored results have no {name} series")
        labels, dem = series["demand_t"]
        labels = list(labels)
        cols = _columns(o, "demand_t", labels)
        sup_labels, sup = series["delivered_t"]
        scols = _columns(o, "delivered_t", list(sup_labels))
        d = float(dem[np.ix_(sel, cols)].sum()) if sel.size else 0.0
        v = float(sup[np.ix_(sel, scols)].sum()) if sel.size else 0.0
        if d <= 0:
            return float("nan")
        return min(max((d - v) / d, 0.0), 1.0)
    if o.series not in series:
        raise OutcomeError(f"outcome {o.name}: no stored series '{o.series}' (series: {', '.join(series)})")
    labels, arr = series[o.series]
    cols = _columns(o, o.series, list(labels))
    if not sel.size:
        return float("nan")
    x = arr[np.ix_(sel, cols)].sum(axis=1)
    return float({"sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min, "last": lambda a: a[-1]}[o.stat](x))


def outcome_matrix(store, labels, reps, outcomes) -> dict:
    """``{outcome: array (points x reps)}`` read from ``store`` one replication at a time (NaN where missing).

    Memory holds the matrices and one replication's series, whatever the number of points.
    """
    out = {o.name: np.full((len(labels), reps), np.nan) for o in outcomes}
    series = needs_series(outcomes)
    for i, label in enumerate(labels):
        metrics = dict(store.metrics(label))
        rows = store.series(label) if series else ((r, [], {}) for r in metrics)
        for r, months, ser in rows:
            if r >= reps:
                continue
            for o in outcomes:
                out[o.name][i, r] = replication_outcome(o, metrics.get(r, {}), months, ser)
    return out


def point_mean(matrix):
    """Mean over each point's replications (NaN-aware; NaN for a point without any value)."""
    m = np.asarray(matrix, float)
    with np.errstate(invalid="ignore"):
        cnt = np.isfinite(m).sum(axis=1)
        tot = np.where(np.isfinite(m), m, 0.0).sum(axis=1)
        return np.where(cnt > 0, tot / np.maximum(cnt, 1), math.nan)
