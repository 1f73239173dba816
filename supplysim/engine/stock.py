"""Stocks: a quantity with a composition vector, and the element ledger.

Compositions are replaced, never changed in place: a stock that receives
material of another composition gets a new mixed array. Shipments keep the
composition they left with. Code that caches a result by a composition's
identity (a recipe's output vectors, a rule's controlled content) marks that
array read-only when it caches (:func:`freeze`), so anything that tried to
change it in place afterwards would raise instead of leaving the cache stale.
"""
from __future__ import annotations

import numpy as np

from ..materials import ELEMENTS
from ..tolerance import EPS
from .mixing import mixed

__all__ = ["Stock", "Ledger", "EPS", "freeze"]


def freeze(comp):
    """Mark composition ``comp`` read-only (before caching something by its identity); return it."""
    comp.setflags(write=False)
    return comp


class Ledger:
    """Element totals of one replication: what was sourced and lost (rule V1's mass balance).

    The totals hold the first ``n`` entries (the elements) of the vectors booked.

    Production books its losses and gains as ``(tonnes, vector)`` pairs when
    its composition changes; :meth:`fold` adds them into the totals with one
    matrix product when the totals are read, or when enough have gathered.
    (Deliveries are each stock's ``dvec``.)
    """

    __slots__ = ("sourced", "losses", "_lq", "_lv", "_sq", "_sv")

    #: Pairs gathered before they are folded in (bounds the memory they hold).
    FOLD_EVERY = 1024

    def __init__(self, n=len(ELEMENTS)):
        self.sourced = np.zeros(n)
        self.losses = np.zeros(n)
        self._lq, self._lv, self._sq, self._sv = [], [], [], []

    def lose(self, q, vec):
        """Book ``q`` times ``vec`` as lost."""
        self._lq.append(q)
        self._lv.append(vec)
        if len(self._lq) >= self.FOLD_EVERY:
            self.fold()

    def source(self, q, vec):
        """Book ``q`` times ``vec`` as sourced."""
        self._sq.append(q)
        self._sv.append(vec)
        if len(self._sq) >= self.FOLD_EVERY:
            self.fold()

    def fold(self):
        """Add the booked pairs into ``losses`` and ``sourced``."""
        for qs, vs, tot in ((self._lq, self._lv, self.losses), (self._sq, self._sv, self.sourced)):
            if qs:
                tot += np.asarray(qs) @ np.concatenate(vs).reshape(len(vs), -1)[:, :len(tot)]
                qs.clear()
                vs.clear()


class Stock:
    """On-hand quantity of one commodity at one node.

    ``comp`` is replaced, never changed in place (see the module docstring).
    """

    __slots__ = ("qty", "comp", "area", "t_last", "sink_q", "sunk", "inflow", "outflow", "initial",
                 "commodity", "dvec", "overdrawn")

    def __init__(self, qty, comp, now=0.0, commodity=""):
        self.commodity = commodity
        self.dvec = None   # composition-weighted tonnes delivered to sinks from this stock
        self.qty = float(qty)
        self.initial = self.qty
        self.comp = comp
        self.area = 0.0
        self.t_last = now
        self.sink_q = 0.0   # delivered to sinks since the last flush (moved to ``sunk`` by the flush)
        self.sunk = 0.0     # delivered to sinks up to the last flush
        self.inflow = 0.0
        self.outflow = 0.0
        self.overdrawn = None   # the first day the stock went below zero (a fault every later check reports)

    def add(self, q, comp, now):
        """Receive ``q`` tonnes of composition ``comp`` (mixing)."""
        self.area += self.qty * (now - self.t_last)
        self.t_last = now
        if comp is not self.comp:
            if self.sink_q:
                self.flush()
            if self.qty > EPS:
                self.comp = mixed(self.comp, comp, q / (self.qty + q))   # the quantity-weighted mean
            else:
                self.comp = comp
        self.qty += q
        self.inflow += q

    def take(self, q, now, to_sink=False):
        """Remove ``q`` tonnes (composition unchanged); ``to_sink``: delivered to demand, its elements
        reach ``dvec`` at the next flush."""
        self.area += self.qty * (now - self.t_last)
        self.t_last = now
        self.qty -= q
        if to_sink:
            self.sink_q += q
        else:
            self.outflow += q
        if self.qty < EPS:
            self._emptied(now)

    def take_to_sinks(self, qs, now):
        """``take(q, now, True)`` for each of ``qs`` above ``EPS`` in turn (deliveries to several demand
        lanes at once)."""
        first = True
        for q in qs:
            if q <= EPS:
                continue
            if first:   # the later takes at the same instant add nothing to the area
                self.area += self.qty * (now - self.t_last)
                self.t_last = now
                first = False
            self.qty -= q
            self.sink_q += q
            if self.qty < EPS:
                self._emptied(now)

    def _emptied(self, now):
        # taken down to about zero: rounding is cleared, an overdraft is kept for the invariant checks
        if self.qty > -1e-6:
            self.qty = 0.0
        elif self.overdrawn is None:
            self.overdrawn = now

    def count_delivery(self, q):
        """``q`` tonnes delivered to demand from an unlimited stock (which never runs down)."""
        self.sink_q += q

    def removed(self):
        """Tonnes taken out so far, to buyers and to sinks."""
        return self.outflow + self.sunk + self.sink_q

    def flush(self):
        if self.sink_q:
            v = self.sink_q * self.comp
            self.dvec = v if self.dvec is None else self.dvec + v
            self.sunk += self.sink_q
            self.sink_q = 0.0
