"""A node of the network in one replication: its stocks, and shipping what it owes.

A node holds one stock per commodity. As a supplier it ships the orders it
holds (its own buyers' and its demand sinks') from stock by its allocation
rule, within the limits on each lane (:meth:`Node.dispatch`), and it receives
shipments (:meth:`Node.receive`). A node that buys has a :class:`~.buyer.Buyer`
(``node.buyer``); a node that produces has a :class:`~.plant.Plant`
(``node.plant``). Open orders live in the order book (:mod:`.orders`).
"""
from __future__ import annotations

import math

from ..policies import allocate
from .stock import EPS, Stock

__all__ = ["Node"]

INF = math.inf


class Node:
    """One facility (or a demand sink's own stocking point) at run time."""

    def __init__(self, sim, spec):
        self.sim = sim
        self.spec = spec
        self.id = spec.id
        self.env = sim.env
        self.book = sim.orders
        self.unlimited = spec.unlimited
        self.allocation = spec.allocation
        self.stocks = {}
        self.out_lanes = {}        # commodity -> lanes it ships on (its sinks' lanes included)
        self.in_lanes = {}         # commodity -> lanes it receives on
        self.owed = {}             # commodity -> tonnes it owes (order book)
        self.on_order = {}         # commodity -> tonnes it has ordered and not received (order book)
        self.sinks = []
        self.to_demand = frozenset()   # commodities it ships to demand sinks only (see _deliver)
        self.retry = set()
        self.gated_out = False     # a rule can act on one of its lanes
        self.defence_share = 0.0   # share of defence in the demand it serves directly
        self.buyer = None
        self.plant = None

    def stock(self, c):
        """The stock of ``c`` (made on first use, with its initial quantity and composition)."""
        st = self.stocks.get(c)
        if st is None:
            sim = self.sim
            lay = sim.layout
            comp = sim.model.commodities[c].content
            if c == self.spec.output and self.spec.output_content is not None:
                comp = self.spec.output_content  # ore-specific content of a mine's concentrate
            comp = lay.embed(comp)
            q0 = self.spec.initial_stock.get(c, 0.0)
            if q0 or self.unlimited:
                # stock present at the start: its history is unknown, so it is
                # taken to have passed every stage in the holder's country
                for stage in lay.STAGES:
                    comp = lay.stamp(comp, stage, self.spec.country)
            st = self.stocks[c] = Stock(q0, comp, now=self.env.now, commodity=c)
            if q0:
                sim.ledger.source(q0, comp)
            self.owed.setdefault(c, 0.0)
            self.on_order.setdefault(c, 0.0)
        return st

    @property
    def produced(self):
        """Tonnes of main output produced (0 for a node without a plant)."""
        return self.plant.produced if self.plant is not None else 0.0

    @property
    def orders(self):
        """Orders placed by the node's buyer."""
        return self.buyer.orders if self.buyer is not None else 0

    # -- positions ------------------------------------------------------------------------------
    def attach_buyer(self, buyer):
        """Give the node its buyer: from now on :meth:`touch` is the buyer's."""
        self.buyer = buyer
        self.touch = buyer.touch

    def touch(self, c):
        """The node's position of ``c`` changed (its buyer may order; a node without one ignores it)."""

    def touch_inputs(self):
        """Capacity changed: the buyer looks again at every commodity it buys."""
        if self.buyer is not None:
            for c in self.buyer.policies:
                self.buyer.touch(c)

    def usage_rate(self, c, now, depth=0):
        """Tonnes of ``c`` used per day at ``now``: by the plant's recipe, or drawn by demand downstream."""
        if self.spec.recipe is not None:
            return self.plant.usage(c, now)
        tot = 0.0
        for s in self.sinks:
            if s.commodity == c:   # (a node holding several grades serves each grade's sinks)
                tot += s.rate_at(now)
        if depth < 3:
            for lane in self.out_lanes.get(c, ()):
                if lane.sink is None:
                    ins = lane.dst.in_lanes.get(c, ())
                    share = lane.share / sum([x.share for x in ins])   # (a list: a compiled method holds no closure)
                    tot += share * lane.dst.usage_rate(c, now, depth + 1)
        return tot

    # -- shipping -------------------------------------------------------------------------------
    def order_in(self, ln, q):
        """A buyer's order of ``q`` tonnes arrives on lane ``ln``."""
        c = ln.commodity
        self.book.place(ln, q)
        self.dispatch(c)
        plant = self.plant
        if plant is not None and plant.loop.waiting:
            plant.nudge(self.env.now)
        self.touch(c)

    def dispatch(self, c):
        """Ship what is owed of ``c`` from stock, by the allocation rule, within each lane's limits."""
        if self.owed[c] <= EPS:
            return
        st = self.stocks[c]
        avail = INF if self.unlimited else st.qty
        if avail <= EPS:
            return
        sim = self.sim
        now = self.env.now
        lanes = [ln for ln in self.out_lanes[c] if ln.open > EPS]
        req = []
        capped = False
        if self.gated_out and sim.gate.quotas:
            sim.gate.begin()
        for ln in lanes:
            if ln.plain:
                req.append(ln.open)   # no limits, no capacity: it may ship all it is owed
                continue
            r = ln.open
            for limit in ln.limits:
                r = limit(ln, st.comp, r, now)
                if r <= 0:
                    break
            if ln.cap_per_day is not None and r > 0:
                k = sim.periods.index(now)
                room = ln.room(k, sim.periods.length(k))
                if room < r:
                    r = room if room > 0 else 0.0
                    capped = True
            req.append(r)
        if len(lanes) == 1:
            q = req[0] if req[0] < avail else avail
            if q < req[0] and self.allocation == "whole":
                q = allocate("whole", avail, req, [0])[0]
            if q > EPS:
                self._ship(lanes[0], q, st, now)
        else:
            rule = self.allocation
            if rule == "pro_rata":
                qs = allocate(rule, avail, req)   # pro rata needs neither priorities nor shares
            else:
                qs = allocate(rule, avail, req, [ln.priority for ln in lanes], [ln.share for ln in lanes])
            if c in self.to_demand:
                st.take_to_sinks(qs, now)
                self.book.deliver_all(lanes, qs, now)
            else:
                for ln, q in zip(lanes, qs):
                    if q > EPS:
                        self._ship(ln, q, st, now)
        if capped and c not in self.retry and self.owed[c] > EPS:
            # a lane ran out of capacity: try again when the next period opens
            self.retry.add(c)
            self.env.call(sim.periods.end(sim.periods.index(now)) - now, self._retry, c)
        plant = self.plant
        if plant is not None and plant.loop.waiting and c in plant.makes:
            plant.nudge(now)

    def _retry(self, c):
        self.retry.discard(c)
        self.dispatch(c)

    def _ship(self, ln, q, st, now):
        sim = self.sim
        if self.unlimited:
            sim.ledger.source(q, st.comp)   # an unlimited source brings material into being
            if ln.sink is not None:
                st.count_delivery(q)
        else:
            st.take(q, now, ln.sink is not None)
        if ln.sink is not None:
            self.book.deliver(ln, q, now)
            return
        ln.shipped += q
        ln.used += q
        if ln.gated:
            sim.gate.consume(ln, q)
        sim.cost_transport += q * ln.cost
        self.book.ship(ln, q, st.comp, ln.lead_time() + ln.extra_days)

    def receive(self, s):
        """Shipment ``s`` arrives: stock it, let the plant know, ship what the node owes of it."""
        self.book.receive(s)
        c = s.lane.commodity
        now = self.env.now
        self.stocks[c].add(s.qty, s.comp, now)
        plant = self.plant
        if plant is not None and plant.loop.waiting:
            plant.receipt(now)
        if self.owed[c] > EPS:
            self.dispatch(c)
