# Types of the compiled agenda (agenda.pyx; see compiled.py).
cdef struct Entry:
    double time
    int priority
    long long order       # the call's number: breaks ties of time and priority
    Py_ssize_t slot       # where its callback and argument wait in Agenda._fns and Agenda._args

cdef class Agenda:
    cdef public double now
    cdef public long long scheduled
    cdef Entry* _heap
    cdef Py_ssize_t _size, _capacity
    cdef Py_ssize_t* _free          # slots of _fns and _args not in use
    cdef Py_ssize_t _nfree
    cdef list _fns, _args
    cpdef call(self, double delay, fn, arg=*, int priority=*)
    cdef int _grow(self) except -1
    cdef Entry _pop(self) noexcept
