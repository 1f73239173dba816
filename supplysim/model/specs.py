"""Typed, validated specifications of a model's parts (no simulation state)."""
from __future__ import annotations

import datetime as _dt
import math
from bisect import bisect_right
from dataclasses import dataclass, field

import numpy as np

__all__ = ["YEAR_DAYS", "LeadTime", "Recipe", "Grade", "Sourcing", "Facility", "Lane", "Demand",
           "Commodity", "Disruption", "Calendar", "Schedule"]

#: Days per year used to turn t/yr into t/day.
YEAR_DAYS = 365.0
_Z90 = 1.2815515655446004  # standard normal quantile at 0.9


@dataclass(frozen=True)
class Calendar:
    """Maps ISO dates to simulation days (day 0 is ``start``) and days to months.

    Examples
    --------
    >>> import datetime as dt
    >>> cal = Calendar(dt.date(2024, 1, 1))
    >>> cal.day(dt.date(2024, 2, 1))
    31.0
    >>> cal.month_label(0), cal.month_label(1)
    ('2024-01', '2024-02')
    """

    start: _dt.date = _dt.date(2024, 1, 1)

    def day(self, d: _dt.date) -> float:
        return float((d - self.start).days)

    def date(self, day: float) -> _dt.date:
        return self.start + _dt.timedelta(days=int(math.floor(day)))

    def month_starts(self, horizon: float) -> list[float]:
        """Day offsets where calendar months begin, from day 0 up to ``horizon``."""
        out = [0.0]
        y, m = self.start.year, self.start.month
        while True:
            m += 1
            if m > 12:
                y, m = y + 1, 1
            t = self.day(_dt.date(y, m, 1))
            if t >= horizon:
                return out
            out.append(t)

    def month_label(self, index: int) -> str:
        y, m = self.start.year, self.start.month - 1 + index
        return f"{y + m // 12:04d}-{m % 12 + 1:02d}"


@dataclass(frozen=True)
class Schedule:
    """Piecewise-linear capacity in t/yr over simulation days.

    ``times`` and ``values`` are breakpoints; equal successive times mark a step.
    """

    times: tuple
    values: tuple

    def at(self, t: float) -> float:
        T, V = self.times, self.values
        i = bisect_right(T, t) - 1
        if i < 0:
            return V[0]
        if i + 1 < len(T) and T[i + 1] > T[i]:
            return V[i] + (V[i + 1] - V[i]) * (t - T[i]) / (T[i + 1] - T[i])
        return V[i]

    def constant_until(self, t: float) -> float:
        """End of the constant piece holding ``t`` (``t`` itself while a ramp runs)."""
        T, V = self.times, self.values
        i = bisect_right(T, t) - 1
        if i < 0:
            return T[0]
        if i + 1 < len(T):
            return T[i + 1] if (T[i + 1] == T[i] or V[i + 1] == V[i]) else t
        return math.inf

    def next_change(self, t: float) -> float:
        """The first breakpoint after ``t`` (inf if none)."""
        for x in self.times:
            if x > t:
                return x
        return math.inf


@dataclass(frozen=True)
class LeadTime:
    """A lead-time distribution in days; ``params`` as in the model format."""

    dist: str
    params: dict

    @property
    def mean(self) -> float:
        p = self.params
        if self.dist == "constant":
            return p["days"]
        if self.dist == "uniform":
            return (p["min"] + p["max"]) / 2
        if self.dist == "triangular":
            return (p["min"] + p["mode"] + p["max"]) / 3
        if self.dist == "lognormal":
            s = self.sigma
            return p["median"] * math.exp(s * s / 2)
        w = np.asarray(p.get("weights") or [1.0] * len(p["values"]), float)
        return float(np.dot(p["values"], w / w.sum()))

    @property
    def sigma(self) -> float:
        return math.log(self.params["p90"] / self.params["median"]) / _Z90

    def transform(self, u: np.ndarray, z: np.ndarray | None = None) -> np.ndarray:
        """Lead times from unit uniforms ``u`` (inverse CDF); lognormal uses normals ``z``."""
        p = self.params
        if self.dist == "constant":
            return np.full(u.shape, p["days"])
        if self.dist == "uniform":
            return p["min"] + (p["max"] - p["min"]) * u
        if self.dist == "triangular":
            a, c, b = p["min"], p["mode"], p["max"]
            if b == a:
                return np.full(u.shape, a)
            fc = (c - a) / (b - a)
            lo = a + np.sqrt(u * (b - a) * (c - a))
            hi = b - np.sqrt((1 - u) * (b - a) * (b - c))
            return np.where(u < fc, lo, hi)
        if self.dist == "lognormal":
            return p["median"] * np.exp(self.sigma * z)
        vals = np.asarray(p["values"], float)
        w = np.asarray(p.get("weights") or [1.0] * len(vals), float)
        cdf = np.cumsum(w) / w.sum()
        return vals[np.minimum(np.searchsorted(cdf, u, side="right"), len(vals) - 1)]


@dataclass(frozen=True)
class Commodity:
    id: str
    name: str
    unit: str
    content: np.ndarray
    value_per_t: float | None = None
    source: str = ""


@dataclass(frozen=True)
class Grade:
    """One grade of a graded fixed recipe (a magnet maker's grade mix).

    ``add``: t of each input per t of this grade on top of the recipe's base
    inputs (not divided by the yield: all of it ends in the product, as heavy rare
    earths diffused into or alloyed for the finished grade). ``base``: t of the
    recipe's base inputs per t of this grade, relative to the recipe (1: all of
    them; 0.8: a cerium-substituted grade whose added Ce-bearing input replaces a
    fifth of the NdPr-bearing base alloy); the base part's yield, losses and
    co-products scale with it. ``share``: the grade's share of capacity at the
    start; ``min_share`` and ``max_share``: the technical limits the mix moves within.
    """

    add: dict = field(default_factory=dict)
    share: float = 0.0
    min_share: float = 0.0
    max_share: float = 1.0
    base: float = 1.0


@dataclass(frozen=True)
class Recipe:
    """How a facility turns inputs into its output.

    ``kind`` is ``"fixed"`` (``inputs`` in t per t of output, divided by
    ``yield_``, plus ``coproducts`` in t per t of output) or ``"split"``
    (one ``feed`` commodity whose elements go to ``outputs``, each output
    taking the listed elements, at ``yield_`` recovery). A fixed recipe with
    ``grades`` makes several outputs (commodity -> :class:`Grade`) from the same
    base inputs, sharing capacity by a mix that follows orders with a lag of
    ``mix_days``.
    """

    kind: str
    inputs: dict = field(default_factory=dict)
    yield_: float = 1.0
    coproducts: dict = field(default_factory=dict)
    feed: str | None = None
    outputs: dict = field(default_factory=dict)
    grades: dict = field(default_factory=dict)
    mix_days: float = 0.0


@dataclass(frozen=True)
class Sourcing:
    """A buyer's inventory policy for one commodity.

    Levels are in tonnes; the ``*_days`` forms are days of cover at the current
    consumption rate and are resolved during the run.
    """

    commodity: str
    policy: str = "base_stock"
    levels: dict = field(default_factory=dict)
    review_days: float | None = None
    split: str = "shares"
    ordering_cost: float = 0.0


@dataclass(frozen=True)
class Facility:
    id: str
    name: str
    stage: str
    country: str
    owner: str
    region: str
    output: str
    capacity: Schedule | None
    recipe: Recipe | None
    processing_days: float
    initial_stock: dict
    target_cover_days: float
    target_stock: float | None
    allocation: str
    production_cost: float
    holding_cost: float
    sourcing: dict
    unlimited: bool = False
    source: str = ""
    output_content: np.ndarray | None = None
    end_use: str = "civil"
    release: tuple | None = None   # (cover_below_days, max_t_per_day) for a strategic stockpile

    @property
    def is_source(self) -> bool:
        return self.recipe is None and (self.capacity is not None or self.unlimited)

    @property
    def is_stocking_point(self) -> bool:
        return self.recipe is None and self.capacity is None and not self.unlimited


@dataclass(frozen=True)
class Lane:
    id: str
    src: str
    dst: str
    commodity: str
    lead_time: LeadTime
    capacity: float | None
    cost_per_t: float
    share: float
    priority: int
    in_transit: float
    source: str = ""
    qualification_days: float = 0.0


@dataclass(frozen=True)
class Demand:
    id: str
    region: str
    sector: str
    end_use: str
    commodity: str
    rate_per_day: float
    growth: float
    variability: str
    cv: float
    order_interval_days: float | None   # None: one order per model period (calendar periods)
    unmet: str
    at: str
    start_day: float
    backorder_cost: float
    lost_cost: float
    source: str = ""
    group: str = ""             # the [demand.ID] entry a grade's sink was made from ("" if not graded)
    grade_share: float = 1.0    # its share of the entry's rate


@dataclass(frozen=True)
class Disruption:
    """A dated change to the network: outage, lane closure or delay, demand shock."""

    id: str
    kind: str
    start: float
    end: float
    targets: tuple
    factor: float = 0.0
    extra_days: float = 0.0
    description: str = ""
    params: dict = field(default_factory=dict)
