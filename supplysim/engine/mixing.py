"""Mixing two compositions: the vector arithmetic of nearly every receipt into stock.

This is the Python source's implementation, with numpy. The compiled build's is
``mixing.pyx``: one loop doing the same operations in the same order for each entry,
in place of three numpy calls, so the two give the same bits (tests/test_compiled.py
compares both builds' results).
"""
from __future__ import annotations

__all__ = ["mixed"]


def mixed(old, new, w):
    """``old + (new - old) * w``: composition ``old`` moved a share ``w`` of the way to ``new``, as
    a new array (a stock of ``old`` receiving ``new``, ``w`` the receipt's share of the total).

    Examples
    --------
    >>> import numpy as np
    >>> mixed(np.array([1.0, 0.0]), np.array([0.0, 1.0]), 0.25).tolist()
    [0.75, 0.25]
    """
    out = new - old
    out *= w
    out += old
    return out
