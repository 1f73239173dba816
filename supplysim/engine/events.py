"""The engine's events: timeouts with one callback, urgent ones, reusable timers, and the loop
that processes them."""
from __future__ import annotations

from heapq import heappop, heappush

from simpy.events import NORMAL, URGENT, Event

__all__ = ["Call", "Urgent", "Immediate", "Tick", "FIRST", "run_until"]

#: Month-end snapshots come before anything else at the same instant, so a month's
#: records hold exactly what happened before its end.
FIRST = URGENT - 1


class Call(Event):
    """A timeout that calls ``callback(event)`` after ``delay`` days, carrying ``value``.

    The engine's shipments, batches, reviews and licence decisions each wait on
    one: built and scheduled in one step, where a SimPy ``Timeout`` takes a
    constructor, a ``schedule`` call and an ``append``. Ordered exactly like a
    ``Timeout`` of the same ``priority`` (SimPy's queue, its event counter).
    """

    def __init__(self, env, delay, callback, value=None, priority=NORMAL):
        if delay < 0:
            raise ValueError(f"negative delay {delay}")
        self.env = env
        self.callbacks = [callback]
        self._value = value
        self._ok = True
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


class Tick(Event):
    """A timeout that its one owner schedules again each time it has fired.

    Demand streams and production loops wait on one such event for their
    whole run instead of allocating a timeout per wait. Nothing else may wait
    on it, and it must not be armed while pending.
    """

    def __init__(self, env):
        self.env = env
        self.callbacks = None
        self._value = None
        self._ok = True

    def arm(self, delay, callback=None):
        """Schedule the event ``delay`` days from now with ``callback`` (if any) and return it."""
        self.callbacks = [callback] if callback is not None else []
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
