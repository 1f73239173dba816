"""A plant: capacity over time, a recipe, and the production loop that makes one batch per period.

The loop (:meth:`Plant.production`) is the plant's story: each period it makes
as much as capacity, inputs on hand and its stock target allow, then sleeps
until the next period; at its stock target it sleeps until a buyer draws or
orders; short of inputs, until they arrive. Batches spend ``processing_days``
in process before their output (and co-products) reach stock.
"""
from __future__ import annotations

import math

from .kernel import WAIT
from .recipes import MIN_BATCH, recipe_for
from .stock import EPS

__all__ = ["Plant", "Batch"]

INF = math.inf


class _NotRunning:
    """The loop of a plant that never runs (an unlimited source): never waiting."""

    waiting = False

    @staticmethod
    def wake():
        pass


class Batch:
    """Output of one batch in process: main output and co-products with their compositions."""

    __slots__ = ("qty", "comp", "coproducts")

    def __init__(self, qty, comp, coproducts):
        self.qty = qty
        self.comp = comp
        self.coproducts = coproducts   # [(stock, tonnes, composition, commodity), ...]


class Plant:
    """The producing part of a node: capacity, recipe, batches in process and the production loop."""

    def __init__(self, node):
        sim = node.sim
        spec = node.spec
        self.node = node
        self.sim = sim
        self.spec = spec
        self.env = sim.env
        self.periods = sim.periods
        self.schedule = spec.capacity     # t/yr over days (expansions replace it)
        self.windows = []                 # (start, end, factor) capacity outages
        self._cap_lo = self._cap_hi = -1.0
        self._cap_v = 0.0
        self.out = spec.output
        self.out_stock = node.stock(spec.output)
        self._target, self._target_days = spec.target_stock, spec.target_cover_days
        self.processing_days = spec.processing_days
        self.recipe = recipe_for(self)
        r = spec.recipe
        #: a plant with grades makes several outputs and leaves their room to its recipe
        self.graded = r is not None and bool(r.grades)
        #: every commodity the plant makes as its output (its grades, if it has them)
        self.makes = frozenset(r.grades) if self.graded else frozenset((spec.output,))
        # co-products a buyer may be owed, which keep the plant running (see room)
        self.co_stocks = tuple((c, node.stock(c)) for c in _coproducts(spec) if c != spec.output)
        self.made = 0.0            # made in the current period
        self.period_cap = 0.0      # this period's capacity (t of main output)
        self.k = None              # the period of the last step
        self.wip = 0.0
        self.produced = 0.0
        self.in_process = set()    # batches in process (for the invariant check)
        #: a graded plant's tonnes in process per grade and batch: grade -> {batch: tonnes}
        self.wip_parts = {}
        self.blocked_by_target = False
        self.short_inputs = False  # the last batch was cut by the inputs on hand
        self.wait_until = -INF     # before this time, only a receipt that makes a batch possible wakes the loop
        self._wake_t = None
        self.loop = _NotRunning

    # -- capacity -------------------------------------------------------------------------------
    def cap_per_day(self, now):
        """Capacity in t/day at ``now`` (schedule and outages; cached over constant pieces)."""
        if self._cap_lo <= now < self._cap_hi:
            return self._cap_v
        sched = self.schedule
        if sched is None:
            return INF
        cap = sched.at(now)
        hi = sched.constant_until(now)
        for a, b, f in self.windows:
            if a <= now < b:
                cap *= f
                hi = min(hi, b)
            elif a > now:
                hi = min(hi, a)
        cap /= 365.0
        if hi <= now:
            hi = math.nextafter(now, INF)   # a ramp runs: keep the value for this instant only
        self._cap_lo, self._cap_hi, self._cap_v = now, hi, cap
        return cap

    def _cap_until(self, now):
        # end of the cached constant-capacity piece holding ``now`` (``now`` if none is cached)
        return self._cap_hi if self._cap_lo <= now < self._cap_hi else now

    def capacity_changed(self):
        """Forget the cached capacity and let a waiting loop look again (schedule or outages changed)."""
        self._cap_lo = self._cap_hi = -1.0

    def add_outage(self, start, end, factor):
        """Capacity times ``factor`` over [start, end)."""
        w = (start, end, factor)
        self.windows.append(w)
        self.capacity_changed()
        return w

    def end_outage(self, w):
        self.windows.remove(w)
        self.capacity_changed()
        self.wake()

    def set_schedule(self, schedule):
        """Replace the capacity schedule (an expansion)."""
        self.schedule = schedule
        self.capacity_changed()
        self.wake()

    def next_change(self, now):
        t = self.schedule.next_change(now) if self.schedule is not None else INF
        for a, b, _ in self.windows:
            if a > now:
                t = min(t, a)
            elif b > now:
                t = min(t, b)
        return t

    def usage(self, c, now):
        """Tonnes of input ``c`` used per day at capacity at ``now``."""
        if c not in self.recipe.uses:
            return 0.0
        return self.recipe.usage(c, self.cap_per_day(now))

    # -- the production loop ---------------------------------------------------------------------
    def start(self):
        self.loop = self.env.loop(self.production())

    def production(self):
        """Make one batch per period while capacity, inputs and demand allow."""
        env, periods = self.env, self.periods
        last_cap = None
        while True:
            now = env.now
            k = periods.index(now)
            if k != self.k:
                self.k = k
                self.made = 0.0
            per_day = self.cap_per_day(now)
            cap = per_day * periods.length(k)
            if cap != last_cap:
                # inputs sized in days of cover follow capacity; a plant starting up orders its inputs
                last_cap = cap
                self.node.touch_inputs()
            if cap <= EPS:
                nxt = self.next_change(now)
                yield WAIT if nxt == INF else nxt - now   # (an expansion may still come)
                continue
            if cap - self.made > EPS:
                self.period_cap = cap
                self.made += self.make_batch(cap - self.made, now, per_day)
            end = periods.end(k)
            if cap - self.made <= (EPS * cap if cap > 1.0 else EPS):
                yield end - now   # capacity used: the next batch is next period's
            elif self.blocked_by_target:
                # at the stock target (waking on every draw would make a trickle of tiny batches)
                hi = self._cap_until(now)
                if hi <= end or self.recipe.period_bound:
                    # capacity (so maybe the target) changes this period, or a grade waits for next
                    # period's share of capacity
                    yield end - now
                    continue
                self._wake_at(hi)
                yield WAIT
                now = env.now
                k = periods.index(now)
                if k == self.k or now > periods.start(k):
                    yield periods.end(k) - now   # this period's batch was due at its start
            else:
                if self.short_inputs:
                    # only a receipt can help before the period (or the capacity) changes
                    hi = self._cap_until(now)
                    self.wait_until = end if end < hi else hi
                yield WAIT
                self.wait_until = -INF

    def room(self, per_day):
        """Tonnes of main output the plant may make before it reaches its stock target."""
        if self.graded:
            return self.recipe.room(per_day)
        target = self._target
        if target is None:
            target = self._target_days * per_day
        owed = self.node.owed
        room = target + owed[self.out] - self.out_stock.qty - self.wip
        for c, st in self.co_stocks:
            # a co-product owed to buyers keeps the plant running as long as it takes to make
            # it (separators run for Dy and Tb), in units of the main output
            short = owed[c] - st.qty
            if short > EPS:
                per_main = self.recipe.co_per_main(c)
                if per_main > 0 and short / per_main > room:
                    room = short / per_main
        return room

    def make_batch(self, cap, now, per_day):
        """Make up to ``cap`` tonnes of main output now; return the tonnes made."""
        room = self.room(per_day)
        if room <= EPS or room < MIN_BATCH * cap:
            # at (or within a sliver of) the target: wait for next period's batch instead of
            # topping up in crumbs every time a buyer draws from the stock
            self.blocked_by_target = True
            return 0.0
        self.blocked_by_target = False
        self.short_inputs = False
        made = self.recipe.make(cap if cap < room else room, now)
        if made is None:
            return 0.0
        touch = self.node.touch
        for st in self.recipe.inputs:
            touch(st.commodity)
        return made

    def output(self, q, comp, cos, now):
        """A batch's output: in process for ``processing_days``, then in stock.

        ``cos`` are ``(stock, tonnes, composition, commodity)`` parts: co-products, and a graded
        recipe's grades (``q`` is then their total and ``comp`` None).
        """
        if self.processing_days > 0:
            self.wip += q
            b = Batch(q, comp, cos)
            self.in_process.add(b)
            if comp is None:   # a graded recipe's batch: its grades come as parts
                for _, x, _, c in cos:
                    self.wip_parts.setdefault(c, {})[b] = x
            self.env.call(self.processing_days, self._finish, b)
        else:
            self.finish(q, comp, cos, now)

    def _finish(self, b):
        self.in_process.discard(b)
        if b.comp is None:
            for _, _, _, c in b.coproducts:
                self.wip_parts[c].pop(b, None)
        self.wip -= b.qty
        self.finish(b.qty, b.comp, b.coproducts, self.env.now)

    def finish(self, q, comp, cos, now):
        node = self.node
        if q > 0:
            if comp is not None:   # (a graded recipe's grades come as parts, with ``comp`` None)
                self.out_stock.add(q, comp, now)
            self.produced += q
        for st, x, v, _ in cos:
            st.add(x, v, now)
        owed = node.owed
        if comp is not None and owed[self.out] > EPS:
            node.dispatch(self.out)
        for _, _, _, c in cos:
            if owed[c] > EPS:
                node.dispatch(c)

    # -- waking the loop ----------------------------------------------------------------------------
    def wake(self):
        """Capacity may have changed: a waiting loop looks again now."""
        self.loop.wake()

    def nudge(self, now):
        """A buyer ordered or drew: wake the loop unless it only waits for inputs."""
        if now >= self.wait_until:
            self.loop.wake()

    def receipt(self, now):
        """Inputs arrived: wake the loop if they make a batch possible (or its wait is over)."""
        if now >= self.wait_until or self.batch_possible():
            self.loop.wake()

    def batch_possible(self):
        """False when the inputs on hand cannot make a batch yet (the recipe would make none)."""
        return self.recipe.batch_possible(MIN_BATCH * self.period_cap if self.made > EPS else EPS)

    def _wake_at(self, t):
        # one pending wake per plant at its next capacity change, however often it idles before
        if t < INF and t != self._wake_t:
            self._wake_t = t
            self.env.call(t - self.env.now, self._timed_wake)

    def _timed_wake(self, _):
        self._wake_t = None
        self.wake()


def _coproducts(spec):
    r = spec.recipe
    if r is None:
        return ()
    return tuple(r.coproducts) if r.kind == "fixed" else tuple(r.outputs)
