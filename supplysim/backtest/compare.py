"""Simulated against observed: per series, the error (MAPE, bias, RMSE, coverage) and the largest drop.

A *series* is what an observation row observes: trade tonnes from an exporter to an importer (or to
every other country, ``*``) of a commodity, or the price of a commodity in a market. A commodity
names the model's commodity of that id, or its family: ``magnet`` stands for every commodity whose id
starts with ``magnet_`` (the grades of a magnet). The simulated value of a row is taken from each
replication's monthly series (``trade`` and, when the model has a market, ``price``) over the row's
months: a sum for tonnes, a mean for prices.

Errors compare the replications' mean with the observation, row by row:

* ``mape``: mean of ``|sim - obs| / obs`` over the series' rows (rows with ``obs = 0`` left out);
* ``bias``: mean of ``sim - obs`` (series unit), and ``bias_pct``: ``Σ(sim - obs) / Σ obs``;
* ``rmse``: root mean square of ``sim - obs``;
* ``coverage``: share of rows whose observation lies in the replications' 2.5-97.5 % range.

The largest drop of a series with at least three single months is its deepest fall from a running
peak: ``depth = 1 - trough / peak`` with the months of the peak and the trough, for the observed and
the simulated (mean) values on the same months.

Examples
--------
>>> largest_drop(["2024-01", "2024-02", "2024-03", "2024-04"], [10.0, 12.0, 6.0, 9.0])
{'depth': 0.5, 'peak': '2024-02', 'trough': '2024-03'}
>>> errors([100.0, 200.0], [110.0, 180.0])["mape"]
0.1
"""
from __future__ import annotations

import math

import numpy as np

from .observed import month_index

__all__ = ["simulated_value", "compare", "errors", "largest_drop", "matches", "SeriesReport"]


def matches(model_commodity: str, observed: str) -> bool:
    """Whether a simulated commodity counts for an observed one (itself, or one of its family).

    >>> matches("magnet_gbd", "magnet"), matches("magnet", "magnet"), matches("magnetite", "magnet")
    (True, True, False)
    """
    return model_commodity == observed or model_commodity.startswith(observed + "_")


def _columns(obs, labels):
    """Indices of the result series columns that make up ``obs``'s series."""
    out = []
    for j, lab in enumerate(labels):
        if obs.kind == "tonnes":
            pair, _, com = lab.rpartition(":")
            ex, _, im = pair.partition(">")
            if ex == obs.exporter and (im == obs.importer or (obs.importer == "*" and im != ex)) \
                    and matches(com, obs.commodity):
                out.append(j)
        else:
            com, _, market = lab.rpartition("@")
            if market == obs.exporter and matches(com, obs.commodity):
                out.append(j)
    return out


def simulated_value(res, obs):
    """The value of observation ``obs`` in replication result ``res`` (``None``: not in the results)."""
    name = "trade" if obs.kind == "tonnes" else "price"
    if name not in res.series:
        return None
    labels, arr = res.series[name]
    cols = _columns(obs, labels)
    months = list(res.months)
    try:
        a, b = months.index(obs.first), months.index(obs.last)
    except ValueError:
        return None
    if not cols:
        return 0.0 if obs.kind == "tonnes" else None   # no such trade in the model: none happened
    block = np.asarray(arr[a:b + 1][:, cols], float)
    if obs.kind == "tonnes":
        return float(block.sum())
    return float(block.mean())   # a price family holds one price per market: its mean over the months


def errors(obs, sim) -> dict:
    """MAPE, bias (mean and % of the observed total) and RMSE of ``sim`` against ``obs``."""
    y, s = np.asarray(obs, float), np.asarray(sim, float)
    d = s - y
    nz = y != 0
    tot = float(y.sum())
    return {"mape": float(np.mean(np.abs(d[nz]) / y[nz])) if nz.any() else float("nan"),
            "bias": float(d.mean()), "bias_pct": float(d.sum() / tot) if tot else float("nan"),
            "rmse": float(math.sqrt(float(np.mean(d * d))))}


def largest_drop(months, values):
    """The deepest fall from a running peak: ``{depth, peak, trough}`` (``None`` for fewer than 3 months
    or a series that never falls)."""
    if len(values) < 3:
        return None
    best, peak_i, out = 0.0, 0, None
    for j, v in enumerate(values):
        if values[j] > values[peak_i]:
            peak_i = j
        p = values[peak_i]
        if p > 0 and (p - v) / p > best:
            best = (p - v) / p
            out = {"depth": float(best), "peak": months[peak_i], "trough": months[j]}
    return out


class SeriesReport(dict):
    """One series' comparison: its key, unit, rows (observed, simulated mean and range) and errors."""


def compare(observations, results) -> list:
    """Compare each observed series with the replications ``results``: a list of :class:`SeriesReport`."""
    groups = {}
    for o in observations:
        groups.setdefault(o.series, []).append(o)
    out = []
    for key, rows in groups.items():
        rows = sorted(rows, key=lambda o: (month_index(o.first), month_index(o.last)))
        kind, ex, im, com = key
        table = []
        for o in rows:
            vals = [simulated_value(r, o) for r in results]
            vals = [v for v in vals if v is not None]
            if not vals:
                table.append({"months": o.span, "observed": o.value, "simulated": None, "low": None, "high": None,
                              "source": o.source, "line": o.line})
                continue
            v = np.asarray(vals, float)
            lo, hi = (float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5)))
            table.append({"months": o.span, "observed": o.value, "simulated": float(v.mean()), "low": lo,
                          "high": hi, "source": o.source, "line": o.line})
        have = [t for t in table if t["simulated"] is not None]
        rep = SeriesReport(series=f"{kind} {ex}>{im}:{com}" if kind == "tonnes" else f"price {com}@{ex}",
                           kind=kind, unit="t" if kind == "tonnes" else "$/kg", rows=table,
                           points=len(have), missing=len(table) - len(have))
        if have:
            rep.update(errors([t["observed"] for t in have], [t["simulated"] for t in have]))
            rep["coverage"] = float(np.mean([t["low"] <= t["observed"] <= t["high"] for t in have]))
            single = [t for t in have if "/" not in t["months"]]
            ms = [t["months"] for t in single]
            rep["drop_observed"] = largest_drop(ms, [t["observed"] for t in single])
            rep["drop_simulated"] = largest_drop(ms, [t["simulated"] for t in single])
        out.append(rep)
    return out
