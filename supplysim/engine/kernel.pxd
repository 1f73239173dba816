# Types of kernel.py's classes for the engine's compiled build (see compiled.py): the source stays
# plain Python; this file only declares what Cython may type.
from .agenda cimport Agenda

cdef class Kernel(Agenda):
    cdef public object _active_proc

cdef class Loop:
    cdef public Kernel kernel
    cdef public object _send, _next
    cdef public bint waiting
    cpdef wake(self)
