"""Elements tracked in every stock and shipment, and their composition vectors.

A composition vector holds, per tonne of a commodity, the tonnes of each
tracked element. Mixing two stocks is a quantity-weighted average; a recipe maps
input vectors to output vectors; losses leave with their own vectors. Mass
balance and content thresholds both follow from this one representation.

Examples
--------
>>> v = content_vector({"NdPr": 0.3, "Fe": 0.68})
>>> float(v[ELEMENT_INDEX["NdPr"]])
0.3
>>> float(rare_earth_content(v))
0.3
"""
from __future__ import annotations

import numpy as np

__all__ = ["ELEMENTS", "RARE_EARTHS", "ELEMENT_INDEX", "RE_MASK", "content_vector", "Layout",
           "rare_earth_content"]

#: Tracked elements. Rare earths first; Sm, Gd and Y are kept apart because
#: export-control rules name them; ``other_re`` lumps the rest (La, Ce, Ho, ...).
ELEMENTS = ("NdPr", "Dy", "Tb", "Sm", "Gd", "Y", "other_re", "Fe", "B")
RARE_EARTHS = ELEMENTS[:7]
ELEMENT_INDEX = {e: i for i, e in enumerate(ELEMENTS)}
RE_MASK = np.array([e in RARE_EARTHS for e in ELEMENTS])


def content_vector(content: dict) -> np.ndarray:
    """Composition vector (t element per t product) from a mapping of element to fraction."""
    v = np.zeros(len(ELEMENTS))
    for k, x in content.items():
        v[ELEMENT_INDEX[k]] = float(x)
    v.flags.writeable = False
    return v


def rare_earth_content(v: np.ndarray) -> float:
    """Tonnes of rare earths per tonne in composition ``v``."""
    return float(v[RE_MASK].sum())


class Layout:
    """Positions in a replication's composition vectors: elements, then origin blocks.

    After the element part come, for each origin stage (mining, separation,
    metallisation) and each country of the model, the tonnes of each rare earth
    per tonne of product that passed that stage in that country. Mixing and
    recipes are linear in the whole vector, so origin follows material through
    stocks and recipes exactly as mass does. A layout of no countries follows
    elements only (a model that needs no origin: no origin blocks to mix).

    The vectors the layout makes are **interned**: equal vectors are one
    read-only array (:meth:`intern`), so a stock that receives material of the
    composition it already holds sees the same object and has nothing to mix.

    Examples
    --------
    >>> lay = Layout(["AU", "CN"])
    >>> v = lay.stamp(lay.embed(content_vector({"Dy": 0.01})), "mining", "CN")
    >>> round(lay.issuer_content(v, "CN", [ELEMENT_INDEX["Dy"]]), 6)
    0.01
    >>> lay.issuer_content(v, "AU", [ELEMENT_INDEX["Dy"]])
    0.0
    """

    STAGES = ("mining", "separation", "metallisation")

    def __init__(self, countries):
        self.countries = tuple(sorted(set(countries)))
        self.cindex = {c: i for i, c in enumerate(self.countries)}
        self.n_el = len(ELEMENTS)
        self.n_re = len(RARE_EARTHS)
        self.block = len(self.countries) * self.n_re
        self.size = self.n_el + len(self.STAGES) * self.block
        self._interned = {}   # vector bytes -> the one array with those values

    @property
    def tracks_origin(self) -> bool:
        """Whether the vectors hold origin blocks (a layout of no countries follows elements only)."""
        return self.block > 0

    def intern(self, v):
        """The one read-only array equal to ``v`` (``v`` itself, frozen, the first time).

        For vectors made outside the event loop, and by recipes of a layout without
        origin blocks: stocks and caches compare compositions by identity, so equal
        vectors made apart would be mixed and re-derived for nothing.
        """
        key = v.tobytes()
        got = self._interned.get(key)
        if got is None:
            v.setflags(write=False)
            got = self._interned[key] = v
        return got

    def _base(self, stage):
        return self.n_el + self.STAGES.index(stage) * self.block

    def embed(self, content):
        """A full-length vector from an element vector (origin unknown, all zero)."""
        v = np.zeros(self.size)
        v[: self.n_el] = content[: self.n_el]
        return self.intern(v)

    def _slot(self, stage, country):
        """Start of ``stage``'s origin block and of ``country``'s entries in it (None: not a model country)."""
        b = self._base(stage)
        return b, (b + self.cindex[country] * self.n_re if country in self.cindex else None)

    def stamp(self, vec, stage, country):
        """``vec`` with its ``stage`` origin all ``country`` (a new, interned vector)."""
        v = np.array(vec, dtype=float)
        b, k = self._slot(stage, country)
        v[b: b + self.block] = 0.0
        if k is not None:
            v[k: k + self.n_re] = vec[: self.n_re]
        return self.intern(v)

    def stamper(self, stage, country):
        """Index and factor arrays ``(src, keep)`` with ``vec[..., src] * keep == stamp(vec, stage, country)``.

        Stamping as a gather lets a recipe stamp several output rows in one operation.
        """
        src = np.arange(self.size)
        keep = np.ones(self.size)
        b, k = self._slot(stage, country)
        keep[b: b + self.block] = 0.0
        if k is not None:
            src[k: k + self.n_re] = np.arange(self.n_re)
            keep[k: k + self.n_re] = 1.0
        return src, keep

    def element_mask(self, idx):
        """Boolean mask over the full vector: the elements ``idx`` and their origin entries."""
        m = np.zeros(self.size, dtype=bool)
        idx = np.asarray(idx, dtype=int)
        m[idx] = True
        re_idx = idx[idx < self.n_re]
        for s in range(len(self.STAGES)):
            for c in range(len(self.countries)):
                m[self.n_el + s * self.block + c * self.n_re + re_idx] = True
        return m

    def origin(self, vec, stage):
        """Array (countries x rare earths) of ``stage`` origin in ``vec``."""
        b = self._base(stage)
        return np.asarray(vec[b: b + self.block]).reshape(len(self.countries), self.n_re)

    def issuer_content(self, vec, issuer, idx, stages=None):
        """Tonnes per tonne of elements ``idx`` that passed any (or the given) stage in ``issuer``.

        The largest over stages: material mined elsewhere but separated in the
        issuer counts as issuer-origin.
        """
        if issuer not in self.cindex:
            return 0.0
        k = self.cindex[issuer]
        best = 0.0
        for s in (stages or self.STAGES):
            b = self._base(s) + k * self.n_re
            tot = 0.0
            for i in idx:
                if i < self.n_re:
                    tot += vec[b + i]
            if tot > best:
                best = tot
        return float(best)
