"""``supplysim explore`` and ``supplysim explore-report``."""
from __future__ import annotations

import sys

from ..cli import add_check_option

__all__ = ["register"]


def register(sub):
    e = sub.add_parser(
        "explore", help="sample uncertain inputs, run every design point, find what drives a bad outcome",
        description="Sample the uncertainties of an explore file (--spec) with a design, cross them with its "
                    "levers, run every design point as a scenario overlay with common random numbers into "
                    "DIR/results.sqlite (crash-safe; --resume continues), then write sensitivity indices, PRIM "
                    "boxes, figures, report.html and exports for ema-workbench and SALib. See docs/explore.md.")
    e.add_argument("model", nargs="?", help="model file or directory (default: the default model)")
    e.add_argument("--spec", required=True, help="explore file (TOML: [uncertainties], [levers], [outcomes])")
    e.add_argument("--design", choices=("lhs", "sobol", "morris", "full"),
                   help="sampling design (default lhs; on --resume, the stored one)")
    e.add_argument("--n", type=int, help="design size: lhs points, sobol base samples (a power of 2), morris "
                                         "trajectories, full-factorial levels (default 64; on --resume, stored)")
    e.add_argument("--second-order", action="store_true", help="sobol: also second-order indices (n x (2D+2) points)")
    e.add_argument("--reps", type=int, default=3, help="replications per design point (default 3)")
    e.add_argument("--seed", type=int, help="root seed of the design and the replications (default: fresh, recorded)")
    g = e.add_mutually_exclusive_group()
    g.add_argument("--years", type=float, help="horizon in years (default: the explore file's, else the model's)")
    g.add_argument("--days", type=float, help="horizon in days")
    e.add_argument("--out", required=True, help="output directory")
    j = e.add_mutually_exclusive_group()
    j.add_argument("--jobs", type=int, default=1, help="local worker processes (default 1); results do not depend on it")
    j.add_argument("--dask", metavar="ADDRESS", help="run on a Dask scheduler, e.g. tcp://host:8786 (dask extra)")
    e.add_argument("--resume", action="store_true", help="continue the exploration stored in --out")
    e.add_argument("--no-report", action="store_true", help="skip the analysis, figures and report")
    add_check_option(e)
    e.add_argument("--quiet", action="store_true", help="no progress")
    e.set_defaults(func=cmd_explore)

    r = sub.add_parser("explore-report", help="analyse a stored exploration again: indices, PRIM, figures, report",
                       description="Read DIR/results.sqlite of supplysim explore and write the analysis, figures, "
                                   "report.html, report.md and the exports again (no simulation); --threshold "
                                   "and --density change the scenario discovery.")
    r.add_argument("dir", help="exploration directory (holding results.sqlite)")
    r.add_argument("--threshold", action="append", default=[], metavar="OUTCOME=VALUE",
                   help="threshold of an outcome's bad side (repeatable; default: the explore file's)")
    r.add_argument("--density", type=float, default=0.8, help="PRIM: the chosen box has at least this density "
                                                               "(default 0.8)")
    r.set_defaults(func=cmd_report)


def _positive(name, v):
    if v is not None and v < 1:
        raise SystemExit(f"supplysim explore: {name} must be at least 1, found {v}")


def cmd_explore(a):
    from ..paths import default_model_path
    from .run import Exploration
    for name, v in (("--reps", a.reps), ("--jobs", a.jobs), ("--n", a.n)):
        _positive(name, v)
    exp = Exploration(a.model or str(default_model_path()), a.spec, design=a.design, n=a.n, reps=a.reps,
                      seed=a.seed, years=a.years, days=a.days, out=a.out, check=a.check,
                      command=" ".join(["supplysim"] + sys.argv[1:]), second_order=a.second_order)
    client = executor = None
    if a.dask:
        try:
            from distributed import Client
        except ImportError:
            raise SystemExit("--dask needs the dask extra: pip install 'supplysim[dask]'")
        client = executor = Client(a.dask)
    try:
        res = exp.run(executor=executor, jobs=a.jobs, resume=a.resume, progress=not a.quiet, quiet=a.quiet)
    except KeyboardInterrupt:
        print(f"interrupted: finished replications are kept in {a.out}/results.sqlite; rerun with --resume",
              file=sys.stderr)
        return 130
    except FileExistsError as exc:
        raise SystemExit(f"supplysim explore: {exc}")
    finally:
        if client is not None:
            client.close()
    if a.no_report:
        print(f"results in {a.out}")
        return 0
    return _analyse(res, {}, 0.8)


def _analyse(res, thresholds, density):
    from .report import build_report
    path, answer = build_report(res, thresholds=thresholds, density=density)
    print(answer)
    print(f"report: {path}")
    return 0


def cmd_report(a):
    from .results import ExplorationResults
    th = {}
    for t in a.threshold:
        name, sep, val = t.partition("=")
        try:
            th[name.strip()] = float(val)
        except ValueError:
            sep = ""
        if not sep:
            raise SystemExit(f"supplysim explore-report: --threshold expects OUTCOME=NUMBER, found {t!r}")
    res = ExplorationResults(a.dir)
    for name in th:
        try:
            res.spec.outcome(name)
        except KeyError as exc:
            raise SystemExit(f"supplysim explore-report: {exc.args[0]}")
    return _analyse(res, th, a.density)
