"""Lanes at run time: open orders, capacity per period, lead-time draws."""
from __future__ import annotations

from ..random import BLOCK

__all__ = ["LaneRT"]


class LaneRT:
    """One lane (or the zero-lead link from a stocking point to a sink).

    ``open`` is the quantity ordered by the buyer and not yet shipped.
    """

    __slots__ = ("spec", "id", "src", "dst", "sink", "commodity", "open", "cap_pp", "used", "k",
                 "shipped", "in_transit", "closed", "extra_days", "share", "priority", "cost",
                 "_buf", "_i", "_rng", "_lt", "const", "index", "rules", "gated", "release", "qualified",
                 "qualifying", "plain", "can_close")

    def __init__(self, spec, src, dst, sink=None, rng=None, period=1.0, index=0):
        self.spec = spec
        self.id = spec.id if spec is not None else f"sink:{sink.id}"
        self.src = src
        self.dst = dst
        self.sink = sink
        self.commodity = spec.commodity if spec is not None else sink.spec.commodity
        self.open = 0.0
        cap = spec.capacity if spec is not None else None
        self.cap_pp = cap / 365.0 * period if cap is not None else None
        self.used = 0.0
        self.k = -1
        self.shipped = 0.0
        self.in_transit = 0.0
        self.closed = False
        self.can_close = False   # a disruption may close the lane
        self.extra_days = 0.0
        self.share = spec.share if spec is not None else 1.0
        self.priority = spec.priority if spec is not None else (0 if sink.spec.end_use == "defence" else 1)
        self.cost = spec.cost_per_t if spec is not None else 0.0
        self.index = index
        self._rng = rng
        self._lt = spec.lead_time if spec is not None else None
        self.const = None
        if self._lt is None:
            self.const = 0.0
        elif self._lt.dist == "constant":
            self.const = float(self._lt.params["days"])
        self._buf = []
        self._i = 0
        self.rules = ()
        self.gated = ()
        self.release = False
        self.qualified = spec is None or spec.qualification_days <= 0
        self.qualifying = False
        self.plain = False   # set once built: no rules, release limit or capacity, never closed (see ``settle``)

    def settle(self):
        """Mark a lane that only ever ships what is ordered, for the dispatch fast path."""
        self.plain = not self.rules and not self.release and self.cap_pp is None and not self.can_close

    def lead_time(self):
        """Next lead-time draw in days (buffered, rule R5; one stream per lane, rule R4)."""
        if self.const is not None:
            return self.const
        i = self._i
        if i >= len(self._buf):
            u = self._rng.random(BLOCK)
            z = self._rng.standard_normal(BLOCK) if self._lt.dist == "lognormal" else None
            self._buf = self._lt.transform(u, z).tolist()
            i = 0
        self._i = i + 1
        return self._buf[i]

    def room(self, k):
        """Quantity the lane can still carry in period ``k`` (None = unlimited)."""
        if self.cap_pp is None:
            return None
        if self.k != k:
            self.k = k
            self.used = 0.0
        return self.cap_pp - self.used
