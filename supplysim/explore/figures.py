"""Figures of an exploration, drawn from analysed results (nothing here runs a simulation).

Each function takes plain arrays and dicts and a path, draws one PNG and
returns the path: sensitivity indices as a bar chart with intervals, the PRIM
peeling trajectory (coverage against density), the chosen boxes' limits per
lever combination, a pairs scatter of the design coloured by the outcome, and
the outcome's distribution over the sampled futures per lever combination.
"""
from __future__ import annotations

import numpy as np

from .prim import fmt_number

__all__ = ["indices_chart", "prim_tradeoff", "box_limits", "pairs_scatter", "lever_ecdf"]

_POLICY_COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _save(fig, path):
    fig.savefig(path, dpi=110)
    _plt().close(fig)
    return path


def indices_chart(sens, title, path):
    """Horizontal bars of each index per input, largest first, with 95% interval whiskers."""
    plt = _plt()
    cols = sens["columns"]
    names = sorted(sens["names"], key=lambda n: -(sens["indices"][n].get(cols[0][0]) or 0.0))
    fig, ax = plt.subplots(figsize=(7.5, 0.55 * len(names) + 1.6), constrained_layout=True)
    h = 0.8 / len(cols)
    y = np.arange(len(names))
    for k, (idx, conf, label) in enumerate(cols):
        vals = np.array([sens["indices"][n].get(idx) or 0.0 for n in names])
        err = np.array([sens["indices"][n].get(conf) or 0.0 for n in names]) if conf else None
        ax.barh(y + (k - (len(cols) - 1) / 2) * h, vals, height=h, xerr=err, capsize=3, label=label,
                color=_POLICY_COLOURS[k % len(_POLICY_COLOURS)], alpha=0.85)
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.axvline(0, color="0.4", lw=0.8)
    ax.set_xlabel("index (whiskers: 95% bootstrap interval)" if any(c for _, c, _ in cols) else "index")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    return _save(fig, path)


def prim_tradeoff(result, title, path):
    """Coverage against density of every box of the peeling trajectory; colour = inputs restricted."""
    plt = _plt()
    tr = result.trajectory
    cov = [b.coverage for b in tr]
    den = [b.density for b in tr]
    nres = [len(b.restricted) for b in tr]
    fig, ax = plt.subplots(figsize=(6.4, 4.6), constrained_layout=True)
    sc = ax.scatter(cov, den, c=nres, cmap="viridis", s=22, vmin=0, vmax=max(max(nres), 1))
    ax.plot(cov, den, color="0.7", lw=0.8, zorder=0)
    b = result.box
    ax.scatter([b.coverage], [b.density], s=160, facecolors="none", edgecolors="red", lw=1.6,
               label=f"chosen box (#{result.chosen}): coverage {b.coverage:.0%}, density {b.density:.0%}")
    ax.axhline(result.density_target, color="red", ls=":", lw=0.8)
    ax.set_xlabel("coverage (share of bad futures inside the box)")
    ax.set_ylabel("density (share of futures in the box that are bad)")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    fig.colorbar(sc, ax=ax, label="inputs restricted", ticks=range(0, max(max(nres), 1) + 1))
    ax.legend(fontsize=8, loc="lower left")
    ax.set_title(title, fontsize=10)
    return _save(fig, path)


def box_limits(boxes, ranges, units, title, path):
    """Each restricted input's full sampled range (grey) and the box's limits per lever combination.

    ``boxes`` maps a label (lever combination) to a PRIM :class:`~.prim.Box`.
    """
    plt = _plt()
    names = []
    for b in boxes.values():
        names += [n for n in b.restricted if n not in names]
    if not names:
        names = list(ranges)[:1]
    fig, ax = plt.subplots(figsize=(7.5, 0.75 * len(names) + 2.0), constrained_layout=True)
    k = len(boxes)
    for i, n in enumerate(names):
        lo, hi = ranges[n]
        span = (hi - lo) or 1.0
        ax.plot([0, 1], [i, i], color="0.85", lw=8, solid_capstyle="butt")
        ax.text(-0.02, i, fmt_number(lo), ha="right", va="center", fontsize=8, color="0.4")
        ax.text(1.02, i, f"{fmt_number(hi)} {units.get(n, '')}".rstrip(), ha="left", va="center", fontsize=8, color="0.4")
        for j, (lab, b) in enumerate(boxes.items()):
            bl, bh = b.limits[n]
            off = (j - (k - 1) / 2) * 0.18
            c = _POLICY_COLOURS[j % len(_POLICY_COLOURS)]
            ax.plot([(bl - lo) / span, (bh - lo) / span], [i + off, i + off], color=c, lw=4,
                    label=lab if i == 0 else None)
            cut_lo, cut_hi = b.cuts.get(n, (False, False))
            if cut_lo:
                ax.text((bl - lo) / span, i + off + 0.12, fmt_number(bl), ha="center", fontsize=7, color=c)
            if cut_hi:
                ax.text((bh - lo) / span, i + off + 0.12, fmt_number(bh), ha="center", fontsize=7, color=c)
    ax.set_yticks(range(len(names)), names)
    ax.set_ylim(len(names) - 0.5, -0.7)
    ax.set_xlim(-0.15, 1.25)
    ax.set_xticks([])
    for s in ("top", "right", "bottom", "left"):
        ax.spines[s].set_visible(False)
    ax.tick_params(axis="y", length=0)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=min(k, 3), frameon=False,
              title="box of the bad futures with", title_fontsize=8)
    ax.set_title(title, fontsize=10)
    return _save(fig, path)


def pairs_scatter(X, names, y, bad, label, title, path):
    """Lower-triangle scatter of every pair of inputs, coloured by the outcome; bad futures outlined."""
    plt = _plt()
    d = len(names)
    X = np.asarray(X, float)
    y = np.asarray(y, float)
    bad = np.asarray(bad, float) == 1 if bad is not None else np.zeros(len(y), bool)
    size = min(2.3 * max(d - 1, 1) + 1.6, 11)
    fig, axes = plt.subplots(max(d - 1, 1), max(d - 1, 1), figsize=(size, size - 0.6), squeeze=False,
                             constrained_layout=True)
    finite = np.isfinite(y)
    vmin, vmax = (np.nanmin(y), np.nanmax(y)) if finite.any() else (0, 1)
    sc = None
    for i in range(1, d):
        for j in range(d - 1):
            ax = axes[i - 1][j]
            if j >= i:
                ax.axis("off")
                continue
            sc = ax.scatter(X[:, j], X[:, i], c=y, cmap="viridis", vmin=vmin, vmax=vmax, s=14,
                            edgecolors=np.where(bad, "red", "none"), linewidths=0.8)
            if i == d - 1:
                ax.set_xlabel(names[j], fontsize=8)
            if j == 0:
                ax.set_ylabel(names[i], fontsize=8)
            ax.tick_params(labelsize=7)
    if d == 1:
        ax = axes[0][0]
        sc = ax.scatter(X[:, 0], y, c=y, cmap="viridis", s=14, edgecolors=np.where(bad, "red", "none"))
        ax.set_xlabel(names[0])
        ax.set_ylabel(label)
    if sc is not None:
        fig.colorbar(sc, ax=axes, label=label, shrink=0.8)
    fig.suptitle(title, fontsize=10)
    return _save(fig, path)


def lever_ecdf(series, threshold, worse, label, title, path):
    """The outcome's distribution over the sampled futures (empirical CDF), one line per lever combination."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.8, 4.2), constrained_layout=True)
    for j, (lab, y) in enumerate(series.items()):
        v = np.sort(np.asarray(y, float)[np.isfinite(y)])
        if v.size:
            ax.step(v, np.arange(1, v.size + 1) / v.size, where="post", color=_POLICY_COLOURS[j % 6], label=lab)
    if threshold is not None:
        ax.axvline(threshold, color="0.3", ls="--", lw=1, label=f"threshold ({'>' if worse == 'above' else '<'} "
                                                                 f"{threshold:g} is bad)")
    ax.set_xlabel(label)
    ax.set_ylabel("share of sampled futures at or below")
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=10)
    return _save(fig, path)
