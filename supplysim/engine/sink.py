"""Demand sinks at run time: draws, service, backorders and lost sales."""
from __future__ import annotations

import math

import numpy as np
from simpy.events import Timeout

from ..random import BLOCK
from .responses import substitution_factor
from .stock import EPS

__all__ = ["SinkRT"]


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
        self.demand = self.filled = self.delivered = self.lost = 0.0
        self.demand_m = self.filled_m = self.lost_m = self.delivered_m = 0.0
        self.area = 0.0
        self.t_last = 0.0
        self.first_unmet = None
        self.first_unmet_after = None   # first unmet demand once the disruption has started
        self._buf = []
        self._i = 0
        self._t0 = spec.start_day
        self.subs = []
        self.stock = node.stock(spec.commodity)

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

    def run(self):
        env = self.sim.env
        s = self.spec
        dt = s.order_interval_days
        if self._t0 > 0:
            yield Timeout(env, self._t0)
        if dt == 0:
            yield from self._run_process()
            return
        arrive = self.arrive
        subs = self.subs
        while True:
            i = self._i
            if i >= len(self._buf):
                self._refill(env._now, dt)
                i = 0
            d = self._buf[i]
            self._i = i + 1
            if subs:
                d *= substitution_factor(subs, env._now)
            if d > 0:
                arrive(d, env._now)
            yield Timeout(env, dt)

    def _run_process(self):
        """Unit orders in a Poisson process (rate with growth, by inversion of the cumulative rate)."""
        env = self.sim.env
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
        self.demand_m += d
        ln = self.lane
        node = self.node
        c = ln.commodity
        st = self.stock
        q0 = st.qty
        if q0 >= d and not node.open_out[c] and not node.unlimited:
            # nobody else is owed this stock: serve straight from it (the common case)
            st.area += q0 * (now - st.t_last)
            st.t_last = now
            st.qty = q0 - d
            st.outflow += d
            st.sink_q += d
            self.delivered += d
            self.delivered_m += d
            self.filled += d
            self.filled_m += d
            ln.shipped += d
            ln.shipped_m += d
            floor = node.quick_floor.get(c)
            if floor is None or q0 - d + node.inbound[c] - node.open_out[c] <= floor:
                node.touch(c)   # the position may call for an order (a fixed reorder point says not)
            if node.waiting is not None and c == node.out:
                node.wake()
            return
        self.touch(now)
        b0 = ln.open
        before = self.delivered
        ln.open += d
        node.open_out[c] += d
        node.dispatch(c)
        got = self.delivered - before
        imm = got - b0 if got > b0 else 0.0
        self.filled += imm
        self.filled_m += imm
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
            self.lost_m += x
        node.touch(c)
