"""Demand sinks at run time: order sizes, service, backorders and lost sales.

Order sizes are drawn in blocks from each sink's own stream (rules R4, R5) with
the dated part of the rate (growth, demand shocks), so every scenario sees the
same draws. Mechanisms that change demand during a run (substitution, a price
response) multiply each order as it is placed (:meth:`Sink.add_factor`), which
leaves the draws, and so common random numbers, untouched.
"""
from __future__ import annotations

import math
from collections import deque

import numpy as np

from ..random import BLOCK
from .kernel import URGENT
from .stock import EPS

__all__ = ["Sink", "DemandClock"]


class Sink:
    """A demand stream drawing from the stock of one node.

    Demand is an order on the zero-lead lane from the node, so a short node
    allocates among its sinks and buyers with the same rule; what is not
    shipped at once is backordered (served later) or lost.
    """

    def __init__(self, sim, spec, node, lane, rng):
        self.sim = sim
        self.env = sim.env
        self.book = sim.orders
        self.spec = spec
        self.id = spec.id
        self.node = node
        self.lane = lane
        self.rng = rng
        self.shocks = []       # (start, end, factor) dated changes of the rate (before the first draw)
        self.factors = []      # callables factor(now): multiply each order as it is placed
        self.shortage_hooks = []   # callables(sink, now) at every order not served in full at once
        self.level = 1.0       # share of the demand rate still placed (a market's demand response; see rate_at)
        self.patience = None   # callable() -> days an unmet order waits before it is lost (see set_patience)
        self.lost_mode = spec.unmet == "lost"
        self.k = math.log1p(spec.growth) / 365.0 if spec.growth else 0.0
        # running totals; the monthly records are their differences between month ends
        self.demand = self.filled = self.delivered = self.lost = 0.0
        self.area = 0.0
        self.t_last = sim.env.now
        self.first_unmet = None
        self.first_unmet_after = None   # first unmet demand once the disruption has started
        self._buf = []
        self._i = 0
        # demand starts at its start date, or with the run (a spin-up included)
        self._t0 = spec.start_day if spec.start_day > 0 else sim.env.now
        self.stock = node.stock(spec.commodity)
        self.commodity = spec.commodity

    def add_shock(self, start, end, factor):
        """The rate times ``factor`` over [start, end) (dated: must be added before the run starts)."""
        self.shocks.append((start, end, factor))

    def add_factor(self, fn):
        """Multiply every order placed at ``now`` by ``fn(now)`` (demand changed during the run)."""
        self.factors.append(fn)

    def set_patience(self, draw):
        """Unmet orders wait, then are lost: ``draw()`` gives each order's patience in days.

        ``draw`` is called once per order, in order (so each order keeps its draw across
        scenarios, rule R4). What an order still lacks when its patience runs out is taken
        off the backlog and counted as lost; deliveries serve the oldest orders first. This
        replaces the sink's ``unmet`` setting (patience 0 is pure lost sales, infinite
        patience pure backorders).
        """
        self.patience = draw
        self.lost_mode = False
        self._queue = deque()   # [tonnes still owed] per deferred order, oldest first
        self._queued = 0.0

    def _defer(self, q, now, wait):
        """``q`` tonnes of the order placed now are backordered for ``wait`` days at most."""
        if wait <= 0.0:
            self._cancel(q, now)
            return
        self._reconcile(q)
        entry = [q]
        self._queue.append(entry)
        self._queued += q
        self.env.call(wait, self._expire, entry)

    def _reconcile(self, new=0.0):
        # deliveries since the last look served the oldest deferred orders first (``new``: tonnes
        # on the backlog that are not queued yet)
        excess = self._queued - (self.lane.open - new)
        queue = self._queue
        while excess > EPS and queue:
            e = queue[0]
            x = e[0] if e[0] < excess else excess
            e[0] -= x
            excess -= x
            self._queued -= x
            if e[0] <= EPS:
                self._queued -= e[0]
                queue.popleft()

    def _expire(self, entry):
        self._reconcile()
        q = entry[0]
        if q > EPS:
            entry[0] = 0.0
            self._queued -= q
            self._cancel(q, self.env.now)

    def _cancel(self, q, now):
        q = min(q, self.lane.open)
        if q <= EPS:
            return
        self.touch(now)
        self.book.cancel(self.lane, q)
        self.lost += q
        self.node.touch(self.commodity)

    def reset(self):
        """Start the running totals again (end of a warm-up)."""
        self.demand = self.filled = self.delivered = self.lost = 0.0

    def rate_at(self, t):
        """Expected demand in t/day at time ``t`` (growth from day 0 and shocks applied)."""
        r = self.spec.rate_per_day * (math.exp(self.k * max(t, 0.0)) if self.k else 1.0) * self.level
        for a, b, f in self.shocks:
            if a <= t < b:
                r *= f
        return r

    def _refill(self, t_next, dt, k=None):
        """Draw the next block of order sizes (rule R5; one stream per sink, rule R4).

        ``dt`` is the order interval in days, or the model's calendar periods (then the orders
        fall at the starts of periods ``k``, ``k + 1``, ... and each covers its period's length).
        """
        s = self.spec
        n = BLOCK
        if k is None:
            times = t_next + dt * np.arange(n)
        else:
            times = np.array(dt.starts(k, n + 1))
            dt = np.diff(times)
            times = times[:-1]
        # demand grows from day 0 (a spin-up before it sees day 0's rate)
        mean = s.rate_per_day * dt * (np.exp(self.k * np.maximum(times, 0.0)) if self.k else np.ones(n))
        for a, b, f in self.shocks:
            mean = np.where((times >= a) & (times < b), mean * f, mean)
        if s.variability == "poisson":
            x = self.rng.poisson(mean)
        elif s.variability == "normal":
            x = np.maximum(mean + s.cv * mean * self.rng.standard_normal(n), 0.0)
        elif s.variability == "gamma":
            shape = 1.0 / (s.cv * s.cv)
            x = self.rng.standard_gamma(shape, n) * mean / shape
        else:
            x = mean
        self._buf = np.asarray(x, float).tolist()
        self._i = 0

    def start(self):
        """Start a stream of unit orders (order interval 0); periodic orders are drawn by a :class:`DemandClock`."""
        dt = self.spec.order_interval_days
        self._dt = dt if dt is not None else self.sim.periods   # (None: on the model's calendar periods)
        if dt == 0:
            self.env.loop(self._unit_orders())

    def _unit_orders(self):
        """Unit orders in a Poisson process (rate with growth, by inversion of the cumulative rate)."""
        env = self.env
        if self._t0 > env.now:
            yield self._t0 - env.now
        r0 = self.spec.rate_per_day
        k = self.k
        while True:
            if self._i >= len(self._buf):
                self._buf = self.rng.standard_exponential(BLOCK).tolist()
                self._i = 0
            e = self._buf[self._i]
            self._i += 1
            t = env.now
            if k and t >= 0:
                nxt = math.log(math.exp(k * t) + e * k / r0) / k
            else:
                nxt = t + e / r0
            yield nxt - t
            self.arrive(1.0, env.now)

    def next_order(self, now, k=None):
        """The size of the order placed now (in calendar period ``k``, on calendar periods): the next
        draw times the factors acting on demand."""
        i = self._i
        if i >= len(self._buf):
            self._refill(now, self._dt, k)
            i = 0
        d = self._buf[i]
        self._i = i + 1
        if self.factors:
            f = 1.0
            for fn in self.factors:
                f *= fn(now)
            d *= f
        return d

    def touch(self, now):
        self.area += self.lane.open * (now - self.t_last)
        self.t_last = now

    def arrive(self, d, now):
        """An order of ``d`` tonnes arrives."""
        wait = self.patience() if self.patience is not None else None
        self.demand += d
        node = self.node
        c = self.commodity
        st = self.stock
        if st.qty >= d and not node.owed[c] and not node.unlimited:
            # nobody else is owed this stock: serve straight from it (the common case)
            st.take(d, now, True)
            self.delivered += d
            self.filled += d
            node.touch(c)
            plant = node.plant
            if plant is not None and plant.loop.waiting and c in plant.makes:
                plant.nudge(now)
            return
        ln = self.lane
        book = self.book
        self.touch(now)
        b0 = ln.open
        before = self.delivered
        book.place(ln, d)
        node.dispatch(c)
        got = self.delivered - before
        imm = got - b0 if got > b0 else 0.0
        self.filled += imm
        if imm < d - EPS:
            if self.first_unmet is None:
                self.first_unmet = now
            if self.first_unmet_after is None and now >= self.sim.t_disrupt:
                self.first_unmet_after = now
            for fn in self.shortage_hooks:
                fn(self, now)
        if self.lost_mode and ln.open > EPS:
            self.touch(now)
            self.lost += book.withdraw(ln)
        elif wait is not None and imm < d - EPS:
            self._defer(d - imm, now, wait)
        node.touch(c)


class DemandClock:
    """One timer for all demand streams that order at the same times.

    Streams with the same start and order interval order in model order at
    each tick, as separate timers due at the same instant would, with one
    event instead of one per stream. Each keeps its own random stream. The
    interval is a number of days, or the model's calendar periods (an order at
    the start of each period, covering its length).
    """

    def __init__(self, env, sinks, start, interval):
        self.env = env
        self.sinks = tuple(sinks)
        self.interval = interval
        self.periods = None if isinstance(interval, (int, float)) else interval
        if self.periods is not None:
            k = self.periods.index(start)
            if self.periods.start(k) < start:
                k += 1   # the first order at the first period start from ``start`` on
            self.k = k
            start = self.periods.start(k)
        if start > env.now:
            env.call(start - env.now, self._tick)
        else:
            env.call(0.0, self._tick, None, URGENT)   # ordered like a process start

    def _tick(self, _):
        now = self.env.now
        k = None
        if self.periods is not None:
            k = self.k
        for s in self.sinks:
            d = s.next_order(now, k)
            if d > 0:
                s.arrive(d, now)
        if k is None:
            self.env.call(self.interval, self._tick)
        else:
            self.k = k + 1
            self.env.call(self.periods.start(k + 1) - now, self._tick)
