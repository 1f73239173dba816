# Types of gate.py's classes for the engine's compiled build (see compiled.py): the source stays
# plain Python; this file only declares what Cython may type. (A mechanism of a user's own stays a
# Python class over RuleRT; the built-in ones are typed here.)
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

cdef class Ban(RuleRT):
    cdef public long blocked_attempts
    cdef public dict leak
    cdef public double leaked_t
    cpdef allow(self, Lane ln, req, double now)
    cpdef consume(self, Lane ln, double q)

cdef class Quota(RuleRT):
    cdef public object quota_k, quota_wake
    cdef public double quota_used, quota_held
    cpdef allow(self, Lane ln, req, double now)
    cpdef consume(self, Lane ln, double q)

cdef class Licence(RuleRT):
    cdef public dict pending, credit
    cdef public list log, applied
    cdef public double refused_t
    cdef public tuple _buf
    cdef public Py_ssize_t _i
    @cython.locals(pend=double, cred=double, need=double, delay=double)
    cpdef allow(self, Lane ln, req, double now)
    cpdef consume(self, Lane ln, double q)

cdef class Gate:
    cdef public Simulation sim
    cdef public list rules, quotas, licences
    @cython.locals(r=RuleRT)
    cpdef allow(self, Lane ln, comp, req, double now)
    @cython.locals(r=RuleRT)
    cpdef consume(self, Lane ln, double q)
