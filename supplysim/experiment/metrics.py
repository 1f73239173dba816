"""Per-replication metrics: fill, shortfall and resilience per region and sector, production,
trade, origin and cost, flattened to ``name[key]`` so replications line up for statistics.

Resilience metrics follow the methodology: time to survive (first unmet demand after
the disruption starts), nadir fill rate, the resilience triangle (the integral of
``1 - served/demanded`` over time, in days) and recovery time (first month after the
disruption from which the monthly fill rate stays within ``eps`` of the baseline's).
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["replication_metrics", "replication_series", "recovery_months"]


def _months_days(months):
    import calendar
    return np.array([calendar.monthrange(int(m[:4]), int(m[5:7]))[1] for m in months], float)


def replication_series(res) -> dict:
    """Monthly series kept for every replication: region demand, supply (delivered), filled on arrival,
    backlog, fill rate, trade, production."""
    sink_ids, dem = res.series["demand"]
    _, fil = res.series["filled"]
    _, back = res.series["backlog"]
    _, dlv = res.series["delivered"]
    regions = sorted({res.sinks[s]["region"] for s in sink_ids})
    col = {r: [j for j, s in enumerate(sink_ids) if res.sinks[s]["region"] == r] for r in regions}
    out = {}
    rd = np.stack([dem[:, col[r]].sum(axis=1) for r in regions], axis=1) if regions else np.zeros((len(dem), 0))
    rf = np.stack([fil[:, col[r]].sum(axis=1) for r in regions], axis=1) if regions else np.zeros((len(dem), 0))
    rb = np.stack([back[:, col[r]].sum(axis=1) for r in regions], axis=1) if regions else np.zeros((len(dem), 0))
    rv = np.stack([dlv[:, col[r]].sum(axis=1) for r in regions], axis=1) if regions else np.zeros((len(dem), 0))
    with np.errstate(invalid="ignore", divide="ignore"):
        fr = np.where(rd > 0, rf / np.where(rd > 0, rd, 1.0), 1.0)
    out["demand_t"] = (regions, rd)
    out["supply_t"] = (regions, rv)       # magnets delivered to demand, late or not
    out["filled_t"] = (regions, rf)       # served from stock on arrival
    out["backlog_t"] = (regions, rb)
    out["fill_rate"] = (regions, fr)
    out["trade_t"] = res.series["trade"]
    node_ids, prod = res.series["production"]
    keys = {}
    cols = []
    for nid in node_ids:
        f = res.facilities[nid]
        cols.append(keys.setdefault(f"{f['stage']}:{f['country']}", len(keys)))
    p = np.zeros((prod.shape[0], len(keys)))
    for j, c in enumerate(cols):
        p[:, c] += prod[:, j]
    out["production_t"] = (list(keys), p)
    return out


def replication_metrics(res, t_disrupt=None) -> dict:
    """A flat ``{name[key]: value}`` of one replication's KPIs and resilience metrics."""
    m = {}
    for k, v in res.kpis.items():
        if k != "wall_s":
            m[k] = float(v)
    ser = replication_series(res)
    regions, fr = ser["fill_rate"]
    months = res.months
    days = _months_days(months)
    start_m = 0
    if t_disrupt is not None and math.isfinite(t_disrupt):
        cum = np.concatenate([[0.0], np.cumsum(days)])
        start_m = int(np.searchsorted(cum, t_disrupt, side="right") - 1)
    for r, d in res.regions.items():
        for k in ("fill_rate", "unmet_demand_t", "demand_t", "lost_t", "backlog_end_t", "tts_days"):
            m[f"{k}[{r}]"] = float(d[k])
        # shortfall: demand waiting for magnets, integrated over time (t x years); unlike unmet
        # demand it keeps growing with the size and length of a backlog
        m[f"shortfall_t_yr[{r}]"] = float(d["mean_backlog_t"]) * res.horizon_days / 365.0
        for stage, shares in d.get("origin_share", {}).items():
            for c, x in shares.items():
                m[f"origin_{stage}[{r}:{c}]"] = x
    for j, r in enumerate(regions):
        after = fr[start_m:, j]
        m[f"nadir_fill_rate[{r}]"] = float(after.min()) if after.size else float("nan")
        m[f"triangle_days[{r}]"] = float(((1 - after) * days[start_m:]).sum())
    sect = {}
    for sid, s in res.sinks.items():
        key = f"{s['region']}/{s['sector']}"
        a = sect.setdefault(key, [0.0, 0.0])
        a[0] += s["demand_t"]
        a[1] += s["filled_t"]
    for key, (d, f) in sect.items():
        m[f"fill_rate[{key}]"] = f / d if d > 0 else 1.0
    labels, prod = ser["production_t"]
    for j, k in enumerate(labels):
        m[f"production_t[{k}]"] = float(prod[:, j].sum())
    labels, tr = ser["trade_t"]
    for j, k in enumerate(labels):
        a, rest = k.split(">", 1)
        if a != rest.split(":", 1)[0]:
            m[f"trade_t[{k}]"] = float(tr[:, j].sum())
    for fid, f in res.facilities.items():
        if f["stage"] in ("magnet", "buyer"):
            m[f"mean_inventory_t[{fid}]"] = f["mean_inventory_t"]
    for rid, c in res.controls.items():
        m[f"licences_refused_t[{rid}]"] = float(c["refused_t"])
        m[f"licences_approved[{rid}]"] = float(c["approved"])
    return m


def recovery_months(base_fill, scen_fill, after_month, eps=0.02):
    """First month (counted from ``after_month``) from which ``scen`` stays within ``eps`` of ``base``.

    Returns NaN if it never recovers within the horizon.
    """
    gap = np.abs(np.asarray(base_fill) - np.asarray(scen_fill)) <= eps
    n = len(gap)
    for i in range(after_month, n):
        if gap[i:].all():
            return float(i - after_month)
    return float("nan")
