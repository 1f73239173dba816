"""Verification invariants checked during a run (rule V1): mass balance, signs, pipelines, finiteness."""
from __future__ import annotations

import math

import numpy as np

from ..materials import ELEMENTS

__all__ = ["InvariantError", "CHECKS", "check_setting", "balance", "check"]

#: How often a run checks its invariants, in month ends between checks (a checked run is also checked
#: at its end). The totals checked are cumulative (a leak of mass or of pipeline stays in them, and a
#: stock that went negative keeps the day it did), so a yearly check catches what a monthly one does;
#: the monthly check only dates a fault more closely. Sweeps check yearly, ``Simulation`` monthly.
CHECKS = {"monthly": 1, "yearly": 12, "off": 0}


class InvariantError(AssertionError):
    """A verification invariant (rule V1) failed during a run."""


def check_setting(check) -> str:
    """The name in :data:`CHECKS` of a ``check`` setting: a name, or ``True`` (monthly) or ``False`` (off).

    >>> check_setting(True), check_setting("yearly"), CHECKS[check_setting("yearly")]
    ('monthly', 'yearly', 12)
    """
    if check is True or check is False:
        return "monthly" if check else "off"
    if not isinstance(check, str) or check not in CHECKS:
        raise ValueError(f"check must be one of {', '.join(CHECKS)} (or True/False), not {check!r}")
    return check


def _weighted(qs, vecs, size):
    """The first ``size`` entries (the elements) of the sum of ``q * v`` over the pairs (zeros when there are none)."""
    if not qs:
        return np.zeros(size)
    # (concatenating the vectors and reading the element columns is cheaper than np.array of them)
    return np.asarray(qs) @ np.concatenate(vecs).reshape(len(vecs), -1)[:, :size]


def balance(sim) -> dict:
    """Element balance of a replication: ``sourced`` and the sum of where it is now, as vectors (t)."""
    # origin entries are re-stamped by stages, so only elements must balance
    size = len(ELEMENTS)
    dq, dv = [], []   # delivered: each stock's delivered vector, and what it delivered since its last flush
    qs, vs = [], []
    for n in sim.nodes.values():
        for st in n.stocks.values():
            # read, not flushed: when a stock flushes is part of its results, which a check must not change
            if st.dvec is not None:
                dq.append(1.0)
                dv.append(st.dvec)
            if st.sink_q:
                dq.append(st.sink_q)
                dv.append(st.comp)
            if not n.unlimited:
                qs.append(st.qty)
                vs.append(st.comp)
    sim.ledger.fold()
    delivered = _weighted(dq, dv, size)
    # one weighted sum per category (a matrix product), not one vector operation per stock
    on_hand = _weighted(qs, vs, size)
    shipments = sim.orders.in_transit
    transit = _weighted([s.qty for s in shipments], [s.comp for s in shipments], size)
    qs, vs = [], []
    for n in sim.nodes.values():
        if n.plant is None:
            continue
        for b in n.plant.in_process:
            if b.comp is not None:   # (a graded batch holds its grades as parts)
                qs.append(b.qty)
                vs.append(b.comp)
            for _, x, v, _ in b.coproducts:
                qs.append(x)
                vs.append(v)
    wip = _weighted(qs, vs, size)
    led = sim.ledger
    e = size
    return {"sourced": led.sourced[:e].copy(), "on_hand": on_hand, "in_transit": transit,
            "in_process": wip, "delivered": delivered, "losses": led.losses[:e].copy()}


def check(sim, since=None):
    """Raise :class:`InvariantError` if mass balance, stock signs, pipelines or finiteness are off
    (``since``: the day of the last check that passed, named in the message)."""
    day = sim.env.now
    where = f"replication {sim.replication}, day {day:g}"
    if since is not None:
        where += f" (last checked on day {since:g})"
    b = balance(sim)
    for k, v in b.items():
        if not np.all(np.isfinite(v)):
            raise InvariantError(f"{where}: {k.replace('_', ' ')} holds a non-finite element total {v}")
    held = b["on_hand"] + b["in_transit"] + b["in_process"] + b["delivered"] + b["losses"]
    scale = max(float(np.abs(b["sourced"]).max()), 1.0)
    err = float(np.abs(held - b["sourced"]).max())
    if err > 1e-9 * scale:
        raise InvariantError(f"{where}: mass balance off by {err:.3g} t: sourced {b['sourced']} vs held {held}")
    for n in sim.nodes.values():
        for c, st in n.stocks.items():
            if not math.isfinite(st.qty):
                raise InvariantError(f"{where}: stock of {c} at {n.id} is {st.qty}")
            if st.qty < -1e-6:
                raise InvariantError(f"{where}: negative stock of {c} at {n.id}: {st.qty}")
            if st.overdrawn is not None:
                raise InvariantError(f"{where}: the stock of {c} at {n.id} went negative on day {st.overdrawn:g}")
            if not n.unlimited and abs(st.initial + st.inflow - st.removed() - st.qty) > 1e-6 * max(1, st.inflow):
                raise InvariantError(f"{where}: stock of {c} at {n.id} does not equal initial + in - out")
    tot = {}
    for s in sim.orders.in_transit:
        tot[s.lane.id] = tot.get(s.lane.id, 0.0) + s.qty
    for ln in sim.lanes.values():
        if not (math.isfinite(ln.open) and math.isfinite(ln.in_transit)):
            raise InvariantError(f"{where}: lane {ln.id} has a non-finite open order or in-transit quantity")
        if ln.in_transit < -1e-6:
            raise InvariantError(f"{where}: negative in-transit quantity on lane {ln.id}")
        if abs(tot.get(ln.id, 0.0) - ln.in_transit) > 1e-6 * max(1.0, ln.shipped):
            raise InvariantError(f"{where}: in-transit on lane {ln.id} differs from its open shipments")
