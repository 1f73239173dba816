"""Allocation of a short supplier's stock among the orders it holds.

Each function takes the available quantity and parallel lists of requests,
priorities and contract shares, and returns the quantities to ship.

Examples
--------
>>> allocate("pro_rata", 6.0, [4.0, 8.0], [0, 1], [1.0, 1.0])
[2.0, 4.0]
>>> allocate("priority", 6.0, [4.0, 8.0], [1, 0], [1.0, 1.0])
[0.0, 6.0]
>>> allocate("shares", 6.0, [4.0, 8.0], [0, 0], [3.0, 1.0])
[4.0, 2.0]
>>> allocate("whole", 6.0, [4.0, 8.0], [1, 0], [1.0, 1.0])
[0.0, 0.0]
>>> allocate("whole", 9.0, [4.0, 8.0], [1, 0], [1.0, 1.0])
[0.0, 8.0]
"""
from __future__ import annotations

from ..tolerance import EPS

__all__ = ["allocate", "ALLOCATORS"]


def _pro_rata(avail, req, prio, shares):
    tot = sum(req)
    f = avail / tot
    return [r * f for r in req]


def _priority(avail, req, prio, shares):
    out = [0.0] * len(req)
    for i in sorted(range(len(req)), key=lambda i: prio[i]):
        q = min(req[i], avail)
        out[i] = q
        avail -= q
        if avail <= 0:
            break
    return out


def _shares(avail, req, prio, shares):
    tot = sum(shares)
    out = [min(r, avail * s / tot) for r, s in zip(req, shares)]
    left = avail - sum(out)
    need = [r - o for r, o in zip(req, out)]
    tn = sum(need)
    if left > 0 and tn > 0:
        f = min(1.0, left / tn)
        out = [o + n * f for o, n in zip(out, need)]
    return out


def _whole(avail, req, prio, shares):
    # A supplier that ships an order only when it holds all of it, first come first served: the
    # first request it cannot fill holds back the ones behind it (a queue, as at a warehouse).
    out = [0.0] * len(req)
    for i in sorted(range(len(req)), key=lambda i: prio[i]):
        if req[i] > avail + EPS:
            break
        out[i] = min(req[i], avail)
        avail -= out[i]
    return out


ALLOCATORS = {"pro_rata": _pro_rata, "priority": _priority, "shares": _shares, "whole": _whole}


def allocate(rule: str, avail: float, req: list, prio: list = (), shares: list = ()) -> list:
    """Quantities to ship to each request when ``avail`` may not cover them all.

    ``prio`` and ``shares`` are needed by the ``priority`` and ``shares`` rules only.
    """
    if sum(req) <= avail:
        return list(req)
    return ALLOCATORS[rule](avail, req, prio, shares)
