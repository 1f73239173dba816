"""Responses the model declares on its facilities and lanes: strategic stockpiles that release
material when a buyer's cover falls, and suppliers a buyer must qualify before it orders from them.

Like disruptions, each is a mechanism acting through the engine's hooks (see :mod:`.mechanisms`).
"""
from __future__ import annotations

import functools

from .lane import ALLOTMENT
from .stock import EPS

__all__ = ["install_responses"]


def install_responses(sim):
    """Install the stockpiles and qualification delays the model declares."""
    for ln in sim.lanes.values():
        if ln.src.spec.release is not None:
            _stockpile_lane(ln)
    for n in sim.nodes.values():
        if n.buyer is not None and any(ln.spec.qualification_days > 0 for lns in n.in_lanes.values() for ln in lns):
            n.buyer.short_hooks.append(_start_qualification)


# -- strategic stockpiles --------------------------------------------------------------------------
def _stockpile_lane(ln):
    """A lane from a stockpile: it releases to the buyer while the buyer's cover is below the trigger."""
    ln.release = True
    ln.add_limit(_release_room, ALLOTMENT)
    cap = ln.src.spec.release[1]
    if cap is not None:
        ln.cap_per_day = cap
    ln.dst.buyer.watch(ln.commodity, functools.partial(_release_check, ln))


def _release_check(ln, buyer, c):
    """Ask the stockpile to release when the buyer's cover is below its trigger; take back what is
    not yet released once cover is back above it."""
    now = buyer.env.now
    node = buyer.node
    st = node.stocks[c]
    cover_days = ln.src.spec.release[0]
    rate = node.usage_rate(c, now)
    if rate <= 0:
        return
    want = cover_days * rate - st.qty - ln.open - ln.in_transit
    if want > EPS and ln.src.stocks[c].qty > EPS:
        buyer.book.expect(node, c, want)
        ln.src.order_in(ln, want)
    elif st.qty >= cover_days * rate and ln.open > EPS:
        buyer.book.withdraw(ln)


def _release_room(ln, comp, r, now):
    """What a stockpile may still release on ``ln`` now: up to the buyer's trigger cover."""
    buyer, c = ln.dst, ln.commodity
    room = ln.src.spec.release[0] * buyer.usage_rate(c, now) - buyer.stocks[c].qty - ln.in_transit
    return min(r, room if room > 0 else 0.0)


# -- supplier qualification ---------------------------------------------------------------------------
def _start_qualification(buyer, c):
    """The buyer is running short: start qualifying the suppliers it has not yet qualified."""
    env = buyer.env
    for ln in buyer.node.in_lanes.get(c, ()):
        if not ln.qualified and not ln.qualifying:
            ln.qualifying = True
            env.call(ln.spec.qualification_days, _qualified, ln)


def _qualified(ln):
    ln.qualified = True
    sim = ln.dst.sim
    sim.qualifications.append((ln.id, sim.env.now))
    ln.dst.touch(ln.commodity)
