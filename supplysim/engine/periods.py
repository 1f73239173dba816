"""The model's period: the rhythm of production batches, periodic reviews, lane capacity and demand orders.

Two kinds:

* :class:`FixedPeriods` — every ``period_days`` days from day 0;
* :class:`CalendarPeriods` — each calendar month cut into ``per_month`` equal parts, so every
  month holds the same number of periods and monthly records carry no weekly aliasing (with
  7-day periods a month holds four or five, and its flows jump by a quarter).

Both answer the same questions: the index of the period holding day ``t``, and where period
``k`` starts and ends.

Examples
--------
>>> p = FixedPeriods(7.0)
>>> p.index(15.0), p.start(2), p.end(2)
(2, 14.0, 21.0)
>>> import datetime as dt
>>> from supplysim.model.specs import Calendar
>>> q = CalendarPeriods(Calendar(dt.date(2024, 1, 1)), 4)
>>> q.index(0.0), q.end(0), q.index(31.0), q.start(4), q.length(4)
(0, 7.75, 4, 31.0, 7.25)
>>> q.index(-1.0), q.start(-1)
(-1, -7.75)
"""
from __future__ import annotations

import datetime as _dt
import math
from bisect import bisect_right

__all__ = ["FixedPeriods", "CalendarPeriods", "periods_of"]


class FixedPeriods:
    """Periods of ``days`` days from day 0."""

    def __init__(self, days):
        self.days = days

    def index(self, t):
        return int(t // self.days)

    def start(self, k):
        return k * self.days

    def end(self, k):
        return (k + 1) * self.days

    def length(self, k):
        return self.days

    def starts(self, k, n):
        """The starts of periods ``k`` to ``k + n - 1``, in one call (a block of demand draws)."""
        return [self.start(j) for j in range(k, k + n)]

    def next_review(self, t):
        """The first period start after ``t`` (a start within 1e-9 periods of ``t`` counts as ``t``'s own)."""
        return (math.floor(t / self.days + 1e-9) + 1) * self.days


class CalendarPeriods:
    """Each calendar month in ``per_month`` equal periods (period 0 starts on the model's start day)."""

    def __init__(self, calendar, per_month):
        self.calendar = calendar
        self.per_month = per_month
        self._lo = 0          # month offset (from the start month) of self._starts[0]
        self._starts = []     # month start days from month offset _lo on
        self._extend(-24, 24)
        # each period's start is computed once: batches, reviews, lanes and demand clocks ask for the
        # bounds of their period hundreds of thousands of times a replication
        self._k_start = {}
        self._month_at = (1.0, 0.0, 0)   # [start, end) and month offset of the month last looked up

    def _month_start(self, m):
        """Day of the first of the month ``m`` months after the start month."""
        y, mo = divmod(self.calendar.start.month - 1 + m, 12)
        return self.calendar.day(_dt.date(self.calendar.start.year + y, mo + 1, 1))

    def _extend(self, lo, hi):
        lo, hi = min(lo, self._lo), max(hi, self._lo + len(self._starts))
        self._lo = lo
        self._starts = [self._month_start(m) for m in range(lo, hi + 1)]

    def _month(self, m):
        """(start, length) of month offset ``m``."""
        i = m - self._lo
        if i < 0 or i + 1 >= len(self._starts):
            self._extend(m - 12, m + 12)
            i = m - self._lo
        a = self._starts[i]
        return a, self._starts[i + 1] - a

    def index(self, t):
        a, b, m = self._month_at
        if not a <= t < b:   # (within the month of the last call, the search finds that month again)
            i = bisect_right(self._starts, t) - 1
            if i < 0 or i + 1 >= len(self._starts):
                self._extend(self._lo - 12 if i < 0 else self._lo,
                             self._lo + len(self._starts) + 12 + int(abs(t) // 28))
                i = bisect_right(self._starts, t) - 1
            a, b, m = self._starts[i], self._starts[i + 1], i + self._lo
            self._month_at = (a, b, m)
        n = b - a
        j = min(int((t - a) * self.per_month // n), self.per_month - 1)
        return m * self.per_month + j

    def start(self, k):
        s = self._k_start.get(k)
        if s is None:
            m, j = divmod(k, self.per_month)
            a, n = self._month(m)
            s = self._k_start[k] = a + n * j / self.per_month
        return s

    def end(self, k):
        return self.start(k + 1)

    def length(self, k):
        return self.start(k + 1) - self.start(k)

    def starts(self, k, n):
        """The starts of periods ``k`` to ``k + n - 1``, in one call (a block of demand draws)."""
        return [self.start(j) for j in range(k, k + n)]

    def next_review(self, t):
        k = self.index(t)
        if self.end(k) - t <= 1e-9 * self.length(k):
            k += 1
        return self.start(k + 1)


def periods_of(model):
    """The periods of ``model``: calendar parts of months if it sets ``periods_per_month``, else fixed days."""
    per_month = getattr(model, "periods_per_month", None)
    if per_month:
        return CalendarPeriods(model.calendar, per_month)
    return FixedPeriods(model.period_days)

