"""Small converters that check one field and say what was expected."""
from __future__ import annotations

import datetime as _dt
import difflib
import math

from .errors import Problem

__all__ = ["Bad", "Checker", "REQUIRED"]

REQUIRED = object()


class Bad(Exception):
    """A field value is wrong; the message says what was expected."""


def _show(v):
    if isinstance(v, dict):
        return "a table"
    if isinstance(v, list):
        return f"a list {v!r}" if len(repr(v)) < 60 else "a list"
    return repr(v)


class Checker:
    """Collects problems while converting raw TOML tables into specs."""

    def __init__(self, doc):
        self.doc = doc
        self.problems: list[Problem] = []

    def error(self, path, message):
        path = tuple(path)
        self.problems.append(Problem(self.doc.file_of(path), ".".join(map(str, path)), message))

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
            self.error(p, f"{exc}, found {_show(raw[key])}")
            return None if default is REQUIRED else default


def number(lo=None, hi=None, lo_open=False, hi_open=False, allow_inf=False):
    """Converter for a real number in a range."""
    def conv(v):
        rng = _range_text(lo, hi, lo_open, hi_open)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise Bad(f"expected a number{rng}")
        v = float(v)
        if math.isnan(v) or (math.isinf(v) and not allow_inf):
            raise Bad(f"expected a finite number{rng}")
        if lo is not None and (v < lo or (lo_open and v == lo)):
            raise Bad(f"expected a number{rng}")
        if hi is not None and (v > hi or (hi_open and v == hi)):
            raise Bad(f"expected a number{rng}")
        return v
    return conv


def _range_text(lo, hi, lo_open, hi_open):
    if lo is not None and hi is not None:
        return f" in {'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"
    if lo is not None:
        return f" {'>' if lo_open else '>='} {lo:g}"
    if hi is not None:
        return f" {'<' if hi_open else '<='} {hi:g}"
    return ""


def integer(lo=None):
    def conv(v):
        if isinstance(v, bool) or not isinstance(v, int) or (lo is not None and v < lo):
            raise Bad("expected an integer" + (f" >= {lo}" if lo is not None else ""))
        return v
    return conv


def string(v):
    if not isinstance(v, str):
        raise Bad("expected a string")
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
        return [conv(x) for x in v]
    return c


def mapping(conv):
    """A table of string keys to values converted by ``conv``."""
    def c(v):
        if not isinstance(v, dict):
            raise Bad("expected a table")
        return {k: conv(x) for k, x in v.items()}
    return c
