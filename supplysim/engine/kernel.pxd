# Types of kernel.py's classes for the engine's compiled build (see compiled.py): the source stays
# plain Python; this file only declares what Cython may type.
cdef class Kernel:
    cdef public double now
    cdef public list _queue
    cdef public long long scheduled
    cdef public object _active_proc
    cpdef call(self, double delay, fn, arg=*, int priority=*)

cdef class Loop:
    cdef public Kernel kernel
    cdef public object _send, _next
    cdef public bint waiting
    cpdef wake(self)
