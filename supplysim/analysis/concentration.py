"""Concentration of capacity by country per stage, and betweenness of facilities.

Examples
--------
>>> hhi({"CN": 0.9, "MY": 0.1})
8200.0
>>> top_shares({"CN": 0.6, "AU": 0.25, "US": 0.1, "MY": 0.05}, 3)
0.95
"""
from __future__ import annotations

import math

import networkx as nx

from .bounds import effective_capacities

__all__ = ["hhi", "top_shares", "concentration", "betweenness"]


def hhi(shares) -> float:
    """Herfindahl-Hirschman index of shares (fractions summing to 1), on the 0-10,000 scale.

    10,000 is one country holding everything; below 1,500 is usually read as
    unconcentrated and above 2,500 as highly concentrated.

    Examples
    --------
    >>> hhi({"A": 0.5, "B": 0.5})
    5000.0
    """
    vals = shares.values() if isinstance(shares, dict) else shares
    return float(round(sum((100.0 * s) ** 2 for s in vals), 9))


def top_shares(shares: dict, k: int) -> float:
    """Combined share of the ``k`` largest holders.

    Examples
    --------
    >>> top_shares({"A": 0.2, "B": 0.5, "C": 0.3}, 1)
    0.5
    """
    return float(round(sum(sorted(shares.values(), reverse=True)[:k]), 12))


def concentration(model, date=None) -> dict:
    """Capacity shares by country per stage, with HHI and top-1 / top-3 shares.

    Capacities are each facility's own unit (t of its output per year) at
    ``date``, outages applied; facilities without a finite capacity
    (stocking points, unlimited suppliers) are listed apart and left out of
    the shares. Demand buffers are not a stage.

    Returns
    -------
    dict
        ``{stage: {"facilities", "capacity_t_yr", "shares" ({country: share},
        largest first), "hhi", "top1_country", "top1_share", "top3_share",
        "unlimited" (ids)}}``.

    Examples
    --------
    >>> c = concentration(load_model("models/examples/tutorial.toml"))   # doctest: +SKIP
    >>> c["mine"]["hhi"], c["mine"]["top1_country"]                      # doctest: +SKIP
    (10000.0, 'AU')
    """
    caps, _ = effective_capacities(model, date)
    out = {}
    for fid, f in model.facilities.items():
        if f.stage == "buffer":
            continue
        s = out.setdefault(f.stage, {"facilities": 0, "capacity_t_yr": 0.0, "by_country": {}, "unlimited": []})
        s["facilities"] += 1
        if math.isinf(caps[fid]):
            s["unlimited"].append(fid)
            continue
        s["capacity_t_yr"] += caps[fid]
        s["by_country"][f.country] = s["by_country"].get(f.country, 0.0) + caps[fid]
    for s in out.values():
        tot = s["capacity_t_yr"]
        by = s.pop("by_country")
        shares = {c: v / tot for c, v in sorted(by.items(), key=lambda kv: (-kv[1], kv[0]))} if tot > 0 else {}
        s["shares"] = shares
        s["hhi"] = hhi(shares) if shares else None
        s["top1_country"] = next(iter(shares), None)
        s["top1_share"] = top_shares(shares, 1) if shares else None
        s["top3_share"] = top_shares(shares, 3) if shares else None
    return out


def betweenness(model, normalized=True) -> dict:
    """Betweenness centrality of each facility in the network, largest first.

    Lanes are directed edges (parallel lanes count once); demand sinks are
    nodes, so a facility that many mine-to-buyer routes pass through scores
    high. Demand buffers are left out of the result.

    Examples
    --------
    >>> b = betweenness(load_model("models/examples/tutorial.toml"))   # doctest: +SKIP
    >>> next(iter(b))                                                  # doctest: +SKIP
    'magnets_jp'
    """
    g = nx.DiGraph(model.graph)
    bc = nx.betweenness_centrality(g, normalized=normalized)
    keep = {fid for fid, f in model.facilities.items() if f.stage != "buffer"}
    return dict(sorted(((k, float(v)) for k, v in bc.items() if k in keep), key=lambda kv: (-kv[1], kv[0])))
