"""How a plant turns inputs into outputs: one strategy per kind of recipe.

* :class:`SourceRecipe` — a mine or other source: output from nothing, stamped
  with the plant's country as its mining origin.
* :class:`FixedRecipe` — inputs in fixed tonnes per tonne of output, divided by
  the yield, with co-products (a metals plant, an alloy maker, a magnet maker).
* :class:`SplitRecipe` — a separator: one feed whose elements go to several
  outputs at a recovery rate (NdPr oxide, Dy/Tb oxide and the rest as co-products).

Each strategy names the commodities it ``uses`` and answers the plant's questions: how much of a batch of ``q``
tonnes of main output its inputs allow (:meth:`make`, which also takes the
inputs and hands the outputs to the plant), how much of an input it uses per
day at a capacity (:meth:`usage`), how many tonnes of a co-product come with a
tonne of main output (:meth:`co_per_main`), and whether the inputs on hand make
a batch at all (:meth:`batch_possible`). Recipes book the elements that leave
as neither output nor co-product with the ledger (rule V1's mass balance).

Output vectors are cached per input composition. Compositions are read-only
arrays replaced on every change (see :mod:`supplysim.engine.stock`), so a cache
keyed by their identity cannot go stale.
"""
from __future__ import annotations

import numpy as np

from ..materials import ELEMENT_INDEX
from ..model.stages import origin_stage
from .stock import EPS

__all__ = ["SourceRecipe", "FixedRecipe", "SplitRecipe", "recipe_for", "MIN_BATCH"]

#: A plant makes no batch smaller than this share of a period's capacity once it has made one
#: that period (it waits for inputs or demand instead of making crumbs).
MIN_BATCH = 0.05


def recipe_for(plant):
    """The strategy of ``plant``'s recipe (a source has none in its spec)."""
    r = plant.spec.recipe
    if r is None:
        return SourceRecipe(plant)
    return FixedRecipe(plant) if r.kind == "fixed" else SplitRecipe(plant)


class SourceRecipe:
    """A source: its output comes from nothing (the ledger books it as sourced)."""

    inputs = ()
    uses = frozenset()

    def __init__(self, plant):
        spec, sim = plant.spec, plant.sim
        lay = sim.layout
        oc = spec.output_content
        comp = lay.embed(oc if oc is not None else sim.model.commodities[spec.output].content)
        self.plant = plant
        self.comp = lay.stamp(comp, "mining", spec.country)
        self.ledger = sim.ledger

    def make(self, q, now):
        self.ledger.source(q, self.comp)
        self.plant.output(q, self.comp, (), now)
        return q

    def batch_possible(self, thr):
        return True


class FixedRecipe:
    """Inputs at fixed tonnes per tonne of output (divided by the yield), plus co-products."""

    def __init__(self, plant):
        spec, sim = plant.spec, plant.sim
        r = spec.recipe
        node = plant.node
        self.plant = plant
        self.ledger = sim.ledger
        self.zero = sim.zero
        self.r = r
        #: (stock, tonnes used per tonne of output, recipe tonnes per tonne of output) per input
        self.need = tuple((node.stock(c), q / r.yield_, q) for c, q in r.inputs.items())
        self.inputs = tuple(st for st, _, _ in self.need)
        self.uses = frozenset(r.inputs)
        self.co = tuple((node.stock(c), q, c) for c, q in r.coproducts.items())
        mix = sum(r.inputs.values())
        self._inv_mix = 1.0 / mix
        # what leaves as neither output nor co-product is this multiple of the (unstamped)
        # output vector: lost if positive, gained (e.g. oxygen-free metal from oxide) if negative
        self.loss_f = 1.0 / r.yield_ - 1.0 - sum(r.coproducts.values()) / mix
        stage = origin_stage(spec.stage)
        self._stamp = sim.layout.stamper(stage, spec.country) if stage else None
        self._key = None      # the input compositions the cached vectors were made from
        self._vectors = None  # (output vector, co-products, unstamped output vector)

    def usage(self, c, per_day):
        """Tonnes of input ``c`` (one of ``uses``) used per day at capacity ``per_day``."""
        r = self.r
        return per_day * r.inputs[c] / r.yield_

    def co_per_main(self, c):
        return self.r.coproducts[c]

    def batch_possible(self, thr):
        for st, n, _ in self.need:
            if st.qty / n < thr:
                return False
        return True

    def _make_vectors(self):
        need = self.need
        st, _, q = need[0]
        out = st.comp * q
        for st, _, q in need[1:]:
            out += st.comp * q
        co = ()
        if self.co:
            co_comp = out * self._inv_mix
            co = [(st, q, co_comp, c) for st, q, c in self.co]
        raw = out
        if self._stamp is not None:
            src, keep = self._stamp
            out = out.take(src)    # a new array: the unstamped one is the ledger's
            out *= keep
            out.flags.writeable = False
        return out, co, raw

    def make(self, q, now):
        plant = self.plant
        for st, n, _ in self.need:
            lim = st.qty / n
            if lim < q:
                q = lim
                plant.short_inputs = True
        if q <= EPS or (plant.made > EPS and q < MIN_BATCH * plant.period_cap):
            return None   # short of inputs after this period's batch: wait for more, not crumbs
        if len(self.need) == 1:
            key = self.need[0][0].comp
            changed = key is not self._key
        else:
            key = tuple([st.comp for st, _, _ in self.need])
            old = self._key
            changed = old is None or any([a is not b for a, b in zip(key, old)])
        if changed:
            self._key = key
            self._vectors = self._make_vectors()
        out, co, raw = self._vectors
        for st, n, _ in self.need:
            st.take(q * n, now)
        f = self.loss_f
        if f > 0:
            self.ledger.lose(q * f, raw)
        elif f < 0:
            self.ledger.source(-q * f, raw)
        plant.output(q, out, [(st, q * x, v, c) for st, x, v, c in co], now)
        return q


class SplitRecipe:
    """A separator: the feed's elements go to the outputs that take them, at the recovery rate."""

    def __init__(self, plant):
        spec, sim = plant.spec, plant.sim
        r = spec.recipe
        node = plant.node
        cm = sim.model.commodities
        lay = sim.layout
        self.plant = plant
        self.ledger = sim.ledger
        self.r = r
        self.out = spec.output
        self.feed = node.stock(r.feed)
        self.inputs = (self.feed,)
        self.uses = frozenset((r.feed,))
        els, masks, rows = {}, [], []
        for c, names in r.outputs.items():
            idx = np.array([ELEMENT_INDEX[e] for e in names])
            els[c] = idx
            masks.append(lay.element_mask(idx))
            den = float(cm[c].content[idx].sum())
            rows.append((c, node.stock(c), den if den > 0 else 1.0))
        self._n_el = lay.n_el
        self._M = np.array(masks, dtype=float)   # one row per output: its elements and their origins
        self._rows = tuple(rows)
        out_idx, out_den = els[self.out], next(d for c, _, d in rows if c == self.out)
        # main output per tonne of feed at the model's nominal feed content (a constant, for usage rates)
        self._feed_div = max(r.yield_ * float(cm[r.feed].content[out_idx].sum()) / out_den, 1e-12)
        stage = origin_stage(spec.stage)
        self._stamp = lay.stamper(stage, spec.country) if stage else None
        self._key = None     # the feed composition the cached split was made from
        self._split = None   # (main output per t feed, outputs, loss vector per t feed)

    def usage(self, c, per_day):
        return per_day / self._feed_div

    def _current(self):
        comp = self.feed.comp
        if self._key is not comp:
            self._key = comp
            self._split = self._make_split(comp)
        return self._split

    def co_per_main(self, c):
        main, outs, _ = self._current()
        per_feed = next((p for _, p, _, oc in outs if oc == c), 0.0)
        return per_feed / main if main > 0 else 0.0

    def batch_possible(self, thr):
        feed = self.feed
        if feed.qty <= EPS:
            return False
        if self._key is not feed.comp:
            return True   # a new feed composition: let make work out the yields
        return feed.qty * self._split[0] >= thr

    def _make_split(self, comp):
        y = self.r.yield_
        parts = self._M * comp              # one row per output: its elements and their origins
        masses = (parts[:, :self._n_el].sum(axis=1) * y).tolist()
        kept = parts.sum(axis=0)
        kept *= y
        rows = self._rows
        per_feed = [m / den for m, (_, _, den) in zip(masses, rows)]
        # each output's composition per tonne, stamped with this plant's origin: all rows at once
        if self._stamp is not None:
            src, keep = self._stamp
            parts = parts.take(src, axis=1)
            parts *= keep
        parts *= np.array([y / p if p > 0 else 0.0 for p in per_feed])[:, None]
        parts.flags.writeable = False
        outs = [(st, p, parts[i], c) for i, ((c, st, _), p) in enumerate(zip(rows, per_feed)) if p > 0]
        main = next((p for s, p, v, c in outs if c == self.out), 0.0)
        loss = np.maximum(comp - kept, 0.0)
        loss.flags.writeable = False
        return main, outs, loss

    def make(self, q, now):
        plant = self.plant
        feed = self.feed
        if feed.qty <= EPS:
            plant.short_inputs = True
            return None
        main, outs, loss = self._current()
        fq = feed.qty
        if main > 0 and q / main < fq:
            fq = q / main
        else:
            plant.short_inputs = True
        if fq <= EPS or (plant.made > EPS and fq * main < MIN_BATCH * plant.period_cap):
            return None
        feed.take(fq, now)
        self.ledger.lose(fq, loss)
        out = self.out
        main_out = [(s, fq * p, v) for s, p, v, c in outs if c == out]
        cos = [(s, fq * p, v, c) for s, p, v, c in outs if c != out]
        if main_out:
            plant.output(main_out[0][1], main_out[0][2], cos, now)
        else:
            plant.output(0.0, plant.out_stock.comp, cos, now)
        return fq * main
