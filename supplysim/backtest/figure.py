"""The backtest figure: observed against simulated, one panel per series.

Each row is drawn over its months: the observation as a black mark, the replications' mean as a
coloured mark with their 2.5-97.5 % range; single months are joined by lines, so a monthly series
reads as two curves. Period totals and means sit at the middle of their months, with a bar across
them.
"""
from __future__ import annotations

import math

from .observed import month_index

__all__ = ["draw_backtest"]


def _x(span):
    a, _, b = span.partition("/")
    i, j = month_index(a), month_index(b or a)
    return (i + j) / 2.0, (j - i) / 2.0


def _label(i):
    i = int(round(i))
    return f"{i // 12:04d}-{i % 12 + 1:02d}"


def draw_backtest(reports, path, title=""):
    """Draw ``reports`` (from :func:`~.compare.compare`) into the image file ``path``; return the path."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = max(1, len(reports))
    cols = 2 if n > 1 else 1
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(6.0 * cols, 3.2 * rows), squeeze=False)
    for ax, rep in zip(axes.flat, reports):
        have = [t for t in rep["rows"] if t["simulated"] is not None]
        for t in rep["rows"]:
            x, w = _x(t["months"])
            ax.errorbar([x], [t["observed"]], xerr=[[w], [w]], fmt="ks", ms=5, capsize=0, lw=1, zorder=3)
        for t in have:
            x, w = _x(t["months"])
            ax.errorbar([x + 0.15], [t["simulated"]], yerr=[[t["simulated"] - t["low"]], [t["high"] - t["simulated"]]],
                        fmt="o", color="tab:blue", ms=5, capsize=3, lw=1, zorder=2)
        single = [t for t in have if "/" not in t["months"]]
        if len(single) > 1:
            xs = [_x(t["months"])[0] for t in single]
            ax.plot(xs, [t["observed"] for t in single], "k-", lw=1)
            ax.plot([x + 0.15 for x in xs], [t["simulated"] for t in single], "-", color="tab:blue", lw=1)
        err = f"MAPE {rep['mape']:.1%}, bias {rep['bias_pct']:+.1%}" if rep.get("points") and \
            not math.isnan(rep.get("mape", float("nan"))) else "not in the results"
        ax.set_title(f"{rep['series']}  ({err})", fontsize=9)
        ax.set_ylabel(rep["unit"])
        ticks = sorted({round(_x(t["months"])[0]) for t in rep["rows"]})
        ax.set_xticks(ticks)
        ax.set_xticklabels([_label(i) for i in ticks], rotation=45, ha="right", fontsize=7)
        ax.set_ylim(bottom=0)
    for ax in list(axes.flat)[len(reports):]:
        ax.set_visible(False)
    fig.suptitle(title or "backtest: observed (black) and simulated (blue, mean and 2.5-97.5% of replications)",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
