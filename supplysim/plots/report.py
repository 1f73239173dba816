"""The report of a stored experiment: figures, ``report.html`` (one self-contained file) and ``report.md``.

Everything is read from the store (``results.sqlite``) and its manifest; nothing
is simulated. ``supplysim compare`` calls :func:`build_report` after a run and
``supplysim report DIR`` rebuilds it.

Examples
--------
>>> from supplysim.experiment.experiment import ExperimentResults     # doctest: +SKIP
>>> build_report(ExperimentResults("runs/my-experiment"))               # doctest: +SKIP
PosixPath('runs/my-experiment/report.html')
"""
from __future__ import annotations

import base64
import html
import json
import logging
import math
import multiprocessing as mp
import os
import sys
import threading
from pathlib import Path

import numpy as np

from ..experiment.files import write_text
from . import figures as F

__all__ = ["build_report", "draw_figures", "FIGURES", "load_bounds"]

log = logging.getLogger("supplysim")

#: (file name, function, caption) of every figure, in report order.
FIGURES = [
    ("fan_charts.png", F.fan_charts,
     "Magnets delivered to demand (t/month) and monthly fill rate per region: median over replications "
     "(line) and 90% band (P5-P95), scenarios overlaid; dashed: the baseline's median demand."),
    ("kpi_bars.png", F.kpi_bars,
     "Fill rate and unmet demand over the horizon per region and scenario: mean with 95% interval."),
    ("forest_plot.png", F.forest_plot,
     "Paired differences scenario - baseline over common replications (common random numbers), with "
     "Bonferroni-adjusted intervals; the dashed line marks no difference."),
    ("origin_stacks.png", F.origin_stacks,
     "Magnets delivered per region split by the country where their rare earths were separated "
     "(mean share x mean delivered tonnes), one bar per scenario."),
    ("network.png", F.network_figure,
     "The network: in red what the scenarios' disruptions hit (facility outages, lane closures and delays, "
     "demand shocks), in orange the lanes leaving an export-control issuer's country for a destination in "
     "scope; lane width ~ mean baseline trade."),
    ("tts_ttr.png", F.tts_ttr,
     "Time to survive (days from the first disruption or control to the region's first unmet demand) against "
     "time to recover (months back within 2 points of the baseline's monthly fill, x 30.4 days). Points below "
     "the diagonal are exposures; open markers did not recover within the horizon (drawn at the horizon)."),
]

_KPIS = ["fill_rate", "unmet_demand_t", "demand_t", "filled_t", "lost_t", "backlog_end_t", "mean_backlog_t",
         "production_t", "cost_total"]
_REGION_KPIS = ["fill_rate", "unmet_demand_t", "demand_t", "lost_t", "backlog_end_t", "tts_days",
                "nadir_fill_rate", "triangle_days"]
_UNITS = {"fill_rate": "fraction", "nadir_fill_rate": "fraction", "unmet_demand_t": "t", "demand_t": "t",
          "filled_t": "t", "lost_t": "t", "backlog_end_t": "t", "mean_backlog_t": "t", "production_t": "t",
          "tts_days": "days", "triangle_days": "days", "recovery_months": "months", "cost_total": "cost units"}

_CSS = """
body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:2em auto;max-width:1180px;
 padding:0 1em;color:#222;line-height:1.45}
h1{border-bottom:2px solid #444;padding-bottom:.2em}h2{margin-top:2em;border-bottom:1px solid #bbb}
table{border-collapse:collapse;margin:.8em 0 1.4em;font-size:.88em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right;vertical-align:top}
th{background:#f0f0f0}td.l,th.l{text-align:left}tr:nth-child(even) td{background:#fafafa}
figure{margin:1.2em 0 2em}figure img{max-width:100%;height:auto;border:1px solid #ddd}
figcaption{font-size:.9em;color:#444;margin-top:.3em}code,pre{background:#f5f5f5;font-size:.9em}
pre{padding:.6em;overflow-x:auto;white-space:pre-wrap}.note{color:#555;font-size:.9em}
.neg{color:#b00}.pos{color:#070}
"""


# -- formatting ------------------------------------------------------------------------------------
def _f(x, digits=4):
    """A number for a table: None/NaN as '-', large values with thousands separators."""
    if x is None:
        return "-"
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    if math.isnan(v):
        return "-"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    a = abs(v)
    if a < 1e-9:
        return "0"
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 10:
        return f"{v:,.1f}"
    if a < 1e-3:
        return f"{v:.3g}"
    if a < 0.99995:
        return f"{v:.{digits}f}"
    return f"{v:.3g}"


def _ci(st, signed=False):
    """``mean [low, high]`` of a stats dict."""
    if not st:
        return "-"
    m = st.get("mean")
    if m is None:
        return "-"
    s = ("+" if signed and m > 0 else "") + _f(m)
    lo, hi = st.get("ci_low"), st.get("ci_high")
    if lo is not None and hi is not None:
        s += f" [{_f(lo)}, {_f(hi)}]"
    return s


class _Doc:
    """Builds the HTML and Markdown versions side by side."""

    def __init__(self):
        self.h, self.m = [], []

    def heading(self, text, level=2):
        self.h.append(f"<h{level}>{html.escape(text)}</h{level}>")
        self.m.append(f"\n{'#' * level} {text}\n")

    def para(self, text, cls=None):
        c = f' class="{cls}"' if cls else ""
        self.h.append(f"<p{c}>{html.escape(text)}</p>")
        self.m.append(f"{text}\n")

    def raw(self, html_text, md_text):
        self.h.append(html_text)
        self.m.append(md_text)

    def table(self, header, rows, left=1):
        """``left``: how many leading columns are text (left-aligned)."""
        def cell(tag, i, v):
            cls = ' class="l"' if i < left else ""
            return f"<{tag}{cls}>{html.escape(str(v))}</{tag}>"
        out = ["<table><thead><tr>" + "".join(cell("th", i, v) for i, v in enumerate(header)) + "</tr></thead><tbody>"]
        for r in rows:
            out.append("<tr>" + "".join(cell("td", i, v) for i, v in enumerate(r)) + "</tr>")
        out.append("</tbody></table>")
        self.h.append("\n".join(out))

        def md(v):
            return str(v).replace("|", "\\|").replace("\n", " ")
        lines = ["| " + " | ".join(md(v) for v in header) + " |",
                 "|" + "|".join(":---" if i < left else "---:" for i in range(len(header))) + "|"]
        lines += ["| " + " | ".join(md(v) for v in r) + " |" for r in rows]
        self.m.append("\n".join(lines) + "\n")

    def figure(self, png: Path, rel: str, caption: str):
        data = base64.b64encode(png.read_bytes()).decode("ascii")
        self.h.append(f'<figure><img alt="{html.escape(png.stem)}" src="data:image/png;base64,{data}">'
                      f"<figcaption>{html.escape(caption)}</figcaption></figure>")
        self.m.append(f"![{png.stem}]({rel})\n\n*{caption}*\n")


# -- static bounds ---------------------------------------------------------------------------------
def load_bounds(out) -> dict | None:
    """``{scenario or None: {region: bound t/yr}}`` from ``out/bounds.json``, or None if absent/unreadable.

    Accepts the layout of ``supplysim analyze`` (``{"scenarios": {name: {"bounds": {region:
    {"bound_t_yr": ...}}}}}``), a single ``{"bounds": {...}}``, ``{region: {"bound_t_yr": ...}}``
    or ``{region: number}``.
    """
    p = Path(out) / "bounds.json"
    if not p.exists():
        return None
    try:
        doc = json.loads(p.read_text())
    except (OSError, ValueError):
        log.warning("%s is not readable JSON; static bounds skipped", p)
        return None

    def regions_of(d):
        if not isinstance(d, dict):
            return None
        if isinstance(d.get("bounds"), dict):
            d = d["bounds"]
        out = {}
        for reg, v in d.items():
            if isinstance(v, dict):
                b = v.get("bound_t_yr", v.get("bound"))
            else:
                b = v
            if isinstance(b, (int, float)) or b is None:
                out[str(reg)] = b
        return out or None

    if isinstance(doc, dict) and isinstance(doc.get("scenarios"), dict):
        res = {k: regions_of(v) for k, v in doc["scenarios"].items()}
        res = {k: v for k, v in res.items() if v}
        return res or None
    r = regions_of(doc)
    return {None: r} if r else None


def _long_run_delivery(res, months=12) -> dict:
    """``{(scenario, region): t/yr}``: mean delivery rate over the last ``months`` months (median path)."""
    out = {}
    for s, name, key, mo, mean, p05, p50, p95 in res.timeseries():
        if name != "supply_t" or not len(mean):
            continue
        tail = np.asarray(mean)[-months:]
        out[(s, str(key))] = float(tail.mean() * 12.0)
    return out


# -- figures --------------------------------------------------------------------------------------
#: Figures a second process draws (about half the drawing time: the fan charts are the costliest).
_SECOND = ("fan_charts.png", "kpi_bars.png", "tts_ttr.png")


def _draw_one(res, figdir, fname):
    """Draw one figure of :data:`FIGURES`; return None, or what went wrong."""
    fn = next(f for name, f, _ in FIGURES if name == fname)
    try:
        fn(res, figdir / fname)
    except Exception as exc:  # a figure must not stop the report
        log.warning("figure %s failed: %s", fname, exc, exc_info=True)
        return f"{type(exc).__name__}: {exc}"
    return None


def _draw_in_child(res, figdir, names, conn):
    res = res.detached()   # SQLite connections must not be shared across a fork
    conn.send({f: _draw_one(res, figdir, f) for f in names})
    conn.close()


def _can_fork():
    # fork copies only the calling thread: with others running (a progress bar's monitor) it is unsafe
    return (sys.platform.startswith("linux") and (os.cpu_count() or 1) > 1 and threading.active_count() == 1
            and "fork" in mp.get_all_start_methods())


def draw_figures(res, figdir, jobs=None) -> dict:
    """Draw every figure of :data:`FIGURES` into ``figdir``; return ``{file name: error or None}``.

    The figures are independent and each costs a second or more at report size,
    so with ``jobs`` > 1 (default: when this Linux machine has more than one CPU
    and no other thread runs) a forked process draws some of them (it inherits
    the summaries and time series already computed) while this one draws the
    rest. The files are the same either way; if the second process dies, its
    figures are drawn here.
    """
    figdir = Path(figdir)
    names = [name for name, _, _ in FIGURES]
    second = [f for f in names if f in _SECOND]
    if not ((jobs is None or jobs > 1) and _can_fork()):
        return {f: _draw_one(res, figdir, f) for f in names}
    ctx = mp.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_draw_in_child, args=(res, figdir, second, send), daemon=True)
    child.start()
    send.close()
    out = {f: _draw_one(res, figdir, f) for f in names if f not in second}
    try:
        got = recv.recv()
    except (EOFError, OSError):
        got = {}
    child.join()
    recv.close()
    for f in second:
        out[f] = got[f] if f in got else _draw_one(res, figdir, f)
    return out


# -- the report ------------------------------------------------------------------------------------
def build_report(res, figures=True, jobs=None) -> Path:
    """Write ``figures/*.png``, ``report.html`` (self-contained) and ``report.md`` into ``res.out``.

    Returns the path of ``report.html``. A figure that fails is logged and left
    out (the report says so) rather than stopping the report. ``jobs``: see
    :func:`draw_figures`.
    """
    out = Path(res.out)
    figdir = out / "figures"
    figdir.mkdir(parents=True, exist_ok=True)
    man = res.manifest
    names = F.scenario_names(res)
    summ = res.summary()
    diffs = res.differences()
    base = res.baseline
    others = [s for s in res.scenarios if s != base]

    doc = _Doc()
    title = f"Experiment report: {man.get('model', 'model')}"
    doc.raw(f"<h1>{html.escape(title)}</h1>", f"# {title}\n")

    # question
    doc.heading("Question")
    q = (f"How do {', '.join(names[s] for s in others)} compare with {names.get(base, base)}?" if others else
         f"What does {names.get(base, base)} deliver?")
    doc.para(q)
    nrep = {s: summ[s]["replications"] for s in res.scenarios}
    doc.para(f"Model {man.get('model', '?')} ({man.get('model_path', '?')}), start {man.get('start', '?')}, "
             f"horizon {_f(man.get('horizon_days'))} days, {max(nrep.values()) if nrep else 0} replications per "
             f"scenario with common random numbers; paired differences are scenario - {names.get(base, base)}.")

    # scenarios
    doc.heading("Scenarios")
    rows = []
    for s in res.scenarios:
        d = man.get("scenarios", {}).get(s, {})
        rows.append([s, "baseline" if s == base else "compared", d.get("name", s), d.get("description", "") or "-",
                     ", ".join(map(str, d.get("options", []) or [])) or "-",
                     "; ".join(map(str, d.get("references", []) or [])) or "-", nrep.get(s, 0)])
    doc.table(["label", "role", "name", "description", "options", "references", "replications"], rows, left=6)

    # KPI tables
    doc.heading("Key results (mean [95% interval])")
    kp = [k for k in _KPIS if any(k in summ[s]["kpis"] for s in res.scenarios)]
    doc.table(["KPI (all regions)", "unit"] + [names[s] for s in res.scenarios],
              [[k, _UNITS.get(k, "")] + [_ci(summ[s]["kpis"].get(k)) for s in res.scenarios] for k in kp], left=2)
    regs = F.regions(res)
    doc.heading("Per region", 3)
    rows = []
    for r in regs:
        for k in _REGION_KPIS:
            if any(k in summ[s]["regions"].get(r, {}) for s in res.scenarios):
                rows.append([r, k, _UNITS.get(k, "")] +
                            [_ci(summ[s]["regions"].get(r, {}).get(k)) for s in res.scenarios])
    doc.table(["region", "KPI", "unit"] + [names[s] for s in res.scenarios], rows, left=3)
    doc.para("tts_days: days from the first disruption or control to the region's first unmet demand (censored "
             "at the horizon; '-' without a disruption). nadir_fill_rate: lowest monthly fill after it starts. "
             "triangle_days: integral of 1 - monthly fill over days after it starts.", cls="note")

    # differences
    doc.heading("Paired differences against the baseline")
    if diffs:
        rows = []
        for s, d in diffs.items():
            for k, st in d.items():
                own = k.startswith("recovery_months")
                if st.get("mean") is None and not own:
                    continue
                lvl = st.get("level")
                val = _ci(st, signed=not own) if st.get("mean") is not None else "not recovered within the horizon"
                rows.append([names[s], k, _UNITS.get(k.split("[", 1)[0], ""), val,
                             f"{100 * lvl:.4g}%" if isinstance(lvl, (int, float)) else "95% (scenario's own)",
                             _f(st.get("correlation"), 3), _f(st.get("variance_reduction"), 3), st.get("n", "-")])
        doc.table(["scenario", "metric", "unit", "difference [interval]", "interval level", "correlation",
                   "variance reduction", "n"], rows, left=3)
        doc.para(f"Intervals are Bonferroni-adjusted over the {len(others)} scenario(s) compared (interval level "
                 "column). correlation: between the paired replications; variance reduction: variance of "
                 "independent differences / variance of paired differences (common random numbers). "
                 "recovery_months is the scenario's own mean (months after the shortfall began until the "
                 "monthly fill stays within 2 points of the baseline's), not a difference. Metrics undefined in "
                 "the baseline (such as time to survive without a disruption) are left out.", cls="note")
    else:
        doc.para("No comparison: the experiment has a single scenario or fewer than 2 common replications.")

    # static bounds
    bounds = load_bounds(out)
    if bounds:
        lr = _long_run_delivery(res)
        doc.heading("Static bound vs simulated long-run delivery")
        rows = []
        for s in res.scenarios:
            b = bounds.get(names[s]) or bounds.get(s) or (bounds.get("baseline") if s == base else None) \
                or bounds.get(None)
            if not b:
                continue
            for r in regs:
                sim = lr.get((s, r))
                bd = b.get(r)
                ratio = (sim / bd) if (sim is not None and isinstance(bd, (int, float)) and bd) else None
                rows.append([names[s], r, _f(bd), _f(sim), "-" if ratio is None else f"{ratio:.0%}"])
        if rows:
            doc.table(["scenario", "region", "static bound (t/yr)", "simulated delivery, last 12 months (t/yr)",
                       "delivery / bound"], rows, left=2)
            doc.para("The static bound is the capacity bound read from bounds.json; the simulated delivery is "
                     "the mean monthly magnets delivered over the last 12 months, x 12 (mean over replications).",
                     cls="note")

    # figures
    doc.heading("Figures")
    missing = []
    if figures:
        errors = draw_figures(res, figdir, jobs=jobs)
        for fname, _, caption in FIGURES:
            path = figdir / fname
            if errors.get(fname):
                missing.append(f"{fname} ({errors[fname]})")
            elif path.exists() and path.stat().st_size > 0:
                doc.figure(path, f"figures/{fname}", caption)
    if missing:
        doc.para("Figures not drawn: " + "; ".join(missing), cls="note")

    # manifest
    doc.heading("Manifest")
    sha = man.get("model_sha256", {})
    rows = [["command", man.get("command", "-")], ["model", f"{man.get('model', '-')} ({man.get('model_path', '-')})"],
            ["seed (root entropy)", str(man.get("entropy", "-"))], ["baseline", str(base)],
            ["scenario order", ", ".join(man.get("scenario_order", res.scenarios))],
            ["horizon (days)", _f(man.get("horizon_days"))], ["start", str(man.get("start", "-"))],
            ["options", ", ".join(man.get("options", []) or []) or "-"],
            ["replications", str(man.get("replications", max(nrep.values()) if nrep else 0))],
            ["executor", str(man.get("executor", "-"))], ["started", str(man.get("started", "-"))],
            ["finished", str(man.get("finished", "-"))]]
    if man.get("precision"):
        rows.append(["precision", json.dumps(man["precision"])])
    for s, h in (sha.items() if isinstance(sha, dict) else []):
        rows.append([f"model SHA-256 ({s})", h])
    for k, v in (man.get("versions", {}) or {}).items():
        rows.append([f"version: {k}", str(v)])
    files = man.get("model_files", {})
    if files:
        rows.append(["model files", ", ".join(sorted(files))])
    doc.table(["key", "value"], rows, left=2)
    doc.para(f"Exports beside this report: summary.json, replications.csv, timeseries.csv; the store: "
             f"results.sqlite. Rebuild with: supplysim report {out}", cls="note")

    page = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>\n"
            + "\n".join(doc.h) + "\n</body></html>\n")
    write_text(out / "report.html", page)
    write_text(out / "report.md", "\n".join(doc.m))
    return out / "report.html"
