"""Figures for the static analysis: bounds per region (the network with its cut is drawn by
:func:`supplysim.plots.network.draw_network`).

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
>>> bars = bounds_bars({"baseline": b}, d / "bounds.png")
>>> sorted(p.name for p in d.iterdir())
['bounds.png']
"""
from __future__ import annotations

import math

__all__ = ["bounds_bars"]

def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _ink(im, value):
    """Black text on light cells, white on dark ones (by the cell colour's luminance)."""
    if value != value:   # NaN: an empty cell
        return "black"
    r, g, b, _ = im.cmap(im.norm(min(max(value, 0.0), 1.2)))
    return "white" if 0.299 * r + 0.587 * g + 0.114 * b < 0.5 else "black"


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
    im = ax.imshow(np.clip(cover, 0, 1.2), cmap="RdYlGn", vmin=0.4, vmax=1.2, aspect="auto")
    for i in range(len(scen)):
        for j in range(len(regions)):
            ax.text(j, i, text[i][j], ha="center", va="center", fontsize=7.5, color=_ink(im, cover[i, j]))
    ax.set_xticks(range(len(regions)), regions)
    ax.set_yticks(range(len(scen)), scen, fontsize=8)
    ax.xaxis.tick_top()
    ax.set_title(f"Capacity bound per demand region, {unit or 't/yr'}, and its share of demand", fontsize=10,
                 loc="left")
    fig.savefig(out_path, dpi=110)
    plt.close(fig)
    return out_path
