"""Events scheduled ahead of ordinary timeouts at the same instant."""
from __future__ import annotations

from simpy.events import NORMAL, URGENT, Event

__all__ = ["Urgent", "Immediate", "Tick", "FIRST"]

#: Month-end snapshots come before anything else at the same instant, so a month's
#: records hold exactly what happened before its end.
FIRST = URGENT - 1


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
        self.env.schedule(self, NORMAL, delay)
        return self
