# Types of simulation.py's replication for the engine's compiled build (see compiled.py): the source
# stays plain Python; this file only declares what Cython may type. The fields the engine's classes
# read on every event are typed; the rest (and what mechanisms add) live in its __dict__.
from .kernel cimport Kernel
from .stock cimport Ledger
from .orders cimport OrderBook
from .gate cimport Gate

cdef class Simulation:
    cdef dict __dict__
    cdef public Kernel env
    cdef public Ledger ledger
    cdef public OrderBook orders
    cdef public Gate gate
    cdef public object model, periods, layout, zero
    cdef public double cost_ordering, cost_transport, t_disrupt
