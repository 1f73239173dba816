"""The engine's events: timeouts with one callback, urgent ones, reusable timers, and the loop
that processes them."""
from __future__ import annotations

from heapq import heappop, heappush

from simpy.events import NORMAL, URGENT, Event

__all__ = ["Call", "Urgent", "Immediate", "Tick", "FIRST", "run_until"]

#: Month-end snapshots come before anything else at the same instant, so a month's
#: records hold exactly what happened before its end.
FIRST = URGENT - 1


class _Callback:
    """A scheduled callback: the engine's own event, lighter than a SimPy ``Event``.

    It holds one callable (``cb``) and a value, and is ordered in SimPy's queue
    like a ``Timeout``. :func:`run_until` calls ``cb`` directly; SimPy's own
    ``env.step`` (used by ``env.run``) sees the ``callbacks`` list it expects.
    """

    __slots__ = ("cb", "_value")
    _ok = True

    @property
    def callbacks(self):
        return None if self.cb is None else [self.cb]

    @callbacks.setter
    def callbacks(self, value):
        # SimPy clears the list before calling it; one callable is all these events hold
        self.cb = value[0] if value else None


class Call(_Callback):
    """A timeout that calls ``callback(event)`` after ``delay`` days, carrying ``value``.

    The engine's shipments, batches, reviews and licence decisions each wait on
    one: built and scheduled in one step, where a SimPy ``Timeout`` takes a
    constructor, a ``schedule`` call and an ``append``. Ordered exactly like a
    ``Timeout`` of the same ``priority`` (SimPy's queue, its event counter).
    """

    __slots__ = ()

    def __init__(self, env, delay, callback, value=None, priority=NORMAL):
        if delay < 0:
            raise ValueError(f"negative delay {delay}")
        self.cb = callback
        self._value = value
        heappush(env._queue, (env._now + delay, priority, next(env._eid), self))


class Urgent(Event):
    """A timeout processed before ordinary events at the same time (reviews come first)."""

    def __init__(self, env, delay, priority=URGENT):
        self.env = env
        self.callbacks = []
        self._value = None
        self._ok = True
        env.schedule(self, priority, delay)


class Immediate(Urgent):
    """An event now, ordered like a process start (SimPy's ``Initialize``)."""

    def __init__(self, env):
        super().__init__(env, 0)


class Tick(_Callback):
    """A timeout that its one owner schedules again each time it has fired.

    Demand streams and production loops wait on one such event for their
    whole run instead of allocating a timeout per wait. Nothing else may wait
    on it, and it must not be armed while pending.
    """

    __slots__ = ("env",)

    def __init__(self, env):
        self.env = env
        self.cb = None
        self._value = None

    def arm(self, delay, callback):
        """Schedule the event ``delay`` days from now to call ``callback``; return it."""
        self.cb = callback
        env = self.env
        heappush(env._queue, (env._now + delay, NORMAL, next(env._eid), self))
        return self


def run_until(env, until):
    """Process ``env``'s events up to day ``until``, as ``env.run(until=until)`` does.

    The same queue, order and stopping rule (a stop event at ``until``, urgent,
    so events at exactly ``until`` scheduled before it run and later ones do
    not), in one loop without a method call per event. A failed event nobody
    handled raises, as in SimPy.
    """
    if until <= env._now:
        raise ValueError(f"until ({until}) must be greater than the current time ({env._now})")
    stop = Event(env)
    stop._ok = True
    stop._value = None
    env.schedule(stop, URGENT, until - env._now)
    queue = env._queue
    while True:
        now, _, _, ev = heappop(queue)
        env._now = now
        cls = ev.__class__
        if cls is Call or cls is Tick:   # the engine's own events: one callable each
            ev.cb(ev)
            continue
        if ev is stop:
            stop.callbacks = None
            return
        callbacks, ev.callbacks = ev.callbacks, None
        for cb in callbacks:
            cb(ev)
        if not ev._ok and not hasattr(ev, "_defused"):
            exc = type(ev._value)(*ev._value.args)
            exc.__cause__ = ev._value
            raise exc
