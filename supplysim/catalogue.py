"""The metric catalogue: every number supplysim reports, with its unit, meaning, estimator and
the kind of interval that respects it.

One home for metric names. The engine's results (:mod:`supplysim.engine.results`), the
per-replication metrics (:mod:`supplysim.experiment.metrics`), the statistics
(:mod:`supplysim.experiment.stats`), the exports, the ``supplysim run`` table and the report
all read it, and ``docs/metrics.md`` is generated from it (:func:`markdown`).

A stored metric is named ``name[key]``: ``delivered_share[EU]`` is the share of the EU's
magnet demand delivered over the horizon, ``production_t[separation:CN]`` the oxide
separated in China. The key's form is the metric's ``scope``.

Adding a metric is one :class:`Metric` here plus, for a new estimator, one function in
:mod:`supplysim.experiment.metrics`. Prices, for example, are monthly series per commodity and
market (``price`` with keys ``COMMODITY@MARKET``, $/kg) read by ``mean_price`` and ``peak_price``.

Examples
--------
>>> m = get("delivered_share")
>>> m.unit, m.kind, m.bounds
('fraction', 'fraction', (0.0, 1.0))
>>> split("demand_lost_t[EU]")
('demand_lost_t', 'EU')
>>> get("time_to_survive_days").censored
True
>>> [m.name for m in headline()]
['delivered_share', 'demand_lost_t', 'demand_lost_pct', 'worst_month_share', 'months_short', 'time_to_recover_days']
"""
from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Metric", "KINDS", "METRICS", "SHORT_MONTH", "REGION_SERIES", "get", "split", "headline", "of_scope",
           "markdown", "region_metrics", "month_bounds", "window_slice", "price_label"]

#: A month is short when its deliveries fall below this share of its demand.
SHORT_MONTH = 0.9

#: Interval kinds: the range a value can take, how the interval of a mean is built (rule A2) and how
#: a paired difference's interval is built (rule A4). See :mod:`supplysim.experiment.stats`.
KINDS = {
    "fraction": {"bounds": (0.0, 1.0), "interval": "logit", "difference": "atanh",
                 "text": "a share in [0, 1]: Student-t interval on the logit scale (delta method), so both "
                         "ends stay in [0, 1]; paired differences on the atanh scale, inside [-1, 1]"},
    "percent": {"bounds": (0.0, 100.0), "interval": "logit", "difference": "atanh",
                "text": "a percentage in [0, 100]: as a fraction, times 100"},
    "nonnegative": {"bounds": (0.0, math.inf), "interval": "log", "difference": "t",
                    "text": "a quantity >= 0 (tonnes, counts): Student-t interval on the log scale (delta "
                            "method), never below 0; paired differences: Student-t"},
    "censored": {"bounds": (0.0, math.inf), "interval": "kaplan-meier", "difference": "t-uncensored",
                 "text": "a time censored at the horizon: Kaplan-Meier median with its interval and the "
                         "number censored, never a mean of censored values; paired differences only "
                         "where no pair is censored"},
    "signed": {"bounds": (-math.inf, math.inf), "interval": "t", "difference": "t",
               "text": "any real number: Student-t interval"},
}


@dataclass(frozen=True)
class Metric:
    """One reported number.

    Attributes
    ----------
    name : str
        Stored name (``name[key]``).
    unit : str
        ``fraction``, ``%``, ``t``, ``t/yr``, ``days``, ``months``, ``count``, ``$/kg``, ...
    scope : str
        What the key names: ``region``, ``stage:country``, ``exporter>buyer:commodity``,
        ``region:stage:country``, ``facility``, ``rule``, ``market``.
    kind : str
        A key of :data:`KINDS`.
    meaning : str
        What it measures, in one sentence a reader can act on.
    estimator : str
        How one replication's value is computed from the monthly series (or the run).
    label : str
        Short column header.
    better : str or None
        ``"higher"``, ``"lower"`` or None (neither).
    headline : bool
        Shown in the report's first table and by ``supplysim run``.
    """

    name: str
    unit: str
    scope: str
    kind: str
    meaning: str
    estimator: str
    label: str
    better: str | None = None
    headline: bool = False

    @property
    def bounds(self) -> tuple:
        """The range a value (and an interval of the mean) stays in."""
        return KINDS[self.kind]["bounds"]

    @property
    def censored(self) -> bool:
        """Whether values are censored times (stored with ``<name>_censored[key]`` flags)."""
        return self.kind == "censored"

    @property
    def flag(self) -> str:
        """Name of the 0/1 censoring flag stored beside a censored metric."""
        return f"{self.name}_censored"


_S = f"{SHORT_MONTH:.0%}"

METRICS = (
    # -- what a region received: the headline, in the order the report's first table shows it --
    Metric("delivered_share", "fraction", "region", "fraction",
           "Share of the region's demand in the window that was delivered by the window's end, late or not.",
           "1 - demand_lost_t / demand_t over the window (1 when there is no demand).",
           "delivered share", "higher", True),
    Metric("demand_lost_t", "t", "region", "nonnegative",
           "Demand arising in the window that was not delivered by its end: lost sales plus what is still "
           "owed at the end.",
           "lost sales in the window + min(backlog at the window's end, the window's demand - its lost sales) "
           "(what is owed at the end is the most recent demand, first in first out).",
           "demand lost t", "lower", True),
    Metric("demand_lost_pct", "%", "region", "percent",
           "Demand lost as a percentage of the region's demand in the window.",
           "100 x demand_lost_t / demand_t (0 when there is no demand).",
           "demand lost %", "lower", True),
    Metric("worst_month_share", "fraction", "region", "fraction",
           "Share of a month's demand delivered in that month, in the region's worst month.",
           "min over months with demand of min(1, delivered / demand) in the month.",
           "worst month share", "higher", True),
    Metric("months_short", "months", "region", "nonnegative",
           f"Number of months in which the region received less than {_S} of that month's demand.",
           f"count of months with demand whose deliveries are below {_S} of their demand.",
           "months short", "lower", True),
    Metric("time_to_recover_days", "days", "region", "censored",
           f"Days from the start of the first disruption or control until the end of the region's last month "
           f"short of {_S} of demand (0 if it is never short); censored when the horizon's last month is short.",
           "end of the last short month on or after the start month - the start day; undefined without a "
           "disruption or control.",
           "recovery days", "lower", True),
    Metric("time_to_survive_days", "days", "region", "censored",
           "Days from the start of the first disruption or control until the region's first demand that "
           "stock on hand could not serve; censored at the horizon when that never happens.",
           "first unmet order's day (the engine's event time, not a month) - the start day; undefined without "
           "a disruption or control.",
           "survive days", "higher"),
    Metric("on_time_fill", "fraction", "region", "fraction",
           "Share of the region's demand served from stock on arrival (the fill rate of inventory theory); "
           "a late delivery counts as not on time.",
           "served on arrival / demand over the window (1 when there is no demand).",
           "on-time fill", "higher"),
    Metric("peak_backlog_t", "t", "region", "nonnegative",
           "Largest amount owed to the region at a month end.",
           "max of the month-end backlog over the window.",
           "peak backlog t", "lower"),
    Metric("backlog_end_t", "t", "region", "nonnegative",
           "Amount still owed to the region at the end of the window.",
           "backlog at the window's last month end.",
           "owed at end t", "lower"),
    Metric("demand_t", "t", "region", "nonnegative",
           "The region's demand in the window.", "sum of monthly demand.", "demand t"),
    Metric("delivered_t", "t", "region", "nonnegative",
           "Tonnes delivered to the region's demand in the window, including late deliveries of earlier "
           "demand.", "sum of monthly deliveries.", "delivered t", "higher"),
    # -- where it came from, what was made and shipped --
    Metric("origin_share", "fraction", "region:stage:country", "fraction",
           "Share of the rare earth delivered to the region that passed the stage in the country.",
           "the delivered stock's origin vector at the horizon, normalised per region and stage.",
           "origin share"),
    Metric("production_t", "t", "stage:country", "nonnegative",
           "Tonnes of the stage's output made in the country (stages are never added together: ore, oxide, "
           "alloy and magnet are different products).",
           "sum of the monthly production of the stage's facilities in the country.", "produced t"),
    Metric("trade_t", "t", "exporter>buyer:commodity", "nonnegative",
           "Tonnes of the commodity shipped from one country to another.",
           "sum of monthly shipments on the lanes between the two countries.", "shipped t"),
    Metric("mean_inventory_t", "t", "facility", "nonnegative",
           "Time-average stock held at a magnet maker or buyer.",
           "area under the facility's stock over the window / the window's length.", "mean stock t"),
    Metric("licences_refused_t", "t", "rule", "nonnegative",
           "Tonnes whose export licence the rule refused.", "sum over the rule's licence decisions.",
           "refused t"),
    Metric("licences_approved", "count", "rule", "nonnegative",
           "Number of export licences the rule approved.", "count of the rule's approvals.", "approved"),
    Metric("licences_applied_t", "t", "rule", "nonnegative",
           "Tonnes exporters applied to ship under the rule's licences (decided or still pending at the end).",
           "sum of the rule's monthly applied tonnes (series licences_t).", "applied t"),
    # -- prices (models with a [market] section; docs/market.md) --
    Metric("mean_price", "$/kg", "market", "nonnegative",
           "Mean price of the commodity in the market (COMMODITY@MARKET) over the window.",
           "mean of the month-end prices (series price) over the window.", "mean price $/kg"),
    Metric("peak_price", "$/kg", "market", "nonnegative",
           "Highest month-end price of the commodity in the market over the window.",
           "max of the month-end prices (series price) over the window.", "peak price $/kg", "lower"),
    Metric("months_price_doubled", "months", "market", "nonnegative",
           "Number of months whose end price was at least twice the commodity's reference (2024) price in the "
           "market.", "count of month ends with price / reference >= 2 (series price_ratio).",
           "months at 2x price", "lower"),
)

_BY_NAME = {m.name: m for m in METRICS}


def get(name: str) -> Metric:
    """The catalogue entry of ``name`` (a bare name or ``name[key]``).

    >>> get("peak_backlog_t[JP]").unit
    't'
    """
    base = split(name)[0]
    if base.endswith("_censored") and base[: -len("_censored")] in _BY_NAME:
        raise KeyError(f"{name} is the censoring flag of {base[: -len('_censored')]}, not a metric")
    try:
        return _BY_NAME[base]
    except KeyError:
        raise KeyError(f"{base!r} is not in the metric catalogue (see docs/metrics.md)") from None


def split(flat: str) -> tuple:
    """``"name[key]"`` -> ``("name", "key")``; ``"name"`` -> ``("name", None)``."""
    if flat.endswith("]") and "[" in flat:
        name, key = flat[:-1].split("[", 1)
        return name, key
    return flat, None


def price_label(key: str, markets=None) -> str:
    """A price key ``COMMODITY@MARKET`` as a reader sees it: ``COMMODITY in`` the market's name from
    ``markets`` (``{id: name}``, an experiment manifest's ``markets``), or its id without one.

    >>> price_label("ndpr_oxide@ex_cn", {"ex_cn": "Outside China"})
    'ndpr_oxide in Outside China'
    >>> price_label("ndpr_oxide@CN")
    'ndpr_oxide in CN'
    """
    commodity, at, market = key.rpartition("@")
    if not at:
        return key
    return f"{commodity} in {(markets or {}).get(market, market)}"


def headline() -> list:
    """The metrics of the report's first table and of ``supplysim run``, in order."""
    return [m for m in METRICS if m.headline]


def of_scope(scope: str) -> list:
    """Metrics whose key has the form ``scope``."""
    return [m for m in METRICS if m.scope == scope]


def markdown() -> str:
    """``docs/metrics.md``: the catalogue as a document (a test checks the file is up to date)."""
    lines = ["# Metrics", "",
             "<!-- generated from supplysim/catalogue.py by supplysim.catalogue.markdown(); do not edit -->", "",
             "Every number supplysim stores, exports and reports is one of these. A stored value is named "
             "`name[key]`, the key's form being the metric's scope (a region such as `EU`; "
             "`separation:CN`; `CN>JP:magnet`). Each replication gives one value; intervals over "
             "replications are 95% and follow the metric's kind (below). The window is the run's horizon "
             "unless a window is given (`ExperimentResults.metric_values(..., window=(start, end))`).", "",
             f"A month is *short* when the region receives less than {_S} of that month's demand. The "
             "*start* of times to survive and to recover is the first day a disruption or export control "
             "of the scenario is in force; without one they are undefined.", ""]
    lines += ["| metric | unit | scope | kind | meaning | estimator |", "|---|---|---|---|---|---|"]
    for m in METRICS:
        lines.append(f"| `{m.name}` | {m.unit} | {m.scope} | {m.kind} | {m.meaning} | {m.estimator} |")
    lines += ["", "## Kinds of interval", ""]
    for k, v in KINDS.items():
        lo, hi = v["bounds"]
        lines.append(f"- **{k}** (values in [{lo:g}, {hi:g}]): {v['text']}.")
    lines += ["", "Censored metrics are stored with a 0/1 flag beside them (`time_to_survive_days_censored[EU]` "
              "is 1 where the EU never ran short before the horizon). The report shows how many replications "
              "are censored and never draws a censored value as if it were observed.", "",
              "The headline metrics (report's first table, `supplysim run`): "
              + ", ".join(f"`{m.name}`" for m in headline()) + ".", ""]
    return "\n".join(lines)


# -- estimators: the region metrics of one replication from its monthly series -------------------------
#: Monthly series per region the estimators read (t per month; ``backlog_t``: owed at month end, t).
REGION_SERIES = ("demand_t", "delivered_t", "on_time_t", "lost_t", "backlog_t")


def month_bounds(months, start, horizon) -> np.ndarray:
    """Day offsets of each month's start and end, shape ``(len(months), 2)``; the last ends at the horizon.

    ``start`` is the model's start date (ISO text or date), day 0.

    >>> month_bounds(["2025-01", "2025-02"], "2025-01-01", 45.0).tolist()
    [[0.0, 31.0], [31.0, 45.0]]
    """
    s = _dt.date.fromisoformat(start) if isinstance(start, str) else start
    out = np.zeros((len(months), 2))
    for i, m in enumerate(months):
        y, mo = int(m[:4]), int(m[5:7])
        a = max((_dt.date(y, mo, 1) - s).days, 0)
        b = (_dt.date(y + mo // 12, mo % 12 + 1, 1) - s).days
        out[i] = (a, min(b, horizon))
    return out


def window_slice(months, window) -> slice:
    """The rows of ``months`` (``YYYY-MM`` labels) inside ``window = (first, last)``, both included.

    The ends are month labels or dates (only year and month are read); None leaves that side open.

    >>> window_slice(["2025-11", "2025-12", "2026-01", "2026-02"], ("2026-01", "2026-12"))
    slice(2, 4, None)
    """
    if window is None:
        return slice(0, len(months))
    a, b = (str(w)[:7] if w is not None else None for w in window)
    i = 0 if a is None else next((k for k, m in enumerate(months) if m >= a), len(months))
    j = len(months) if b is None else next((k for k, m in enumerate(months) if m > b), len(months))
    return slice(i, j)


def region_metrics(series, months, start, horizon, t_start=None, window=None) -> dict:
    """The region metrics of one replication as this catalogue defines them: ``{metric: {region: value}}``.

    ``series``: ``{name: (regions, months x regions array)}`` holding :data:`REGION_SERIES`;
    ``months``: their ``YYYY-MM`` labels; ``start``: the model's start date; ``horizon``: the run's
    last day; ``t_start``: the day the first disruption or control starts (None or inf: time to
    recover is undefined, NaN); ``window``: ``(first, last)`` months (default the whole run).
    Time to survive needs the engine's event times: the engine's result and
    :func:`supplysim.experiment.metrics.replication_metrics` add it.

    >>> months = ["2025-01", "2025-02", "2025-03"]
    >>> ser = {"demand_t": (["EU"], np.array([[100.0], [100.0], [100.0]])),
    ...        "delivered_t": (["EU"], np.array([[100.0], [50.0], [120.0]])),
    ...        "on_time_t": (["EU"], np.array([[100.0], [50.0], [60.0]])),
    ...        "lost_t": (["EU"], np.zeros((3, 1))),
    ...        "backlog_t": (["EU"], np.array([[0.0], [50.0], [30.0]]))}
    >>> m = region_metrics(ser, months, "2025-01-01", 90.0, t_start=31.0)
    >>> m["delivered_share"]["EU"], m["demand_lost_t"]["EU"], m["months_short"]["EU"], m["worst_month_share"]["EU"]
    (0.9, 30.0, 1.0, 0.5)
    >>> m["time_to_recover_days"]["EU"], m["time_to_recover_days_censored"]["EU"]
    (28.0, 0.0)
    """
    regions = list(series["demand_t"][0])
    sl = window_slice(months, window)
    d, dl, on, lost, back = (np.asarray(series[k][1], float)[sl] for k in REGION_SERIES)
    n, k = d.shape
    D = d.sum(axis=0)
    owed_end = back[-1] if n else np.zeros(k)
    # what is owed at the end is the most recent demand (first in, first out): only the part of it
    # that arose inside the window counts against the window
    sales = lost.sum(axis=0)
    lost_t = sales + np.minimum(owed_end, np.maximum(D - sales, 0.0))
    has = D > 0
    safe = np.where(has, D, 1.0)
    share = np.where(has, np.clip(1.0 - lost_t / safe, 0.0, 1.0), 1.0)
    dm = np.where(d > 0, d, 1.0)
    monthly = np.where(d > 0, np.minimum(dl / dm, 1.0), np.inf)
    worst = monthly.min(axis=0) if n else np.full(k, np.inf)
    short = (d > 0) & (dl < SHORT_MONTH * d)
    out = {
        "delivered_share": share,
        "demand_lost_t": lost_t,
        "demand_lost_pct": 100.0 * (1.0 - share),
        "worst_month_share": np.where(np.isfinite(worst), worst, 1.0),
        "months_short": short.sum(axis=0).astype(float),
        "on_time_fill": np.where(has, np.clip(on.sum(axis=0) / safe, 0.0, 1.0), 1.0),
        "peak_backlog_t": back.max(axis=0) if n else np.zeros(k),
        "backlog_end_t": owed_end,
        "demand_t": D,
        "delivered_t": dl.sum(axis=0),
    }
    ttr = np.full(k, np.nan)
    cen = np.full(k, np.nan)
    if t_start is not None and math.isfinite(t_start) and n:
        ends = month_bounds(months, start, horizon)[sl][:, 1]
        for j in range(k):
            idx = np.nonzero(short[:, j] & (ends > t_start))[0]
            if idx.size:
                ttr[j] = ends[idx[-1]] - t_start
                cen[j] = 1.0 if idx[-1] == n - 1 else 0.0   # still short in the window's last month
            else:
                ttr[j], cen[j] = 0.0, 0.0
    out["time_to_recover_days"] = ttr
    out["time_to_recover_days_censored"] = cen
    return {name: {r: float(x) for r, x in zip(regions, v)} for name, v in out.items()}
