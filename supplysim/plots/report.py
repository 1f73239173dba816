"""The report of a stored experiment: ``report.html`` (one self-contained file), ``report.md`` and
the figures as PNG and SVG.

The report answers first: its first screen is one table (region x scenario: share of demand
delivered, demand lost, worst month, months short, recovery) and one headline figure; the
paired differences, the other figures and the manifest follow, folded. A study script can put its
own answer (tables and figures) above all of it (``answer=``). Everything is read from the store
and the model files recorded in its manifest; nothing is simulated. ``supplysim compare`` calls
:func:`build_report` after a run and ``supplysim report DIR`` rebuilds it.

Examples
--------
>>> Name("a|b*").md()
'a\\\\|b\\\\*'
>>> md_escape("<b>x</b> & [y](z)")
'&lt;b&gt;x&lt;/b&gt; &amp; \\\\[y\\\\](z)'
"""
from __future__ import annotations

import base64
import html
import logging
import math
import multiprocessing as mp
import os
import struct
import sys
import threading
from pathlib import Path

import numpy as np

from .. import catalogue as cat
from ..experiment.files import write_text
from ..experiment.summary import fmt_cell, fmt_value
from . import figures as F

__all__ = ["build_report", "draw_figures", "FIGURES", "HEADLINE_FIGURE", "Name", "md_escape", "Block"]

log = logging.getLogger("supplysim")

#: (file name, function, caption) of every figure, in report order; the first is the headline figure.
FIGURES = [
    ("headline.png", F.headline_impact,
     "Demand lost (% of each region's demand over the horizon, not delivered by its end) and months in which "
     "a region received less than 90% of that month's demand: mean per scenario with its 95% interval."),
    ("monthly_supply.png", F.monthly_supply,
     "Magnets delivered to each region per month: median over replications (line) and 90% band (P5-P95), "
     "scenarios overlaid; dashed: the baseline's median demand. Deliveries above demand are late orders "
     "being caught up."),
    ("forest_plot.png", F.forest_plot,
     "Paired differences scenario - baseline over common replications (common random numbers), with "
     "Bonferroni-adjusted 95% intervals; the dashed line marks no difference."),
    ("survive_recover.png", F.survive_recover,
     "Time to survive (days from the start of the first disruption or control to the region's first unmet "
     "demand) and time to recover (to the end of its last month short of 90% of demand): Kaplan-Meier median "
     "and 95% interval. Hollow markers with an arrow: most replications reached the horizon first (censored), "
     "so the median lies beyond it; censored times are never drawn as values."),
    ("origin_stacks.png", F.origin_stacks,
     "Magnets delivered to each region over the horizon (late deliveries included), split by the country "
     "where their rare earths were separated (mean share x mean delivered tonnes), one bar per scenario."),
    ("network.png", F.network_figure,
     "The network: stages as columns, countries as colours, node size ~ capacity; in red the facilities and "
     "lanes the scenarios disrupt and the lanes leaving an export-control issuer for a destination in scope. "
     "Arrow width ~ the lane's flow in one maximum flow of magnet-equivalent supply (static analysis, t/yr)."),
]
HEADLINE_FIGURE = FIGURES[0][0]

#: Figures drawn only when the experiment has what they show (prices: a model with a market): (file name,
#: function, caption).
OPTIONAL_FIGURES = [
    ("prices.png", F.price_paths,
     "Month-end prices per commodity and market ($/kg, log scale): median over replications (line) and 90% "
     "band (P5-P95), scenarios overlaid. Prices move with the holders' cover in days against its 2024 level "
     "(docs/market.md)."),
]

_CSS = """
body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:1.2em auto;max-width:1140px;
 padding:0 1em;color:#222;line-height:1.4}
h1{font-size:1.5em;margin:.2em 0 .3em}h2{font-size:1.2em;margin:1.2em 0 .4em}
p.meta{color:#555;font-size:.88em;margin:.2em 0 .8em}p.lead{font-size:1.02em}
table{border-collapse:collapse;margin:.5em 0 1em;font-size:.85em}
th,td{border:1px solid #ccc;padding:.2em .5em;text-align:right;vertical-align:top}
th{background:#f0f0f0}td.l,th.l{text-align:left}tr.first td{border-top:2px solid #999}
figure{margin:.8em 0 1.4em}figure img{max-width:100%;height:auto;border:1px solid #ddd}
figcaption{font-size:.86em;color:#444;margin-top:.3em}code,pre{background:#f5f5f5;font-size:.9em}
details{margin:.4em 0;border:1px solid #ddd;border-radius:4px;padding:.3em .8em}
summary{cursor:pointer;font-weight:600;padding:.2em 0}.note{color:#555;font-size:.86em}
"""


# -- escaping --------------------------------------------------------------------------------------
_MD_SPECIAL = "\\`*_{}[]|#~"


def md_escape(text) -> str:
    """Text from a model or a user, safe inside Markdown: HTML characters as entities, Markdown's
    structural characters backslash-escaped."""
    s = html.escape(str(text), quote=False)
    return "".join("\\" + c if c in _MD_SPECIAL else c for c in s).replace("\n", " ")


class Name(str):
    """Text from a model, a scenario or the command line: escaped in both the HTML and the Markdown."""

    def md(self) -> str:
        return md_escape(self)


def _md_cell(v) -> str:
    return v.md() if isinstance(v, Name) else str(v).replace("|", "\\|").replace("\n", " ")


class Block:
    """A piece of a study's answer: ``Block.text(s)``, ``Block.table(header, rows)``, ``Block.figure(path, caption)``."""

    def __init__(self, kind, *args):
        self.kind, self.args = kind, args

    @classmethod
    def text(cls, s):
        return cls("text", s)

    @classmethod
    def table(cls, header, rows, left=1):
        return cls("table", header, rows, left)

    @classmethod
    def figure(cls, path, caption):
        return cls("figure", Path(path), caption)


class _Doc:
    """Builds the HTML and Markdown versions side by side."""

    def __init__(self, out):
        self.h, self.m = [], []
        self.out = Path(out)

    def heading(self, text, level=2):
        self.h.append(f"<h{level}>{html.escape(text)}</h{level}>")
        self.m.append(f"\n{'#' * level} {md_escape(text) if isinstance(text, Name) else text}\n")

    def para(self, text, cls=None):
        c = f' class="{cls}"' if cls else ""
        self.h.append(f"<p{c}>{html.escape(text)}</p>")
        self.m.append(f"{_md_cell(text) if isinstance(text, Name) else text}\n")

    def open_fold(self, title):
        self.h.append(f"<details><summary>{html.escape(title)}</summary>")
        self.m.append(f"\n## {title}\n")

    def close_fold(self):
        self.h.append("</details>")

    def table(self, header, rows, left=1, groups=None):
        """``left``: how many leading columns are text; ``groups``: rows that start a group (a rule above)."""
        def cell(tag, i, v):
            cls = ' class="l"' if i < left else ""
            return f"<{tag}{cls}>{html.escape(str(v))}</{tag}>"
        out = ["<table><thead><tr>" + "".join(cell("th", i, v) for i, v in enumerate(header)) +
               "</tr></thead><tbody>"]
        for k, r in enumerate(rows):
            tr = '<tr class="first">' if groups and k in groups and k else "<tr>"
            out.append(tr + "".join(cell("td", i, v) for i, v in enumerate(r)) + "</tr>")
        out.append("</tbody></table>")
        self.h.append("\n".join(out))
        lines = ["| " + " | ".join(_md_cell(v) for v in header) + " |",
                 "|" + "|".join(":---" if i < left else "---:" for i in range(len(header))) + "|"]
        lines += ["| " + " | ".join(_md_cell(v) for v in r) + " |" for r in rows]
        self.m.append("\n".join(lines) + "\n")

    def figure(self, png: Path, caption: str):
        png = Path(png)
        data = png.read_bytes()
        w, h = _png_size(data)
        try:
            rel = png.resolve().relative_to(self.out.resolve()).as_posix()
        except ValueError:
            rel = png.name
        svg = png.with_suffix(".svg")
        link = (f' <a href="{html.escape(Path(rel).with_suffix(".svg").as_posix())}">SVG</a>'
                if svg.exists() else "")
        self.h.append(f'<figure><img alt="{html.escape(png.stem)}" width="{w}" height="{h}" '
                      f'src="data:image/png;base64,{base64.b64encode(data).decode("ascii")}">'
                      f"<figcaption>{html.escape(caption)}{link}</figcaption></figure>")
        self.m.append(f"![{md_escape(png.stem)}]({rel})\n\n*{md_escape(caption)}*\n")

    def blocks(self, blocks):
        for b in blocks:
            if b.kind == "text":
                self.para(b.args[0])
            elif b.kind == "table":
                self.table(*b.args)
            elif b.kind == "figure":
                if b.args[0].exists():
                    self.figure(*b.args)


def _png_size(data: bytes) -> tuple:
    """Width and height in pixels from a PNG's header."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    return struct.unpack(">II", data[16:24])


# -- figures --------------------------------------------------------------------------------------
#: Figures a second process draws (about half the drawing time).
_SECOND = ("monthly_supply.png", "origin_stacks.png", "survive_recover.png")


def _draw_one(res, figdir, fname):
    """Draw one figure of :data:`FIGURES` (PNG, and SVG beside it); return None, or what went wrong."""
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

    With ``jobs`` > 1 (default: when this Linux machine has more than one CPU and no other thread
    runs) a forked process draws some of them (it inherits the summaries already computed) while
    this one draws the rest. The files are the same either way; if the second process dies, its
    figures are drawn here.
    """
    figdir = Path(figdir)
    figdir.mkdir(parents=True, exist_ok=True)
    names = [name for name, _, _ in FIGURES]
    second = [f for f in names if f in _SECOND]
    res.summary(), res.differences(), list(res.timeseries())   # computed once, shared with the child
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


# -- what the report says -----------------------------------------------------------------------------
def _regions_by_loss(res, summ):
    def loss(r):
        return max([(summ[s]["regions"].get(r, {}).get("demand_lost_pct") or {}).get("estimate") or 0.0
                    for s in res.scenarios])
    return sorted(res.regions(), key=lambda r: -loss(r))


def _answer_sentences(res, summ, names) -> list:
    """One sentence per scenario compared: the region hurt most, how much and for how long."""
    out = []
    base = res.baseline
    others = [s for s in res.scenarios if s != base] or [base]
    for s in others:
        regs = summ[s]["regions"]
        if not regs:
            continue
        r = max(regs, key=lambda g: (regs[g].get("demand_lost_pct") or {}).get("estimate") or 0.0)
        d = regs[r]
        lost = d.get("demand_lost_pct") or {}
        if not (lost.get("estimate") or 0) > 0 and not ((d.get("months_short") or {}).get("estimate") or 0) > 0:
            out.append(f"Under {names[s]} no region loses demand or has a month below 90% of its demand.")
            continue
        rec = d.get("time_to_recover_days") or {}
        rec_s = ("" if not rec.get("n") else
                 f"; it recovers (no later month short) after {fmt_cell(rec, 'days')} days" if rec.get("estimate")
                 is not None else f"; most replications are still short at the horizon ({fmt_cell(rec, 'days')} days)")
        out.append(f"Under {names[s]}, {r} is hurt most: {fmt_cell(lost, '%')}% of its demand "
                   f"({fmt_cell(d.get('demand_lost_t'), 't')} t) is not delivered by the end of the run; in its worst "
                   f"month it receives {fmt_cell(d.get('worst_month_share'), 'fraction')} of that month's demand, and "
                   f"{fmt_cell(d.get('months_short'), 'months')} months are short of 90%{rec_s}.")
    return out


def _headline_table(res, summ, names):
    header = ["region", "scenario"] + [m.label for m in cat.headline()]
    rows, groups = [], set()
    for r in _regions_by_loss(res, summ):
        groups.add(len(rows))
        for s in res.scenarios:
            d = summ[s]["regions"].get(r, {})
            rows.append([r, Name(names[s])] + [fmt_cell(d.get(m.name), m.unit) for m in cat.headline()])
    return header, rows, groups


def _static_bounds(res, names) -> list:
    """Rows: scenario, region, static bound (t/yr), simulated delivery over the last 12 months (t/yr)."""
    try:
        from ..analysis import capacity_bounds
    except ImportError:
        return []
    day = max(float(res.manifest.get("horizon_days", 365.0)) - 182.5, 0.0)
    last = {}
    for s, name, key, mo, mean, p05, p50, p95 in res.timeseries():
        if name == "delivered_t" and len(mean):
            last[(s, str(key))] = float(np.asarray(mean)[-12:].mean() * 12.0)
    rows = []
    for s in res.scenarios:
        m = F.load_scenario_model(res, s)
        if m is None:
            continue
        try:
            b = capacity_bounds(m, day)
        except Exception as exc:   # a bound that cannot be computed must not lose the report
            log.warning("static bounds for %s failed: %s", s, exc)
            continue
        for r in res.regions():
            bd = (b.get(r) or {}).get("bound_t_yr")
            sim = last.get((s, r))
            ratio = sim / bd if (sim is not None and bd and math.isfinite(bd)) else None
            rows.append([Name(names[s]), r, fmt_value(bd, "t") if bd is not None and math.isfinite(bd) else "unbounded",
                         fmt_value(sim, "t"), "-" if ratio is None else f"{ratio:.0%}"])
    return rows


# -- the report ------------------------------------------------------------------------------------
def build_report(res, figures=True, jobs=None, answer=None, title=None) -> Path:
    """Write ``figures/*.png`` and ``*.svg``, ``report.html`` (self-contained) and ``report.md`` into
    ``res.out``; return the path of ``report.html``.

    ``answer``: a study's own answer (a list of :class:`Block`), shown first; ``title``: its question.
    A figure that fails is logged and named in the report rather than stopping it.
    """
    out = Path(res.out)
    figdir = out / "figures"
    man = res.manifest
    names = F.scenario_names(res)
    summ = res.summary()
    base = res.baseline
    others = [s for s in res.scenarios if s != base]
    errors = draw_figures(res, figdir, jobs=jobs) if figures else {}

    def fig(fname):
        p = figdir / fname
        if figures and not errors.get(fname) and p.exists() and p.stat().st_size > 0:
            doc.figure(p, next(c for n, _, c in FIGURES if n == fname))

    doc = _Doc(out)
    q = title or (f"What do {', '.join(names[s] for s in others)} cost each region, against {names.get(base, base)}?"
                  if others else f"What does each region receive under {names.get(base, base)}?")
    doc.h.append(f"<h1>{html.escape(q)}</h1>")
    doc.m.append(f"# {md_escape(q)}\n")
    nrep = {s: summ[s]["replications"] for s in res.scenarios}
    meta = (f"Model {man.get('model', '?')} ({man.get('model_path', '?')}); {_days(man)} from {man.get('start', '?')}; "
            f"{min(nrep.values()) if nrep else 0} replications per scenario with common random numbers; seed "
            f"{man.get('entropy', '?')}; 95% intervals.")
    doc.para(Name(meta), cls="meta")

    if answer:
        doc.blocks(answer)
        doc.heading("Every region and scenario")
    for sentence in _answer_sentences(res, summ, names):
        doc.para(Name(sentence), cls="lead")
    header, rows, groups = _headline_table(res, summ, names)
    doc.table(header, rows, left=2, groups=groups)
    fig(HEADLINE_FIGURE)
    doc.para("delivered share: share of the region's demand delivered by the end of the run, late or not; demand "
             "lost: demand not delivered by then (lost sales and what is still owed); worst month: share of a "
             "month's demand delivered in the region's worst month; months short: months below 90% of demand; "
             "recovery: days from the first disruption or control to the end of the last short month (Kaplan-Meier "
             "median; '>' and 'censored': still short at the horizon). Definitions: docs/metrics.md.", cls="note")

    doc.open_fold("Monthly deliveries per region")
    fig("monthly_supply.png")
    doc.close_fold()

    _prices_fold(res, doc, summ, names, figdir if figures else None)

    diffs = res.differences()
    doc.open_fold("Paired differences against the baseline")
    if diffs:
        rows, groups = [], set()
        mets = [m for m in cat.headline()] + [cat.get("peak_backlog_t"), cat.get("time_to_survive_days")]
        for r in res.regions():
            groups.add(len(rows))
            for s in others:
                d = diffs.get(s, {})
                rows.append([r, Name(names[s])] + [fmt_cell(d.get(f"{m.name}[{r}]"), m.unit, signed=True) for m in mets])
        doc.table(["region", "scenario - baseline"] + [m.label for m in mets], rows, left=2, groups=groups)
        doc.para(f"Paired on the replication (common random numbers); intervals Bonferroni-adjusted over the "
                 f"{len(others)} scenario(s) compared. Differences of shares stay within [-1, 1] (atanh scale). A "
                 "difference of censored times is given only where no pair is censored.", cls="note")
        fig("forest_plot.png")
    else:
        doc.para("No comparison: the experiment has a single scenario or fewer than 2 common replications.")
    doc.close_fold()

    doc.open_fold("Time to survive and time to recover")
    fig("survive_recover.png")
    doc.close_fold()

    doc.open_fold("Every region metric")
    regional = cat.of_scope("region")
    rows, groups = [], set()
    for r in res.regions():
        groups.add(len(rows))
        for m in regional:
            rows.append([r, m.name, m.unit] + [fmt_cell(summ[s]["regions"].get(r, {}).get(m.name), m.unit)
                                              for s in res.scenarios])
    doc.table(["region", "metric", "unit"] + [Name(names[s]) for s in res.scenarios], rows, left=3, groups=groups)
    doc.close_fold()

    doc.open_fold("Where the delivered magnets' rare earths were separated")
    fig("origin_stacks.png")
    doc.close_fold()

    doc.open_fold("The network")
    fig("network.png")
    doc.close_fold()

    bounds = _static_bounds(res, names)
    if bounds:
        doc.open_fold("Static bound vs simulated long-run delivery")
        doc.table(["scenario", "region", "static bound (t/yr)", "delivered, last 12 months (t/yr)",
                   "delivered / bound"], bounds, left=2)
        doc.para("The static bound is the most magnet-equivalent supply per year the network can carry to the "
                 "region half a year before the horizon (maximum flow, supplysim analyze); the simulated delivery "
                 "is the mean monthly delivery over the last 12 months x 12. No run delivers more than its bound "
                 "for long.", cls="note")
        doc.close_fold()

    doc.open_fold("Scenarios")
    rows = []
    for s in res.scenarios:
        d = man.get("scenarios", {}).get(s, {})
        rows.append([Name(s), "baseline" if s == base else "compared", Name(d.get("name", s)),
                     Name(d.get("description", "") or "-"), Name(", ".join(map(str, d.get("options", []) or [])) or "-"),
                     Name("; ".join(map(str, d.get("references", []) or [])) or "-"), nrep.get(s, 0)])
    doc.table(["label", "role", "name", "description", "options", "references", "replications"], rows, left=6)
    doc.close_fold()

    doc.open_fold("Manifest")
    sha = man.get("model_sha256", {})
    rows = [["command", Name(man.get("command", "-"))],
            ["model", Name(f"{man.get('model', '-')} ({man.get('model_path', '-')})")],
            ["seed (root entropy)", str(man.get("entropy", "-"))], ["baseline", Name(str(base))],
            ["horizon (days)", fmt_value(man.get("horizon_days"), "days")], ["start", str(man.get("start", "-"))],
            ["options", Name(", ".join(man.get("options", []) or []) or "-")],
            ["replications", str(man.get("replications", max(nrep.values()) if nrep else 0))],
            ["executor", str(man.get("executor", "-"))], ["started", str(man.get("started", "-"))],
            ["finished", str(man.get("finished", "-"))]]
    for s, h in (sha.items() if isinstance(sha, dict) else []):
        rows.append([Name(f"model SHA-256 ({s})"), h])
    for k, v in (man.get("versions", {}) or {}).items():
        rows.append([f"version: {k}", str(v)])
    files = man.get("model_files", {})
    if files:
        rows.append(["model files", Name(", ".join(sorted(files)))])
    doc.table(["key", "value"], rows, left=2)
    doc.para(Name(f"Exports beside this report: summary.json, replications.csv, timeseries.csv (series.parquet with "
                  f"pyarrow); the store: results.sqlite. Rebuild with: supplysim report {out}"), cls="note")
    doc.close_fold()

    missing = [f"{f} ({e})" for f, e in errors.items() if e]
    if missing:
        doc.para(Name("Figures not drawn: " + "; ".join(missing)), cls="note")

    page = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{html.escape(q)}</title><style>{_CSS}</style></head><body>\n"
            + "\n".join(doc.h) + "\n</body></html>\n")
    write_text(out / "report.html", page)
    write_text(out / "report.md", "\n".join(doc.m))
    return out / "report.html"


def _prices_fold(res, doc, summ, names, figdir):
    """Prices, when the experiment's model has a market: mean and peak price per commodity and market,
    and their paths (the catalogue's market metrics; docs/market.md)."""
    mets = [m for m in cat.of_scope("market")]
    keys = sorted({cat.split(k)[1] for s in res.scenarios for k in summ[s]["metrics"]
                   if cat.split(k)[0] in {m.name for m in mets}})
    if not keys:
        return
    doc.open_fold("Prices")
    rows, groups = [], set()
    for key in keys:
        groups.add(len(rows))
        for s in res.scenarios:
            d = summ[s]["metrics"]
            rows.append([Name(cat.price_label(key, res.manifest.get("markets"))), Name(names[s])]
                        + [fmt_cell(d.get(f"{m.name}[{key}]"), m.unit) for m in mets])
    doc.table(["commodity in market", "scenario"] + [m.label for m in mets], rows, left=2, groups=groups)
    if figdir is not None:
        for fname, fn, caption in OPTIONAL_FIGURES:
            p = Path(figdir) / fname
            try:
                fn(res, p)
            except Exception as exc:  # a figure must not stop the report
                log.warning("figure %s failed: %s", fname, exc, exc_info=True)
                continue
            doc.figure(p, caption)
    doc.close_fold()


def _days(man):
    d = man.get("horizon_days")
    try:
        d = float(d)
    except (TypeError, ValueError):
        return "horizon ?"
    return f"{d / 365:.1f} years ({d:,.0f} days)" if d >= 365 else f"{d:,.0f} days"
