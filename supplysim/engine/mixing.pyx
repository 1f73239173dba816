# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""The compiled build's :func:`mixed` (the Python source's is mixing.py): per entry the same
operations in the same order, ``(new - old) * w + old``, each rounded as numpy rounds it."""
import numpy as np

__all__ = ["mixed"]


def mixed(old, new, double w):
    cdef const double[::1] o = old
    cdef const double[::1] n = new
    cdef Py_ssize_t i, size = o.shape[0]
    if n.shape[0] != size:
        raise ValueError(f"compositions of {size} and {n.shape[0]} entries cannot be mixed")
    out = np.empty(size)
    cdef double[::1] r = out
    for i in range(size):
        r[i] = (n[i] - o[i]) * w + o[i]
    return out
