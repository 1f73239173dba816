# Types of lane.py's classes for the engine's compiled build (see compiled.py): the source stays
# plain Python; this file only declares what Cython may type.
from .node cimport Node

cdef class Lane:
    cdef public Node src, dst
    cdef public object spec, id, sink, commodity, cap_per_day, k, priority, _rng, _lt, const
    cdef public double open, cap_k, used, shipped, in_transit, extra_days, share, cost
    cdef public list _buf
    cdef public Py_ssize_t _i, index
    cdef public object rules, gated, limits, _ranks
    cdef public bint closed, release, qualified, qualifying, plain
    cpdef double lead_time(self)
