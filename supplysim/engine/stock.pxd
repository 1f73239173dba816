# Types of stock.py's classes for the engine's compiled build (see compiled.py): the source stays
# plain Python; this file only declares what Cython may type.
cdef class Stock:
    cdef public double qty, area, t_last, sink_q, sunk, inflow, outflow, initial
    cdef public object comp, commodity, dvec, overdrawn
    cpdef add(self, double q, object comp, double now)
    cpdef take(self, double q, double now, bint to_sink=*)
    cpdef take_to_sinks(self, qs, double now)
    cdef _emptied(self, double now)
    cpdef count_delivery(self, double q)
    cpdef double removed(self)
    cpdef flush(self)

cdef class Ledger:
    cdef public object sourced, losses
    cdef public list _lq, _lv, _sq, _sv
