# Types of node.py's classes for the engine's compiled build (see compiled.py): the source stays
# plain Python; this file only declares what Cython may type.
cimport cython
from .stock cimport Stock
from .lane cimport Lane
from .orders cimport OrderBook, Shipment
from .kernel cimport Kernel
from .plant cimport Plant
from .buyer cimport Buyer
from .simulation cimport Simulation

cdef class Node:
    cdef dict __dict__
    cdef public Simulation sim
    cdef public object spec, id, allocation, to_demand, retry
    cdef public Buyer buyer
    cdef public Plant plant
    cdef public Kernel env
    cdef public OrderBook book
    cdef public bint unlimited, gated_out
    cdef public dict stocks, out_lanes, in_lanes, owed, on_order
    cdef public list sinks
    cdef public double defence_share

    @cython.locals(sim=Simulation, st=Stock, ln=Lane, avail=double, now=double, q=double, capped=bint, lanes=list, req=list)
    cpdef dispatch(self, c)
    @cython.locals(tot=double, lane=Lane, share=double)
    cpdef double usage_rate(self, c, double now, int depth=*)
    cpdef order_in(self, Lane ln, double q)
    @cython.locals(sim=Simulation)
    cpdef _ship(self, Lane ln, double q, Stock st, double now)
    @cython.locals(now=double)
    cpdef receive(self, Shipment s)
