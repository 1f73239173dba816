"""Shared plumbing of the study scripts: arguments, running an experiment, the catalogue's metrics
for a group of regions, paired comparisons (common random numbers, Bonferroni), and the answer:
printed, kept as answer.md / answer.json, and put at the top of the study's report.html.

Every metric is one of the catalogue's (docs/metrics.md): ``delivered_share``, ``demand_lost_t``,
``months_short``, ``peak_backlog_t``, ``time_to_survive_days`` and so on, per region. ``exCN`` is
every region but China taken together: its monthly series are the sums of the regions' series and
its metrics come from the same estimator (``supplysim.catalogue.region_metrics``).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "rare_earths"
SCENARIOS = ROOT / "experiments" / "scenarios"
EX_CN = ("EU", "US", "JP", "KR", "ROW")

if str(ROOT) not in sys.path:          # run from a checkout without installing
    sys.path.insert(0, str(ROOT))

from supplysim import catalogue as cat  # noqa: E402
from supplysim.experiment.experiment import Experiment, ExperimentResults  # noqa: E402
from supplysim.experiment.stats import difference, summarize  # noqa: E402
from supplysim.experiment.summary import fmt_cell  # noqa: E402
from supplysim.plots.report import Block  # noqa: E402


# ---- arguments and running ------------------------------------------------------------------------------
def parser(name, doc, reps, years, jobs=2, seed=1) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=f"python experiments/{name}.py", description=doc.strip().splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reps", type=int, default=reps, help=f"replications per scenario (default {reps})")
    p.add_argument("--jobs", type=int, default=jobs, help=f"worker processes (default {jobs})")
    p.add_argument("--seed", type=int, default=seed, help=f"root seed (default {seed})")
    p.add_argument("--years", type=float, default=years, help=f"horizon in years from 2024-01-01 (default {years:g})")
    p.add_argument("--out", default=f"runs/{name}", help=f"output directory (default runs/{name})")
    p.add_argument("--resume", action="store_true", help="continue the run stored in --out instead of replacing it")
    p.add_argument("--no-report", action="store_true", help="skip figures and report.html")
    p.add_argument("--quiet", action="store_true", help="no progress")
    p.add_argument("--no-market", action="store_true",
                   help="run the network without its market (option no-market: no prices, no demand or supply "
                        "responses, unmet demand backordered without limit), to see what the market changes")
    return p


def rel(path) -> str:
    """A scenario file as a path relative to the working directory (the store's label for it)."""
    return os.path.relpath(Path(path).resolve(), Path.cwd())


def run(args, scenarios, baseline, options=()) -> ExperimentResults:
    """Run (or resume) the experiment in ``args.out``.

    The overlays a study writes into ``OUT/scenarios`` extend files in experiments/scenarios/,
    outside the model's folder: that folder is allowed explicitly (as ``--allow-dir`` would), also
    for the worker processes, which read it from the environment.
    """
    from supplysim.model.load import ALLOW_ENV
    os.environ[ALLOW_ENV] = os.pathsep.join([str(SCENARIOS.resolve()),
                                             *filter(None, os.environ.get(ALLOW_ENV, "").split(os.pathsep))])
    out = Path(args.out)
    if out.exists() and not args.resume:
        for f in ("results.sqlite", "summary.json", "replications.csv", "timeseries.csv", "series.parquet",
                  "run.log", "report.html", "report.md", "answer.md", "answer.json"):
            (out / f).unlink(missing_ok=True)
        shutil.rmtree(out / "figures", ignore_errors=True)
    t0 = time.perf_counter()
    if getattr(args, "no_market", False):
        options = tuple(options) + ("no-market",)
    exp = Experiment(rel(MODEL), scenarios=scenarios, baseline=baseline, reps=args.reps, seed=args.seed,
                     years=args.years, out=out, options=options, command=" ".join([sys.executable] + sys.argv))
    res = exp.run(jobs=args.jobs, resume=args.resume, progress=not args.quiet, quiet=args.quiet)
    res.run_s = time.perf_counter() - t0
    return res


# ---- metrics per region and for exCN ---------------------------------------------------------------------
def _group_metrics(res, scenario, regions, window=None) -> dict:
    """``{metric[exCN]: array over replications}`` from the summed series of ``regions``."""
    t0 = (res.manifest.get("disruption_start_day") or {}).get(scenario)
    out = {}
    for _, months, ser in res.store.series(scenario):
        labels = list(ser["demand_t"][0])
        cols = [labels.index(r) for r in regions if r in labels]
        summed = {k: (["exCN"], np.asarray(ser[k][1])[:, cols].sum(axis=1, keepdims=True))
                  for k in cat.REGION_SERIES}
        rm = cat.region_metrics(summed, months, res.manifest["start"], res.manifest["horizon_days"], t0, window)
        for name, v in rm.items():
            out.setdefault(f"{name}[exCN]", []).append(v["exCN"])
    return {k: np.array(v, float) for k, v in out.items()}


class Table:
    """Per-scenario metric arrays (with exCN) and their summaries and paired differences by kind."""

    def __init__(self, res):
        self.res = res
        self._m = {}

    def m(self, scenario):
        if scenario not in self._m:
            ms = dict(self.res.metrics(scenario))
            ms.update(_group_metrics(self.res, scenario, EX_CN))
            self._m[scenario] = ms
        return self._m[scenario]

    def _flags(self, scenario, metric):
        name, key = cat.split(metric)
        m = cat.get(name)
        return self.m(scenario).get(f"{m.flag}[{key}]") if m.censored else None

    def stat(self, scenario, metric) -> dict:
        m = cat.get(metric)
        return summarize(self.m(scenario)[metric], m.kind, censored=self._flags(scenario, metric))

    def diff(self, a, b, metric, comparisons=1) -> dict:
        """Paired ``b - a`` over the replications both hold (same replication index = same random numbers)."""
        ra, rb = self.res.replications(a), self.res.replications(b)
        common = sorted(set(ra) & set(rb))
        ia, ib = [ra.index(r) for r in common], [rb.index(r) for r in common]
        kind = cat.get(metric).kind
        fa, fb = self._flags(a, metric), self._flags(b, metric)
        return difference(self.m(a)[metric][ia], self.m(b)[metric][ib], kind, comparisons=comparisons,
                          censored_x=None if fa is None else fa[ia], censored_y=None if fb is None else fb[ib])


def cell(st, metric, signed=False) -> str:
    """``estimate [low, high]`` in the metric's unit (censored times with their count)."""
    return fmt_cell(st, cat.get(metric).unit, signed=signed)


# ---- the answer ------------------------------------------------------------------------------------------
def markdown(headers, rows) -> str:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def dot_figure(path, rows, title, xlabel, zero=True):
    """Estimates with their intervals, one row each: ``rows = [(label, estimate, low, high, colour)]``."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(10, max(3.0, 0.32 * len(rows) + 1.2)), layout="constrained")
    y = np.arange(len(rows))[::-1]
    for yi, (label, m, lo, hi, colour) in zip(y, rows):
        if m is None or not math.isfinite(m):
            continue
        err = None if lo is None or hi is None else [[max(m - lo, 0)], [max(hi - m, 0)]]
        ax.errorbar([m], [yi], xerr=err, fmt="o", color=colour, ms=5, capsize=3, lw=1.3)
    ax.set_yticks(y, [r[0] for r in rows], fontsize=8)
    if zero:
        ax.axvline(0, color="0.3", lw=1, ls="--")
    ax.set_xlabel(xlabel)
    ax.set_title(title, fontsize=10, loc="left")
    ax.grid(axis="x", alpha=0.3)
    fig.savefig(path, dpi=110)
    fig.savefig(Path(path).with_suffix(".svg"))
    plt.close(fig)
    return path


def finish(args, res, title, sections, data, figures=()):
    """Print the answer, keep it beside the results (answer.md, answer.json) and put it, with its
    ``figures`` (``[(path, caption)]``), at the top of report.html.

    ``sections``: ``[(heading, header, rows)]`` tables (``(heading, header, rows, left)`` when the
    number of leading text columns is not 2), in the order they answer the question.
    """
    reps = {s: len(res.replications(s)) for s in res.scenarios}
    head = (f"{min(reps.values())} replications per scenario, horizon {args.years:g} years from 2024-01-01, "
            f"seed {args.seed}, jobs {args.jobs}; 95% intervals, paired differences Bonferroni-adjusted; "
            f"run {getattr(res, 'run_s', float('nan')):.0f} s; results in {args.out}")
    text = "\n\n".join(f"{sec[0]}\n\n{markdown(sec[1], sec[2])}" for sec in sections)
    body = f"{title}\n({head})\n\n{text}"
    print("\n" + body)
    out = Path(args.out)
    (out / "answer.md").write_text(body + "\n", encoding="utf-8")
    (out / "answer.json").write_text(json.dumps({"title": title, "reps": reps, "years": args.years, "seed": args.seed,
                                                 "run_s": getattr(res, "run_s", None), **data},
                                                indent=1, default=_json), encoding="utf-8")
    if args.no_report:
        return
    blocks = [Block.text(head)]
    for h, hd, rows, *left in sections:
        blocks += [Block.text(h), Block.table(hd, rows, left=left[0] if left else 2)]
    blocks += [Block.figure(p, c) for p, c in figures]
    from supplysim.plots.report import build_report
    try:
        print(f"report: {build_report(res, answer=blocks, title=title)}")
    except Exception as exc:   # a report problem must not lose the answer
        print(f"warning: report not built: {exc!r}", file=sys.stderr)


def _json(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def clean(st) -> dict:
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in st.items()}
