"""Demand sinks at run time: draws, service, backorders and lost sales."""
from __future__ import annotations

import math

import numpy as np
from simpy.events import Timeout

from ..random import BLOCK
from .responses import substitution_factor
from .events import Immediate, Tick
from .stock import EPS

__all__ = ["SinkRT", "DemandClock"]


class SinkRT:
    """A demand stream drawing from the stock of one node.

    Demand is an order on the zero-lead lane from the node, so a short node
    allocates among its sinks and buyers with the same rule; what is not
    shipped at once is backordered (served later) or lost.
    """

    def __init__(self, sim, spec, node, lane, rng, shocks):
        self.sim = sim
        self.spec = spec
        self.id = spec.id
        self.node = node
        self.lane = lane
        self.rng = rng
        self.shocks = shocks
        self.lost_mode = spec.unmet == "lost"
        self.k = math.log1p(spec.growth) / 365.0 if spec.growth else 0.0
        # running totals; the monthly records are their differences between month ends
        self.demand = self.filled = self.delivered = self.lost = 0.0
        self.area = 0.0
        self.t_last = 0.0
        self.first_unmet = None
        self.first_unmet_after = None   # first unmet demand once the disruption has started
        self._buf = []
        self._i = 0
        self._t0 = spec.start_day
        self.subs = []
        self.stock = node.stock(spec.commodity)
        self.commodity = spec.commodity
        self.floor = None   # the node's quick reorder floor for this commodity, once the network is built

    def reset(self):
        """Start the running totals again (end of a warm-up)."""
        self.demand = self.filled = self.delivered = self.lost = 0.0

    def rate_at(self, t):
        """Expected demand in t/day at time ``t`` (growth and shocks applied)."""
        r = self.spec.rate_per_day * (math.exp(self.k * t) if self.k else 1.0)
        for a, b, f in self.shocks:
            if a <= t < b:
                r *= f
        return r

    def _refill(self, t_next, dt):
        """Draw the next block of order sizes (rule R5; one stream per sink, rule R4)."""
        s = self.spec
        n = BLOCK
        times = t_next + dt * np.arange(n)
        mean = s.rate_per_day * dt * (np.exp(self.k * times) if self.k else np.ones(n))
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
        self._dt = self.spec.order_interval_days
        if self._dt == 0:
            self.sim.env.process(self._run_process())

    def _run_process(self):
        """Unit orders in a Poisson process (rate with growth, by inversion of the cumulative rate)."""
        env = self.sim.env
        if self._t0 > 0:
            yield Timeout(env, self._t0)
        r0 = self.spec.rate_per_day
        k = self.k
        while True:
            if self._i >= len(self._buf):
                self._buf = self.rng.standard_exponential(BLOCK).tolist()
                self._i = 0
            e = self._buf[self._i]
            self._i += 1
            t = env.now
            if k:
                nxt = math.log(math.exp(k * t) + e * k / r0) / k
            else:
                nxt = t + e / r0
            yield Timeout(env, nxt - t)
            self.arrive(1.0, env.now)

    def touch(self, now):
        self.area += self.lane.open * (now - self.t_last)
        self.t_last = now

    def arrive(self, d, now):
        """An order of ``d`` tonnes arrives."""
        self.demand += d
        node = self.node
        c = self.commodity
        st = self.stock
        q0 = st.qty
        if q0 >= d and not node.open_out[c] and not node.unlimited:
            # nobody else is owed this stock: serve straight from it (the common case)
            st.area += q0 * (now - st.t_last)
            st.t_last = now
            st.qty = q0 - d
            st.sink_q += d
            self.delivered += d
            self.filled += d
            floor = self.floor
            if floor is None or q0 - d + node.inbound[c] <= floor:   # (nothing is owed: see above)
                node.touch(c)   # the position may call for an order (a fixed reorder point says not)
            if node.waiting and c == node.out:
                node.nudge(now)
            return
        ln = self.lane
        self.touch(now)
        b0 = ln.open
        before = self.delivered
        ln.open += d
        node.open_out[c] += d
        node.dispatch(c)
        got = self.delivered - before
        imm = got - b0 if got > b0 else 0.0
        self.filled += imm
        if imm < d - EPS:
            if self.first_unmet is None:
                self.first_unmet = now
            if self.first_unmet_after is None and now >= self.sim.t_disrupt:
                self.first_unmet_after = now
            for sub in self.subs:
                if sub[0] is None and now >= sub[3]:
                    sub[0] = now   # substitution triggered by the first shortage after its start
        if self.lost_mode and ln.open > EPS:
            self.touch(now)
            x = ln.open
            ln.open = 0.0
            node.open_out[c] -= x
            self.lost += x
        node.touch(c)


class DemandClock:
    """One timer for all demand streams that order at the same times.

    Streams with the same start and order interval order in model order at
    each tick, as separate timers due at the same instant would, with one
    event instead of one per stream. Each keeps its own random stream.
    """

    def __init__(self, env, sinks, start, interval):
        self.env = env
        self.sinks = tuple(sinks)
        self.interval = interval
        self.ev = Tick(env)
        self._cb = self._tick
        if start > 0:
            self.ev.arm(start, self._cb)
        else:
            Immediate(env).callbacks.append(self._cb)

    def _tick(self, ev):
        now = self.env._now
        for s in self.sinks:
            # each stream's next order size, from its own buffered draws (rules R4, R5)
            i = s._i
            if i >= len(s._buf):
                s._refill(now, s._dt)
                i = 0
            d = s._buf[i]
            s._i = i + 1
            if s.subs:
                d *= substitution_factor(s.subs, now)
            if d > 0:
                s.arrive(d, now)
        self.ev.arm(self.interval, self._cb)
