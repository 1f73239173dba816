"""The order book: every open order of a replication, and the only code that changes one.

An order line is a lane's ``open`` tonnes: ordered by the buyer and not yet
shipped by the supplier. A demand sink's backlog is the open line of its lane.
Two totals follow the lines: what a supplier owes of a commodity
(``node.owed[c]``, the sum of its lanes' open lines) and what a buyer has on
order (``node.on_order[c]``: its open lines plus its shipments in transit). The
inventory position the ordering policies use is ``stock + on_order - owed``.

Everything here may be read anywhere; it is written only by :class:`OrderBook`
(a test checks that no other engine module assigns these fields).

Examples
--------
A buyer's order on a lane, a partial shipment, and its arrival:

>>> from types import SimpleNamespace as NS
>>> from supplysim.engine.kernel import Kernel
>>> sup, buyer = NS(owed={"ox": 0.0}), NS(on_order={"ox": 0.0}, receive=print)
>>> lane = NS(src=sup, dst=buyer, sink=None, commodity="ox", open=0.0, in_transit=0.0)
>>> book = OrderBook(Kernel())
>>> book.expect(buyer, "ox", 10.0); book.place(lane, 10.0)
>>> book.ship(lane, 4.0, None, days=5.0)
>>> lane.open, lane.in_transit, sup.owed["ox"], buyer.on_order["ox"]
(6.0, 4.0, 6.0, 10.0)
>>> book.withdraw(lane), lane.open, buyer.on_order["ox"]
(6.0, 0.0, 4.0)
"""
from __future__ import annotations

from .kernel import NORMAL
from .stock import EPS

__all__ = ["OrderBook", "Shipment"]


class Shipment:
    """Tonnes of one composition travelling on a lane."""

    __slots__ = ("lane", "qty", "comp")

    def __init__(self, lane, qty, comp):
        self.lane = lane
        self.qty = qty
        self.comp = comp


class OrderBook:
    """Open order lines, suppliers' and buyers' totals, and shipments in transit.

    ``in_transit`` holds every shipment on its way, so the invariant check can
    compare it with the lanes' in-transit totals (rule V1).
    """

    def __init__(self, kernel):
        self.kernel = kernel
        self.in_transit = set()
        self.observers = []   # callables(shipment, days in transit) told of every shipment sent

    # -- ordering -------------------------------------------------------------------------------
    def expect(self, buyer, c, q):
        """``buyer`` orders ``q`` tonnes of ``c`` in all (placed on its lanes by :meth:`place`)."""
        buyer.on_order[c] += q

    def place(self, ln, q):
        """An order line of ``q`` tonnes on lane ``ln`` (a demand sink's order on its lane, too)."""
        ln.open += q
        ln.src.owed[ln.commodity] += q

    def withdraw(self, ln) -> float:
        """Take back what ``ln`` has not yet shipped (the buyer orders it again, elsewhere or later)."""
        x = ln.open
        ln.open = 0.0
        c = ln.commodity
        ln.src.owed[c] -= x
        if ln.sink is None:
            ln.dst.on_order[c] -= x
        return x

    def cancel(self, ln, q):
        """Take back ``q`` tonnes of what ``ln`` has not yet shipped (an order cancelled in part)."""
        ln.open -= q
        c = ln.commodity
        ln.src.owed[c] -= q
        if ln.sink is None:
            ln.dst.on_order[c] -= q

    # -- shipping -----------------------------------------------------------------------------
    def ship(self, ln, q, comp, days):
        """``q`` tonnes of the line on ``ln`` leave the supplier with composition ``comp``; the buyer
        receives them after ``days``."""
        ln.open -= q
        ln.src.owed[ln.commodity] -= q
        ln.in_transit += q
        s = Shipment(ln, q, comp)
        if self.observers:
            for fn in self.observers:
                fn(s, days)
        if days <= 0:
            ln.dst.receive(s)
        else:
            self.in_transit.add(s)
            self.kernel.call(days, ln.dst.receive, s, NORMAL)

    def already_sent(self, ln, q, comp, days):
        """``q`` tonnes on their way on ``ln`` when the run starts, arriving after ``days``."""
        ln.dst.on_order[ln.commodity] += q
        ln.in_transit += q
        s = Shipment(ln, q, comp)
        self.in_transit.add(s)
        self.kernel.call(days, ln.dst.receive, s, NORMAL)

    def receive(self, s):
        """Shipment ``s`` reaches its buyer: it is no longer in transit or on order (the buyer calls this)."""
        self.in_transit.discard(s)
        ln = s.lane
        ln.in_transit -= s.qty
        ln.dst.on_order[ln.commodity] -= s.qty

    def deliver(self, ln, q, now):
        """``q`` tonnes of a demand sink's backlog (the line on ``ln``) are served; its backlog time is booked."""
        ln.open -= q
        ln.src.owed[ln.commodity] -= q
        sink = ln.sink
        # the backlog interval closes at the backlog before this delivery
        sink.area += (ln.open + q) * (now - sink.t_last)
        sink.t_last = now
        sink.delivered += q

    def deliver_all(self, lanes, qs, now):
        """:meth:`deliver` ``qs`` on several sinks' lanes at once (a buyer splitting a receipt over its
        sectors), skipping zero parts: this runs for most receipts of a short buyer."""
        for ln, q in zip(lanes, qs):
            if q <= EPS:
                continue
            ln.open -= q
            ln.src.owed[ln.commodity] -= q
            sink = ln.sink
            sink.area += (ln.open + q) * (now - sink.t_last)
            sink.t_last = now
            sink.delivered += q
