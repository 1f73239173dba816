"""Figures for the static analysis: the network with its cut, and bounds per region.

matplotlib is imported inside each function, with the Agg backend, so that
importing :mod:`supplysim.analysis` never needs it.

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> from supplysim.analysis import capacity_bounds
>>> from supplysim.model import load_model
>>> from supplysim.paths import models_dir
>>> m = load_model(models_dir() / "examples" / "tutorial.toml")
>>> b = capacity_bounds(m)
>>> d = Path(tempfile.mkdtemp())
>>> cut = network_map(m, d / "cut.png", highlight=[c["id"] for c in b["all"]["cut_facilities"]])
>>> bars = bounds_bars({"baseline": b}, d / "bounds.png")
>>> sorted(p.name for p in d.iterdir())
['bounds.png', 'cut.png']
"""
from __future__ import annotations

import math

__all__ = ["STAGE_COLUMNS", "layered_positions", "network_map", "bounds_bars"]

#: Column of each known stage in the layered layout (mine on the left, demand on the right).
STAGE_COLUMNS = {"mine": 0, "source": 0, "scrap": 0, "cracking": 1, "concentration": 1, "beneficiation": 1,
                 "separation": 2, "refining": 2, "metallisation": 3, "metal": 3, "alloying": 3, "alloy": 3,
                 "recycling": 3, "magnet": 4, "buyer": 5, "buffer": 5, "demand": 5}


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def layered_positions(model) -> dict:
    """``{node: (x, y)}``: stages as columns, nodes spread evenly within a column.

    Unknown stages go one column right of their furthest-left supplier.
    """
    g = model.graph
    col = {}
    for n, a in g.nodes(data=True):
        st = a.get("stage")
        if a.get("kind") == "demand" and any(True for _ in g.predecessors(n)) and \
                all(g.nodes[p].get("stage") in ("buyer", "buffer") for p in g.predecessors(n)):
            col[n] = 6  # sinks drawing from a buyer node get a column of their own
        elif st in STAGE_COLUMNS:
            col[n] = STAGE_COLUMNS[st]
    for _ in range(len(g)):
        changed = False
        for n in g.nodes:
            if n in col:
                continue
            preds = [col[p] for p in g.predecessors(n) if p in col]
            if preds:
                col[n] = min(max(preds) + 1, 5)
                changed = True
        if not changed:
            break
    for n in g.nodes:
        col.setdefault(n, 0)
    by_col = {}
    for n in sorted(g.nodes, key=lambda n: (g.nodes[n].get("country", ""), str(n))):
        by_col.setdefault(col[n], []).append(n)
    pos = {}
    for c, ns in by_col.items():
        k = len(ns)
        for i, n in enumerate(ns):
            pos[n] = (float(c), (k - 1) / 2.0 - i)
    return pos


def network_map(model, out_path, highlight=(), title=None):
    """Draw the network in layers, with the facilities and lanes in ``highlight`` in red.

    Parameters
    ----------
    model : Model
    out_path : str or Path
        Where to write the figure (format from the suffix).
    highlight : iterable of str
        Facility and lane ids to mark (for example the minimum cut).
    title : str, optional
    """
    plt = _plt()
    hl = set(highlight)
    g = model.graph
    pos = layered_positions(model)
    h = max(4.0, 0.55 * max(sum(1 for p in pos.values() if p[0] == c) for c in {p[0] for p in pos.values()}))
    fig, ax = plt.subplots(figsize=(12, h))
    for u, v, k, a in g.edges(keys=True, data=True):
        x0, y0 = pos[u]
        x1, y1 = pos[v]
        on = k in hl
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                    arrowprops=dict(arrowstyle="-|>", color="tab:red" if on else "0.6", lw=2.5 if on else 0.8,
                                    shrinkA=8, shrinkB=8, connectionstyle="arc3,rad=0.08"))
    for n, a in g.nodes(data=True):
        x, y = pos[n]
        on = n in hl
        demand = a.get("kind") == "demand" or a.get("stage") == "buffer"
        ax.scatter([x], [y], s=160, marker="s" if demand else "o", zorder=3,
                   color="tab:red" if on else ("tab:green" if demand else "tab:blue"),
                   edgecolor="black" if on else "none")
        ax.text(x, y - 0.28, f"{n}\n{a.get('country', '')}", ha="center", va="top", fontsize=7)
    names = ["mine", "cracking", "separation", "metal / alloy", "magnet", "buyers / demand"]
    if any(p[0] == 6 for p in pos.values()):
        names.append("sinks")
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names)
    ax.set_yticks([])
    ax.set_xlim(-0.6, len(names) - 0.4)
    ys = [p[1] for p in pos.values()] or [0.0]
    ax.set_ylim(min(ys) - 0.9, max(ys) + 0.6)
    for s in ("top", "right", "left"):
        ax.spines[s].set_visible(False)
    ax.set_title(title or f"{model.name}: network (red: minimum cut)")
    fig.tight_layout()
    fig.savefig(out_path, dpi=120)
    plt.close(fig)
    return out_path


def bounds_bars(results_by_scenario, out_path, unit=None, include_all=True):
    """The bound per region (columns) under each scenario (rows) as a table of coloured cells: each
    cell gives the bound (t/yr) and its share of the region's demand, coloured by that share
    (red below demand, green at or above it).

    Parameters
    ----------
    results_by_scenario : dict
        ``{scenario: capacity_bounds(...) result}``.
    out_path : str or Path
        Where to write the figure (format from the suffix).
    unit : str, optional
        Unit named in the title (default t/yr).
    include_all : bool
        Also show the ``all`` (every region together) column.

    Examples
    --------
    >>> import tempfile
    >>> b = {"EU": {"bound_t_yr": 900.0, "demand_t_yr": 1200.0}, "all": {"bound_t_yr": 3000.0, "demand_t_yr": 3700.0}}
    >>> out = bounds_bars({"baseline": b, "ban": {**b, "EU": {"bound_t_yr": 0.0, "demand_t_yr": 1200.0}}},
    ...                   tempfile.mktemp(suffix=".png"))
    """
    plt = _plt()
    import numpy as np
    scen = list(results_by_scenario)
    regions = []
    for r in results_by_scenario.values():
        for k in r:
            if k not in regions and (include_all or k != "all"):
                regions.append(k)
    regions = [k for k in regions if k != "all"] + (["all"] if "all" in regions else [])
    cover = np.full((len(scen), len(regions)), np.nan)
    text = [["" for _ in regions] for _ in scen]
    for i, s in enumerate(scen):
        for j, reg in enumerate(regions):
            b = results_by_scenario[s].get(reg, {})
            bd, dem = b.get("bound_t_yr"), b.get("demand_t_yr")
            if bd is None:
                continue
            if math.isinf(bd):
                text[i][j], cover[i, j] = "unbounded", 2.0
                continue
            c = bd / dem if dem else float("nan")
            cover[i, j] = c
            text[i][j] = f"{bd / 1000:,.1f} kt" + (f"\n{c:.0%}" if math.isfinite(c) else "")
    w = min(11.0, 1.6 + 1.15 * len(regions) + 0.07 * max([len(s) for s in scen] or [8]))
    fig, ax = plt.subplots(figsize=(w, 0.5 * len(scen) + 1.6), layout="constrained")
    ax.imshow(np.clip(cover, 0, 1.2), cmap="RdYlGn", vmin=0.4, vmax=1.2, aspect="auto")
    for i in range(len(scen)):
        for j in range(len(regions)):
            ax.text(j, i, text[i][j], ha="center", va="center", fontsize=7.5)
    ax.set_xticks(range(len(regions)), regions)
    ax.set_yticks(range(len(scen)), scen, fontsize=8)
    ax.xaxis.tick_top()
    ax.set_title(f"Capacity bound per demand region ({unit or 't/yr'}) and its share of demand", fontsize=10,
                 loc="left")
    fig.savefig(out_path, dpi=110)
    plt.close(fig)
    return out_path
