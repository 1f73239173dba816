"""A replication's clock and its agenda: callbacks waiting for their time, run in order.

The order is SimPy's: by time, then priority (urgent before normal), then the order
in which they were scheduled. No two entries share all three, so the order is total
and a replication's sequence of events is the same however the queue is kept.

This is the Python source's agenda, a heap of tuples (``heapq``): comparing two
tuples costs several calls into the interpreter, and a replication makes millions of
such comparisons. The compiled build's is ``agenda.pyx``: the same class over a heap
of C records, compared as numbers (tests/test_agenda.py checks that both run the
same calls in the same order). :class:`~supplysim.engine.kernel.Kernel` adds SimPy's
environment protocol to it.

Examples
--------
>>> agenda = Agenda()
>>> seen = []
>>> agenda.call(2.0, seen.append, "b")
>>> agenda.call(1.0, seen.append, "a")
>>> agenda.call(1.0, seen.append, "urgent a", URGENT)
>>> agenda.run(until=1.5)
>>> seen, agenda.now, agenda.peek(), agenda.processed
(['urgent a', 'a'], 1.5, 2.0, 3)
"""
from __future__ import annotations

from heapq import heappop, heappush

from simpy.events import NORMAL, URGENT

__all__ = ["Agenda", "NORMAL", "URGENT"]


class _Stop(Exception):
    """Raised by the stop callback :meth:`Agenda.run` schedules at its ``until``."""


def _stop(_):
    raise _Stop


class Agenda:
    """A clock (``now``, in days) and the callbacks scheduled on it."""

    def __init__(self, start=0.0):
        self.now = float(start)
        self._heap = []              # (time, priority, order, fn, arg)
        self.scheduled = 0           # callbacks scheduled so far; their order breaks ties of time and priority

    def call(self, delay, fn, arg=None, priority=NORMAL):
        """Call ``fn(arg)`` after ``delay`` days (``priority``: URGENT runs before NORMAL at the same time)."""
        if not delay >= 0:
            raise ValueError(f"delay must be a number of days >= 0, not {delay}")
        n = self.scheduled = self.scheduled + 1
        heappush(self._heap, (self.now + delay, priority, n, fn, arg))

    def run(self, until):
        """Run the callbacks due up to day ``until``.

        Those at exactly ``until`` that were scheduled as urgent before this
        call run; later ones and ordinary ones at ``until`` wait for the next
        call (as in SimPy's ``run(until=...)``).
        """
        if not until > self.now:
            raise ValueError(f"until ({until}) must be greater than the current time ({self.now})")
        self.call(until - self.now, _stop, None, URGENT)
        heap = self._heap
        try:
            while True:
                self.now, _, _, fn, arg = heappop(heap)
                fn(arg)
        except _Stop:
            return

    @property
    def processed(self) -> int:
        """Callbacks run so far (the stop callbacks of :meth:`run` included)."""
        return self.scheduled - len(self._heap)

    def peek(self) -> float:
        """Time of the next scheduled callback (infinity if none)."""
        return self._heap[0][0] if self._heap else float("inf")
