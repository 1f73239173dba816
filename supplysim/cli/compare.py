"""``supplysim compare`` and ``supplysim report``: the experiment pipeline and its report.

This module sits on the command-line layer: it runs an experiment
(:mod:`supplysim.experiment`) and then draws the report (:mod:`supplysim.plots.report`), so the
experiment package never imports the figures.
"""
from __future__ import annotations

import sys
from pathlib import Path

from . import add_check_option

__all__ = ["register", "cmd_compare", "cmd_report"]


def register(sub):
    c = sub.add_parser(
        "compare", help="compare scenarios with paired replications; write a store, exports, figures, report",
        description="Run N replications of each scenario with common random numbers, store each replication in "
                    "DIR/results.sqlite as it finishes, then write summary.json, replications.csv, timeseries.csv "
                    "(series.parquet with pyarrow), figures and report.html. --resume continues an interrupted "
                    "run.")
    c.add_argument("model", nargs="?", help="model file or directory (default: the default model)")
    c.add_argument("--scenarios", required=True, help="comma-separated scenario names (a+b combines two)")
    c.add_argument("--baseline", help="scenario the others are compared with (default: baseline if listed, "
                                      "else the first)")
    c.add_argument("--reps", type=int, default=30, help="replications per scenario (default 30)")
    c.add_argument("--jobs", type=int, default=1, help="local worker processes (default 1)")
    c.add_argument("--dask", metavar="ADDRESS", help="run on a Dask scheduler, e.g. tcp://host:8786 "
                                                     "(needs the 'dask' extra)")
    c.add_argument("--seed", type=int, help="root seed (default: fresh entropy, recorded)")
    g = c.add_mutually_exclusive_group()
    g.add_argument("--years", type=float, help="horizon in years (default: the model's)")
    g.add_argument("--days", type=float, help="horizon in days")
    c.add_argument("--out", required=True, help="output directory")
    c.add_argument("--resume", action="store_true", help="continue the run stored in --out")
    c.add_argument("--precision", type=float, help="add replications until the relative half-width of "
                                                   "--metric is at most this (e.g. 0.01)")
    c.add_argument("--metric", default="delivered_share",
                   help="metric for --precision, every region's or one as name[REGION] (default delivered_share)")
    c.add_argument("--max-reps", type=int, help="upper bound on replications with --precision")
    c.add_argument("--no-report", action="store_true", help="skip figures and report.html")
    add_check_option(c)
    c.add_argument("--quiet", action="store_true", help="no progress")
    c.set_defaults(func=cmd_compare)

    r = sub.add_parser("report", help="rebuild figures and report.html from a stored experiment",
                       description="Read DIR/results.sqlite and write the exports, figures, report.html and "
                                   "report.md again (no simulation).")
    r.add_argument("dir", help="experiment directory (holding results.sqlite)")
    r.set_defaults(func=cmd_report)


def cmd_compare(a):
    from ..experiment import Experiment
    from ..experiment.summary import format_differences, format_headline, format_prices, format_run_header
    from ..paths import default_model_path
    scen = [s.strip() for s in a.scenarios.split(",") if s.strip()]
    exp = Experiment(a.model or str(default_model_path()), scenarios=scen, baseline=a.baseline, reps=a.reps,
                     seed=a.seed, years=a.years, days=a.days, out=a.out, check=a.check,
                     command=" ".join(["supplysim"] + sys.argv[1:]))
    executor = None
    client = None
    if a.dask:
        try:
            from distributed import Client
        except ImportError:
            raise SystemExit("--dask needs the dask extra: pip install -e '.[dask]'")
        client = executor = Client(a.dask)
    try:
        res = exp.run(executor=executor, jobs=a.jobs, resume=a.resume, progress=not a.quiet,
                      precision=a.precision, metric=a.metric, max_reps=a.max_reps, quiet=a.quiet)
    except KeyboardInterrupt:
        print(f"interrupted: finished replications are kept in {a.out}/results.sqlite; "
              f"rerun with --resume", file=sys.stderr)
        return 130
    except FileExistsError as exc:
        raise SystemExit(f"supplysim compare: {exc}")
    finally:
        if client is not None:
            client.close()
    print(format_run_header(res))
    print(format_headline(res))
    print(format_differences(res))
    if format_prices(res):
        print(format_prices(res))
    out = None if a.no_report else _report(res)
    print(f"results in {a.out}" + (f"; report: {out}" if out else ""))
    return 0


def _report(res):
    from ..plots.report import build_report
    return build_report(res)


def cmd_report(a):
    from ..experiment import ExperimentResults
    if not (Path(a.dir) / "results.sqlite").exists():
        raise SystemExit(f"supplysim report: {a.dir}/results.sqlite not found")
    res = ExperimentResults(a.dir)
    res.export()
    out = _report(res)
    print(f"report written to {out or a.dir}")
    return 0
