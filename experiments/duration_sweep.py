"""How does the ex-China magnet shortfall grow with the length of a licence regime and fall with
its approval rate?

The NdPr/alloy/magnet licence regime of cn-ndpr-escalation (from 2026-01-01, every non-China
buyer, 55-day median review) on its own, without April 2025's licences
(experiments/scenarios/ndpr-escalation-only.toml), swept over duration (default 3, 6, 12
months: ``end``) and civilian approval probability (default 0.25, 0.5, 0.75: ``approval``).
The grid's overlays are written to OUT/scenarios/. Every cell is compared, paired on the
replication (common random numbers), with the baseline (no controls; Bonferroni over the
cells). Output: a table and OUT/duration_heatmap.png (mean ex-China unmet demand, t, and
shortfall, t-yr, per cell).

    python experiments/duration_sweep.py                     # defaults: 3x3 grid, 5 reps, 4 years
    python experiments/duration_sweep.py --months 1 3 6 12 18 --approval 0.1 0.25 0.5 0.75 0.9 --reps 20
"""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import numpy as np

import _common as C

NAME = "duration_sweep"
SHOCK = C.SCENARIOS / "ndpr-escalation-only.toml"
START = dt.date(2026, 1, 1)


def _add_months(d, n):
    y, m = divmod(d.month - 1 + n, 12)
    return dt.date(d.year + y, m + 1, d.day)


def write_overlay(folder: Path, months: int, prob: float) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / f"ndpr-{months}m-p{round(prob * 100):03d}.toml"
    base = os.path.relpath(SHOCK.resolve(), folder.resolve())
    p.write_text("\n".join([
        f"# Written by experiments/duration_sweep.py: {months} months, approval {prob:g}",
        f'extends = "{base}"', "", "[scenario]", f'name = "ndpr-{months}m-p{prob:g}"',
        f'description = "NdPr/alloy/magnet licences from {START} for {months} months, approval {prob:g}"', "",
        "[controls.cn-ndpr]", f"effective = {START}", f"end = {_add_months(START, months)}",
        f"approval = [{{from = {START}, prob = {prob:g}}}]", ""]), encoding="utf-8")
    return p


def heatmap(path, months, probs, unmet, short):
    """Two panels: mean ex-China unmet demand (t) and shortfall (t-yr) per (duration, approval)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    for ax, z, title, unit in ((axes[0], unmet, "ex-China unmet demand", "t"),
                               (axes[1], short, "ex-China shortfall (backlog area)", "t-yr")):
        im = ax.imshow(z, origin="lower", aspect="auto", cmap="Reds")
        ax.set_xticks(range(len(probs)), [f"{p:g}" for p in probs])
        ax.set_yticks(range(len(months)), [f"{m}" for m in months])
        ax.set_xlabel("licence approval probability")
        ax.set_ylabel("control duration (months)")
        ax.set_title(f"{title}, mean ({unit})")
        hi = np.nanmax(z) if np.isfinite(z).any() else 1.0
        for i in range(len(months)):
            for j in range(len(probs)):
                ax.text(j, i, f"{z[i, j]:,.0f}", ha="center", va="center", fontsize=9,
                        color="white" if z[i, j] > 0.6 * hi else "black")
        fig.colorbar(im, ax=ax, label=unit)
    fig.suptitle(f"NdPr/alloy/magnet licences from {START}: duration x approval")
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main(argv=None):
    ap = C.parser(NAME, __doc__, reps=5, years=4)
    ap.add_argument("--months", type=int, nargs="+", default=[3, 6, 12], help="control durations (months)")
    ap.add_argument("--approval", type=float, nargs="+", default=[0.25, 0.5, 0.75],
                    help="civilian licence approval probabilities")
    args = ap.parse_args(argv)
    months, probs = sorted(set(args.months)), sorted(set(args.approval))
    cells = {}
    for m in months:
        for p in probs:
            cells[(m, p)] = C.rel(write_overlay(Path(args.out) / "scenarios", m, p))
    res = C.run(args, ["baseline"] + list(cells.values()), "baseline")
    t = C.Table(res)
    k = len(cells)
    unmet = np.full((len(months), len(probs)), np.nan)
    short = np.full_like(unmet, np.nan)
    rows, data = [], {"cells": []}
    for i, m in enumerate(months):
        for j, p in enumerate(probs):
            s = cells[(m, p)]
            du = t.diff("baseline", s, "unmet_demand_t[exCN]", k)
            ds = t.diff("baseline", s, "shortfall_ty[exCN]", k)
            dse = t.diff("baseline", s, "backlog_end_t[exCN]", k)
            unmet[i, j] = t.stat(s, "unmet_demand_t[exCN]")["mean"]
            short[i, j] = t.stat(s, "shortfall_ty[exCN]")["mean"]
            rows.append([m, f"{p:g}", C.ci(t.stat(s, "unmet_demand_t[exCN]")), C.ci(du, 0, True),
                         C.ci(ds, 0, True), C.ci(dse, 0, True)])
            data["cells"].append({"months": m, "approval": p, "scenario": s,
                                  "unmet_demand_t_exCN": C.clean(t.stat(s, "unmet_demand_t[exCN]")),
                                  "d_unmet_demand_t_exCN": C.clean(du), "d_shortfall_ty_exCN": C.clean(ds),
                                  "d_backlog_end_t_exCN": C.clean(dse)})
    png = heatmap(Path(args.out) / "duration_heatmap.png", months, probs, unmet, short)
    text = (f"Ex-China (EU+US+JP+KR+ROW) by control duration and approval probability; d = cell - baseline, "
            f"paired (Bonferroni over {k})\n\n"
            + C.markdown(["months", "approval", "unmet demand t", "d unmet demand t", "d shortfall t-yr",
                          "d owed at end t"], rows)
            + f"\n\nheatmap: {png}")
    C.finish(args, res, "Shortfall against licence duration and approval probability", text, data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
