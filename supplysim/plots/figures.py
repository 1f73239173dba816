"""Figures of a stored experiment, drawn from the store and the model alone (no simulation).

Every function takes an :class:`~supplysim.experiment.experiment.ExperimentResults` and an output
path, writes the figure (format from the suffix; the report writes PNG and SVG) and returns the
path. Figures are drawn at the size the report shows them: :data:`WIDTH_IN` inches at :data:`DPI`
is the report's column width, and small multiples get at least :data:`PANEL_H_IN` (400 px) of
height per panel. matplotlib is imported inside the functions with the Agg backend.

Examples
--------
>>> round(WIDTH_IN * DPI), round(PANEL_H_IN * DPI) >= 400
(1100, True)
"""
from __future__ import annotations

import math
import tempfile
from pathlib import Path

import numpy as np

from .. import catalogue as cat

__all__ = ["headline_impact", "monthly_supply", "price_paths", "forest_plot", "origin_stacks", "network_figure",
           "survive_recover",
           "scenario_names", "scenario_colors", "load_scenario_model", "disrupted_elements", "DPI", "WIDTH_IN",
           "PANEL_H_IN"]

DPI = 110
WIDTH_IN = 10.0          # 1,100 px: the report's column
PANEL_H_IN = 3.7         # 407 px per small-multiple panel


# -- helpers ---------------------------------------------------------------------------------------
def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _save(fig, out_path):
    """Save at the report's resolution, keeping the size the figure was laid out for; a PNG also
    gets an SVG beside it."""
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_path, dpi=DPI)
    if out_path.suffix.lower() == ".png":
        fig.savefig(out_path.with_suffix(".svg"))
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


def _short(text, n=26):
    """A tick label that leaves the panel room: long names cut with an ellipsis (legends keep them whole)."""
    text = str(text)
    return text if len(text) <= n else text[: n - 1] + "\u2026"


def _grid(n, ncols=2):
    ncols = max(1, min(ncols, n))
    return int(math.ceil(n / ncols)), ncols


def _year_axis(ax):
    """Date ticks at each new year, labelled with the year alone: month labels collide at panel width."""
    import matplotlib.dates as mdates
    ax.xaxis.set_major_locator(mdates.YearLocator())
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))


def _title_with_unit(m):
    """``label (unit)`` without repeating a unit the label already ends with (``demand lost (t)``)."""
    label = m.label[: -len(m.unit) - 1] if m.label.endswith(" " + m.unit) else m.label
    return f"{label} ({m.unit})"


def _legend_below(fig, handles, labels, ncol=4):
    if handles:
        fig.legend(handles, labels, loc="lower center", ncol=min(len(handles), ncol), frameon=False,
                   bbox_to_anchor=(0.5, 0.0))


# -- the headline figure -----------------------------------------------------------------------------
def headline_impact(res, out_path):
    """Which region is hurt and how much: demand lost (% of demand) per region, one marker per scenario
    with its 95% interval, beside the months short. Regions are sorted by the largest loss."""
    plt = _plt()
    summ = res.summary()
    names, colors = scenario_names(res), scenario_colors(res)
    regs = res.regions()

    def est(s, r, m):
        return _num((summ[s]["regions"].get(r, {}).get(m) or {}).get("estimate"))
    worst = {r: max([est(s, r, "demand_lost_pct") for s in res.scenarios if not math.isnan(est(s, r, "demand_lost_pct"))]
                    or [0.0]) for r in regs}
    regs = sorted(regs, key=lambda r: worst[r])
    h = max(PANEL_H_IN, 0.45 * len(regs) * max(1, len(res.scenarios)) * 0.45 + 1.6)
    fig, axes = plt.subplots(1, 2, figsize=(WIDTH_IN, h), gridspec_kw={"width_ratios": [3, 2]}, sharey=True,
                             layout="constrained")
    n = len(res.scenarios)
    off = (np.arange(n) - (n - 1) / 2) * (0.7 / max(n, 1))
    for ax, metric, title in ((axes[0], "demand_lost_pct", "Demand lost (% of the region's demand)"),
                              (axes[1], "months_short", "Months short (deliveries < 90% of demand)")):
        for i, s in enumerate(res.scenarios):
            for y, r in enumerate(regs):
                st = summ[s]["regions"].get(r, {}).get(metric) or {}
                m = _num(st.get("estimate"))
                if math.isnan(m):
                    continue
                lo, hi = _num(st.get("ci_low")), _num(st.get("ci_high"))
                err = None if math.isnan(lo) else [[max(m - lo, 0)], [max(hi - m, 0)]]
                ax.errorbar([m], [y + off[i]], xerr=err, fmt="o", color=colors[s], ms=6, capsize=3, lw=1.4,
                            label=_short(names[s], 48) if y == 0 else None)
        ax.set_title(title, fontsize=10, loc="left")
        hi = ax.get_xlim()[1]
        ax.set_xlim(-0.02 * hi, hi)   # markers at 0 stay whole
        ax.grid(axis="x", alpha=0.3)
        for y in range(len(regs) - 1):
            ax.axhline(y + 0.5, color="0.9", lw=0.8)
    axes[0].set_yticks(range(len(regs)), regs)
    axes[0].set_ylim(-0.6, len(regs) - 0.4)
    axes[0].set_xlabel("% of demand not delivered by the end of the horizon")
    axes[1].set_xlabel("months")
    hd, lb = axes[0].get_legend_handles_labels()
    fig.legend(hd, lb, loc="outside lower center", ncol=min(len(hd), 4), frameon=False)
    return _save(fig, out_path)


# -- monthly deliveries ----------------------------------------------------------------------------
def _series(res, names=("delivered_t", "demand_t", "backlog_t")) -> dict:
    """``{(scenario, series, key): (dates, mean, p05, p50, p95)}`` for the series named."""
    out = {}
    for s, name, key, months, mean, p05, p50, p95 in res.timeseries():
        if name in names and months:
            dates = np.array([np.datetime64(f"{m}-15") for m in months]).astype("datetime64[D]").astype(object)
            out[(s, name, str(key))] = (dates, np.asarray(mean), np.asarray(p05), np.asarray(p50), np.asarray(p95))
    return out


def _bands(ax, res, ser, metric, key, names, colors, lw):
    """Each scenario's median of ``metric[key]`` as a line over its 90% band (P5-P95); whether any
    scenario had the series."""
    drawn = False
    for s in res.scenarios:
        d = ser.get((s, metric, key))
        if d is None:
            continue
        dates, _, p05, p50, p95 = d
        ax.fill_between(dates, p05, p95, color=colors[s], alpha=0.15, linewidth=0)
        ax.plot(dates, p50, color=colors[s], lw=lw, label=_short(names[s], 48))
        drawn = True
    return drawn


def monthly_supply(res, out_path):
    """Per region (small multiples, 2 columns): magnets delivered per month, median over replications
    and 90% band (P5-P95), scenarios overlaid; the baseline's median demand dashed."""
    plt = _plt()
    ser = _series(res)
    regs = res.regions()
    names, colors = scenario_names(res), scenario_colors(res)
    nr, nc = _grid(max(1, len(regs)))
    fig, axes = plt.subplots(nr, nc, figsize=(WIDTH_IN, PANEL_H_IN * nr + 0.5), squeeze=False, sharex=True,
                             layout="constrained")
    for k, reg in enumerate(regs or [None]):
        ax = axes[k // nc][k % nc]
        drawn = _bands(ax, res, ser, "delivered_t", reg, names, colors, lw=1.5)
        d = ser.get((res.baseline, "demand_t", reg))
        if d is not None:
            ax.plot(d[0], d[3], color="0.35", lw=1.0, ls="--", label="demand (baseline median)")
        if not drawn:
            _no_data(ax)
        ax.set_title(f"{reg}: delivered per month", fontsize=10, loc="left")
        ax.set_ylabel("t/month")
        ax.set_ylim(bottom=0)
        _year_axis(ax)
        ax.grid(alpha=0.3)
    for k in range(len(regs or [None]), nr * nc):
        axes[k // nc][k % nc].set_visible(False)
    hd, lb = axes[0][0].get_legend_handles_labels()
    fig.legend(hd, lb, loc="outside lower center", ncol=min(len(hd), 4), frameon=False)
    return _save(fig, out_path)


# -- prices ----------------------------------------------------------------------------------------
def price_paths(res, out_path):
    """Per priced commodity and market (small multiples, 2 columns): the month-end price, median over
    replications and 90% band (P5-P95), scenarios overlaid, on a log scale (a 10x rise and a halving
    read the same distance from the reference)."""
    plt = _plt()
    from matplotlib import ticker
    ser = _series(res, ("price",))
    keys = sorted({k for (_, _, k) in ser})
    names, colors = scenario_names(res), scenario_colors(res)
    nr, nc = _grid(max(1, len(keys)))
    fig, axes = plt.subplots(nr, nc, figsize=(WIDTH_IN, 0.7 * PANEL_H_IN * nr + 0.6), squeeze=False, sharex=True,
                             layout="constrained")
    for k, key in enumerate(keys or [None]):
        ax = axes[k // nc][k % nc]
        drawn = _bands(ax, res, ser, "price", key, names, colors, lw=1.4)
        if not drawn:
            _no_data(ax, "no prices")
            continue
        ax.set_yscale("log")
        plain = ticker.FuncFormatter(lambda v, _: f"{v:,.4g}")
        ax.yaxis.set_major_formatter(plain)
        ax.yaxis.set_minor_formatter(ticker.NullFormatter())
        ax.yaxis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
        _year_axis(ax)
        ax.set_title(cat.price_label(str(key), res.manifest.get("markets")), fontsize=10, loc="left")
        ax.set_ylabel("$/kg")
        ax.grid(alpha=0.3, which="both")
    for k in range(len(keys or [None]), nr * nc):
        axes[k // nc][k % nc].set_visible(False)
    hd, lb = axes[0][0].get_legend_handles_labels()
    fig.legend(hd, lb, loc="outside lower center", ncol=min(max(len(hd), 1), 4), frameon=False)
    return _save(fig, out_path)


# -- forest plot -----------------------------------------------------------------------------------
_FOREST = ("delivered_share", "demand_lost_t", "months_short", "peak_backlog_t")


def forest_plot(res, out_path, metrics=_FOREST):
    """Paired differences scenario - baseline per region, one panel per metric (units differ), with
    Bonferroni-adjusted intervals and a line at no difference."""
    plt = _plt()
    diffs = res.differences()
    names, colors = scenario_names(res), scenario_colors(res)
    others = [s for s in res.scenarios if s != res.baseline]
    regs = res.regions()
    if not others or not diffs:
        fig, ax = plt.subplots(figsize=(WIDTH_IN, 2.5), layout="constrained")
        _no_data(ax, "no paired differences (a single scenario, or fewer than 2 common replications)")
        return _save(fig, out_path)
    nr, nc = _grid(len(metrics))
    h = max(PANEL_H_IN, 0.28 * len(regs) * len(others) + 1.3)
    fig, axes = plt.subplots(nr, nc, figsize=(WIDTH_IN, h * nr + 0.5), squeeze=False, sharey=True,
                             layout="constrained")
    n = len(others)
    off = (np.arange(n) - (n - 1) / 2) * (0.7 / n)
    for k, metric in enumerate(metrics):
        ax = axes[k // nc][k % nc]
        m = cat.get(metric)
        for i, s in enumerate(others):
            for y, r in enumerate(regs):
                st = diffs.get(s, {}).get(f"{metric}[{r}]") or {}
                v = _num(st.get("estimate"))
                if math.isnan(v):
                    continue
                lo, hi = _num(st.get("ci_low")), _num(st.get("ci_high"))
                err = None if math.isnan(lo) else [[max(v - lo, 0)], [max(hi - v, 0)]]
                ax.errorbar([v], [y + off[i]], xerr=err, fmt="o", color=colors[s], ms=5, capsize=3, lw=1.2,
                            label=_short(names[s], 48) if y == 0 and k == 0 else None)
        ax.axvline(0, color="0.3", lw=1, ls="--")
        ax.set_title(f"{_title_with_unit(m)}: scenario - baseline", fontsize=10, loc="left")
        ax.grid(axis="x", alpha=0.3)
        ax.set_yticks(range(len(regs)), regs)
        ax.set_ylim(-0.6, len(regs) - 0.4)
    for k in range(len(metrics), nr * nc):
        axes[k // nc][k % nc].set_visible(False)
    hd, lb = axes[0][0].get_legend_handles_labels()
    fig.legend(hd, lb, loc="outside lower center", ncol=min(len(hd), 4), frameon=False)
    return _save(fig, out_path)


# -- supply by origin ------------------------------------------------------------------------------
def origin_stacks(res, out_path, stage="separation", top=8):
    """Magnets delivered per region split by the country where their rare earths passed ``stage``
    (one stacked bar per scenario; small multiples, 2 columns).

    Tonnes are the mean delivered tonnes (``delivered_t``, late deliveries included) times the mean
    share of the region's delivered rare earth that passed the stage in each country
    (``origin_share[REGION:stage:COUNTRY]``). The ``top`` countries keep a colour; the rest are "other".
    """
    plt = _plt()
    regs = res.regions()
    names = scenario_names(res)
    data, totals = {}, {}
    for s in res.scenarios:
        ms = res.metrics(s)
        for r in regs:
            tot = ms.get(f"delivered_t[{r}]")
            tot = float(np.nanmean(tot)) if tot is not None and np.isfinite(tot).any() else float("nan")
            pre = f"origin_share[{r}:{stage}:"
            sh = {k[len(pre):-1]: float(np.nanmean(np.where(np.isfinite(v), v, 0.0)))
                  for k, v in ms.items() if k.startswith(pre) and v.size}
            data[(s, r)] = {c: x * tot for c, x in sh.items() if math.isfinite(tot)}
            for c, t in data[(s, r)].items():
                totals[c] = totals.get(c, 0.0) + t
    countries = sorted(totals, key=lambda c: -totals[c])
    keep, other = countries[:top], countries[top:]
    cmap = plt.get_cmap("tab10")
    ccol = {c: cmap(i % cmap.N) for i, c in enumerate(keep)}
    ccol["other"] = "0.7"
    from matplotlib.ticker import FuncFormatter, MaxNLocator
    nr, nc = _grid(max(1, len(regs)))
    fig, axes = plt.subplots(nr, nc, figsize=(WIDTH_IN, PANEL_H_IN * nr + 0.6), squeeze=False, layout="constrained")
    for k, r in enumerate(regs or [None]):
        ax = axes[k // nc][k % nc]
        if r is None or not countries:
            _no_data(ax, f"no origin shares for {stage} stored")
            continue
        y = np.arange(len(res.scenarios))[::-1]
        left = np.zeros(len(res.scenarios))
        for c in keep + (["other"] if other else []):
            vals = np.array([sum(data.get((s, r), {}).get(cc, 0.0) for cc in (other if c == "other" else [c]))
                             for s in res.scenarios])
            ax.barh(y, vals, 0.6, left=left, color=ccol[c], label=c, edgecolor="white", lw=0.5)
            left += vals
        ax.set_yticks(y, [_short(names[s]) for s in res.scenarios], fontsize=8)
        ax.set_title(f"{r}: delivered, by {stage} country", fontsize=10, loc="left")
        ax.set_xlabel("magnets delivered over the horizon (kt)")
        ax.xaxis.set_major_locator(MaxNLocator(5))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v / 1000:,.0f}" if v >= 1000 or v == 0
                                                   else f"{v / 1000:.2g}"))
        ax.grid(axis="x", alpha=0.3)
    for k in range(len(regs or [None]), nr * nc):
        axes[k // nc][k % nc].set_visible(False)
    hd, lb = axes[0][0].get_legend_handles_labels()
    if hd:
        fig.legend(hd, lb, loc="outside lower center", ncol=min(len(hd), 9), frameon=False,
                   title=f"{stage} country")
    return _save(fig, out_path)


# -- time to survive and to recover ----------------------------------------------------------------
def survive_recover(res, out_path):
    """Time to survive and time to recover per region and scenario (Kaplan-Meier median, 95% interval).

    A median that the replications do not reach before the horizon (most of them censored) is not
    drawn as a value: a hollow marker at the censoring time with an arrow says "beyond", and the
    number censored is written beside it.
    """
    plt = _plt()
    summ = res.summary()
    names, colors = scenario_names(res), scenario_colors(res)
    others = [s for s in res.scenarios if s != res.baseline] or list(res.scenarios)
    regs = res.regions()
    fig, axes = plt.subplots(1, 2, figsize=(WIDTH_IN, max(PANEL_H_IN, 0.3 * len(regs) * len(others) + 1.5)),
                             sharey=True, layout="constrained")
    n = len(others)
    off = (np.arange(n) - (n - 1) / 2) * (0.7 / n)
    any_drawn = False
    ends = [_num((summ[s]["regions"].get(r, {}).get(m) or {}).get(k)) for s in others for r in regs
            for m in ("time_to_survive_days", "time_to_recover_days") for k in ("censored_at", "ci_high", "estimate")]
    xmax = max([e for e in ends if not math.isnan(e)] or [1.0])
    for ax, metric, title in ((axes[0], "time_to_survive_days", "Time to survive: first unmet demand"),
                              (axes[1], "time_to_recover_days", "Time to recover: end of the last short month")):
        for i, s in enumerate(others):
            for y, r in enumerate(regs):
                st = summ[s]["regions"].get(r, {}).get(metric)
                if not st or not st.get("n"):
                    continue
                yy = y + off[i]
                k, nn = st.get("n_censored", 0), st.get("n", 0)
                m = _num(st.get("estimate"))
                if math.isnan(m):
                    at = _num(st.get("censored_at"))
                    if math.isnan(at):
                        continue
                    ax.scatter([at], [yy], marker="o", facecolor="white", edgecolor=colors[s], s=40, zorder=3)
                    ax.annotate("", xy=(at * 1.06 + 5, yy), xytext=(at, yy),
                                arrowprops=dict(arrowstyle="->", color=colors[s], lw=1.2))
                    ax.text(at * 1.08 + 8, yy, f"beyond ({k}/{nn} censored)", va="center", fontsize=7,
                            color=colors[s])
                else:
                    lo, hi = _num(st.get("ci_low")), _num(st.get("ci_high"))
                    hi_open = math.isnan(hi)
                    hi = _num(st.get("censored_at")) if hi_open else hi
                    if not math.isnan(lo) and not math.isnan(hi):
                        ax.plot([lo, hi], [yy, yy], color=colors[s], lw=1.4)
                    ax.scatter([m], [yy], marker="o", color=colors[s], s=36, zorder=3)
                    if k:
                        ax.text(max(m, hi if not math.isnan(hi) else m) + 8, yy, f"{k}/{nn} censored", va="center",
                                fontsize=7, color=colors[s])
                any_drawn = True
        ax.set_title(title, fontsize=10, loc="left")
        ax.set_xlabel("days from the start of the first disruption or control")
        ax.set_xlim(-0.02 * xmax, xmax * 1.4)   # room for the "beyond" notes
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(range(len(regs)), regs)
    axes[0].set_ylim(-0.6, len(regs) - 0.4)
    if not any_drawn:
        for ax in axes:
            _no_data(ax, "undefined: no scenario has a disruption or control")
    from matplotlib.lines import Line2D
    hd = [Line2D([], [], marker="o", ls="", color=colors[s], label=_short(names[s], 48)) for s in others]
    hd.append(Line2D([], [], marker="o", ls="", markerfacecolor="white", markeredgecolor="0.3",
                     label="median beyond the horizon (censored)"))
    fig.legend(handles=hd, loc="outside lower center", ncol=min(len(hd), 4), frameon=False)
    return _save(fig, out_path)


# -- network map -----------------------------------------------------------------------------------
def load_scenario_model(res, scenario):
    """The model of ``scenario`` as recorded in the manifest, or None if it cannot be loaded.

    Tries the recorded path first; if that fails (another working directory, moved files), rebuilds
    the model from the file texts stored in the manifest in a temporary folder that is removed after;
    a stored name with '..' or a drive is skipped (files.contained), so nothing is written outside it.
    """
    from ..experiment.files import contained, write_tree
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
    (expansions excluded) and ids of lanes an export-control rule can reach
    (:func:`supplysim.model.customs.reaches`)."""
    hit = set()
    for d in getattr(model, "disruptions", []) or []:
        if getattr(d, "kind", "") != "expansion":
            hit.update(str(t) for t in getattr(d, "targets", ()) or ())
    from ..model.customs import lanes_reached
    ctl = set()
    for rule in getattr(model, "controls", []) or []:
        ctl.update(lanes_reached(model, rule))
    return hit, ctl


def network_figure(res, out_path):
    """The network of the baseline model, every facility and lane a scenario disrupts or controls in
    red; arrow widths from the static maximum flow (:mod:`supplysim.analysis`), not a simulation."""
    plt = _plt()
    from .network import draw_network, static_flows
    base = load_scenario_model(res, res.baseline)
    highlight = set()
    for s in res.scenarios:
        if s == res.baseline:
            continue
        m = load_scenario_model(res, s)
        if m is None:
            continue
        h, c = disrupted_elements(m)
        highlight |= h | c
        base = base or m
    if base is None:
        fig, ax = plt.subplots(figsize=(WIDTH_IN, 2.5))
        _no_data(ax, "model files not found: network map skipped")
        return _save(fig, out_path)
    flows = static_flows(base)
    out_path = Path(out_path)
    if out_path.suffix.lower() == ".png":
        draw_network(base, out_path.with_suffix(".svg"), flows=flows, highlight=highlight, width_in=WIDTH_IN, dpi=DPI)
    return Path(draw_network(base, out_path, flows=flows, highlight=highlight, width_in=WIDTH_IN, dpi=DPI))
