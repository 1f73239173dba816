"""Network figure: stages as columns, countries as colours, capacity as node size, flows as arrows.

Drawn from the model and the static analysis only: arrow widths are the lane flows of one
maximum flow of magnet-equivalent supply to all demand (:mod:`supplysim.analysis`), never a
simulation.

Examples
--------
>>> import tempfile
>>> from supplysim import load_model
>>> from supplysim.paths import models_dir
>>> m = load_model(models_dir() / "examples" / "tutorial.toml")
>>> flows = static_flows(m)
>>> sorted(flows)[:2], all(v >= 0 for v in flows.values())
(['alloy-magnet', 'magnet-swarf'], True)
>>> out = draw_network(m, tempfile.mktemp(suffix=".png"), flows=flows, width_in=6, dpi=60)
"""
from __future__ import annotations

import math

from ..model.stages import COLUMN_NAMES, STAGES

__all__ = ["draw_network", "option_facilities", "static_flows", "STAGE_COLUMN"]

#: Column of each stage label (left to right: mine to demand), from the model's stage table;
#: a demand node draws in the last column, an unknown label in the metal / alloy column.
STAGE_COLUMN = {**{name: s.column for name, s in STAGES.items()}, "demand": len(COLUMN_NAMES) - 1}


def option_facilities(path, options=None):
    """The model at ``path`` with every option (or ``options``) on, and the ids of the facilities
    and lanes that only exist with them (planned capacity): ``(model, ids)``.
    """
    from ..model import load_model
    from ..model.load import read_document
    base = load_model(path)
    if options is None:
        options = list(read_document(path).data.get("options", {}))
    full = load_model(path, options=options)
    ids = (set(full.facilities) - set(base.facilities)) | (set(full.lanes) - set(base.lanes))
    return full, ids


def static_flows(model, date=None, element="NdPr") -> dict:
    """``{lane id: t/yr}`` of one maximum flow of magnet-equivalent supply to every demand sink at
    ``date`` (default the model's start), from :class:`supplysim.analysis.FlowProblem`.

    A maximum flow need not be unique: widths show one way the network can carry its bound.
    """
    from ..analysis import FlowProblem
    fp = FlowProblem(model, date, element)
    res = fp.solve(list(model.demand))
    return {k[1]: float(v) for k, v in res.get("flows", {}).items() if k[0] == "lane"}


def _capacity(f):
    """Capacity at the start (t/yr), or the largest scheduled one for plants that start later;
    0 for stocking points."""
    if f.capacity is None:
        return 0.0
    c0 = float(f.capacity.at(0.0))
    return c0 if c0 > 0 else float(max(f.capacity.values))


def draw_network(model, out_path, flows=None, highlight=(), faded=(), title=None, dpi=110, width_in=10.0):
    """Draw ``model`` as a layered network and save it to ``out_path``.

    Parameters
    ----------
    model : supplysim.model.Model
        A loaded model. To show planned capacity, load it with its options on and pass their
        facility and lane ids as ``faded`` (see :func:`option_facilities`).
    out_path : str or Path
        Image file (format from the suffix, e.g. ``.png``, ``.svg``).
    flows : dict, optional
        Lane id -> flow (e.g. :func:`static_flows`, t/yr); arrow width grows with the flow, lanes
        absent from ``flows`` (or with no flow) are drawn thin and faded. Without ``flows`` every
        lane is drawn at one width.
    highlight : iterable of str
        Facility or lane ids drawn in red (e.g. the targets of a disruption).
    faded : iterable of str
        Facility or lane ids drawn faded (planned, switched on only by an option).
    title : str, optional
        Figure title (default: the model's name and scenario).
    dpi, width_in : float
        Resolution and width: the figure is laid out for ``width_in`` inches so its text is
        readable at the size it is shown.

    Returns
    -------
    str
        ``out_path``.
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import FancyArrowPatch

    highlight, faded = set(highlight or ()), set(faded or ())
    facs = model.facilities
    demand_by_node = {}
    for d in model.demand.values():
        demand_by_node[d.at] = demand_by_node.get(d.at, 0.0) + d.rate_per_day * 365.0

    cols = {}
    for fid, f in facs.items():
        cols.setdefault(STAGE_COLUMN.get(f.stage, 3), []).append(fid)
    n_rows = max(len(v) for v in cols.values())
    pos = {}
    for c, ids in cols.items():
        ids.sort(key=lambda i: (facs[i].country != "CN", facs[i].country, -_capacity(facs[i]), i))
        k = len(ids)
        for j, fid in enumerate(ids):
            y = (n_rows - 1) / 2 - (j - (k - 1) / 2) * (n_rows - 1) / max(k - 1, 1) * min(1.0, k / n_rows * 1.6)
            pos[fid] = (c * 2.2, y)

    countries = sorted({f.country for f in facs.values()})
    # China in orange; the others from a palette without orange or red (red marks highlights)
    palette = [plt.get_cmap("tab20")(i) for i in (0, 1, 4, 5, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19)]
    palette += [plt.get_cmap("Set3")(i) for i in range(12)]
    others = [c for c in countries if c != "CN"]
    colour = {c: palette[i % len(palette)] for i, c in enumerate(others)}
    colour["CN"] = (0.95, 0.50, 0.05, 1.0)

    fig, ax = plt.subplots(figsize=(width_in, max(6.0, 0.34 * n_rows + 1.5)), layout="constrained")
    fl = flows or {}
    fmax = max([v for v in fl.values() if v and v > 0] or [1.0])

    for lid, ln in model.lanes.items():
        if ln.src not in pos or ln.dst not in pos:
            continue
        (x0, y0), (x1, y1) = pos[ln.src], pos[ln.dst]
        q = fl.get(lid, 0.0) if flows is not None else None
        if lid in highlight or ln.src in highlight and ln.dst in highlight:
            col, alpha = (0.85, 0.0, 0.0), 0.9
        elif lid in faded or ln.src in faded or ln.dst in faded:
            col, alpha = (0.6, 0.6, 0.6), 0.35
        else:
            col, alpha = colour.get(facs[ln.src].country, (0.3, 0.3, 0.3, 1)), 0.55
        if flows is None:
            w = 1.0
        elif q and q > 0:
            w = 0.4 + 7.0 * math.sqrt(q / fmax)
        else:
            w, alpha = 0.4, min(alpha, 0.25)
        rad = 0.25 if x1 < x0 else (0.08 if abs(x1 - x0) > 2.5 else 0.0)
        ax.add_patch(FancyArrowPatch((x0, y0), (x1, y1), arrowstyle="-|>", mutation_scale=8 + w,
                                     lw=w, color=col, alpha=alpha, shrinkA=8, shrinkB=8,
                                     connectionstyle=f"arc3,rad={rad}", zorder=1,
                                     linestyle="--" if lid in faded else "-"))

    caps = {fid: (_capacity(f) or demand_by_node.get(fid, 0.0)) for fid, f in facs.items()}
    cmax = max(caps.values() or [1.0])
    for fid, f in facs.items():
        x, y = pos[fid]
        size = 30 + 1500 * math.sqrt(caps[fid] / cmax) if caps[fid] > 0 else 30
        face = colour.get(f.country, (0.5, 0.5, 0.5, 1))
        alpha = 0.3 if fid in faded else 0.95
        edge, lw = ((0.85, 0.0, 0.0), 2.5) if fid in highlight else ("k", 0.6)
        ax.scatter([x], [y], s=size, c=[face], alpha=alpha, edgecolors=[edge], linewidths=lw, zorder=3,
                   marker="s" if f.stage in ("buyer", "buffer") else "o")
        label = fid + (" (option)" if fid in faded else "")
        if caps[fid] > 0:
            label += f"\n{caps[fid] / 1000:,.1f} kt/yr" if caps[fid] >= 1000 else f"\n{caps[fid]:,.0f} t/yr"
        ax.annotate(label, (x, y), xytext=(9, 0), textcoords="offset points", fontsize=6.5, va="center",
                    color=(0.85, 0.0, 0.0) if fid in highlight else ("0.45" if fid in faded else "k"),
                    zorder=4)

    top = n_rows - 1 + 1.2
    for c in sorted(cols):
        ax.text(c * 2.2, top, COLUMN_NAMES[c] if c < len(COLUMN_NAMES) else str(c), ha="center",
                fontsize=9, fontweight="bold")
    handles = [Line2D([], [], marker="o", ls="", markersize=8, markerfacecolor=colour[c], markeredgecolor="k",
                      label=c) for c in countries]
    handles.append(Line2D([], [], color="0.6", ls="--", label="planned (option), faded"))
    if highlight:
        handles.append(Line2D([], [], color=(0.85, 0, 0), lw=2, label="highlighted"))
    if flows is not None:
        handles.append(Line2D([], [], color="0.3", lw=4, label="width ~ sqrt(max-flow t/yr)"))
    fig.legend(handles=handles, loc="outside right center", fontsize=7, title="country", frameon=False)
    ax.set_xlim(-0.8, max(cols) * 2.2 + 1.6)
    ax.set_ylim(-1.0, top + 0.8)
    ax.axis("off")
    scen = getattr(model, "scenario_name", "")
    ax.set_title(title or f"{model.name} ({scen}): node size ~ square root of capacity (t/yr at start; buyers: demand t/yr)",
                 fontsize=10, loc="left")
    fig.savefig(out_path, dpi=dpi)
    plt.close(fig)
    return str(out_path)
