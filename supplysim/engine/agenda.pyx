# cython: language_level=3, boundscheck=False, wraparound=False
"""The compiled build's agenda (the Python source's is agenda.py, whose docstring says what it
does): the same class, its heap an array of C records ordered by time, priority and order, compared
as numbers. Each record names a slot of two lists that hold its callback and argument, so the
references stay where Python's garbage collector sees them."""
from cpython.mem cimport PyMem_Free, PyMem_Realloc

from simpy.events import NORMAL, URGENT

__all__ = ["Agenda", "NORMAL", "URGENT"]


class _Stop(Exception):
    """Raised by the stop callback :meth:`Agenda.run` schedules at its ``until``."""


def _stop(_):
    raise _Stop


cdef inline bint _before(const Entry* a, const Entry* b) noexcept nogil:
    if a.time != b.time:
        return a.time < b.time
    if a.priority != b.priority:
        return a.priority < b.priority
    return a.order < b.order


cdef class Agenda:
    """A clock (``now``, in days) and the callbacks scheduled on it."""

    def __init__(self, start=0.0):
        self.now = float(start)
        self.scheduled = 0
        self._fns = []
        self._args = []

    def __dealloc__(self):
        PyMem_Free(self._heap)
        PyMem_Free(self._free)

    cpdef call(self, double delay, fn, arg=None, int priority=NORMAL):
        """Call ``fn(arg)`` after ``delay`` days (``priority``: URGENT runs before NORMAL at the same time)."""
        if not delay >= 0:
            raise ValueError(f"delay must be a number of days >= 0, not {delay}")
        self.scheduled += 1
        cdef Entry entry
        entry.time = self.now + delay
        entry.priority = priority
        entry.order = self.scheduled
        if self._size == self._capacity:
            self._grow()
        if self._nfree:
            self._nfree -= 1
            entry.slot = self._free[self._nfree]
            self._fns[entry.slot] = fn
            self._args[entry.slot] = arg
        else:
            entry.slot = len(self._fns)
            self._fns.append(fn)
            self._args.append(arg)
        # sift the new record up from the end
        cdef Py_ssize_t i = self._size, parent
        self._size += 1
        while i > 0:
            parent = (i - 1) >> 1
            if not _before(&entry, &self._heap[parent]):
                break
            self._heap[i] = self._heap[parent]
            i = parent
        self._heap[i] = entry

    cdef int _grow(self) except -1:
        cdef Py_ssize_t capacity = max(64, 2 * self._capacity)
        cdef Entry* heap = <Entry*> PyMem_Realloc(self._heap, capacity * sizeof(Entry))
        if heap == NULL:
            raise MemoryError()
        self._heap = heap
        cdef Py_ssize_t* free = <Py_ssize_t*> PyMem_Realloc(self._free, capacity * sizeof(Py_ssize_t))
        if free == NULL:
            raise MemoryError()
        self._free = free
        self._capacity = capacity
        return 0

    cdef Entry _pop(self) noexcept:
        """The first record, taken off the heap (its slot freed for the next call)."""
        cdef Entry first = self._heap[0], last
        cdef Py_ssize_t i = 0, child, n
        self._size -= 1
        n = self._size
        if n:
            # sift the last record down from the root
            last = self._heap[n]
            while True:
                child = 2 * i + 1
                if child >= n:
                    break
                if child + 1 < n and _before(&self._heap[child + 1], &self._heap[child]):
                    child += 1
                if not _before(&self._heap[child], &last):
                    break
                self._heap[i] = self._heap[child]
                i = child
            self._heap[i] = last
        self._free[self._nfree] = first.slot
        self._nfree += 1
        return first

    def run(self, until):
        """Run the callbacks due up to day ``until`` (those at ``until`` only if urgent and scheduled
        before this call: see agenda.py)."""
        if not until > self.now:
            raise ValueError(f"until ({until}) must be greater than the current time ({self.now})")
        self.call(until - self.now, _stop, None, URGENT)
        cdef Entry entry
        cdef list fns = self._fns, args = self._args
        try:
            while True:   # never empty: the stop record pushed above ends the loop when it is taken
                entry = self._pop()
                self.now = entry.time
                fn = fns[entry.slot]
                arg = args[entry.slot]
                fns[entry.slot] = None
                args[entry.slot] = None
                fn(arg)
        except _Stop:
            return

    @property
    def processed(self):
        """Callbacks run so far (the stop callbacks of :meth:`run` included)."""
        return self.scheduled - self._size

    def peek(self):
        """Time of the next scheduled callback (infinity if none)."""
        return self._heap[0].time if self._size else float("inf")
