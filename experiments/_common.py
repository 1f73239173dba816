"""Shared plumbing of the study scripts: arguments, running an experiment, derived shortfall
metrics, paired comparisons (common random numbers, Bonferroni) and answer tables.

Why derived metrics: ``unmet_demand_t`` counts demand that could not be served from stock
*on arrival*. Demand is backordered, and while a region has a standing backlog every new
order queues behind it, so ``unmet_demand_t`` then equals the region's whole demand from
the first shortage on, however much is delivered. Two scenarios that both leave a standing
backlog therefore give the same ``unmet_demand_t`` to the tonne. The studies also report,
per replication, from the stored monthly series:

``shortfall_ty[R]``
    the area under region R's month-end backlog of unfilled magnet orders, in tonne-years
    (1,000 t owed for six months = 500 t-yr): how much was short, for how long;
``backlog_end_t[R]``
    magnets still owed at the horizon (demand minus deliveries: the net shortfall);
``supply_t[R]``
    magnets delivered to the region's demand over the horizon, late or not.

``exCN`` sums a metric over every region but China.
"""
from __future__ import annotations

import argparse
import calendar
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

from supplysim.experiment.experiment import Experiment, ExperimentResults  # noqa: E402
from supplysim.experiment.stats import mean_ci, paired  # noqa: E402


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
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def rel(path) -> str:
    """A scenario file as a path relative to the working directory (the store's label for it)."""
    return os.path.relpath(Path(path).resolve(), Path.cwd())


def run(args, scenarios, baseline, options=()) -> ExperimentResults:
    """Run (or resume) the experiment in ``args.out`` and build its report."""
    out = Path(args.out)
    if out.exists() and not args.resume:
        for f in ("results.sqlite", "summary.json", "replications.csv", "timeseries.csv", "run.log",
                  "report.html", "report.md"):
            (out / f).unlink(missing_ok=True)
        shutil.rmtree(out / "figures", ignore_errors=True)
    t0 = time.perf_counter()
    exp = Experiment(rel(MODEL), scenarios=scenarios, baseline=baseline, reps=args.reps, seed=args.seed,
                     years=args.years, out=out, options=options, command=" ".join([sys.executable] + sys.argv))
    res = exp.run(jobs=args.jobs, resume=args.resume, progress=not args.quiet, quiet=args.quiet)
    res.run_s = time.perf_counter() - t0
    if not args.no_report:
        from supplysim.plots.report import build_report
        try:
            build_report(res)
        except Exception as exc:   # a report problem must not lose the answer
            print(f"warning: report not built: {exc!r}", file=sys.stderr)
    return res


# ---- derived metrics ------------------------------------------------------------------------------------
def _days(months):
    return np.array([calendar.monthrange(int(m[:4]), int(m[5:7]))[1] for m in months], float)


def derived(res, scenario) -> dict:
    """``{metric: array over replications}``: the stored metrics plus the shortfall measures above."""
    ms = res.metrics(scenario)
    reps = res.replications(scenario)
    extra = {}
    for i, (r, months, ser) in enumerate(res.store.series(scenario)):
        assert reps[i] == r
        d = _days(months)
        regs, back = ser["backlog_t"]
        _, sup = ser["supply_t"]
        for j, g in enumerate(regs):
            extra.setdefault(f"shortfall_ty[{g}]", np.full(len(reps), np.nan))[i] = float((back[:, j] * d).sum() / 365.0)
            extra.setdefault(f"peak_backlog_t[{g}]", np.full(len(reps), np.nan))[i] = float(back[:, j].max())
            extra.setdefault(f"supply_t[{g}]", np.full(len(reps), np.nan))[i] = float(sup[:, j].sum())
    ms.update(extra)
    for base in ("unmet_demand_t", "demand_t", "backlog_end_t", "shortfall_ty", "supply_t", "peak_backlog_t"):
        parts = [ms[f"{base}[{g}]"] for g in EX_CN if f"{base}[{g}]" in ms]
        if parts:
            ms[f"{base}[exCN]"] = np.sum(parts, axis=0)
    return ms


class Table:
    """Per-scenario metric arrays (cached) and paired differences against a reference."""

    def __init__(self, res):
        self.res = res
        self._m = {}

    def m(self, scenario):
        if scenario not in self._m:
            self._m[scenario] = derived(self.res, scenario)
        return self._m[scenario]

    def stat(self, scenario, metric) -> dict:
        return mean_ci(self.m(scenario)[metric])

    def diff(self, a, b, metric, comparisons=1) -> dict:
        """Paired ``b - a`` over the replications both hold (same replication index = same random numbers)."""
        ra, rb = self.res.replications(a), self.res.replications(b)
        common = sorted(set(ra) & set(rb))
        x = self.m(a)[metric][[ra.index(r) for r in common]]
        y = self.m(b)[metric][[rb.index(r) for r in common]]
        return paired(x, y, comparisons=comparisons)


# ---- formatting -----------------------------------------------------------------------------------------
def _num(x, digits):
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    return f"{x:,.{digits}f}"


def ci(st, digits=0, sign=False) -> str:
    """``mean [low, high]``."""
    m, lo, hi = st["mean"], st.get("ci_low"), st.get("ci_high")
    if m is None or not math.isfinite(m):
        return "n/a"
    f = (lambda v: ("+" if v >= 0 else "") + _num(v, digits)) if sign else (lambda v: _num(v, digits))
    if lo is None or not math.isfinite(lo):
        return f(m)
    return f"{f(m)} [{f(lo)}, {f(hi)}]"


def markdown(headers, rows) -> str:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def finish(args, res, title, text, data):
    """Print the answer and keep it beside the results (answer.md, answer.json)."""
    reps = {s: len(res.replications(s)) for s in res.scenarios}
    head = (f"{title}\n(reps per scenario {min(reps.values())}, horizon {args.years:g} years from 2024-01-01, "
            f"seed {args.seed}, jobs {args.jobs}; 95% intervals, paired differences Bonferroni-adjusted; "
            f"run {getattr(res, 'run_s', float('nan')):.0f} s; results in {args.out})")
    body = head + "\n\n" + text
    print("\n" + body)
    out = Path(args.out)
    (out / "answer.md").write_text(body + "\n", encoding="utf-8")
    (out / "answer.json").write_text(json.dumps({"title": title, "reps": reps, "years": args.years, "seed": args.seed,
                                                 "run_s": getattr(res, "run_s", None), **data},
                                                indent=1, default=_json), encoding="utf-8")


def _json(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def clean(st) -> dict:
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in st.items()}
