# Types of demand.py's classes for the engine's compiled build (see compiled.py): the source stays
# plain Python; this file only declares what Cython may type.
from .kernel cimport Kernel
from .stock cimport Stock
from .lane cimport Lane
from .orders cimport OrderBook
from .node cimport Node
from .simulation cimport Simulation

cdef class Sink:
    cdef dict __dict__
    cdef public Node node
    cdef public Simulation sim
    cdef public object spec, id, rng, patience, first_unmet, first_unmet_after, commodity, _dt
    cdef public Kernel env
    cdef public OrderBook book
    cdef public Lane lane
    cdef public list shocks, factors, shortage_hooks, _buf
    cdef public double level, k, demand, filled, delivered, lost, area, t_last
    cdef public bint lost_mode
    cdef public Py_ssize_t _i
    cdef public Stock stock
    cpdef double next_order(self, double now, k=*)
    cpdef touch(self, double now)
    cpdef arrive(self, double d, double now)
    cpdef double rate_at(self, double t)
