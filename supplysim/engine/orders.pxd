# Types of orders.py's classes for the engine's compiled build (see compiled.py): the source stays
# plain Python; this file only declares what Cython may type.
from .lane cimport Lane
from .node cimport Node

cdef class Shipment:
    cdef public Lane lane
    cdef public double qty
    cdef public object comp

cdef class OrderBook:
    cdef public object kernel
    cdef public set in_transit
    cdef public list observers
    cpdef expect(self, buyer, c, double q)
    cpdef place(self, Lane ln, double q)
    cpdef double withdraw(self, Lane ln)
    cpdef cancel(self, Lane ln, double q)
    cpdef ship(self, Lane ln, double q, comp, double days)
    cpdef receive(self, Shipment s)
    cpdef deliver(self, Lane ln, double q, double now)
