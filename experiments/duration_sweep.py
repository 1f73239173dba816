"""How does the ex-China magnet shortfall grow with the length of a licence regime and fall with
its approval rate?

The NdPr/alloy/magnet licence regime of cn-ndpr-escalation (from 2026-01-01, every non-China
buyer, 55-day median review) on its own, without April 2025's licences
(experiments/scenarios/ndpr-escalation-only.toml), swept over duration (default 3, 6, 12
months: ``end``) and civilian approval probability (default 0.25, 0.5, 0.75: ``approval``).
The grid's overlays are written to OUT/scenarios/. Every cell is compared, paired on the
replication (common random numbers), with the baseline (no controls; Bonferroni over the
cells). Output, at the top of OUT/report.html: a table and a heatmap of the mean ex-China
demand lost (t, not delivered by the end of the run) and months short of 90% of demand per cell.

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


def heatmap(path, months, probs, lost, short):
    """Two panels: mean ex-China demand lost (t) and months short per (duration, approval)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), constrained_layout=True)
    for ax, z, title, unit in ((axes[0], lost, "ex-China demand lost", "t"),
                               (axes[1], short, "ex-China months short", "months")):
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
    fig.savefig(path, dpi=110)
    fig.savefig(Path(path).with_suffix(".svg"))
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
    lost = np.full((len(months), len(probs)), np.nan)
    short = np.full_like(lost, np.nan)
    rows, data = [], {"cells": []}
    for i, m in enumerate(months):
        for j, p in enumerate(probs):
            s = cells[(m, p)]
            d = {x: t.diff("baseline", s, f"{x}[exCN]", k) for x in ("demand_lost_t", "months_short", "peak_backlog_t")}
            st = t.stat(s, "demand_lost_t[exCN]")
            lost[i, j] = st["estimate"]
            short[i, j] = t.stat(s, "months_short[exCN]")["estimate"]
            rows.append([m, f"{p:g}", C.cell(st, "demand_lost_t")]
                        + [C.cell(d[x], x, True) for x in ("demand_lost_t", "months_short", "peak_backlog_t")])
            data["cells"].append({"months": m, "approval": p, "scenario": s, "demand_lost_t_exCN": C.clean(st),
                                  **{f"d_{x}_exCN": C.clean(v) for x, v in d.items()}})
    png = heatmap(Path(args.out) / "duration_heatmap.png", months, probs, lost, short)
    sections = [(f"Ex-China (EU+US+JP+KR+ROW) by control duration and approval probability; d = cell - baseline, "
                 f"paired (Bonferroni over {k})",
                 ["months", "approval", "demand lost t", "d demand lost t", "d months short", "d peak backlog t"],
                 rows)]
    C.finish(args, res, "How does the ex-China shortfall grow with the length of a licence regime and fall with "
             "its approval rate?", sections, data,
             figures=[(png, "Mean ex-China demand lost (t) and months short per control duration and approval "
                            "probability.")])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
