"""Figures of a stored experiment, drawn from the store alone (no simulation).

Every function takes an :class:`~supplysim.experiment.experiment.ExperimentResults`
and an output path, writes one PNG (or any format matplotlib knows from the
suffix) and returns the path. matplotlib is imported inside the functions with
the Agg backend, so importing this module never needs it.

Examples
--------
>>> from supplysim.experiment.experiment import ExperimentResults     # doctest: +SKIP
>>> res = ExperimentResults("runs/my-experiment")                      # doctest: +SKIP
>>> fan_charts(res, "runs/my-experiment/figures/fan.png")               # doctest: +SKIP
"""
from __future__ import annotations

import math
import tempfile
from pathlib import Path

import numpy as np

from ..experiment.files import contained, write_tree

__all__ = ["fan_charts", "kpi_bars", "forest_plot", "origin_stacks", "network_figure", "tts_ttr",
           "scenario_names", "scenario_colors", "regions", "load_scenario_model", "disrupted_elements",
           "DAYS_PER_MONTH", "DPI"]

DPI = 110
DAYS_PER_MONTH = 30.4

_FAMILIES = [  # (metric prefix, panel title, x-axis label)
    ("fill_rate", "Fill rate", "difference in fill rate (fraction of demand)"),
    ("nadir_fill_rate", "Nadir monthly fill rate", "difference in nadir fill rate (fraction)"),
    ("unmet_demand_t", "Unmet demand", "difference in unmet demand (t)"),
    ("tts_days", "Time to survive", "difference in time to survive (days)"),
    ("triangle_days", "Resilience triangle", "difference in lost-fill area (days)"),
    ("recovery_months", "Recovery time (scenario, not a difference)", "months to recover"),
]


# -- helpers ---------------------------------------------------------------------------------------
def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _save(fig, out_path):
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_path, dpi=DPI, bbox_inches="tight")
    import matplotlib.pyplot as plt
    plt.close(fig)
    return out_path


def _num(x):
    """``x`` as a finite float, or NaN."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return float("nan")
    return v if math.isfinite(v) else float("nan")


def _no_data(ax, text="no data"):
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="0.4")
    ax.set_xticks([])
    ax.set_yticks([])


def scenario_names(res) -> dict:
    """``{label: short display name}``: the scenario's ``name``, or its label if names collide."""
    sc = res.manifest.get("scenarios", {})
    names = {s: str(sc.get(s, {}).get("name") or s) for s in res.scenarios}
    seen = {}
    for n in names.values():
        seen[n] = seen.get(n, 0) + 1
    return {s: (n if seen[n] == 1 else s) for s, n in names.items()}


def scenario_colors(res) -> dict:
    """``{label: colour}``: the baseline in black, the others from the tab10 cycle."""
    cycle = ["tab:red", "tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:brown", "tab:pink",
             "tab:olive", "tab:cyan", "tab:gray"]
    out, i = {}, 0
    for s in res.scenarios:
        if s == res.baseline:
            out[s] = "black"
        else:
            out[s] = cycle[i % len(cycle)]
            i += 1
    return out


def regions(res) -> list:
    """Demand regions of the experiment, sorted."""
    regs = set()
    for v in res.summary().values():
        regs.update(v.get("regions", {}))
    return sorted(regs)


def _series(res, metrics=("supply_t", "fill_rate", "demand_t")) -> dict:
    """``{(scenario, metric, key): (dates, mean, p05, p50, p95)}`` for the metrics named."""
    out = {}
    for s, name, key, months, mean, p05, p50, p95 in res.timeseries():
        if name in metrics and months:
            dates = np.array([np.datetime64(f"{m}-01") for m in months]).astype("datetime64[D]").astype(object)
            out[(s, name, str(key))] = (dates, np.asarray(mean), np.asarray(p05), np.asarray(p50), np.asarray(p95))
    return out


# -- fan charts ------------------------------------------------------------------------------------
def fan_charts(res, out_path, metrics=("supply_t", "fill_rate")):
    """Median and 90% band (P5-P95 over replications) per region over time, scenarios overlaid.

    One row per metric (magnets delivered to demand in t/month; monthly fill
    rate), one column per region. The baseline's median demand is drawn dashed
    on the supply panels.
    """
    plt = _plt()
    ser = _series(res, tuple(metrics) + ("demand_t",))
    regs = regions(res) or sorted({k for (_, m, k) in ser if m in metrics})
    names, colors = scenario_names(res), scenario_colors(res)
    nr, nc = len(metrics), max(1, len(regs))
    fig, axes = plt.subplots(nr, nc, figsize=(4.6 * nc + 0.6, 3.3 * nr), squeeze=False, sharex=True)
    ylabels = {"supply_t": "magnets delivered (t/month)", "fill_rate": "monthly fill rate",
               "backlog_t": "backlog (t)", "demand_t": "demand (t/month)"}
    titles = {"supply_t": "Magnet supply", "fill_rate": "Fill rate", "backlog_t": "Backlog", "demand_t": "Demand"}
    for i, metric in enumerate(metrics):
        for j, reg in enumerate(regs or [None]):
            ax = axes[i][j]
            drawn = False
            for s in res.scenarios:
                d = ser.get((s, metric, reg))
                if d is None:
                    continue
                dates, _, p05, p50, p95 = d
                ax.fill_between(dates, p05, p95, color=colors[s], alpha=0.15 if s != res.baseline else 0.1,
                                linewidth=0, step=None)
                ax.plot(dates, p50, color=colors[s], lw=1.6, label=names[s])
                drawn = True
            if metric == "supply_t":
                d = ser.get((res.baseline, "demand_t", reg))
                if d is not None:
                    ax.plot(d[0], d[3], color="0.35", lw=1.0, ls="--", label="demand (baseline median)")
            if not drawn:
                _no_data(ax)
            ax.set_title(f"{titles.get(metric, metric)}: {reg}")
            ax.set_ylabel(ylabels.get(metric, metric))
            if metric == "fill_rate":
                ax.set_ylim(-0.03, 1.05)
            elif drawn:
                ax.set_ylim(bottom=0)
            ax.grid(alpha=0.3)
            if i == nr - 1:
                ax.set_xlabel("month")
                for lab in ax.get_xticklabels():
                    lab.set_rotation(30)
                    lab.set_ha("right")
    h, lab = axes[0][0].get_legend_handles_labels()
    if h:
        fig.legend(h, lab, loc="upper center", ncol=min(len(h), 5), frameon=False, bbox_to_anchor=(0.5, 0.0))
    fig.suptitle("Median (line) and 90% band (P5-P95 over replications)", fontsize=11)
    fig.tight_layout()
    return _save(fig, out_path)


# -- KPI bars --------------------------------------------------------------------------------------
def kpi_bars(res, out_path, kpis=("fill_rate", "unmet_demand_t")):
    """Mean with 95% interval of fill rate and unmet demand per region (groups) and scenario (bars)."""
    plt = _plt()
    summ = res.summary()
    regs = regions(res)
    names, colors = scenario_names(res), scenario_colors(res)
    labels = {"fill_rate": ("Fill rate over the horizon", "fill rate (fraction of demand)"),
              "unmet_demand_t": ("Unmet demand over the horizon", "unmet demand (t)"),
              "tts_days": ("Time to survive", "days"), "triangle_days": ("Resilience triangle", "days")}
    panel_w = min(12.0, max(5.0, 2.5 + 0.45 * max(1, len(regs)) * len(res.scenarios)))
    fig, axes = plt.subplots(1, len(kpis), figsize=(panel_w * len(kpis), 4.2), squeeze=False)
    n = max(1, len(res.scenarios))
    width = 0.8 / n
    for a, kpi in enumerate(kpis):
        ax = axes[0][a]
        x = np.arange(len(regs))
        any_bar = False
        for i, s in enumerate(res.scenarios):
            means, lo, hi = [], [], []
            for r in regs:
                st = summ.get(s, {}).get("regions", {}).get(r, {}).get(kpi, {})
                m = _num(st.get("mean"))
                means.append(m)
                lo.append(m - _num(st.get("ci_low")) if st.get("ci_low") is not None else 0.0)
                hi.append(_num(st.get("ci_high")) - m if st.get("ci_high") is not None else 0.0)
            means = np.array(means)
            yerr = np.nan_to_num(np.array([lo, hi]), nan=0.0).clip(min=0)
            if np.isfinite(means).any():
                any_bar = True
            ax.bar(x - 0.4 + width * (i + 0.5), np.nan_to_num(means), width, color=colors[s],
                   alpha=0.85 if s != res.baseline else 0.55, label=names[s], yerr=yerr, capsize=3,
                   error_kw={"lw": 1, "ecolor": "0.2"})
        ax.set_xticks(x)
        ax.set_xticklabels(regs)
        ax.set_xlabel("region")
        t, yl = labels.get(kpi, (kpi, kpi))
        ax.set_title(f"{t} (mean, 95% interval)")
        ax.set_ylabel(yl)
        if kpi == "fill_rate":
            ax.set_ylim(0, 1.08)
        ax.grid(axis="y", alpha=0.3)
        if not any_bar:
            _no_data(ax)
    h, lab = axes[0][0].get_legend_handles_labels()
    if h:
        fig.legend(h, lab, loc="upper center", ncol=min(len(h), 5), frameon=False, bbox_to_anchor=(0.5, 0.0))
    fig.tight_layout()
    return _save(fig, out_path)


# -- forest plot -----------------------------------------------------------------------------------
def _family(metric):
    name = metric.split("[", 1)[0]
    for i, (p, _, _) in enumerate(_FAMILIES):
        if name == p:
            return i
    return None


def forest_plot(res, out_path, include_sectors=False):
    """Paired differences scenario - baseline with (Bonferroni-adjusted) intervals, a line at 0.

    One panel per kind of metric (units differ); rows are ``scenario: metric``.
    Recovery time has no baseline counterpart and is shown as the scenario's
    own mean with its 95% interval.
    """
    plt = _plt()
    diffs = res.differences()
    names, colors = scenario_names(res), scenario_colors(res)
    rows = {i: [] for i in range(len(_FAMILIES))}
    for s, d in diffs.items():
        for k, st in d.items():
            fam = _family(k)
            if fam is None or ("/" in k and not include_sectors):
                continue
            m = _num(st.get("mean"))
            if math.isnan(m):
                continue
            lo, hi = _num(st.get("ci_low")), _num(st.get("ci_high"))
            rows[fam].append((s, k, m, lo, hi))
    fams = [i for i in rows if rows[i]]
    if not fams:
        fig, ax = plt.subplots(figsize=(6, 2.5))
        _no_data(ax, "no paired differences (a single scenario, or fewer than 2 common replications)")
        ax.set_title("Paired differences against the baseline")
        return _save(fig, out_path)
    heights = [max(1.2, 0.32 * len(rows[i]) + 0.9) for i in fams]
    fig, axes = plt.subplots(len(fams), 1, figsize=(8.5, sum(heights) + 0.6), squeeze=False,
                             gridspec_kw={"height_ratios": heights})
    for ax, fam in zip(axes[:, 0], fams):
        rr = rows[fam]
        y = np.arange(len(rr))[::-1]
        for yi, (s, k, m, lo, hi) in zip(y, rr):
            err = None
            if not (math.isnan(lo) or math.isnan(hi)):
                err = [[max(m - lo, 0)], [max(hi - m, 0)]]
            ax.errorbar([m], [yi], xerr=err, fmt="o", color=colors[s], ms=5, capsize=3, lw=1.3)
        ax.set_yticks(y)
        ax.set_yticklabels([f"{names[r[0]]}: {r[1]}" for r in rr], fontsize=8)
        if _FAMILIES[fam][0] != "recovery_months":
            ax.axvline(0, color="0.3", lw=1, ls="--")
        ax.set_title(_FAMILIES[fam][1], fontsize=10, loc="left")
        ax.set_xlabel(_FAMILIES[fam][2])
        ax.grid(axis="x", alpha=0.3)
        ax.set_ylim(-0.7, len(rr) - 0.3)
    fig.suptitle(f"Paired differences against {names.get(res.baseline, res.baseline)} "
                 "(scenario - baseline, Bonferroni-adjusted intervals)", fontsize=11)
    fig.tight_layout()
    return _save(fig, out_path)


# -- supply by origin ------------------------------------------------------------------------------
def _delivered(ms, reg):
    d = ms.get(f"demand_t[{reg}]")
    u = ms.get(f"unmet_demand_t[{reg}]")
    if d is None or u is None:
        return float("nan")
    v = d - u
    v = v[np.isfinite(v)]
    return float(v.mean()) if v.size else float("nan")


def origin_stacks(res, out_path, stage="separation", top=8):
    """Delivered magnets per region split by origin country of ``stage`` (one stacked bar per scenario).

    Tonnes are the mean delivered tonnes (demand - unmet) times the mean share of
    the region's delivered rare earth that passed through ``stage`` in each
    country (``origin_<stage>[REGION:COUNTRY]``). The ``top`` countries keep a
    colour; the rest are summed as "other".
    """
    plt = _plt()
    regs = regions(res)
    names = scenario_names(res)
    data = {}          # (scenario, region) -> {country: tonnes}
    totals = {}
    prefix = f"origin_{stage}["
    for s in res.scenarios:
        ms = res.metrics(s)
        for r in regs:
            tot = _delivered(ms, r)
            sh = {}
            for k, v in ms.items():
                if k.startswith(prefix) and k[len(prefix):-1].split(":", 1)[0] == r:
                    c = k[len(prefix):-1].split(":", 1)[1]
                    sh[c] = float(np.nanmean(np.where(np.isfinite(v), v, 0.0))) if v.size else 0.0
            data[(s, r)] = {c: x * tot for c, x in sh.items() if math.isfinite(tot)}
            for c, t in data[(s, r)].items():
                totals[c] = totals.get(c, 0.0) + t
    countries = sorted(totals, key=lambda c: -totals[c])
    keep = countries[:top]
    other = countries[top:]
    cmap = plt.get_cmap("tab20" if len(keep) > 10 else "tab10")
    ccol = {c: cmap(i % cmap.N) for i, c in enumerate(keep)}
    ccol["other"] = "0.7"
    nc = max(1, len(regs))
    fig, axes = plt.subplots(1, nc, figsize=(max(3.2, 1.0 * len(res.scenarios) + 1.8) * nc + 1.5, 4.4),
                             squeeze=False)
    for j, r in enumerate(regs or [None]):
        ax = axes[0][j]
        if r is None or not countries:
            _no_data(ax, f"no origin_{stage} shares stored")
            continue
        x = np.arange(len(res.scenarios))
        bottom = np.zeros(len(res.scenarios))
        for c in keep + (["other"] if other else []):
            vals = np.array([sum(data.get((s, r), {}).get(cc, 0.0) for cc in (other if c == "other" else [c]))
                             for s in res.scenarios])
            ax.bar(x, vals, 0.65, bottom=bottom, color=ccol[c], label=c, edgecolor="white", lw=0.5)
            bottom += vals
        ax.set_xticks(x)
        ax.set_xticklabels([names[s] for s in res.scenarios], rotation=25, ha="right")
        ax.set_title(f"{r}: delivered magnets by {stage} origin")
        ax.set_ylabel("magnets delivered over the horizon (t)")
        ax.grid(axis="y", alpha=0.3)
    h, lab = axes[0][0].get_legend_handles_labels()
    if h:
        fig.legend(h, lab, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False,
                   title=f"{stage} country")
    fig.tight_layout()
    return _save(fig, out_path)


# -- network map -----------------------------------------------------------------------------------
def load_scenario_model(res, scenario):
    """The model of ``scenario`` as recorded in the manifest, or None if it cannot be loaded.

    Tries the recorded path first; if that fails (another working directory, moved
    files), rebuilds the model from the file texts stored in the manifest.
    """
    from ..model import load_model
    path = res.manifest.get("model_path")
    if not path:
        return None
    sc = None if scenario in (None, "baseline") else scenario
    try:
        return load_model(path, scenario=sc)
    except Exception:
        pass
    files = res.manifest.get("model_files") or {}
    if not isinstance(files, dict) or not files:
        return None
    # the stored texts go into a temporary folder that is removed afterwards; a stored name with
    # '..' or a drive is skipped (files.contained), so nothing is written outside that folder
    with tempfile.TemporaryDirectory(prefix="supplysim-model-") as tmp:
        try:
            write_tree({str(n).lstrip("/"): t for n, t in files.items()}, tmp)
            if sc is not None and sc.endswith(".toml"):
                sc = str(contained(tmp, sc.lstrip("/")))
            return load_model(str(contained(tmp, str(path).lstrip("/"))), scenario=sc)
        except Exception:
            return None


def disrupted_elements(model) -> tuple:
    """``(disrupted, controlled)``: ids of facilities/lanes/sinks named by the model's disruptions
    (expansions excluded) and ids of lanes leaving an export-control issuer's country for a
    destination in the rule's scope."""
    hit = set()
    for d in getattr(model, "disruptions", []) or []:
        if getattr(d, "kind", "") != "expansion":
            hit.update(str(t) for t in getattr(d, "targets", ()) or ())
    ctl = set()
    g = getattr(model, "graph", None)
    for rule in getattr(model, "controls", []) or []:
        issuer = getattr(rule, "issuer", None)
        dest = getattr(rule, "destinations", None)
        excl = set(getattr(rule, "except_destinations", ()) or ())
        for lid, lane in (getattr(model, "lanes", {}) or {}).items():
            src_c = _country(model, g, lane.src)
            dst_c = _country(model, g, lane.dst)
            if src_c != issuer or dst_c == issuer:
                continue
            if dest is not None and dst_c not in dest:
                continue
            if dst_c in excl:
                continue
            ctl.add(lid)
    return hit, ctl


def _country(model, g, node):
    f = model.facilities.get(node) if hasattr(model, "facilities") else None
    if f is not None:
        return f.country
    if g is not None and node in g:
        return g.nodes[node].get("country") or g.nodes[node].get("region")
    return None


def network_figure(res, out_path, flows=True):
    """The network with every facility, lane and sink named by a scenario's disruptions in red and
    lanes out of an export-control issuer's country in orange; lane width ~ mean baseline trade."""
    plt = _plt()
    base = load_scenario_model(res, res.baseline)
    disrupted, controlled = set(), set()
    for s in res.scenarios:
        if s == res.baseline:
            continue
        m = load_scenario_model(res, s)
        if m is None:
            continue
        h, c = disrupted_elements(m)
        disrupted |= h
        controlled |= c
        if base is None:
            base = m
    if base is None:
        fig, ax = plt.subplots(figsize=(6, 2.5))
        _no_data(ax, "model files not found: network map skipped")
        return _save(fig, out_path)
    trade = {}
    if flows:
        ms = res.metrics(res.baseline)
        for lid, lane in base.lanes.items():
            a, b = _country(base, base.graph, lane.src), _country(base, base.graph, lane.dst)
            v = ms.get(f"trade_t[{a}>{b}:{lane.commodity}]")
            if v is not None and np.isfinite(v).any():
                trade[lid] = float(np.nanmean(v))
    try:  # a richer map, if the project provides one
        from .network import draw_network
        try:
            return Path(draw_network(base, out_path, flows=trade or None,
                                     highlight=tuple(sorted(disrupted | controlled))))
        except Exception:
            pass
    except ImportError:
        pass
    return _own_network(plt, base, out_path, disrupted, controlled, trade, res)


def _own_network(plt, model, out_path, disrupted, controlled, trade, res):
    try:
        from ..analysis.figures import layered_positions
        pos = layered_positions(model)
    except Exception:
        pos = {n: (float(i % 6), float(i // 6)) for i, n in enumerate(model.graph.nodes)}
    g = model.graph
    cols = {p[0] for p in pos.values()} or {0}
    h = max(4.0, 0.6 * max(sum(1 for p in pos.values() if p[0] == c) for c in cols) + 1.5)
    fig, ax = plt.subplots(figsize=(12, h))
    tmax = max(trade.values()) if trade else 0.0
    for u, v, k, a in g.edges(keys=True, data=True):
        if u not in pos or v not in pos:
            continue
        if k in disrupted:
            color, lw = "tab:red", 2.8
        elif k in controlled:
            color, lw = "tab:orange", 2.4
        else:
            color = "0.6"
            lw = 0.8 + (3.0 * trade.get(k, 0.0) / tmax if tmax > 0 else 0.0)
        ax.annotate("", xy=pos[v], xytext=pos[u],
                    arrowprops=dict(arrowstyle="-|>", color=color, lw=lw, shrinkA=9, shrinkB=9,
                                    connectionstyle="arc3,rad=0.08"))
    for n, a in g.nodes(data=True):
        if n not in pos:
            continue
        x, y = pos[n]
        demand = a.get("kind") == "demand" or a.get("stage") in ("buffer", "buyer")
        on = n in disrupted
        ax.scatter([x], [y], s=170, marker="s" if demand else "o", zorder=3,
                   color="tab:red" if on else ("tab:green" if demand else "tab:blue"),
                   edgecolor="black" if on else "none", lw=1.2)
        ax.text(x, y - 0.22, f"{n}\n{a.get('country', a.get('region', ''))}", ha="center", va="top", fontsize=7)
    names = ["mine / source", "cracking", "separation", "metal / alloy", "magnet", "buyers / demand"]
    ax.set_xticks(range(6))
    ax.set_xticklabels(names)
    ax.set_yticks([])
    ax.set_xlim(-0.6, 5.6)
    ys = [p[1] for p in pos.values()] or [0.0]
    ax.set_ylim(min(ys) - 0.9, max(ys) + 0.6)
    for s in ("top", "right", "left"):
        ax.spines[s].set_visible(False)
    from matplotlib.lines import Line2D
    handles = [Line2D([], [], color="tab:red", lw=2.8, label="disrupted (facility outage, lane closure/delay)"),
               Line2D([], [], color="tab:orange", lw=2.4, label="lane out of an export-control issuer"),
               Line2D([], [], color="0.6", lw=2, label="lane (width ~ baseline trade, t)"),
               Line2D([], [], marker="o", color="tab:blue", ls="", label="facility"),
               Line2D([], [], marker="s", color="tab:green", ls="", label="stocking point / demand")]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=3, frameon=False, fontsize=8)
    ax.set_title(f"{model.name}: network, with what the scenarios disrupt or control")
    fig.tight_layout()
    return _save(fig, out_path)


# -- time to survive vs time to recover ------------------------------------------------------------
def tts_ttr(res, out_path):
    """Time to survive (mean ``tts_days``) against time to recover (mean ``recovery_months`` x 30.4
    days) per region and scenario; the diagonal TTS = TTR. Points below it are exposures (the region
    runs short before the network recovers). A scenario that never recovers within the horizon is
    drawn at the horizon as an open triangle (censored)."""
    plt = _plt()
    summ = res.summary()
    diffs = res.differences()
    names, colors = scenario_names(res), scenario_colors(res)
    horizon = _num(res.manifest.get("horizon_days"))
    markers = ["o", "s", "D", "^", "v", "P", "X", "*", "h"]
    regs = regions(res)
    fig, ax = plt.subplots(figsize=(6.8, 5.6))
    pts = []
    for s in res.scenarios:
        if s == res.baseline:
            continue
        for j, r in enumerate(regs):
            tts = _num(summ.get(s, {}).get("regions", {}).get(r, {}).get("tts_days", {}).get("mean"))
            rec = diffs.get(s, {}).get(f"recovery_months[{r}]", {})
            ttr = _num(rec.get("mean")) * DAYS_PER_MONTH
            censored = math.isnan(ttr)
            if censored:
                if math.isnan(horizon):
                    continue
                ttr = horizon
            if math.isnan(tts):
                continue
            pts.append((ttr, tts))
            ax.scatter([ttr], [tts], marker=markers[j % len(markers)], s=70, zorder=3,
                       facecolor="none" if censored else colors[s], edgecolor=colors[s], lw=1.6)
            ax.annotate(f"{r}", (ttr, tts), textcoords="offset points", xytext=(6, 4), fontsize=8)
    if not pts:
        _no_data(ax, "no time-to-survive / recovery values (a disruption scenario is needed)")
        ax.set_title("Time to survive vs time to recover")
        return _save(fig, out_path)
    hi = max(max(p) for p in pts) * 1.1 + 1
    ax.plot([0, hi], [0, hi], color="0.4", ls="--", lw=1)
    ax.fill_between([0, hi], [0, 0], [0, hi], color="tab:red", alpha=0.06)
    ax.text(hi * 0.97, hi * 0.05, "exposed: TTS < TTR", ha="right", color="tab:red", fontsize=9)
    ax.text(hi * 0.03, hi * 0.93, "resilient: TTS > TTR", ha="left", color="tab:green", fontsize=9)
    ax.set_xlim(0, hi)
    ax.set_ylim(0, hi)
    ax.set_xlabel(f"time to recover (days; recovery months x {DAYS_PER_MONTH})")
    ax.set_ylabel("time to survive (days from disruption start)")
    ax.set_title("Time to survive vs time to recover (scenario means)")
    from matplotlib.lines import Line2D
    handles = [Line2D([], [], marker="o", ls="", color=colors[s], label=names[s])
               for s in res.scenarios if s != res.baseline]
    handles += [Line2D([], [], marker=markers[j % len(markers)], ls="", color="0.3", label=f"region {r}")
                for j, r in enumerate(regs)]
    handles.append(Line2D([], [], marker="o", ls="", markerfacecolor="none", markeredgecolor="0.3",
                          label="not recovered by horizon"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False, fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return _save(fig, out_path)
