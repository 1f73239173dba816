"""Events scheduled ahead of ordinary timeouts at the same instant."""
from __future__ import annotations

from simpy.events import URGENT, Event

__all__ = ["Urgent", "Immediate", "FIRST"]

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
