# Types of plant.py's classes for the engine's compiled build (see compiled.py): the source stays
# plain Python; this file only declares what Cython may type.
from .kernel cimport Kernel
from .stock cimport Stock
from .node cimport Node
from .simulation cimport Simulation

cdef class Batch:
    cdef public double qty
    cdef public object comp, coproducts

cdef class Plant:
    cdef dict __dict__
    cdef public Node node
    cdef public Simulation sim
    cdef public object spec, periods, schedule, out, recipe, makes, co_stocks, k, in_process
    cdef public object _target, _target_days, _wake_t, loop
    cdef public Kernel env
    cdef public list windows
    cdef public double _cap_lo, _cap_hi, _cap_v, processing_days, made, period_cap, wip, produced, wait_until
    cdef public Stock out_stock
    cdef public bint graded, blocked_by_target, short_inputs
    cdef public dict wip_parts
    cpdef double cap_per_day(self, double now)
    cpdef double _cap_until(self, double now)
    cpdef double room(self, double per_day)
    cpdef double make_batch(self, double cap, double now, double per_day)
    cpdef output(self, double q, comp, cos, double now)
    cpdef _finish(self, Batch b)
    cpdef finish(self, double q, comp, cos, double now)
    cpdef wake(self)
    cpdef nudge(self, double now)
    cpdef receipt(self, double now)
