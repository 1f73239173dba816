"""``supplysim run`` and ``supplysim scenarios``.

``run`` is a one-scenario experiment: the same store, manifest and exports as ``compare``
(:class:`supplysim.experiment.Experiment`); it prints what it ran (model, scenario, horizon,
seed, replications) and the catalogue's headline metrics per region.
"""
from __future__ import annotations

import sys
from pathlib import Path

from . import add_check_option

__all__ = ["register", "cmd_run", "cmd_scenarios"]


def register(sub):
    r = sub.add_parser("run", help="run replications of one scenario and print what each region received",
                       description="Run N replications of a model (and scenario) into DIR/results.sqlite, print "
                                   "the share of demand each region received, the demand it lost, its worst "
                                   "month, months short and recovery (estimate and 95% interval), and write "
                                   "summary.json, replications.csv and timeseries.csv (and series.parquet with "
                                   "pyarrow). To compare scenarios, use supplysim compare.")
    r.add_argument("model", nargs="?", help="model file or directory (default: the default model)")
    r.add_argument("--scenario", help="scenario name (or a+b to combine) or scenario file; default baseline")
    r.add_argument("--reps", type=int, default=10, help="replications (default 10)")
    r.add_argument("--seed", type=int, default=None,
                   help="root seed (default: fresh entropy, recorded in the manifest)")
    g = r.add_mutually_exclusive_group()
    g.add_argument("--years", type=float, help="horizon in years (default: the model's 'years')")
    g.add_argument("--days", type=float, help="horizon in days")
    r.add_argument("--jobs", type=int, default=1, help="worker processes (default 1); results do not depend on it")
    r.add_argument("--out", default=None, help="output directory (default runs/<model>-<scenario>)")
    r.add_argument("--resume", action="store_true", help="continue the run stored in --out")
    r.add_argument("--replace", action="store_true", help="replace a run already stored in --out")
    r.add_argument("--quiet", action="store_true", help="no progress")
    add_check_option(r)
    r.set_defaults(func=cmd_run)

    s = sub.add_parser("scenarios", help="list the scenarios shipped with a model")
    s.add_argument("model", nargs="?", help="model file or directory (default: the default model)")
    s.set_defaults(func=cmd_scenarios)


def _default_out(model_path, scenario_name):
    """A folder under runs/ named after the model and scenario, slugged: a scenario named "../../x"
    must not lead outside runs/."""
    from ..experiment.files import slug
    p = Path(str(model_path))
    stem = p.stem if p.is_file() else p.resolve().name
    return Path("runs") / slug(f"{stem}-{scenario_name}")


def cmd_run(a):
    from ..experiment import Experiment
    from ..experiment.summary import format_headline, format_prices, format_run_header
    from ..paths import default_model_path
    if a.reps < 1:
        raise SystemExit("supplysim run: --reps must be at least 1")
    if a.jobs < 1:
        raise SystemExit("supplysim run: --jobs must be at least 1")
    model_path = str(a.model or default_model_path())
    scen = a.scenario or "baseline"
    exp = Experiment(model_path, scenarios=[scen], reps=a.reps, seed=a.seed, years=a.years, days=a.days,
                     out=Path("."), check=a.check, command=" ".join(["supplysim"] + sys.argv[1:]))
    exp.out = Path(a.out) if a.out else _default_out(model_path, exp.models[scen].scenario_name)
    db = exp.out / "results.sqlite"
    if db.exists() and a.replace and not a.resume:
        _clear(exp.out)
    elif db.exists() and not a.resume:
        raise SystemExit(f"supplysim run: {db} exists: pass --resume to continue it, --replace to start again, "
                         "or choose another --out")
    try:
        res = exp.run(jobs=a.jobs, resume=a.resume, progress=not a.quiet, quiet=a.quiet)
    except KeyboardInterrupt:
        print(f"interrupted: finished replications are kept in {db}; rerun with --resume", file=sys.stderr)
        return 130
    print(format_run_header(res))
    print(format_headline(res))
    if format_prices(res):
        print(format_prices(res))
    print(f"\nwrote {res.out}/summary.json, replications.csv, timeseries.csv"
          f"{', series.parquet' if (res.out / 'series.parquet').exists() else ''}; "
          f"report: supplysim report {res.out}")
    if scen == "baseline":
        from ..model import list_scenarios
        other = next((s for s in list_scenarios(model_path) if s != "baseline"), "SCENARIO")
    else:
        other = scen
    print(f"to compare scenarios (paired, common random numbers): supplysim compare "
          f"{'' if a.model is None else model_path + ' '}--scenarios baseline,{other} --reps {a.reps} --out DIR")
    return 0


def _clear(out):
    """Remove the files a previous run wrote into ``out`` (and nothing else)."""
    import shutil
    for f in ("results.sqlite", "results.sqlite-journal", "summary.json", "replications.csv", "timeseries.csv",
              "series.parquet", "run.log", "report.html", "report.md", "bounds.json"):
        (out / f).unlink(missing_ok=True)
    shutil.rmtree(out / "figures", ignore_errors=True)


def cmd_scenarios(a):
    from ..model import list_scenarios
    from ..paths import default_model_path
    sc = list_scenarios(a.model or str(default_model_path()))
    if not sc:
        print("no scenarios beside this model (scenarios/NAME.toml)")
        return 0
    w = max(len(k) for k in sc)
    for k, d in sc.items():
        print(f"{k:<{w}}  {d}")
    return 0
