"""A buyer: sourcing policies that turn a node's inventory position into orders on its lanes.

The story of a review: the position of a commodity (stock + on order - owed)
changed; at the next review (now, if reviewed continuously) the policy says how
much to order; the orders still unshipped are withdrawn and placed again with
it, split over the open, qualified lanes by their shares (or all on the one of
best priority), so a supplier that cannot deliver does not hold the buyer's
orders hostage. The buyer reads the order book and asks it to place and
withdraw lines; it never touches a shipment.
"""
from __future__ import annotations

from ..policies import order_quantity
from .kernel import URGENT
from .periods import FixedPeriods
from .stock import EPS

__all__ = ["Buyer"]

#: Policies whose levels give a position above which no order is due (the reorder point).
_REORDER_POINT = {"sS": "s", "rQ": "r", "base_stock": "S"}


class Buyer:
    """The ordering part of a node with sourcing policies (one per commodity it buys)."""

    def __init__(self, node):
        sim = node.sim
        spec = node.spec
        self.node = node
        self.sim = sim
        self.env = sim.env
        self.book = sim.orders
        self.policies = spec.sourcing
        # when each commodity is reviewed: None = continuously, else at the starts of a grid of
        # periods (its own review_days, by default the model's periods)
        self.reviews = {c: (None if s.review_days == 0 else
                            FixedPeriods(s.review_days) if s.review_days is not None else sim.periods)
                        for c, s in spec.sourcing.items()}
        self.pending = set()       # commodities with a review scheduled
        self.gated = False         # an export-control rule can reach one of its lanes
        self.orders = 0
        self.watchers = {}         # commodity -> callables run on every change of its position
        self.short_hooks = []      # callables(buyer, c) run when an order is due and the position is low
        self.cover = {}            # commodity -> callable(now) -> (factor, extra days) on its days of cover
        self._fixed = {}           # commodity -> levels in tonnes, where no level is in days of cover
        self._no_order_above = {}  # commodity -> reorder point of a fixed-level policy
        self._plans = {}           # commodity -> (reorder point to skip a review at, review period, watchers)
        self.settle()

    def settle(self):
        """Once the network is built: which levels are fixed, and where a review can be skipped."""
        self._fixed = {c: ({k: v for k, (v, _) in p.levels.items()}
                           if not self.gated and not any(d for _, d in p.levels.values()) else None)
                       for c, p in self.policies.items()}
        self._no_order_above = {c: lv[_REORDER_POINT[self.policies[c].policy]]
                                for c, lv in self._fixed.items()
                                if lv is not None and self.policies[c].policy in _REORDER_POINT}
        # a continuously reviewed position above a fixed reorder point needs no review at all
        # (unless something watches it)
        self._plans = {c: (self._no_order_above.get(c) if grid is None and c not in self.watchers else None,
                           grid, tuple(self.watchers.get(c, ())))
                       for c, grid in self.reviews.items()}

    def set_cover(self, c, fn):
        """Scale the policy's days of cover of ``c``: ``fn(now)`` returns ``(factor, extra_days)`` and a
        level of ``v`` days becomes ``v * factor + extra_days`` days (a market's stock release and
        building). Levels in tonnes are left as they are."""
        self.cover[c] = fn

    def watch(self, c, fn):
        """Call ``fn(buyer, c)`` every time the position of ``c`` changes (before its review)."""
        self.watchers.setdefault(c, []).append(fn)
        self.settle()

    # -- reviews --------------------------------------------------------------------------------
    def position(self, c):
        node = self.node
        return node.stocks[c].qty + node.on_order[c] - node.owed[c]

    def touch(self, c):
        """The position of ``c`` changed: review now (continuous) or at the next review time.

        Periodic reviews are event-driven: a review is scheduled only when the
        position changed since the last one, so idle buyers cost no events.
        """
        plan = self._plans.get(c)
        if plan is None:
            return   # not a commodity it buys
        floor, grid, watchers = plan
        if floor is not None:
            node = self.node
            if node.stocks[c].qty + node.on_order[c] - node.owed[c] > floor:
                return   # a fixed reorder point not yet reached: the review would order nothing
        for fn in watchers:
            fn(self, c)
        if grid is None:
            self.review(c)
        elif c not in self.pending:
            self.pending.add(c)
            now = self.env.now
            self.env.call(grid.next_review(now) - now, self._review_due, c, URGENT)

    def _review_due(self, c):
        self.pending.discard(c)
        self.review(c)

    def review(self, c):
        """Order ``c`` if the inventory position calls for it."""
        pos = self.position(c)
        floor = self._no_order_above.get(c)
        if floor is not None and pos > floor:
            return
        pol = self.policies[c]
        if pol.policy == "none":
            return
        levels = self.levels(pol, self.env.now)
        q = order_quantity(pol.policy, pos, levels)
        if q <= EPS:
            return
        if self.short_hooks and pos < 0.5 * max(levels.values()):
            for fn in self.short_hooks:
                fn(self, c)
        book = self.book
        for ln in self.node.in_lanes[c]:
            if ln.open > EPS and not ln.release:
                q += book.withdraw(ln)
        self.place_order(c, q, pol)

    def levels(self, pol, now):
        """The policy's levels in tonnes now (days of cover times the usage rate)."""
        fixed = self._fixed[pol.commodity]
        if fixed is not None:
            return fixed
        out = {}
        rate = None
        extra = self.licence_days(pol.commodity, now) if self.gated else 0.0
        cover = self.cover.get(pol.commodity) if self.cover else None
        for name, (v, in_days) in pol.levels.items():
            if in_days:
                if rate is None:
                    rate = self.node.usage_rate(pol.commodity, now)
                # cover is planned over the lead time buyers expect: a licence review in force on
                # their supply lengthens it by its mean delay, in proportion to the lanes' shares
                if cover is not None and name != "Q":
                    f, more = cover(now)
                    v = ((v + extra) * f + more) * rate
                else:
                    v = (v + extra) * rate if name != "Q" else v * rate
            out[name] = v
        return out

    def licence_days(self, c, now):
        """Expected licence delay (days) on this buyer's supply of ``c``, weighted by lane shares."""
        lanes = [ln for ln in self.node.in_lanes.get(c, ()) if not ln.release and ln.qualified and not ln.closed]
        tot = sum(ln.share for ln in lanes)
        if tot <= 0:
            return 0.0
        days = 0.0
        gate = self.sim.gate
        for ln in lanes:
            if ln.rules:
                days += ln.share / tot * gate.expected_delay(ln, ln.src.stocks[c].comp, now)
        return days

    # -- ordering --------------------------------------------------------------------------------
    def place_order(self, c, q, pol):
        """Place ``q`` tonnes of ``c`` on the lanes the policy splits it over."""
        # (lists, not generator expressions: the compiled build's typed method can hold no closure)
        lanes = [ln for ln in self.node.in_lanes[c] if not ln.closed and ln.qualified and not ln.release]
        if any([ln.rules for ln in lanes]):
            # a supplier stopped by a ban gets no orders while it lasts: they go to the others
            now = self.env.now
            gate = self.sim.gate
            open_ = [ln for ln in lanes if not (ln.rules and gate.banned(ln, ln.src.stocks[c].comp, now))]
            lanes = open_ or lanes
        if not lanes:
            return
        self.orders += 1
        self.sim.cost_ordering += pol.ordering_cost
        if pol.split == "priority":
            best = min([ln.priority for ln in lanes])
            parts = [(ln, q) for ln in lanes if ln.priority == best][:1]
        elif len(lanes) == 1:
            parts = [(lanes[0], q)]
        else:
            tot = sum([ln.share for ln in lanes])
            parts = [(ln, q * ln.share / tot) for ln in lanes]
        self.book.expect(self.node, c, q)
        for ln, x in parts:
            ln.src.order_in(ln, x)
