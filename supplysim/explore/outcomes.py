"""Outcomes of a design point's replications, from what the store keeps of each one.

Every outcome is one number per replication, read from the replication's stored
metrics or monthly series:

``metric`` (``kind = "metric"``)
    A metric of the catalogue (:mod:`supplysim.catalogue`, docs/metrics.md). With
    ``regions`` (and optionally ``window``), a region metric is computed by the
    catalogue's own estimator over the window's months from the stored series,
    summed over the listed regions first: ``demand_lost_pct`` of ``["EU"]`` over
    ``["2026-01", "2027-12"]`` is the percentage of the EU's demand arising in
    2026-2027 that was not delivered by the end of 2027. Without ``regions`` it is
    the stored whole-run value as named (``delivered_share[EU]``,
    ``time_to_survive_days[US]``, any name in ``replications.csv``).
``series`` (``kind = "series"``)
    A statistic (sum, mean, max, min, last) over the window's months of a stored
    monthly series summed over ``keys`` (``delivered_t`` of ``["EU", "US"]`` in t,
    ``trade_t`` of ``["CN>JP:magnet"]``, ``production_t`` of ``["magnet:JP"]``).

Examples
--------
>>> import numpy as np
>>> from supplysim.explore.spec import Outcome
>>> z = np.zeros((3, 1))
>>> ser = {"demand_t": (["EU"], np.array([[10.0], [10.0], [10.0]])),
...        "delivered_t": (["EU"], np.array([[10.0], [6.0], [8.0]])),
...        "on_time_t": (["EU"], np.array([[10.0], [5.0], [5.0]])), "lost_t": (["EU"], z),
...        "backlog_t": (["EU"], np.array([[0.0], [4.0], [6.0]]))}
>>> months = ["2026-01", "2026-02", "2026-03"]
>>> o = Outcome("lost", "metric", metric="demand_lost_pct", keys=("EU",), window=("2026-02", "2026-03"))
>>> round(replication_outcome(o, {}, months, ser), 6)      # 6 t of the window's 20 t still owed
30.0
>>> o = Outcome("late", "metric", metric="on_time_fill", keys=("EU",))
>>> round(replication_outcome(o, {}, months, ser), 4)
0.6667
"""
from __future__ import annotations

import difflib
import math

import numpy as np

from .. import catalogue

__all__ = ["replication_outcome", "outcome_matrix", "point_mean", "needs_series", "OutcomeError",
           "WINDOW_METRICS"]

#: Catalogue metrics an outcome may compute over a window and a set of regions (times to survive and
#: recover need the engine's event times and the disruption's start: use their stored whole-run values).
WINDOW_METRICS = tuple(m.name for m in catalogue.of_scope("region")
                       if m.kind != "censored" and m.name not in ("origin_share",))


class OutcomeError(ValueError):
    """An outcome names a metric, series or key the stored results lack."""


def needs_series(outcomes) -> bool:
    return any(o.kind == "series" or o.keys for o in outcomes)


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


def _window_metric(o, months, series):
    """A catalogue region metric over the window, for the listed regions taken together."""
    combined = {}
    for name in catalogue.REGION_SERIES:
        if name not in series:
            raise OutcomeError(f"outcome {o.name}: the stored results have no {name} series (stored by an "
                               "earlier version?)")
        labels, arr = series[name]
        cols = _columns(o, name, list(labels))
        combined[name] = (["+".join(o.keys)], np.asarray(arr, float)[:, cols].sum(axis=1, keepdims=True))
    if not months:
        return float("nan")
    # the window's start and horizon only place times to recover, which outcomes do not use
    vals = catalogue.region_metrics(combined, months, f"{months[0]}-01", math.inf, None, o.window)
    return float(vals[o.metric]["+".join(o.keys)])


def replication_outcome(o, metrics, months, series) -> float:
    """The value of outcome ``o`` for one replication (NaN when its window holds no month)."""
    if o.kind == "metric" and o.keys:
        return _window_metric(o, months, series)
    if o.kind == "metric":
        if o.metric not in metrics:
            near = difflib.get_close_matches(o.metric, list(metrics), n=3)
            raise OutcomeError(f"outcome {o.name}: no stored metric '{o.metric}'"
                               + (f" (close: {', '.join(near)})" if near else ""))
        v = metrics[o.metric]
        return float("nan") if v is None else float(v)
    if o.series not in series:
        raise OutcomeError(f"outcome {o.name}: no stored series '{o.series}' (series: {', '.join(series)})")
    labels, arr = series[o.series]
    cols = _columns(o, o.series, list(labels))
    sel = catalogue.window_slice(months, o.window)
    x = np.asarray(arr, float)[sel][:, cols].sum(axis=1)
    if not x.size:
        return float("nan")
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
