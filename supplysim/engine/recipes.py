"""How a plant turns inputs into outputs: one strategy per kind of recipe.

* :class:`SourceRecipe` — a mine or other source: output from nothing, stamped
  with the plant's country as its mining origin.
* :class:`FixedRecipe` — inputs in fixed tonnes per tonne of output, divided by
  the yield, with co-products (a metals plant, an alloy maker, a magnet maker).
* :class:`SplitRecipe` — a separator: one feed whose elements go to several
  outputs at a recovery rate (NdPr oxide, Dy/Tb oxide and the rest as co-products).
* :class:`GradeRecipe` — a magnet maker with grades: the base inputs of a fixed
  recipe make every grade (a grade may take only a part of them, as a
  cerium-substituted grade does), each grade adds its own inputs per tonne
  (heavy rare earths, a Ce-bearing metal), and capacity is shared among the
  grades by a mix that follows the orders, within technical limits, with a lag.

Each strategy names the commodities it ``uses`` and answers the plant's questions: how much of a batch of ``q``
tonnes of main output its inputs allow (:meth:`make`, which also takes the
inputs and hands the outputs to the plant), how much of an input it uses per
day at a capacity (:meth:`usage`), how many tonnes of a co-product come with a
tonne of main output (:meth:`co_per_main`), and whether the inputs on hand make
a batch at all (:meth:`batch_possible`). Recipes book the elements that leave
as neither output nor co-product with the ledger (rule V1's mass balance).

Output vectors are cached per input composition, keyed by the input arrays'
identity; those arrays are frozen (read-only) when cached, so the cache cannot
go stale (see :mod:`supplysim.engine.stock`). A fixed recipe's output vectors are
interned (:meth:`supplysim.materials.Layout.intern`): plants fed alike make one
vector, so their buyers' stocks have nothing to mix.
"""
from __future__ import annotations

import math

import numpy as np

from ..materials import ELEMENT_INDEX
from ..model.stages import origin_stage
from .mixing import stamped, weighted_sum
from .stock import EPS, freeze

__all__ = ["SourceRecipe", "FixedRecipe", "SplitRecipe", "GradeRecipe", "recipe_for", "MIN_BATCH", "project_mix"]

#: A plant makes no batch smaller than this share of a period's capacity once it has made one
#: that period (it waits for inputs or demand instead of making crumbs).
MIN_BATCH = 0.05


def recipe_for(plant):
    """The strategy of ``plant``'s recipe (a source has none in its spec)."""
    r = plant.spec.recipe
    if r is None:
        return SourceRecipe(plant)
    if r.kind != "fixed":
        return SplitRecipe(plant)
    return GradeRecipe(plant) if r.grades else FixedRecipe(plant)


class SourceRecipe:
    """A source: its output comes from nothing (the ledger books it as sourced)."""

    inputs = ()
    uses = frozenset()
    period_bound = False   # (see GradeRecipe)

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
        self.period_bound = False   # (see GradeRecipe; set per recipe, as the compiled build declares it)
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
        self._single = self.inputs[0] if len(self.inputs) == 1 else None
        self.uses = frozenset(r.inputs)
        self.co = tuple((node.stock(c), q, c) for c, q in r.coproducts.items())
        mix = sum(r.inputs.values())
        self._inv_mix = 1.0 / mix
        # what leaves as neither output nor co-product is this multiple of the (unstamped)
        # output vector: lost if positive, gained (e.g. oxygen-free metal from oxide) if negative
        self.loss_f = 1.0 / r.yield_ - 1.0 - sum(r.coproducts.values()) / mix
        stage = origin_stage(spec.stage)
        self._stamp = sim.layout.stamper(stage, spec.country) if stage else None
        # Without origin blocks a model has few distinct compositions, and they recur: interned
        # outputs let the stocks downstream skip mixing equal material. With origin blocks the
        # outputs of mixed inputs rarely recur (two in three were new in a default-model replication)
        # and hashing each costs more than it saves, so they are only made read-only (``_seal``).
        self._seal = sim.layout.intern if not sim.layout.tracks_origin else freeze
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

    def _base_output(self):
        """The unstamped output vector per tonne, ``Σ inputs[c] × composition of c`` (a new array)."""
        return weighted_sum([st.comp for st, _, _ in self.need], [q for _, _, q in self.need])

    def _make_vectors(self):
        out = self._base_output()
        co = ()
        if self.co:
            co_comp = self._seal(out * self._inv_mix)
            co = [(st, q, co_comp, c) for st, q, c in self.co]
        raw = out
        if self._stamp is not None:
            out = stamped(out, *self._stamp)    # a new array: the unstamped one is the ledger's
        return self._seal(out), co, raw

    def make(self, q, now):
        plant = self.plant
        for st, n, _ in self.need:
            lim = st.qty / n
            if lim < q:
                q = lim
                plant.short_inputs = True
        if q <= EPS or (plant.made > EPS and q < MIN_BATCH * plant.period_cap):
            return None   # short of inputs after this period's batch: wait for more, not crumbs
        if self._single is not None:   # one input: its composition is the key
            key = self._single.comp
            changed = key is not self._key
        else:
            key = tuple([st.comp for st, _, _ in self.need])
            old = self._key
            changed = old is None or any([a is not b for a, b in zip(key, old)])
        if changed:
            for st in self.inputs:
                freeze(st.comp)
            self._key = key
            self._vectors = self._make_vectors()
        out, co, raw = self._vectors
        self._use_base(q, raw, now)
        plant.output(q, out, [(st, q * x, v, c) for st, x, v, c in co], now)
        return q

    def _use_base(self, q, raw, now):
        """Take the base inputs of ``q`` t of output and book what leaves as neither output nor co-product."""
        for st, n, _ in self.need:
            st.take(q * n, now)
        f = self.loss_f
        if f > 0:
            self.ledger.lose(q * f, raw)
        elif f < 0:
            self.ledger.source(-q * f, raw)


class SplitRecipe:
    """A separator: the feed's elements go to the outputs that take them, at the recovery rate."""

    def __init__(self, plant):
        self.period_bound = False
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
            self._key = freeze(comp)
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
        freeze(parts)
        outs = [(st, p, parts[i], c) for i, ((c, st, _), p) in enumerate(zip(rows, per_feed)) if p > 0]
        main = next((p for s, p, v, c in outs if c == self.out), 0.0)
        loss = np.maximum(comp - kept, 0.0)
        return main, outs, freeze(loss)

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


def project_mix(m, lo, hi):
    """The mix nearest to ``m`` (shifted by one constant) with every share in [lo, hi] and summing to 1.

    ``m`` is taken to sum to 1 already (a mix moved towards another mix), so a mix within the
    limits comes back as it is.

    Examples
    --------
    >>> [round(x, 6) for x in project_mix([0.7, 0.3, 0.0], [0.0, 0.0, 0.1], [0.6, 1.0, 1.0])]
    [0.6, 0.3, 0.1]
    >>> [round(x, 6) for x in project_mix([0.2, 0.2], [0.0, 0.0], [1.0, 1.0])]
    [0.5, 0.5]
    """
    if abs(sum(m) - 1.0) <= 1e-12 and all([a <= x <= b for x, a, b in zip(m, lo, hi)]):
        return list(m)

    def total(t):
        return sum([min(max(x + t, a), b) for x, a, b in zip(m, lo, hi)])
    # the total is piecewise linear and non-decreasing in the shift t, with kinks where a share meets
    # a limit: find the two kinks around 1 and interpolate
    kinks = sorted({a - x for x, a in zip(m, lo)} | {b - x for x, b in zip(m, hi)})
    t0, f0 = kinks[0], total(kinks[0])
    t = t0
    for t1 in kinks[1:]:
        f1 = total(t1)
        if f1 >= 1.0:
            t = t0 + (1.0 - f0) * (t1 - t0) / (f1 - f0) if f1 > f0 else t1
            break
        t0, f0 = t1, f1
    else:
        t = t0
    return [min(max(x + t, a), b) for x, a, b in zip(m, lo, hi)]


class GradeRecipe(FixedRecipe):
    """A magnet maker with grades (a fixed recipe with ``grades``).

    Every grade is made from the recipe's base inputs (divided by the yield, with
    its co-products, as a fixed recipe), at ``base`` times the recipe's tonnes per
    tonne of the grade (1 for most grades; less for a grade whose added input
    replaces a part of the base alloy, as cerium does in a Ce-substituted magnet):
    the base part's losses and co-products scale with it. A grade adds its own
    inputs per tonne (its heavy rare earths, a Ce-bearing metal), all of which end
    in the product. So a tonne of grade ``g`` holds ``base[g] × the base output +
    Σ add[g][c] × composition of c``.

    The **mix** (one share per grade, summing to 1) is how the plant plans its
    capacity and stock: each period a grade first gets up to its share of the
    period's capacity, then capacity the other grades leave unused goes to the
    grades that still have room (in proportion to it), never beyond a grade's
    ``max_share`` of capacity; a grade's stock target is its share of the plant's.
    So the mix matters when capacity is short: then each grade gets its planned
    share. At each new period the mix moves towards the grades' shares of what
    their buyers want (shipped since the last update, plus the orders owed beyond
    stock), by ``1 - exp(-elapsed / mix_days)`` of the gap, and is brought within
    each grade's ``[min_share, max_share]`` (technical limits: lines and furnaces
    qualified for a grade).

    The mix is a hook (see :mod:`.mechanisms`): ``steer(fn)`` lets a mechanism
    change the target mix (``fn(recipe, now, desired) -> desired``, a list of
    shares in grade order) before the lag and the limits act, and ``limits`` may be
    changed during a run.
    """

    def __init__(self, plant):
        super().__init__(plant)   # the base inputs, co-products, losses and stamp of a fixed recipe
        r = self.r
        node = plant.node
        self.node = node
        self.grades = tuple(r.grades)
        self.out = tuple(node.stock(g) for g in self.grades)
        self.index = {g: i for i, g in enumerate(self.grades)}
        #: per grade: ((stock, tonnes added per tonne of the grade), ...)
        self.add = tuple(tuple((node.stock(c), q) for c, q in r.grades[g].add.items()) for g in self.grades)
        #: per grade: tonnes of the base inputs per tonne of the grade, relative to the recipe
        self.base = tuple(r.grades[g].base for g in self.grades)
        self._whole = all([b == 1.0 for b in self.base])   # every grade takes the whole base recipe
        self._adds = tuple(node.stock(c) for c in sorted({c for g in r.grades.values() for c in g.add}))
        self.inputs += self._adds
        #: per added input: its stock, (grade index, tonnes per tonne of the grade) of the grades using it
        #: in grade order, and for each grade whether it uses it
        self._users = tuple((st, tuple((i, x) for i, adds in enumerate(self.add) for s, x in adds if s is st),
                             tuple(any(s is st for s, _ in adds) for adds in self.add)) for st in self._adds)
        self.uses = self.uses | frozenset(st.commodity for st in self._adds)
        self.mix = [r.grades[g].share for g in self.grades]
        self.limits = ([r.grades[g].min_share for g in self.grades], [r.grades[g].max_share for g in self.grades])
        self.steering = []         # hooks: fn(recipe, now, desired) -> desired
        self.mix_days = r.mix_days
        self.history = []          # (day, mix) at every update of the mix
        self.period_bound = False  # a grade with room has used its share of this period's capacity
        self._k = None             # the period the per-grade counters are for
        self._t = 0.0              # when the mix was last updated
        self.made = [0.0] * len(self.grades)
        self._cut = [False] * len(self.grades)   # grades the added inputs held back this period
        self._orders = self._shipped()
        self._room = [0.0] * len(self.grades)

    # -- the plant's questions -------------------------------------------------------------------
    def _base_t(self, want, tot):
        """Tonnes of base output (the recipe's, per its inputs) that ``want`` t per grade take (``tot`` their sum)."""
        return tot if self._whole else sum([w * b for w, b in zip(want, self.base)])

    def usage(self, c, per_day):
        """Tonnes of input ``c`` used per day at capacity ``per_day`` and the current mix."""
        r = self.r
        u = per_day * self._base_t(self.mix, 1.0) * r.inputs[c] / r.yield_ if c in r.inputs else 0.0
        for i, g in enumerate(self.grades):
            u += per_day * self.mix[i] * r.grades[g].add.get(c, 0.0)
        return u

    def co_per_main(self, c):
        return self.r.coproducts[c] * self._base_t(self.mix, 1.0)

    def batch_possible(self, thr):
        """Whether the base inputs on hand make ``thr`` t of the grade that needs the least of them."""
        # (the base class named: a compiled method has no argument-free super())
        return FixedRecipe.batch_possible(self, thr * min(self.base))

    def steer(self, fn):
        """Call ``fn(recipe, now, desired)`` at each update of the mix; it returns the desired shares."""
        self.steering.append(fn)

    # -- the mix -------------------------------------------------------------------------------
    def _shipped(self):
        """Per grade: tonnes taken from its stock so far (shipped and delivered)."""
        return [st.removed() for st in self.out]

    def _new_period(self, k, now):
        """A new period: move the mix towards the grades' shares of what their buyers want; reset this
        period's counters."""
        self._k = k
        self.made = [0.0] * len(self.grades)
        cur = self._shipped()
        owed = self.node.owed
        dt = now - self._t
        # what each grade's buyers want of it: shipped since the last update, plus the orders owed
        # beyond its stock, to be made up over mix_days (buyers move unshipped orders between
        # suppliers at every review, so orders placed are no measure)
        k = min(1.0, dt / self.mix_days) if self.mix_days > 0 else 1.0
        # (a grade its inputs held back gets no capacity for its backlog: capacity cannot make it)
        need = [a - b + (0.0 if cut else k * max(owed[g] - st.qty, 0.0))
                for a, b, g, st, cut in zip(cur, self._orders, self.grades, self.out, self._cut)]
        self._orders = cur
        self._cut = [False] * len(self.grades)
        tot = sum(need)
        desired = [x / tot for x in need] if tot > EPS else list(self.mix)
        for fn in self.steering:
            desired = fn(self, now, desired)
        # the lag acts over the time since the last update (a plant idle for several periods catches up)
        a = 1.0 - math.exp(-dt / self.mix_days) if self.mix_days > 0 else 1.0
        self._t = now
        m = [x + a * (d - x) for x, d in zip(self.mix, desired)]
        self.mix = project_mix(m, *self.limits)
        self.history.append((now, tuple(self.mix)))

    def room(self, per_day):
        """Tonnes the plant may make now, and how they split over the grades: each grade's room to its
        stock target, first within its share of the period's capacity, then from capacity the others
        leave unused (up to its ``max_share``)."""
        plant = self.plant
        now = plant.env.now
        if plant.k != self._k:
            self._new_period(plant.k, now)
        cap = per_day * plant.periods.length(plant.k)
        target = plant._target if plant._target is not None else plant._target_days * per_day
        owed = self.node.owed
        n = len(self.grades)
        wip = self._wip(plant)
        want, ceil = [0.0] * n, [0.0] * n
        for i, st in enumerate(self.out):
            r = target * self.mix[i] + owed[self.grades[i]] - st.qty - wip[i]
            if r > EPS:
                want[i] = r
                ceil[i] = min(r, max(self.limits[1][i] * cap - self.made[i], 0.0))
        ceil = self._input_limited(ceil)   # capacity a grade cannot use for lack of its inputs goes to others
        first = [min(c, max(m * cap - x, 0.0)) for c, m, x in zip(ceil, self.mix, self.made)]
        spare = cap - sum(self.made) - sum(first)
        more = [c - f for c, f in zip(ceil, first)]
        extra = sum(more)
        if spare > EPS and extra > EPS:
            f = min(1.0, spare / extra)
            first = [a + f * b for a, b in zip(first, more)]
        self._room = first
        self.period_bound = any([w - a > EPS for w, a in zip(want, first)])
        return sum(first)

    def _wip(self, plant):
        """Per grade: tonnes in process."""
        # (exactly rounded sums: the batches are a set, whose order differs between processes)
        return [math.fsum(plant.wip_parts[g].values()) if g in plant.wip_parts else 0.0 for g in self.grades]

    # -- making --------------------------------------------------------------------------------
    def _make_vectors(self):
        raw = self._base_output()
        raw.flags.writeable = False
        co_comp = raw * self._inv_mix
        co_comp.flags.writeable = False
        co = [(st, q, co_comp, c) for st, q, c in self.co]
        outs = []
        for adds, b in zip(self.add, self.base):
            v = raw
            if adds or b != 1.0:   # (else the grade is the base output itself, the same array)
                v = weighted_sum([raw] + [st.comp for st, _ in adds], [b] + [q for _, q in adds])
            if self._stamp is not None:
                v = stamped(v, *self._stamp)
            v.flags.writeable = False
            outs.append(v)
        return outs, co, raw

    def _input_limited(self, want):
        """``want`` (t per grade) cut to what the added inputs on hand allow: each added input limits
        the grades that use it, together, in proportion."""
        for st, users, cut in self._users:
            use = sum([want[i] * x for i, x in users])
            if use > st.qty:
                f = st.qty / use
                want = [w * f if c else w for w, c in zip(want, cut)]
                self._cut = [a or b for a, b in zip(self._cut, cut)]
                self.plant.short_inputs = True
        return want

    def make(self, q, now):
        """Make up to ``q`` tonnes in all, split over the grades as :meth:`room` planned."""
        plant = self.plant
        want = list(self._room)
        tot = sum(want)
        if tot > q:
            want = [w * q / tot for w in want]
            tot = q
        for st, n, _ in self.need:   # base inputs: every grade needs them (its base share of them)
            need = self._base_t(want, tot) * n
            if st.qty < need:
                f = st.qty / need
                want = [w * f for w in want]
                tot *= f
                plant.short_inputs = True
        want = self._input_limited(want)
        tot = sum(want)
        if tot <= EPS or (plant.made > EPS and tot < MIN_BATCH * plant.period_cap):
            return None
        key = tuple([st.comp for st in self.inputs])
        old = self._key
        if old is None or any([a is not b for a, b in zip(key, old)]):
            self._key = key
            self._vectors = self._make_vectors()
        outs, co, raw = self._vectors
        bt = self._base_t(want, tot)   # the base part's tonnes: its inputs, losses and co-products
        self._use_base(bt, raw, now)
        for w, adds in zip(want, self.add):
            if w > 0:
                for st, x in adds:
                    st.take(w * x, now)
        parts = [(st, w, v, g) for st, w, v, g in zip(self.out, want, outs, self.grades) if w > 0]
        for i, w in enumerate(want):
            self.made[i] += w
        plant.output(tot, None, parts + [(st, bt * x, v, c) for st, x, v, c in co], now)
        return tot
