"""The explore file: uncertainties and levers by key path, and the outcomes to analyse.

An explore file is TOML data (never executed) with four tables::

    [explore]                      # what is explored, on which scenario
    question = "Under which ... does the EU lose more than 10% ...?"
    scenario = "scenarios/base.toml"   # a file beside this one, or a scenario name of the model
    years = 4

    [uncertainties.approval]       # what nobody knows: sampled by the design
    keys = ["controls.cn-ndpr.approval.0.prob"]
    range = [0.1, 0.9]             # uniform unless dist = "triangular" | "loguniform" | "normal"

    [levers.stockpile_days]        # what a decision maker chooses: every value is crossed with the design
    keys = [{key = "facilities.stockpile_eu.initial_stock.magnet", scale = 69.0}]
    values = [0, 90]

    [outcomes.eu_lost]             # what is measured per replication, from the stored results
    metric = "demand_lost_pct"     # a metric of docs/metrics.md, here over a window and regions
    regions = ["EU"]
    window = ["2026-01", "2027-12"]
    threshold = 10                 # % of the window's demand; worse = "above" (the default)

Any numeric value of the model is explorable by its key path (see
:mod:`supplysim.model.overlay`); a key holding a date takes ``days_after``, so
the parameter is a number of days. docs/explore.md describes every key.

Examples
--------
>>> spec = parse_spec('''
... [uncertainties.x]
... keys = ["facilities.mine.capacity"]
... range = [0, 2]
... [outcomes.y]
... metric = "delivered_share[EU]"
... ''', "demo.toml")
>>> spec.uncertainties[0].from_unit([0.0, 0.5, 1.0])
[0.0, 1.0, 2.0]
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import itertools
import math
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ..model import fields as F
from ..model.errors import ModelError, Problem
from ..model.load import Document
from ..model.overlay import Overrides, parse_key_path

__all__ = ["Spec", "Parameter", "Target", "Outcome", "load_spec", "parse_spec", "DISTRIBUTIONS", "OUTCOME_KINDS"]

DISTRIBUTIONS = ("uniform", "loguniform", "triangular", "normal")
OUTCOME_KINDS = ("metric", "series")
STATS = ("sum", "mean", "max", "min", "last")

TOP_KEYS = {"explore", "uncertainties", "levers", "outcomes"}
EXPLORE_KEYS = {"name", "description", "question", "scenario", "options", "years", "source", "note"}
PARAM_KEYS = {"keys", "range", "dist", "mode", "mean", "sd", "values", "integer", "unit", "description", "source",
              "note"}
LEVER_KEYS = {"keys", "values", "options", "unit", "description", "source", "note"}
TARGET_KEYS = {"key", "scale", "offset", "days_after"}
OUTCOME_KEYS = {"kind", "metric", "series", "keys", "regions", "window", "stat", "threshold", "worse", "unit",
                "description", "source", "note"}
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class Target:
    """One model value a parameter sets: ``key = value * scale + offset``, or a date ``days_after`` + that many days."""

    key: str
    scale: float = 1.0
    offset: float = 0.0
    days_after: _dt.date | None = None

    def value(self, x):
        if isinstance(x, bool) or not isinstance(x, (int, float)):
            return x
        v = x * self.scale + self.offset
        if self.days_after is not None:
            return self.days_after + _dt.timedelta(days=int(round(v)))
        if isinstance(x, int) and float(v).is_integer():
            return int(v)
        return float(v)


@dataclass(frozen=True)
class Parameter:
    """An uncertainty (sampled) or a lever (each value crossed with the design).

    A continuous parameter has ``low``/``high`` and a distribution; a discrete
    one lists ``values``; an options lever lists sets of the model's named
    options (``values`` are then their labels).
    """

    name: str
    kind: str                       # "uncertainty" or "lever"
    targets: tuple = ()
    dist: str = "uniform"
    low: float | None = None
    high: float | None = None
    mode: float | None = None
    mean: float | None = None
    sd: float | None = None
    values: tuple | None = None
    integer: bool = False
    options: tuple | None = None    # lever: one tuple of option names per value
    unit: str = ""
    description: str = ""

    @property
    def discrete(self) -> bool:
        return self.values is not None

    def from_unit(self, u) -> list:
        """Values at unit-interval quantiles ``u`` (the inverse CDF of the parameter's distribution)."""
        out = []
        for x in u:
            x = min(max(float(x), 0.0), 1.0)
            if self.discrete:
                out.append(self.values[min(int(x * len(self.values)), len(self.values) - 1)])
                continue
            if self.integer:
                lo, hi = int(self.low), int(self.high)
                out.append(min(lo + int(x * (hi - lo + 1)), hi))
                continue
            out.append(self._ppf(x))
        return out

    def _ppf(self, x):
        lo, hi = self.low, self.high
        if self.dist == "uniform":
            return lo + x * (hi - lo)
        if self.dist == "loguniform":
            return math.exp(math.log(lo) + x * (math.log(hi) - math.log(lo)))
        if self.dist == "triangular":
            c = (self.mode - lo) / (hi - lo)
            if x < c:
                return lo + math.sqrt(x * (hi - lo) * (self.mode - lo))
            return hi - math.sqrt((1 - x) * (hi - lo) * (hi - self.mode))
        # normal truncated to [low, high]: invert the normal CDF between the bounds' probabilities
        from statistics import NormalDist
        nd = NormalDist(self.mean, self.sd)
        a, b = nd.cdf(lo), nd.cdf(hi)
        p = a + x * (b - a)
        return min(max(nd.inv_cdf(min(max(p, 1e-15), 1 - 1e-15)), lo), hi)

    def levels(self, n) -> list:
        """``n`` levels for a full-factorial design: every value of a discrete parameter, else
        evenly spaced quantiles including both bounds (the midpoint when ``n`` is 1)."""
        if self.discrete:
            return list(self.values)
        if self.integer:
            lo, hi = int(self.low), int(self.high)
            k = min(n, hi - lo + 1)
            if k == 1:
                return [(lo + hi) // 2]
            return sorted({int(round(lo + i * (hi - lo) / (k - 1))) for i in range(k)})
        us = [0.5] if n == 1 else [i / (n - 1) for i in range(n)]
        return self.from_unit(us)

    def assignments(self, value) -> list:
        """``[(key path, model value), ...]`` this parameter sets at ``value``."""
        return [(t.key, t.value(value)) for t in self.targets]

    def option_names(self, value) -> tuple:
        """The model options an options lever switches on at ``value`` (empty for other parameters)."""
        if self.options is None:
            return ()
        return self.options[list(self.values).index(value)]


@dataclass(frozen=True)
class Outcome:
    """A scalar per replication computed from the stored metrics and monthly series."""

    name: str
    kind: str
    metric: str = ""
    series: str = ""
    keys: tuple = ()
    window: tuple | None = None     # ("YYYY-MM", "YYYY-MM"), inclusive
    stat: str = "sum"
    threshold: float | None = None
    worse: str = "above"
    unit: str = ""
    description: str = ""

    def is_bad(self, value) -> bool:
        """Whether ``value`` is worse than the threshold (False when there is none or the value is NaN)."""
        if self.threshold is None or value is None or not math.isfinite(value):
            return False
        return value > self.threshold if self.worse == "above" else value < self.threshold

    def describe_threshold(self) -> str:
        if self.threshold is None:
            return ""
        return f"{'>' if self.worse == 'above' else '<'} {self.threshold:g}"


@dataclass(frozen=True)
class Spec:
    """A validated explore file."""

    path: str
    text: str
    name: str
    description: str = ""
    question: str = ""
    scenario: str | None = None
    options: tuple = ()
    years: float | None = None
    uncertainties: tuple = ()
    levers: tuple = ()
    outcomes: tuple = ()

    @property
    def parameters(self) -> tuple:
        return self.uncertainties + self.levers

    def digest(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()

    def outcome(self, name) -> Outcome:
        for o in self.outcomes:
            if o.name == name:
                return o
        raise KeyError(f"{self.path}: no outcome '{name}' (outcomes: {', '.join(o.name for o in self.outcomes)})")

    def policies(self) -> list:
        """``[(label, {lever: value})]``: every combination of lever values (one unnamed policy without levers)."""
        if not self.levers:
            return [("", {})]
        out = []
        for combo in itertools.product(*(lv.values for lv in self.levers)):
            vals = dict(zip((lv.name for lv in self.levers), combo))
            out.append((",".join(f"{k}={_fmt(v)}" for k, v in vals.items()), vals))
        return out

    def overrides(self, values: dict) -> Overrides:
        """The key-path overrides of a design point (``values`` by parameter name), sourced to this file."""
        items = {}
        for p in self.parameters:
            if p.name in values:
                for k, v in p.assignments(values[p.name]):
                    items[k] = v
        return Overrides.of(items, source=self.path)

    def model_options(self, values: dict) -> tuple:
        """The spec's options plus those its options levers switch on at ``values``."""
        out = list(self.options)
        for p in self.levers:
            if p.name in values:
                out += [o for o in p.option_names(values[p.name]) if o not in out]
        return tuple(out)


def _fmt(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def load_spec(path) -> Spec:
    """Read and validate an explore file.

    Raises
    ------
    ModelError
        With every problem found, each naming the file and the key.
    """
    p = Path(path)
    if not p.is_file():
        raise ModelError([Problem(str(path), "", "explore file not found")])
    return parse_spec(p.read_text(encoding="utf-8"), str(path))


def parse_spec(text, name="<explore>") -> Spec:
    """Validate the text of an explore file (``name`` is the file named in errors)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ModelError([Problem(name, "", f"not valid TOML: {exc}")]) from None
    ck = F.Checker(Document(raw, {(): name}, {name: text}, name))
    ck.table(raw, (), TOP_KEYS)
    meta = ck.table(raw.get("explore", {}), ("explore",), EXPLORE_KEYS)
    scenario = ck.get(meta, ("explore",), "scenario", F.string, None)
    if scenario and scenario.endswith(".toml") and name and not name.startswith("<"):
        scenario = str(Path(name).parent / scenario)   # a scenario file beside the explore file
    years = ck.get(meta, ("explore",), "years", F.number(0, lo_open=True), None)
    unc = _parameters(ck, raw, "uncertainties", name)
    lev = _parameters(ck, raw, "levers", name)
    outs = _outcomes(ck, raw.get("outcomes", {}))
    if not unc:
        ck.error(("uncertainties",), "an exploration needs at least one uncertainty ([uncertainties.NAME])")
    if not outs:
        ck.error(("outcomes",), "an exploration needs at least one outcome ([outcomes.NAME])")
    seen = {}
    for p in unc + lev:
        for t in p.targets:
            if t.key in seen:
                ck.error((_group(p), p.name, "keys"), f"'{t.key}' is also set by {seen[t.key]}")
            seen[t.key] = f"{_group(p)}.{p.name}"
    names = {}
    for grp, items in (("uncertainties", unc), ("levers", lev), ("outcomes", outs)):
        for it in items:
            if it.name in names:
                ck.error((grp, it.name), f"name already used in [{names[it.name]}]; names must be distinct")
            names[it.name] = grp
    if ck.problems:
        raise ModelError(ck.problems)
    return Spec(path=name, text=text, name=ck.get(meta, ("explore",), "name", F.string, Path(name).stem),
                description=ck.get(meta, ("explore",), "description", F.string, ""),
                question=ck.get(meta, ("explore",), "question", F.string, ""), scenario=scenario,
                options=tuple(ck.get(meta, ("explore",), "options", F.list_of(F.string), [])), years=years,
                uncertainties=tuple(unc), levers=tuple(lev), outcomes=tuple(outs))


def _group(p) -> str:
    return "uncertainties" if p.kind == "uncertainty" else "levers"


def _targets(ck, raw, path):
    if "keys" not in raw:
        return ()
    keys = raw["keys"]
    if not isinstance(keys, list):
        ck.error(path + ("keys",), "expected a list of key paths or {key = ..., scale = ...} tables")
        return ()
    out = []
    for i, k in enumerate(keys):
        q = path + ("keys", i)
        if isinstance(k, str):
            k = {"key": k}
        t = ck.table(k, q, TARGET_KEYS)
        key = ck.get(t, q, "key", F.string, None)
        if key is None:
            continue
        try:
            parse_key_path(key)
        except ValueError as exc:
            ck.error(q + ("key",), str(exc))
            continue
        out.append(Target(key, ck.get(t, q, "scale", F.number(), 1.0), ck.get(t, q, "offset", F.number(), 0.0),
                          ck.get(t, q, "days_after", F.date, None)))
    return tuple(out)


def _number_list(ck, raw, path, key):
    vals = ck.get(raw, path, key, F.list_of(F.number(), nonempty=True), None)
    if vals is not None and len(set(vals)) != len(vals):
        ck.error(path + (key,), "expected distinct values")
    return vals


def _parameters(ck, raw, group, fname):
    table = ck.table(raw.get(group, {}), (group,), raw.get(group, {}))
    kind = "uncertainty" if group == "uncertainties" else "lever"
    out = []
    for pname, t in table.items():
        p = (group, pname)
        if not _NAME.match(pname):
            ck.error(p, "a name must be letters, digits and underscores, starting with a letter (it becomes a "
                        "column of the exports)")
        t = ck.table(t, p, PARAM_KEYS if kind == "uncertainty" else LEVER_KEYS)
        targets = _targets(ck, t, p)
        common = dict(name=pname, kind=kind, targets=targets, unit=ck.get(t, p, "unit", F.string, ""),
                      description=ck.get(t, p, "description", F.string, ""))
        if kind == "lever":
            if ("values" in t) == ("options" in t):
                ck.error(p, "a lever takes values = [...] (numbers set at its keys) or options = [[...], ...] "
                            "(sets of the model's named options), not both or neither")
                continue
            if "options" in t:
                opts = ck.get(t, p, "options", F.list_of(F.list_of(F.string), nonempty=True), None)
                if opts is None:
                    continue
                if targets:
                    ck.error(p + ("keys",), "an options lever switches options on; it sets no keys")
                labels = tuple("+".join(o) or "none" for o in opts)
                if len(set(labels)) != len(labels):
                    ck.error(p + ("options",), "expected distinct sets of options")
                out.append(Parameter(**common, values=labels, options=tuple(tuple(o) for o in opts)))
                continue
            vals = _number_list(ck, t, p, "values")
            if vals is not None:
                out.append(Parameter(**common, values=tuple(_exact(v, t["values"]) for v in vals)))
            if not targets:
                ck.error(p + ("keys",), "missing required key: the model values this lever sets")
            continue
        if "keys" not in t:
            ck.error(p + ("keys",), "missing required key: the model values this uncertainty sets (keys = [] "
                                    "only for an exploration of a Python evaluator)")
        if ("values" in t) == ("range" in t):
            ck.error(p, "an uncertainty takes range = [low, high] (with an optional dist) or values = [...], "
                        "not both or neither")
            continue
        if "values" in t:
            for k in ("dist", "mode", "mean", "sd", "integer"):
                if k in t:
                    ck.error(p + (k,), "applies to a range, not to a list of values")
            vals = _number_list(ck, t, p, "values")
            if vals is not None:
                out.append(Parameter(**common, values=tuple(_exact(v, t["values"]) for v in vals)))
            continue
        rng = ck.get(t, p, "range", F.list_of(F.number()), None)
        if rng is None:
            continue
        if len(rng) != 2 or not rng[0] < rng[1]:
            ck.error(p + ("range",), f"expected [low, high] with low < high, found {t['range']!r}")
            continue
        lo, hi = rng
        dist = ck.get(t, p, "dist", F.choice(*DISTRIBUTIONS), "uniform")
        integer = ck.get(t, p, "integer", F.boolean, False)
        kw = {}
        if dist == "triangular":
            kw["mode"] = ck.get(t, p, "mode", F.number(lo, hi))
        elif dist == "normal":
            kw["mean"] = ck.get(t, p, "mean", F.number())
            kw["sd"] = ck.get(t, p, "sd", F.number(0, lo_open=True))
        elif dist == "loguniform" and lo <= 0:
            ck.error(p + ("range",), f"a loguniform range must be positive, found {t['range']!r}")
        for k in ("mode", "mean", "sd"):
            if k in t and k not in kw:
                ck.error(p + (k,), f"applies to dist = {'triangular' if k == 'mode' else 'normal'}, not {dist}")
        if integer and (dist != "uniform" or not all(float(x).is_integer() for x in rng)):
            ck.error(p + ("integer",), "integer = true needs a uniform range of whole numbers")
        if any(v is None for v in kw.values()):
            continue
        out.append(Parameter(**common, dist=dist, low=lo, high=hi, integer=integer, **kw))
    return out


def _exact(v, raw):
    """A value as written: integers stay integers (``values = [0, 90]`` sets 0 and 90, not 0.0)."""
    for r in raw:
        if not isinstance(r, bool) and isinstance(r, int) and r == v:
            return int(r)
    return v


def _month(v):
    if isinstance(v, _dt.date):
        return f"{v.year:04d}-{v.month:02d}"
    if isinstance(v, str) and _MONTH.match(v):
        return v
    raise F.Bad("expected a month like \"2026-01\" or a date")


def _outcomes(ck, raw):
    from .. import catalogue
    from .outcomes import WINDOW_METRICS
    table = ck.table(raw, ("outcomes",), raw if isinstance(raw, dict) else {})
    out = []
    for oname, t in table.items():
        p = ("outcomes", oname)
        if not _NAME.match(oname):
            ck.error(p, "a name must be letters, digits and underscores, starting with a letter")
        t = ck.table(t, p, OUTCOME_KEYS)
        default = "metric" if "metric" in t else "series" if "series" in t else None
        kind = ck.get(t, p, "kind", F.choice(*OUTCOME_KINDS), default)
        if kind is None:
            ck.error(p, "expected metric = NAME (a metric of docs/metrics.md) or series = NAME")
            continue
        window = ck.get(t, p, "window", F.list_of(_month), None)
        if window is not None and (len(window) != 2 or window[0] > window[1]):
            ck.error(p + ("window",), f"expected [first month, last month] in order, found {t['window']!r}")
            window = None
        kw = dict(name=oname, kind=kind, window=tuple(window) if window else None,
                  threshold=ck.get(t, p, "threshold", F.number(), None),
                  worse=ck.get(t, p, "worse", F.choice("above", "below"), "above"),
                  unit=ck.get(t, p, "unit", F.string, ""), description=ck.get(t, p, "description", F.string, ""))
        if kind == "metric":
            for k in ("series", "keys", "stat"):
                if k in t:
                    ck.error(p + (k,), "applies to a series outcome (series = NAME), not to a metric")
            name = ck.get(t, p, "metric", F.string)
            kw["metric"] = name
            kw["keys"] = tuple(ck.get(t, p, "regions", F.list_of(F.string, nonempty=True), []))
            if name is None:
                continue
            if kw["keys"] or window:
                if not kw["keys"]:
                    ck.error(p + ("regions",), "a window needs the regions it is computed for (regions = [...])")
                if name not in WINDOW_METRICS:
                    ck.error(p + ("metric",), f"'{name}' cannot be computed over a window and regions; expected one "
                                              f"of {', '.join(WINDOW_METRICS)} (without regions and window: any "
                                              "stored metric as named, e.g. 'time_to_survive_days[US]')")
                    continue
            try:
                m = catalogue.get(name)
            except KeyError:
                m = None
            if m is not None:
                kw["unit"] = kw["unit"] or m.unit
                lo, hi = m.bounds
                th = kw["threshold"]
                if th is not None and not lo <= th <= hi:
                    ck.error(p + ("threshold",), f"expected a value of {name} ({m.unit}) in [{lo:g}, {hi:g}], "
                                                 f"found {th!r}")
        else:
            kw["series"] = ck.get(t, p, "series", F.string)
            kw["keys"] = tuple(ck.get(t, p, "keys", F.list_of(F.string, nonempty=True)) or ())
            kw["stat"] = ck.get(t, p, "stat", F.choice(*STATS), "sum")
            if "regions" in t:
                ck.error(p + ("regions",), "a series outcome sums the series' keys = [...]")
        out.append(Outcome(**kw))
    return out
