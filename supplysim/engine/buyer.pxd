# Types of buyer.py's classes for the engine's compiled build (see compiled.py): the source stays
# plain Python; this file only declares what Cython may type.
cimport cython
from .kernel cimport Kernel
from .orders cimport OrderBook
from .lane cimport Lane
from .node cimport Node
from .simulation cimport Simulation

cdef class Buyer:
    cdef dict __dict__
    cdef public Node node
    cdef public Simulation sim
    cdef public object policies
    cdef public Kernel env
    cdef public OrderBook book
    cdef public dict reviews, watchers, cover, _fixed, _no_order_above, _plans
    cdef public set pending
    cdef public bint gated
    cdef public long orders
    cdef public list short_hooks
    cpdef touch(self, c)
    cpdef _review_due(self, c)
    @cython.locals(ln=Lane, pos=double, q=double)
    cpdef review(self, c)
    @cython.locals(ln=Lane, x=double)
    cpdef place_order(self, c, double q, pol)
