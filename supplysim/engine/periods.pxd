# Types of periods.py's classes for the engine's compiled build (see compiled.py): the source stays
# plain Python; this file only declares what Cython may type.
cdef class FixedPeriods:
    cdef public double days
    cpdef list starts(self, Py_ssize_t k, Py_ssize_t n)

cdef class CalendarPeriods:
    cdef public object calendar
    cdef public int per_month
    cdef public Py_ssize_t _lo
    cdef public list _starts
    cdef public dict _k_start
    cdef public tuple _month_at
    cpdef Py_ssize_t index(self, double t)
    cpdef double start(self, Py_ssize_t k)
    cpdef double end(self, Py_ssize_t k)
    cpdef double length(self, Py_ssize_t k)
    cpdef list starts(self, Py_ssize_t k, Py_ssize_t n)
    cpdef double next_review(self, double t)
