"""Bounded, order-fixed summaries of many replications: running moments and a quantile sketch.

Both summarise a whole array at once (a monthly series, or months x keys),
element by element, so a metric costs a few arrays whatever the number of
replications.
Replications are folded in index order, which makes the summaries identical
whichever executor finished them first.

Examples
--------
>>> import numpy as np
>>> q = QuantileSketch(k=8)
>>> for x in range(1, 101):
...     q.add(np.array([float(x)]))
>>> bool(40 <= q.quantiles([0.5])[0][0] <= 60)
True
"""
from __future__ import annotations

import numpy as np

__all__ = ["Moments", "QuantileSketch"]


class Moments:
    """Running mean and variance (Welford), element-wise over an array."""

    def __init__(self, shape):
        self.n = 0
        self.mean = np.zeros(shape)
        self.m2 = np.zeros(shape)

    def add(self, x):
        self.n += 1
        d = x - self.mean
        self.mean = self.mean + d / self.n
        self.m2 = self.m2 + d * (x - self.mean)

    @property
    def var(self):
        return self.m2 / (self.n - 1) if self.n > 1 else np.full_like(self.mean, np.nan)


class QuantileSketch:
    """A deterministic compactor sketch (levels of weight 2**l, ``k`` items each).

    Exact while fewer than ``k`` values were added; beyond, the rank error is
    of order ``log2(n / k) / k``.
    """

    def __init__(self, k=128):
        self.k = k
        self.levels = []     # list of arrays (items, *shape)
        self.flips = []
        self._rows = []      # values added to level 0 since it was last stacked (one copy per compaction)

    def add(self, x):
        self._rows.append(np.array(x, float))   # a copy: the caller may reuse its array
        if (self.levels[0].shape[0] if self.levels else 0) + len(self._rows) > self.k:
            self._stack()
            self._compact()

    def _stack(self):
        if not self._rows:
            return
        new = np.stack(self._rows)
        self._rows = []
        if not self.levels:
            self.levels.append(new)
            self.flips.append(0)
        else:
            self.levels[0] = np.concatenate([self.levels[0], new])

    def _compact(self):
        lvl = 0
        while self.levels[lvl].shape[0] > self.k:
            a = np.sort(self.levels[lvl], axis=0)
            off = self.flips[lvl]
            self.flips[lvl] ^= 1
            up = a[off::2]
            self.levels[lvl] = a[:0]
            if lvl + 1 == len(self.levels):
                self.levels.append(up)
                self.flips.append(0)
            else:
                self.levels[lvl + 1] = np.concatenate([self.levels[lvl + 1], up])
            lvl += 1

    def quantiles(self, qs):
        """Array ``(len(qs), *shape)`` of approximate quantiles, element by element."""
        self._stack()
        vals = np.concatenate([lv for lv in self.levels if lv.shape[0]], axis=0)
        w = np.concatenate([np.full(lv.shape[0], 2.0 ** i) for i, lv in enumerate(self.levels) if lv.shape[0]])
        order = np.argsort(vals, axis=0, kind="stable")
        sv = np.take_along_axis(vals, order, axis=0)
        cw = np.cumsum(w[order], axis=0)
        cw /= cw[-1]
        out = np.empty((len(qs),) + vals.shape[1:])
        for i, q in enumerate(qs):
            idx = (cw < q).sum(axis=0)
            idx = np.minimum(idx, sv.shape[0] - 1)
            out[i] = np.take_along_axis(sv, idx[None], axis=0)[0]
        return out
