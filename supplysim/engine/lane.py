"""Lanes at run time: the link a supplier ships on, its lead times, capacity and the limits on it."""
from __future__ import annotations

from ..random import BLOCK

__all__ = ["Lane", "ACCESS", "CONTROLS", "ALLOTMENT"]

#: Ranks of dispatch limits, applied in this order: whether the lane is usable at all
#: (a closure), what the border lets through (export controls), what the sender may
#: release (a stockpile's allotment). A mechanism of your own picks its rank.
ACCESS, CONTROLS, ALLOTMENT = 0, 10, 20


class Lane:
    """One lane (or the zero-lead link from a stocking point to one of its demand sinks).

    ``open`` and ``in_transit`` are the lane's entries in the order book
    (:mod:`supplysim.engine.orders`), which alone changes them.
    """

    __slots__ = ("spec", "id", "src", "dst", "sink", "commodity", "open", "cap_per_day", "cap_k", "used", "k",
                 "shipped", "in_transit", "closed", "extra_days", "share", "priority", "cost",
                 "_buf", "_i", "_rng", "_lt", "const", "index", "rules", "gated", "release", "qualified",
                 "qualifying", "plain", "limits", "_ranks")

    def __init__(self, spec, src, dst, sink=None, rng=None, index=0):
        self.spec = spec
        self.id = spec.id if spec is not None else f"sink:{sink.id}"
        self.src = src
        self.dst = dst
        self.sink = sink
        self.commodity = spec.commodity if spec is not None else sink.spec.commodity
        self.open = 0.0
        cap = spec.capacity if spec is not None else None
        self.cap_per_day = cap / 365.0 if cap is not None else None   # t/day; None: unlimited
        self.cap_k = 0.0    # what it may carry in period k
        self.used = 0.0
        self.k = None       # the period ``used`` counts in
        self.shipped = 0.0
        self.in_transit = 0.0
        self.closed = False       # set by a lane closure: buyers order elsewhere, nothing ships
        self.extra_days = 0.0     # added to every lead time (a lane delay)
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
        self.rules = ()        # export-control rules that can reach the lane
        self.gated = ()        # the rules that acted on its last dispatch (their quota or licence is used)
        self.release = False   # from a strategic stockpile: released on the buyer's cover, not ordered
        self.qualified = spec is None or spec.qualification_days <= 0
        self.qualifying = False
        self.limits = ()       # callables limit(lane, comp, tonnes, now) -> tonnes, in rank order
        self._ranks = ()
        self.plain = True      # no limits and no capacity: it ships what is ordered (dispatch's fast path)

    def add_limit(self, fn, rank):
        """Let ``fn(lane, comp, tonnes, now)`` cut what the lane may ship, after limits of lower rank."""
        pairs = sorted(zip(self._ranks + (rank,), self.limits + (fn,)), key=lambda p: p[0])
        self._ranks = tuple(r for r, _ in pairs)
        self.limits = tuple(f for _, f in pairs)
        self.plain = False

    def settle(self):
        """Once the network is built: a lane with neither limits nor capacity takes dispatch's fast path."""
        self.plain = not self.limits and self.cap_per_day is None

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

    def room(self, k, days):
        """Quantity the lane can still carry in period ``k``, ``days`` long (None = unlimited)."""
        if self.cap_per_day is None:
            return None
        if self.k != k:
            self.k = k
            self.used = 0.0
            self.cap_k = self.cap_per_day * days
        return self.cap_k - self.used
