"""Observed data for a backtest: monthly or period trade tonnes and prices in a CSV file.

Columns (``docs/backtest.md``): ``month`` (``YYYY-MM``, or ``YYYY-MM/YYYY-MM`` for a total or mean
over the months from the first to the last, both included), ``exporter``, ``importer``,
``commodity``, and per row exactly one of ``tonnes`` (shipped from the exporter's country to the
importer's over the months; importer ``*`` is every other country) or ``price`` ($/kg, the mean over
the months; ``exporter`` is then the market the price is quoted in and ``importer`` is empty).
``source`` and ``note`` are free text. Every problem is reported with the file, the line and the
column, all at once.

Examples
--------
>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "obs.csv"
>>> _ = p.write_text("month,exporter,importer,commodity,tonnes,price,source\\n"
...                  "2024-01/2024-12,CN,*,magnet,58152,,R22\\n2024-04/2024-06,ex_cn,,ndpr_oxide,,52.5,R95\\n")
>>> rows = read_observed(p)
>>> rows[0].months, rows[0].kind, rows[1].kind, rows[1].value
(12, 'tonnes', 'price', 52.5)
"""
from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from pathlib import Path

from ..model.errors import ModelError, Problem

__all__ = ["Observation", "ObservedDataError", "read_observed", "COLUMNS", "month_index"]

#: Columns a file may have; the first four, and one of tonnes/price, are required.
COLUMNS = ("month", "exporter", "importer", "commodity", "tonnes", "price", "source", "note")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def month_index(label: str) -> int:
    """Months since year 0 of a ``YYYY-MM`` label (so that differences count months).

    >>> month_index("2024-03") - month_index("2023-12")
    3
    """
    m = _MONTH.match(label)
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ValueError(f"expected a month YYYY-MM, found {label!r}")
    return int(m.group(1)) * 12 + int(m.group(2)) - 1


class ObservedDataError(ModelError):
    """Every problem found in an observed-data file (the command line prints them and exits 2)."""

    def _text(self) -> str:
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} in the observed data:"
        return "\n".join([head] + [f"  {p}" for p in self.problems])


def _label(i: int) -> str:
    return f"{i // 12:04d}-{i % 12 + 1:02d}"


@dataclass(frozen=True)
class Observation:
    """One row of observed data: a trade total or a mean price over months ``first``..``last``."""

    first: str
    last: str
    exporter: str
    importer: str
    commodity: str
    kind: str          # "tonnes" or "price"
    value: float
    source: str = ""
    line: int = 0

    @property
    def months(self) -> int:
        return month_index(self.last) - month_index(self.first) + 1

    @property
    def span(self) -> str:
        return self.first if self.first == self.last else f"{self.first}/{self.last}"

    @property
    def series(self) -> tuple:
        """What the row is an observation of: ``(kind, exporter, importer, commodity)``."""
        return (self.kind, self.exporter, self.importer, self.commodity)


def _number(text, positive):
    x = float(text)
    if not math.isfinite(x) or x < 0 or (positive and x == 0):
        raise ValueError
    return x


def read_observed(path) -> list:
    """The validated rows of an observed-data CSV file (raises :class:`ObservedDataError` naming every problem)."""
    path = Path(path)
    name = str(path)
    probs = []

    def bad(line, col, msg):
        probs.append(Problem(name, f"line {line}" + (f", column {col}" if col else ""), msg))

    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ObservedDataError([Problem(name, "", "observed-data file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ObservedDataError([Problem(name, "", f"could not be read as UTF-8 text ({exc})")]) from None
    reader = csv.DictReader(text.splitlines())
    head = [h.strip() for h in (reader.fieldnames or [])]
    if not head:
        raise ObservedDataError([Problem(name, "line 1", "expected a header row: " + ", ".join(COLUMNS))])
    unknown = [h for h in head if h not in COLUMNS]
    missing = [c for c in COLUMNS[:4] if c not in head]
    if unknown:
        bad(1, None, f"unknown column(s) {', '.join(unknown)}; expected: {', '.join(COLUMNS)}")
    if missing:
        bad(1, None, f"missing column(s) {', '.join(missing)}")
    if "tonnes" not in head and "price" not in head:
        bad(1, None, "expected a 'tonnes' or a 'price' column (or both)")
    if probs:
        raise ObservedDataError(probs)
    out, seen = [], {}
    for i, raw in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        if not any(row.values()):
            continue   # a blank line
        span = row.get("month", "")
        parts = span.split("/")
        try:
            first, last = (parts[0], parts[-1]) if len(parts) in (1, 2) else (None, None)
            if first is None:
                raise ValueError
            a, b = month_index(first), month_index(last)
            if b < a:
                bad(i, "month", f"expected the first month before the last, found {span!r}")
                continue
        except ValueError:
            bad(i, "month", f"expected YYYY-MM or YYYY-MM/YYYY-MM, found {span!r}")
            continue
        t, p = row.get("tonnes", ""), row.get("price", "")
        if bool(t) == bool(p):
            bad(i, "tonnes" if not t else "price", "expected exactly one of 'tonnes' and 'price' in a row, found "
                + ("both" if t else "neither"))
            continue
        kind, txt = ("tonnes", t) if t else ("price", p)
        try:
            value = _number(txt, positive=(kind == "price"))
        except ValueError:
            bad(i, kind, f"expected a number {'> 0 ($/kg)' if kind == 'price' else '>= 0 (t)'}, found {txt!r}")
            continue
        ex, im, com = row.get("exporter", ""), row.get("importer", ""), row.get("commodity", "")
        ok = True
        for col, v in (("exporter", ex), ("commodity", com)):
            if not v:
                bad(i, col, "expected a value, found an empty cell")
                ok = False
        if kind == "tonnes" and not im:
            bad(i, "importer", "a trade row needs an importer: a country code, or * for every other country")
            ok = False
        if kind == "price" and im:
            bad(i, "importer", "a price row takes no importer (its exporter names the market)")
            ok = False
        if kind == "tonnes" and im == ex:
            bad(i, "importer", f"the importer must differ from the exporter ({ex})")
            ok = False
        if not ok:
            continue
        obs = Observation(_label(a), _label(b), ex, im, com, kind, value, row.get("source", ""), i)
        key = obs.series + (obs.first, obs.last)
        if key in seen:
            bad(i, "month", f"the same series and months as line {seen[key]}")
            continue
        seen[key] = i
        out.append(obs)
    if not out and not probs:
        probs.append(Problem(name, "", "no observations: the file holds a header only"))
    if probs:
        raise ObservedDataError(probs)
    return out
