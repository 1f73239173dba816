"""Small converters that check one field and say what was expected."""
from __future__ import annotations

import datetime as _dt
import difflib
import math

from .errors import Problem

__all__ = ["Bad", "Checker", "REQUIRED", "MAX_TONNES", "MAX_DAYS", "MAX_MONEY", "MAX_INTEGER", "MAX_YEARS",
           "number", "tonnes", "days", "money", "integer", "string", "label", "boolean", "choice", "date", "list_of",
           "mapping"]

REQUIRED = object()

# Largest magnitudes a model may hold (docs/model-format.md, section 12). They are far above any
# real value and far below where float arithmetic breaks (1e308 t made costs overflow to inf and
# then NaN): a number past them is a typo or a placeholder, not data.
#: t, t/yr or t/day: about 2,500 times world rare-earth mine output (about 390 kt REO in 2024).
MAX_TONNES = 1e9
#: Days (lead times, durations, reviews): about 274 years.
MAX_DAYS = 1e5
#: Money per t, per t·day or per order, in any currency a model uses.
MAX_MONEY = 1e12
#: Integers (priorities).
MAX_INTEGER = 10**6
#: Horizon in years (``[model].years``, ``--years``); ``--days`` is held to the same span.
MAX_YEARS = 200.0
#: Any other number (factors, shares, rates per year).
MAX_NUMBER = 1e12


class Bad(Exception):
    """A field value is wrong; the message says what was expected.

    ``at`` is the key path below the field (an entry of a table or list) and
    ``found`` the offending value there, when the problem is inside the value.
    """

    def __init__(self, message, at=(), found=None):
        super().__init__(message)
        self.at, self.found = tuple(at), found


def _show(v):
    """A short description of a found value (a 400-digit integer is not printed whole)."""
    if isinstance(v, dict):
        return "a table"
    if isinstance(v, list):
        return f"a list {v!r}" if len(repr(v)) < 60 else f"a list of {len(v)} items"
    if isinstance(v, int) and not isinstance(v, bool) and abs(v) >= 10**15:
        return f"an integer of {len(str(abs(v)))} digits"
    if isinstance(v, str) and len(v) > 60:
        return repr(v[:40]) + f"... ({len(v)} characters)"
    return repr(v)


class Checker:
    """Collects problems while converting raw TOML tables into specs."""

    def __init__(self, doc):
        self.doc = doc
        self.problems: list[Problem] = []

    def error(self, path, message):
        path = tuple(path)
        self.problems.append(Problem(self.doc.blame(path), ".".join(map(str, path)), message))

    def table(self, raw, path, allowed):
        """Check that ``raw`` is a table with no keys outside ``allowed``."""
        if not isinstance(raw, dict):
            self.error(path, f"expected a table, found {_show(raw)}")
            return {}
        for k in raw:
            if k not in allowed:
                near = difflib.get_close_matches(k, list(allowed), n=1)
                hint = f" (did you mean '{near[0]}'?)" if near else ""
                self.error(tuple(path) + (k,), f"unknown key{hint}; expected one of: {', '.join(sorted(allowed))}")
        return raw

    def get(self, raw, path, key, conv, default=REQUIRED):
        """Convert ``raw[key]`` with ``conv``; record a problem and return ``default`` if bad."""
        p = tuple(path) + (key,)
        if key not in raw:
            if default is REQUIRED:
                self.error(p, "missing required key")
                return None
            return default
        try:
            return conv(raw[key])
        except Bad as exc:
            found = exc.found if exc.at else raw[key]
            self.error(p + exc.at, f"{exc}, found {_show(found)}")
            return None if default is REQUIRED else default


def number(lo=None, hi=MAX_NUMBER, lo_open=False, hi_open=False, unit=""):
    """Converter for a finite real number in a range (``hi`` defaults to :data:`MAX_NUMBER`).

    Examples
    --------
    >>> number(0, lo_open=True)(2)
    2.0
    >>> number(0, lo_open=True)(float("nan"))
    Traceback (most recent call last):
    ...
    supplysim.model.fields.Bad: expected a finite number > 0, at most 1e+12
    """
    def conv(v):
        rng = _range_text(lo, hi, lo_open, hi_open) + (f" ({unit})" if unit else "")
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise Bad(f"expected a number{rng}")
        try:
            v = float(v)
        except OverflowError:   # an integer beyond any float
            raise Bad(f"expected a number{rng}") from None
        if not math.isfinite(v):
            raise Bad(f"expected a finite number{rng}")
        if lo is not None and (v < lo or (lo_open and v == lo)):
            raise Bad(f"expected a number{rng}")
        if hi is not None and (v > hi or (hi_open and v == hi)):
            raise Bad(f"expected a number{rng}")
        if lo is None and v < -MAX_NUMBER:
            raise Bad(f"expected a number{rng}")
        return v
    return conv


def tonnes(positive=False):
    """A mass or mass rate: t, t/yr or t/day, up to :data:`MAX_TONNES`."""
    return number(0, MAX_TONNES, lo_open=positive)


def days(positive=False):
    """A duration in days, up to :data:`MAX_DAYS`."""
    return number(0, MAX_DAYS, lo_open=positive, unit="days")


def money():
    """A cost or value, up to :data:`MAX_MONEY`."""
    return number(0, MAX_MONEY)


def _range_text(lo, hi, lo_open, hi_open):
    """``" > 0, at most 1e+09"`` for a magnitude cap, ``" in [0, 1]"`` for a range with a meaning."""
    low = f" {'>' if lo_open else '>='} {lo:g}" if lo is not None else ""
    if hi is None:
        return low
    if hi >= 1e5:   # a sanity cap rather than part of the key's meaning
        return f"{low}, at most {hi:g}" if low else f" of magnitude at most {hi:g}"
    if lo is not None:
        return f" in {'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"
    return f" {'<' if hi_open else '<='} {hi:g}"


def integer(lo=-MAX_INTEGER, hi=MAX_INTEGER):
    """Converter for an integer in ``[lo, hi]`` (floats such as 2.0 are not integers)."""
    def conv(v):
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise Bad(f"expected an integer in [{lo}, {hi}]")
        return v
    return conv


def string(v):
    if not isinstance(v, str):
        raise Bad("expected a string")
    return v


def label(v):
    """An id or label (country, stage, commodity, node id): a non-empty line of at most 100 characters."""
    if not isinstance(v, str) or not v.strip() or len(v) > 100 or not v.isprintable():
        raise Bad("expected a non-empty name of at most 100 printable characters")
    return v


def boolean(v):
    if not isinstance(v, bool):
        raise Bad("expected true or false")
    return v


def choice(*options):
    def conv(v):
        if v not in options:
            raise Bad("expected one of " + ", ".join(repr(o) for o in options))
        return v
    return conv


def date(v):
    if isinstance(v, _dt.datetime):
        return v.date()
    if isinstance(v, _dt.date):
        return v
    if isinstance(v, str):
        try:
            return _dt.date.fromisoformat(v)
        except ValueError:
            pass
    raise Bad("expected an ISO date like 2026-10-01")


def list_of(conv, nonempty=False):
    def c(v):
        if not isinstance(v, list):
            raise Bad("expected a list")
        if nonempty and not v:
            raise Bad("expected a non-empty list")
        return [_inner(conv, i, x) for i, x in enumerate(v)]
    return c


def _inner(conv, key, x):
    """``conv(x)`` for the entry ``key`` of a table or list: a problem names the entry."""
    try:
        return conv(x)
    except Bad as exc:
        raise Bad(str(exc), (key,) + exc.at, exc.found if exc.at else x) from None


def mapping(conv):
    """A table of string keys to values converted by ``conv``."""
    def c(v):
        if not isinstance(v, dict):
            raise Bad("expected a table")
        return {k: _inner(conv, k, x) for k, x in v.items()}
    return c
