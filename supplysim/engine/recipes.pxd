# Types of recipes.py's classes for the engine's compiled build (see compiled.py): the source stays
# plain Python; this file only declares what Cython may type.
cimport cython
from .stock cimport Stock

cdef class FixedRecipe:
    cdef dict __dict__
    cdef public object plant, ledger, zero, r, need, inputs, _single, uses, co, _stamp, _seal, _key, _vectors
    cdef public double _inv_mix, loss_f
    cdef public bint period_bound
    @cython.locals(st=Stock, n=double)
    cpdef bint batch_possible(self, double thr)
    @cython.locals(st=Stock, n=double, lim=double)
    cpdef make(self, double q, double now)
    @cython.locals(st=Stock, n=double, f=double)
    cpdef _use_base(self, double q, raw, double now)

cdef class SplitRecipe:
    cdef dict __dict__
    cdef public object plant, ledger, r, out, inputs, uses, _M, _rows, _stamp, _key, _split
    cdef public Stock feed
    cdef public Py_ssize_t _n_el
    cdef public double _feed_div
    cdef public bint period_bound
    cpdef _current(self)
    cpdef bint batch_possible(self, double thr)

cdef class GradeRecipe(FixedRecipe):
    cdef public object node, grades, out, index, add, base, _adds, _users, limits, mix, _k
    cdef public list steering, history, made, _cut, _orders, _room
    cdef public bint _whole
    cdef public double mix_days, _t
