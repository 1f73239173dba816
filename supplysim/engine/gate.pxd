# Types of gate.py's classes for the engine's compiled build (see compiled.py): the source stays
# plain Python; this file only declares what Cython may type. (The mechanisms' classes stay
# Python classes: a registering decorator cannot wrap a compiled class.)
cimport cython
from .lane cimport Lane
from .simulation cimport Simulation

cdef class RuleRT:
    cdef dict __dict__
    cdef public Simulation sim
    cdef public object spec, mechanism, rng, _bounds
    cdef public dict _over
    cdef public tuple _force
    cpdef bint in_force(self, double now)
    @cython.locals(lo=double, hi=double, v=bint)
    cpdef bint controls(self, Lane ln, comp, double now)
    cpdef allow(self, Lane ln, req, double now)
    cpdef consume(self, Lane ln, double q)

cdef class Gate:
    cdef public Simulation sim
    cdef public list rules, quotas, licences
    @cython.locals(r=RuleRT)
    cpdef allow(self, Lane ln, comp, req, double now)
    @cython.locals(r=RuleRT)
    cpdef consume(self, Lane ln, double q)
