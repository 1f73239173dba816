"""Summaries of replications: the ``summary.json`` shape and ``replications.csv``."""
from __future__ import annotations

import csv
import json
import math

from .files import atomic_write
from .stats import mean_ci

__all__ = ["summarize", "write_summary", "write_replications_csv", "KPI_ORDER", "format_table"]

KPI_ORDER = ("fill_rate", "unmet_demand_t", "demand_t", "filled_t", "lost_t", "backlog_end_t", "mean_backlog_t",
             "production_t", "cost_total")


def _ci(values):
    s = mean_ci(values)
    return {k: (None if isinstance(v, float) and math.isnan(v) else v)
            for k, v in s.items() if k in ("mean", "ci_low", "ci_high", "n", "half_width", "p05", "p50", "p95")}


def _flatten(d, prefix=""):
    """Numbers of a nested dict as ``a.b.c`` keys (origin shares: ``origin_share.mining.CN``)."""
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        elif isinstance(v, (int, float)):
            out[key] = float(v)
    return out


def summarize(results) -> dict:
    """Per-scenario KPI and region summaries (mean and 95% interval)."""
    by = {}
    for r in results:
        by.setdefault(r.scenario, []).append(r)
    out = {}
    for name, rs in by.items():
        rs = sorted(rs, key=lambda r: r.replication)
        kpis = {k: _ci([r.kpis[k] for r in rs]) for k in rs[0].kpis if k != "wall_s"}
        regions = {}
        for reg in rs[0].regions:
            flat = [_flatten(r.regions.get(reg, {})) for r in rs]
            keys = sorted({k for f in flat for k in f})
            regions[reg] = {k: _ci([f.get(k, 0.0) for f in flat]) for k in keys}
        out[name] = {"kpis": kpis, "regions": regions, "replications": len(rs)}
    return out


def write_summary(path, manifest, results):
    data = {"manifest": manifest, "scenarios": summarize(results)}
    with atomic_write(path) as fh:
        json.dump(data, fh, indent=1, sort_keys=False, default=str)
    return data


def write_replications_csv(path, results):
    rows = []
    for r in sorted(results, key=lambda r: (r.scenario, r.replication)):
        row = {"scenario": r.scenario, "replication": r.replication, "entropy": r.entropy}
        row.update({k: v for k, v in r.kpis.items()})
        for reg, d in r.regions.items():
            row[f"fill_rate[{reg}]"] = d["fill_rate"]
            row[f"unmet_demand_t[{reg}]"] = d["unmet_demand_t"]
        rows.append(row)
    keys = []
    for row in rows:
        for k in row:
            if k not in keys:
                keys.append(k)
    with atomic_write(path) as fh:
        w = csv.DictWriter(fh, fieldnames=keys)
        w.writeheader()
        w.writerows(rows)


def _fmt(x):
    if x is None:
        return "-"
    ax = abs(x)
    if ax != 0 and (ax < 1e-3 or ax >= 1e7):
        return f"{x:.3e}"
    if ax < 10:
        return f"{x:.4f}"
    return f"{x:,.1f}"


def format_table(summary: dict) -> str:
    """A plain-text table of KPIs (mean and 95% interval) and regional fill rates."""
    lines = []
    for name, sc in summary.items():
        n = sc["replications"]
        lines.append(f"scenario {name}  ({n} replication{'s' if n != 1 else ''}; mean [95% interval])")
        for k in KPI_ORDER:
            if k in sc["kpis"]:
                s = sc["kpis"][k]
                ci = f"[{_fmt(s['ci_low'])}, {_fmt(s['ci_high'])}]" if n > 1 else ""
                lines.append(f"  {k:<18} {_fmt(s['mean']):>14} {ci}")
        lines.append(f"  {'region':<10} {'fill_rate':>24} {'unmet_demand_t':>30}")
        for reg, d in sorted(sc["regions"].items()):
            fr, um = d["fill_rate"], d["unmet_demand_t"]
            fr_s = f"{_fmt(fr['mean'])}" + (f" [{_fmt(fr['ci_low'])}, {_fmt(fr['ci_high'])}]" if n > 1 else "")
            um_s = f"{_fmt(um['mean'])}" + (f" [{_fmt(um['ci_low'])}, {_fmt(um['ci_high'])}]" if n > 1 else "")
            lines.append(f"  {reg:<10} {fr_s:>24} {um_s:>30}")
    return "\n".join(lines)
