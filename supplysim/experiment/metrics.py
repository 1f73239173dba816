"""Per-replication metrics and the monthly series the store keeps, named as the catalogue names them.

:func:`replication_series` is what the store keeps of one replication's months: per region the
series the catalogue's estimators read (:data:`supplysim.catalogue.REGION_SERIES`), trade and
production by stage and country. :func:`replication_metrics` flattens the catalogue's metrics
(:mod:`supplysim.catalogue`) to ``name[key]`` so replications line up for statistics. Metrics over
another window are computed later from the stored series with the same estimator
(:meth:`~supplysim.experiment.experiment.ExperimentResults.metric_values`).

Examples
--------
>>> from supplysim import Simulation, load_model
>>> from supplysim.paths import models_dir
>>> res = Simulation(load_model(models_dir() / "examples" / "tutorial.toml"), seed=1).run(until=90)
>>> m = replication_metrics(res)
>>> sorted(k for k in m if k.startswith("delivered_share["))
['delivered_share[EU]', 'delivered_share[JP]']
>>> sorted(replication_series(res))[:3]
['backlog_t', 'delivered_t', 'demand_t']
"""
from __future__ import annotations

import numpy as np

__all__ = ["replication_series", "replication_metrics"]


def replication_series(res) -> dict:
    """The monthly series the store keeps for one replication: ``{name: (keys, months x keys array)}``.

    Per region: ``demand_t``, ``delivered_t`` (to demand, late or not), ``on_time_t`` (served from
    stock on arrival), ``lost_t`` (lost sales), ``backlog_t`` (owed at month end). Also ``trade_t``
    (keys ``A>B:commodity``) and ``production_t`` (keys ``stage:country``); with a market, ``price``
    ($/kg), ``price_ratio`` (to the reference) and ``cover_days`` (keys ``COMMODITY@MARKET``); with
    licence rules, ``licences_t`` (keys ``RULE:applied_t``, ``RULE:approved_t``, ``RULE:refused_t``).
    """
    out = dict(res.region_series())
    out["trade_t"] = res.series["trade"]
    node_ids, prod = res.series["production"]
    keys, cols = {}, []
    for nid in node_ids:
        f = res.facilities[nid]
        cols.append(keys.setdefault(f"{f['stage']}:{f['country']}", len(keys)))
    p = np.zeros((prod.shape[0], len(keys)))
    for j, c in enumerate(cols):
        p[:, c] += prod[:, j]
    out["production_t"] = (list(keys), p)
    # a market's prices ($/kg), their ratio to the reference and the cover behind them (days), and
    # licence volumes (t): keys COMMODITY@MARKET and RULE:applied_t ... (docs/market.md)
    for name, raw in (("price", "price"), ("price_ratio", "price_ratio"), ("cover_days", "cover_days"),
                      ("licences_t", "licences")):
        if raw in res.series:
            out[name] = res.series[raw]
    return out


def replication_metrics(res, series=None) -> dict:
    """A flat ``{name[key]: value}`` of one replication; every name is in the catalogue.

    Censored times carry their 0/1 flag as ``<name>_censored[key]``.
    """
    ser = series if series is not None else replication_series(res)
    m = {}
    for name, vals in res.region_metrics().items():
        for r, v in vals.items():
            m[f"{name}[{r}]"] = v
    for r, d in res.regions.items():
        for stage, shares in d.get("origin_share", {}).items():
            for c, x in shares.items():
                m[f"origin_share[{r}:{stage}:{c}]"] = x
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
        if "applied_t" in c:
            m[f"licences_applied_t[{rid}]"] = float(c["applied_t"])
    if "price" in ser:
        labels, p = ser["price"]
        _, ratio = ser["price_ratio"]
        for j, k in enumerate(labels):
            m[f"mean_price[{k}]"] = float(p[:, j].mean())
            m[f"peak_price[{k}]"] = float(p[:, j].max())
            m[f"months_price_doubled[{k}]"] = float((ratio[:, j] >= 2.0 - 1e-12).sum())
    return m
