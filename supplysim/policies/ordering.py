"""Inventory policies: how much a buyer orders given its inventory position.

Examples
--------
>>> order_quantity("base_stock", 12.0, {"S": 20.0})
8.0
>>> order_quantity("sS", 12.0, {"s": 10.0, "S": 40.0})
0.0
>>> order_quantity("rQ", 3.0, {"r": 5.0, "Q": 4.0})
4.0

A position that should equal the reorder level but misses it by rounding still orders
(see :mod:`supplysim.tolerance`):

>>> order_quantity("sS", 10.0 + 1e-12, {"s": 10.0, "S": 40.0}) > 29.99
True
"""
from __future__ import annotations

import math

from ..tolerance import EPS, at_or_below

__all__ = ["order_quantity"]


def order_quantity(policy: str, position: float, levels: dict) -> float:
    """Quantity to order now.

    Parameters
    ----------
    policy : {"base_stock", "sS", "rQ", "none"}
        ``base_stock`` orders up to ``S`` whenever the position is below it;
        ``sS`` orders up to ``S`` when the position is at or below ``s``;
        ``rQ`` orders the smallest multiple of ``Q`` that lifts the position
        above ``r`` when it is at or below ``r``.
    position : float
        Inventory position: on hand + on order + in transit - backorders (t).
    levels : dict
        Resolved levels in tonnes.
    """
    if policy == "base_stock":
        q = levels["S"] - position
        return q if q > EPS else 0.0
    if policy == "sS":
        return levels["S"] - position if at_or_below(position, levels["s"]) else 0.0
    if policy == "rQ":
        r, Q = levels["r"], levels["Q"]
        if not at_or_below(position, r):
            return 0.0
        return Q * (math.floor(max(r - position, 0.0) / Q) + 1)
    return 0.0
