"""The event loop of one replication: an agenda of scheduled callbacks that also speaks SimPy.

Why a loop of our own rather than ``simpy.Environment``: almost every event of a
replication (shipments arriving, batches finishing, reviews, licence decisions,
production steps) is the engine's own and has exactly one thing to do. SimPy
would make each an ``Event`` object with a list of callbacks, processed by a
method call per event; here each is one entry of the :class:`~supplysim.engine.agenda.Agenda`
and one call. The ordering rule is SimPy's: by time, then priority (urgent before
normal), then the order in which events were scheduled, so a replication is the
same whatever else is in the queue.

The kernel also speaks SimPy's environment protocol (``now``, ``schedule``,
``process``, ``timeout``, ``event``, ``active_process``, ``run``), so SimPy
processes and events run on it unchanged: a mechanism can be written as a plain
SimPy process (see ``docs/architecture.md``).

Examples
--------
>>> k = Kernel()
>>> seen = []
>>> k.call(2.0, seen.append, "b")
>>> k.call(1.0, seen.append, "a")
>>> def story(env):
...     yield env.timeout(1.5)
...     seen.append(f"process at {env.now}")
>>> _ = k.process(story(k))
>>> k.run(until=3.0)
>>> seen
['a', 'process at 1.5', 'b']
"""
from __future__ import annotations

import simpy
from simpy.events import NORMAL, URGENT

from .agenda import Agenda

__all__ = ["Kernel", "Loop", "WAIT", "NORMAL", "URGENT", "FIRST"]

#: Before anything else at the same instant (month-end records hold what happened before the month's end).
FIRST = URGENT - 1

#: Yielded by a :class:`Loop` to sleep until its :meth:`Loop.wake` is called.
WAIT = None


def _process_event(event):
    """Process a SimPy event as ``simpy.Environment.step`` does: its callbacks, then a failure nobody handled."""
    callbacks, event.callbacks = event.callbacks, None
    for callback in callbacks:
        callback(event)
    if not event.ok and not event.defused:
        exc = type(event.value)(*event.value.args)
        exc.__cause__ = event.value
        raise exc


class Kernel(Agenda):
    """A replication's clock (``now``, in days), its agenda of callbacks, and SimPy's environment protocol."""

    def __init__(self, start=0.0):
        super().__init__(start)
        self._active_proc = None     # the SimPy process running now (SimPy sets it)

    def loop(self, generator) -> "Loop":
        """Run ``generator`` as a :class:`Loop`, starting now (before ordinary events, like a SimPy process)."""
        return Loop(self, generator)

    # -- SimPy's environment protocol ------------------------------------------------------------------
    def schedule(self, event, priority=NORMAL, delay=0):
        """Schedule a SimPy ``event`` (called by SimPy's own events)."""
        self.call(delay, _process_event, event, priority)

    @property
    def active_process(self):
        return self._active_proc

    def process(self, generator) -> simpy.Process:
        """A SimPy process running ``generator`` on this kernel."""
        return simpy.Process(self, generator)

    def timeout(self, delay=0, value=None) -> simpy.Timeout:
        return simpy.Timeout(self, delay, value)

    def event(self) -> simpy.Event:
        return simpy.Event(self)


class Loop:
    """A long-running story the kernel resumes directly: a generator yielding how long to sleep.

    The generator yields a delay in days, a ``(delay, priority)`` pair, or
    :data:`WAIT` to sleep until :meth:`wake` is called; it ends by returning.
    Lighter than a SimPy process (no event object per wait), for loops that
    wait thousands of times per replication, such as a plant's production.

    Examples
    --------
    >>> k = Kernel()
    >>> log = []
    >>> def clock():
    ...     while True:
    ...         log.append(k.now)
    ...         yield 1.0 if k.now < 2 else WAIT
    >>> loop = k.loop(clock())
    >>> k.run(until=5.0)
    >>> loop.waiting, log
    (True, [0.0, 1.0, 2.0])
    >>> loop.wake(); k.run(until=6.0)
    >>> log
    [0.0, 1.0, 2.0, 5.0]
    """

    __slots__ = ("kernel", "_send", "waiting", "_next")

    def __init__(self, kernel, generator):
        self.kernel = kernel
        self._send = generator.send
        self.waiting = False
        self._next = self._resume   # one bound method for every wait
        kernel.call(0.0, self._next, None, URGENT)

    def _resume(self, _):
        try:
            delay = self._send(None)
        except StopIteration:
            return
        if delay is WAIT:
            self.waiting = True
        elif delay.__class__ is tuple:
            self.kernel.call(delay[0], self._next, None, delay[1])
        else:
            self.kernel.call(delay, self._next)

    def wake(self):
        """Resume a waiting loop at this instant, after what is already due now."""
        if self.waiting:
            self.waiting = False
            self.kernel.call(0.0, self._next)
