"""The tolerance of every comparison of tonnes: quantities closer than :data:`EPS` are equal.

Tonnes move through sums and splits (a delivery shared among several backlogged
buyers, a batch split into grades), so a quantity that should equal a level exactly
may miss it by rounding (errors of about 1e-14 relative). Stocks, open orders and
reorder levels are therefore compared with this tolerance, and quantities below it
count as zero. 1e-9 t is a microgram: far below any real quantity, far above the
rounding of sums of tonnes up to a million.

Examples
--------
>>> s = 120.0
>>> position = 0.1 * 3 * 400.0          # 120.00000000000001 after rounding
>>> position <= s, at_or_below(position, s)
(False, True)
"""
from __future__ import annotations

__all__ = ["EPS", "at_or_below"]

#: Quantities below this (t) count as zero, and levels this close count as reached.
EPS = 1e-9


def at_or_below(x: float, level: float) -> bool:
    """Whether ``x`` is at or below ``level`` (within :data:`EPS`)."""
    return x <= level + EPS
