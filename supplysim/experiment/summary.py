"""Plain-text summaries of an experiment: what ``supplysim run`` and ``supplysim compare`` print.

One table of the catalogue's headline metrics (:func:`supplysim.catalogue.headline`) per
scenario, a region per row, each cell ``estimate [95% interval]``; censored times say how many
replications were censored. The same formatting serves the report's first table.

Examples
--------
>>> fmt_value(0.96712, "fraction"), fmt_value(106949.2, "t"), fmt_value(12.0, "months")
('0.967', '106,949', '12')
>>> fmt_cell({"estimate": 0.9, "ci_low": 0.85, "ci_high": 0.93, "n": 5, "kind": "fraction"}, "fraction")
'0.900 [0.850, 0.930]'
>>> fmt_cell({"estimate": None, "n": 4, "n_censored": 4, "censored_at": 729.0, "kind": "censored"}, "days")
'> 729 (4 of 4 censored)'
"""
from __future__ import annotations

import math

from .. import catalogue as cat

__all__ = ["fmt_value", "fmt_cell", "headline_rows", "format_headline", "format_run_header", "format_prices"]


def fmt_value(x, unit="") -> str:
    """A number as a table shows it: fractions to 3 decimals, tonnes and days to units with separators; a
    value that rounds to zero shows no sign (-0.3 months reads 0, not -0).

    >>> fmt_value(-0.3, "months"), fmt_value(-0.0004, "fraction"), fmt_value(-1.6, "months")
    ('0', '0.000', '-2')
    """
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    s = _fmt_value(float(x), unit)
    return s[1:] if s.startswith("-") and not s.strip("-0.,") else s


def _fmt_value(x, unit):
    if unit == "fraction":
        return f"{x:.3f}"
    if unit == "%":
        return f"{x:.1f}" if abs(x) >= 10 or x == 0 else f"{x:.2f}"
    if abs(x) >= 100 or unit in ("days", "months", "count"):
        return f"{x:,.0f}"
    if abs(x) >= 1:
        return f"{x:,.1f}"
    return "0" if x == 0 else f"{x:.3g}"


def fmt_cell(st, unit="", signed=False) -> str:
    """``estimate [low, high]`` of a summary; censored times as a median with the number censored."""
    if not st:
        return "-"
    f = (lambda v: ("+" if v is not None and v > 0 else "") + fmt_value(v, unit)) if signed else \
        (lambda v: fmt_value(v, unit))
    if st.get("kind") == "censored" and "n_censored" in st:
        k, n = st.get("n_censored", 0), st.get("n", 0)
        if st.get("estimate") is None:
            at = st.get("censored_at")
            return f"> {fmt_value(at, unit)} ({k} of {n} censored)" if at is not None else "-"
        lo, hi = st.get("ci_low"), st.get("ci_high")
        if lo is not None and hi is not None and f(lo) == f(hi) == f(st["estimate"]):
            s = f(st["estimate"])
        else:
            s = f"{f(st['estimate'])} [{f(lo)}, {'>' + fmt_value(st.get('censored_at'), unit) if hi is None else f(hi)}]"
        return s + (f" ({k} of {n} censored)" if k else "")
    if st.get("kind") == "censored" and st.get("estimate") is None and st.get("n_censored_pairs"):
        return f"- ({st['n_censored_pairs']} of {st.get('n', 0)} pairs censored)"
    m = st.get("estimate", st.get("mean"))
    if m is None:
        return "-"
    lo, hi = st.get("ci_low"), st.get("ci_high")
    if lo is None or hi is None or f(lo) == f(m) == f(hi):   # one value, or no spread at this precision
        return f(m)
    return f"{f(m)} [{f(lo)}, {f(hi)}]"


def headline_rows(res, scenario) -> list:
    """``[region, cell per headline metric...]`` for one scenario of an :class:`ExperimentResults`.

    Times to recover are shown only where the scenario has a disruption or control.
    """
    sc = res.summary()[scenario]
    rows = []
    for r, d in sc["regions"].items():
        rows.append([r] + [fmt_cell(d.get(m.name), m.unit) for m in cat.headline()])
    return rows


def headline_header() -> list:
    return ["region"] + [m.label for m in cat.headline()]


def format_run_header(res) -> str:
    """Model, scenarios, horizon, seed and replications of a stored experiment, in two lines."""
    man = res.manifest
    reps = {s: len(res.replications(s)) for s in res.scenarios}
    names = ", ".join(res.scenarios)
    n = min(reps.values()) if reps else 0
    return (f"model {man.get('model', '?')} ({man.get('model_path', '?')}); scenario{'s' if len(reps) > 1 else ''} "
            f"{names}\nhorizon {fmt_value(man.get('horizon_days'), 'days')} days from {man.get('start', '?')}; "
            f"seed {man.get('entropy', '?')}; {n} replication{'s' if n != 1 else ''}"
            f"{' per scenario' if len(reps) > 1 else ''}; 95% intervals")


def _table(header, rows) -> str:
    w = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    line = lambda r: "  ".join(str(x).ljust(w[0]) if i == 0 else str(x).rjust(w[i]) for i, x in enumerate(r))  # noqa: E731
    return "\n".join([line(header)] + [line(r) for r in rows])


def format_headline(res) -> str:
    """Per scenario, the headline table (a region per row)."""
    out = []
    for s in res.scenarios:
        out.append(f"\n{s}")
        out.append(_table(headline_header(), headline_rows(res, s)))
    out.append("")
    out += [f"  {m.label}: {m.meaning}" for m in cat.headline()]
    out.append("  (every metric, its estimator and its interval: docs/metrics.md)")
    return "\n".join(out)


def format_prices(res) -> str:
    """Prices of a model with a market: per commodity and market, the mean and peak month-end price ($/kg)
    and the months at twice the 2024 reference; with several scenarios, the peak and those months per
    scenario. Empty when the model has no market."""
    summ = res.summary()
    keys = []
    for s in res.scenarios:
        for name in summ[s].get("metrics", {}):
            base, key = cat.split(name)
            if base == "peak_price" and key not in keys:
                keys.append(key)
    if not keys:
        return ""
    cell = lambda s, base, k: fmt_cell(summ[s]["metrics"].get(f"{base}[{k}]"), cat.get(base).unit)  # noqa: E731
    label = lambda k: cat.price_label(k, res.manifest.get("markets"))  # noqa: E731
    if len(res.scenarios) == 1:
        s = res.scenarios[0]
        header = ["price", "mean $/kg", "peak $/kg", "months at 2x"]
        rows = [[label(k)] + [cell(s, b, k) for b in ("mean_price", "peak_price", "months_price_doubled")]
                for k in keys]
    else:
        header = ["price"] + [f"peak $/kg {s}" for s in res.scenarios] + [f"months at 2x {s}" for s in res.scenarios]
        rows = [[label(k)] + [cell(s, "peak_price", k) for s in res.scenarios]
                + [cell(s, "months_price_doubled", k) for s in res.scenarios] for k in keys]
    return ("\nprices (month-end, $/kg; months at 2x: months at twice the 2024 reference price)\n"
            + _table(header, rows))


def format_differences(res, metric="delivered_share") -> str:
    """Paired differences scenario - baseline of one region metric, a region per row."""
    others = [s for s in res.scenarios if s != res.baseline]
    if not others:
        return ""
    m = cat.get(metric)
    diffs = res.differences()
    rows = []
    for r in res.regions():
        rows.append([r] + [fmt_cell(diffs.get(s, {}).get(f"{metric}[{r}]"), m.unit, signed=True) for s in others])
    head = (f"\npaired differences in {m.label} ({m.unit}), scenario - {res.baseline}, same random numbers; "
            f"intervals Bonferroni-adjusted over {len(others)} comparison{'s' if len(others) > 1 else ''}")
    return head + "\n" + _table(["region"] + others, rows)
