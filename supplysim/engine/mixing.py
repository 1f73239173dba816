"""Composition arithmetic on the engine's hot path: mixing two compositions (nearly every
receipt into stock), a recipe's weighted sum of its inputs' compositions, and an origin stamp.

This is the Python source's implementation, with numpy. The compiled build's is
``mixing.pyx``: for each function one loop doing the same operations in the same order for
each entry, in place of several numpy calls, so the two give the same bits
(tests/test_compiled.py compares both builds' results).
"""
from __future__ import annotations

__all__ = ["mixed", "weighted_sum", "stamped"]


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


def weighted_sum(vectors, weights):
    """``vectors[0] * weights[0] + vectors[1] * weights[1] + ...``, summed in that order, as a new array.

    Examples
    --------
    >>> import numpy as np
    >>> weighted_sum((np.array([1.0, 2.0]), np.array([0.0, 4.0])), (2.0, 0.5)).tolist()
    [2.0, 6.0]
    """
    out = vectors[0] * weights[0]
    for v, w in zip(vectors[1:], weights[1:]):
        out += v * w
    return out


def stamped(vec, src, keep):
    """``vec[src] * keep``: ``vec`` with an origin stamped on it (``(src, keep)`` from
    :meth:`supplysim.materials.Layout.stamper`), as a new array.

    Examples
    --------
    >>> import numpy as np
    >>> stamped(np.array([1.0, 2.0, 3.0]), np.array([0, 0, 2]), np.array([1.0, 1.0, 0.0])).tolist()
    [1.0, 1.0, 0.0]
    """
    out = vec.take(src)
    out *= keep
    return out
