"""What one replication returns: KPIs, per-entity figures and monthly series.

The dictionaries are the engine's raw totals in the terms of inventory theory (``fill_rate`` is
the share of demand served from stock on arrival, ``unmet_demand_t`` the demand not served on
arrival, late deliveries included). The metrics supplysim reports are the catalogue's
(:mod:`supplysim.catalogue`): :meth:`ReplicationResult.region_metrics` computes them from the
monthly series, as the experiments do.
"""
from __future__ import annotations

import math
import platform
from dataclasses import dataclass, field

import numpy as np

__all__ = ["ReplicationResult", "build_result", "versions"]


def versions() -> dict:
    """Versions of Python and the packages that shape results (for manifests, rule V4), and the
    engine's build (``compiled`` or ``python``: the same results either way, see :mod:`.compiled`)."""
    import networkx
    import simpy

    from .._version import __version__
    from . import ENGINE
    return {"supplysim": __version__, "engine": ENGINE, "python": platform.python_version(),
            "simpy": simpy.__version__, "numpy": np.__version__, "networkx": networkx.__version__}


@dataclass
class ReplicationResult:
    """Result of one replication.

    Attributes
    ----------
    kpis : dict
        Whole-network KPIs (``fill_rate``, ``unmet_demand_t``, costs, ...).
    regions : dict
        KPIs per demand region.
    sinks, facilities, lanes : dict
        Per-entity figures.
    series : dict
        Monthly series: name -> ``(labels, array of shape (months, len(labels)))``.
    months : list of str
        Calendar month of each series row (``YYYY-MM``).
    manifest : dict
        Model digest, scenario, root entropy, replication, horizon and versions.
    """

    scenario: str
    replication: int
    entropy: int
    horizon_days: float
    kpis: dict
    regions: dict
    sinks: dict
    facilities: dict
    lanes: dict
    series: dict
    months: list
    manifest: dict = field(default_factory=dict)
    controls: dict = field(default_factory=dict)

    def region_series(self) -> dict:
        """Monthly series per region: ``{name: (regions, months x regions array)}``.

        ``demand_t``, ``delivered_t`` (to demand, late or not), ``on_time_t`` (served from stock on
        arrival), ``lost_t`` (lost sales) and ``backlog_t`` (owed at month end), the raw material of
        the catalogue's region metrics (:data:`supplysim.catalogue.REGION_SERIES`).
        """
        sink_ids = self.series["demand"][0]
        region_of = {s: self.sinks[s]["region"] for s in sink_ids}
        regions = sorted(set(region_of.values()))
        cols = {r: [j for j, s in enumerate(sink_ids) if region_of[s] == r] for r in regions}
        out = {}
        for name, raw in (("demand_t", "demand"), ("delivered_t", "delivered"), ("on_time_t", "filled"),
                          ("lost_t", "lost"), ("backlog_t", "backlog")):
            arr = self.series[raw][1]
            out[name] = (regions, np.stack([arr[:, cols[r]].sum(axis=1) for r in regions], axis=1)
                         if regions else np.zeros((arr.shape[0], 0)))
        return out

    def region_metrics(self, window=None) -> dict:
        """The catalogue's region metrics of this replication: ``{metric: {region: value}}``.

        ``window``: ``(first, last)`` months (``"2026-01"``), default the whole run. Time to survive
        and time to recover count from the first disruption or control (NaN without one);
        ``*_censored`` flags say where a time reached the end of the run.

        >>> from supplysim import Simulation, load_model
        >>> from supplysim.paths import models_dir
        >>> res = Simulation(load_model(models_dir() / "examples" / "tutorial.toml"), seed=1).run(until=120)
        >>> m = res.region_metrics()
        >>> 0.0 <= m["delivered_share"]["EU"] <= 1.0, m["demand_lost_t"]["EU"] >= 0
        (True, True)
        """
        from ..catalogue import region_metrics
        t0 = self.manifest.get("disruption_start_day")
        out = region_metrics(self.region_series(), self.months, self.manifest["start"], self.horizon_days,
                             t0, window)
        tts, cen = {}, {}
        for r in out["demand_t"]:
            t = self.regions[r].get("tts_days", float("nan"))
            tts[r] = t
            # the engine censors a sink's time at the horizon: the region is censored when no sink ran short
            cen[r] = float("nan") if t0 is None or math.isnan(t) else float(t == self.horizon_days - t0)
        out["time_to_survive_days"], out["time_to_survive_days_censored"] = tts, cen
        return out

    def to_frame(self, series="filled"):
        """A monthly series as a pandas DataFrame (needs pandas)."""
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError("to_frame needs pandas: pip install pandas") from exc
        labels, arr = self.series[series]
        return pd.DataFrame(arr, index=pd.PeriodIndex(self.months, freq="M"), columns=labels)


def _tts(sim, s, until):
    """Days from the disruption's start to the sink's first unmet demand (censored at the horizon)."""
    t0 = sim.t_disrupt
    if not math.isfinite(t0):
        return float("nan")
    t = s.first_unmet_after
    return (t if t is not None else until) - t0


def _fill(filled, demand):
    return filled / demand if demand > 0 else 1.0


def build_result(sim, until, wall_s) -> ReplicationResult:
    m = sim.model
    t0 = getattr(sim, "warmup", 0.0)
    span = until - t0
    sinks = {}
    regions = {}
    shortage = 0.0
    for sid, s in sim.sinks.items():
        s.touch(until)
        backlog_area = s.area
        shortage += backlog_area * s.spec.backorder_cost + s.lost * s.spec.lost_cost
        d = {
            "region": s.spec.region, "sector": s.spec.sector, "end_use": s.spec.end_use,
            "demand_t": s.demand, "filled_t": s.filled, "unmet_demand_t": s.demand - s.filled,
            "lost_t": s.lost, "backlog_end_t": s.lane.open, "mean_backlog_t": backlog_area / span,
            "fill_rate": _fill(s.filled, s.demand),
            "first_unmet_day": s.first_unmet if s.first_unmet is not None else float("nan"),
            "tts_days": _tts(sim, s, until),
        }
        sinks[sid] = d
        r = regions.setdefault(s.spec.region, {"demand_t": 0.0, "filled_t": 0.0, "lost_t": 0.0,
                                               "backlog_end_t": 0.0, "mean_backlog_t": 0.0,
                                               "tts_days": math.inf})
        for k in ("demand_t", "filled_t", "lost_t", "backlog_end_t", "mean_backlog_t"):
            r[k] += d[k]
        if not math.isnan(d["tts_days"]):
            r["tts_days"] = min(r["tts_days"], d["tts_days"])
    for r in regions.values():
        if math.isinf(r["tts_days"]):
            r["tts_days"] = float("nan")
        r["unmet_demand_t"] = r["demand_t"] - r["filled_t"]
        r["fill_rate"] = _fill(r["filled_t"], r["demand_t"])
    for reg, share in _origin_shares(sim).items():
        if reg in regions:
            regions[reg]["origin_share"] = share
    holding = 0.0
    production = 0.0
    facilities = {}
    for fid, n in sim.nodes.items():
        inv = 0.0
        for st in n.stocks.values():
            if n.unlimited:
                continue
            area = st.area + st.qty * (until - st.t_last)
            holding += area * n.spec.holding_cost
            inv += area / span
        production += n.produced * n.spec.production_cost
        facilities[fid] = {"stage": n.spec.stage, "country": n.spec.country, "production_t": n.produced,
                           "mean_inventory_t": inv, "orders": n.orders}
    lanes = {lid: {"shipped_t": ln.shipped, "from": ln.spec.src, "to": ln.spec.dst,
                   "commodity": ln.commodity} for lid, ln in sim.lanes.items()}
    costs = {"cost_ordering": sim.cost_ordering, "cost_holding": holding, "cost_shortage": shortage,
             "cost_transport": sim.cost_transport, "cost_production": production}
    costs["cost_total"] = sum(costs.values())
    dem = sum(s["demand_t"] for s in sinks.values())
    fil = sum(s["filled_t"] for s in sinks.values())
    kpis = {"fill_rate": _fill(fil, dem), "demand_t": dem, "filled_t": fil, "unmet_demand_t": dem - fil,
            "lost_t": sum(s["lost_t"] for s in sinks.values()),
            "backlog_end_t": sum(s["backlog_end_t"] for s in sinks.values()),
            "mean_backlog_t": sum(s["mean_backlog_t"] for s in sinks.values()),
            "production_t": sum(n.produced for n in sim.nodes.values()), **costs,
            "wall_s": wall_s}
    sink_ids = [s.id for s in sim._sink_list]
    node_ids = [n.id for n in sim._node_list]
    lane_ids = [ln.id for ln in sim._lane_list]
    rec = sim._rec
    label = {"demand": sink_ids, "filled": sink_ids, "lost": sink_ids, "delivered": sink_ids, "backlog": sink_ids,
             "production": node_ids, "stock": node_ids, "shipped": lane_ids}
    series = {k: (label[k], np.asarray(v, float).reshape(len(v), len(label[k]))) for k, v in rec.items()}
    months = [m.calendar.month_label(i) for i in range(len(rec["demand"]))]
    series["trade"] = _trade(sim, series["shipped"])
    starts = m.calendar.month_starts(until)
    for name, fn in sim.records.items():   # the mechanisms' own monthly series (prices, ...)
        series[name] = fn(starts, until)
    if sim.gate.licences:
        series["licences"] = sim.gate.monthly(starts, until)
    from .results import versions as _v
    controls = sim.gate.report()
    manifest = {"model": m.name, "model_sha256": m.digest(), "scenario": m.scenario_name, "warmup_days": t0,
                "entropy": sim.entropy, "replication": sim.replication, "horizon_days": until,
                "start": m.calendar.start.isoformat(), "period_days": m.period_days, "versions": _v(),
                "disruption_start_day": sim.t_disrupt if math.isfinite(sim.t_disrupt) else None}
    return ReplicationResult(m.scenario_name, sim.replication, sim.entropy, until, kpis, regions, sinks,
                             facilities, lanes, series, months, manifest, controls)


def _trade(sim, shipped):
    """Monthly shipments by (exporter country, buyer country, commodity): labels 'CN>US:magnet'."""
    labels, arr = shipped
    keys = {}
    cols = []
    for j, lid in enumerate(labels):
        ln = sim.lanes[lid]
        k = f"{ln.src.spec.country}>{ln.dst.spec.country}:{ln.commodity}"
        cols.append(keys.setdefault(k, len(keys)))
    out = np.zeros((arr.shape[0], len(keys)))
    for j, c in enumerate(cols):
        out[:, c] += arr[:, j]
    return list(keys), out


def _origin_shares(sim):
    """Per region and origin stage, the share of delivered rare earth by country (none if origin is not followed)."""
    lay = sim.layout
    if not lay.tracks_origin:
        return {}
    from ..materials import RE_MASK
    by_region = {}
    for n in sim.nodes.values():
        if not n.sinks:
            continue
        reg = n.sinks[0].spec.region
        for st in n.stocks.values():
            st.flush()
            if st.dvec is not None:
                acc = by_region.get(reg)
                by_region[reg] = st.dvec.copy() if acc is None else acc + st.dvec
    out = {}
    for reg, v in by_region.items():
        tot = float(v[: len(RE_MASK)][RE_MASK].sum())
        if tot <= 0:
            continue
        out[reg] = {stage: {c: float(x) / tot for c, x in zip(lay.countries, lay.origin(v, stage).sum(axis=1))
                            if x > 0} for stage in lay.STAGES}
    return out
