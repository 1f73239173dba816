"""The ``supplysim`` command."""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

from ..experiment.files import slug
from ..model.fields import MAX_YEARS

__all__ = ["main"]

EXIT_MODEL = 2


def _default_model():
    from ..paths import default_model_path
    return str(default_model_path())


def _parser():
    p = argparse.ArgumentParser(
        prog="supplysim",
        description="Simulate the rare-earth supply chain from mine to magnet and stress it with export "
                    "controls. With no MODEL, commands use the default model.")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    p.add_argument("--allow-dir", action="append", default=[], metavar="DIR",
                   help="a folder outside the model's own that its 'include' and 'extends' may read from "
                        "(repeatable; by default they read only inside the model's folder)")
    sub = p.add_subparsers(dest="cmd", metavar="COMMAND")

    v = sub.add_parser("validate", help="check a model (and scenario) and print its summary",
                       description="Check a model file or directory. Prints a summary (facilities by stage and "
                                   "country, capacity by stage) and exits 0, or prints every problem and exits 2.")
    v.add_argument("model", nargs="?", help="model file or directory (default: the default model)")
    v.add_argument("--scenario", help="scenario name (or a+b to combine) or scenario file")
    v.add_argument("--json", action="store_true", help="print the summary as JSON")

    r = sub.add_parser("run", help="run replications and print a KPI table",
                       description="Run N replications of a model (and scenario), print mean and 95% interval "
                                   "per KPI, and write DIR/summary.json and DIR/replications.csv.")
    r.add_argument("model", nargs="?", help="model file or directory (default: the default model)")
    r.add_argument("--scenario", help="scenario name (or a+b to combine) or scenario file; default baseline")
    r.add_argument("--reps", type=int, default=10, help="replications (default 10)")
    r.add_argument("--seed", type=int, default=None,
                   help="root seed (default: fresh entropy, recorded in the summary)")
    g = r.add_mutually_exclusive_group()
    g.add_argument("--years", type=float, help="horizon in years (default: the model's 'years')")
    g.add_argument("--days", type=float, help="horizon in days")
    r.add_argument("--jobs", type=int, default=1, help="worker processes (default 1); results do not depend on it")
    r.add_argument("--out", default=None, help="output directory (default runs/<model>-<scenario>)")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    r.add_argument("--no-check", action="store_true", help="skip the invariant checks (a little faster)")

    s = sub.add_parser("scenarios", help="list the scenarios shipped with a model")
    s.add_argument("model", nargs="?", help="model file or directory (default: the default model)")
    v.set_defaults(func=cmd_validate)
    r.set_defaults(func=cmd_run)
    s.set_defaults(func=cmd_scenarios)
    # commands that live beside their own subject (analysis, figures, experiments)
    import importlib
    for name in PLUGINS:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if not name.startswith(exc.name or "?"):
                raise
            continue
        mod.register(sub)
    return p


#: Modules that add subcommands: each has ``register(subparsers)`` setting ``func`` defaults.
PLUGINS = ("supplysim.analysis.cli", "supplysim.plots.cli", "supplysim.experiment.cli", "supplysim.explore.cli")


def _load(model, scenario=None):
    from ..model import load_model
    return load_model(model, scenario=scenario)


def cmd_validate(a):
    m = _load(a.model or _default_model(), a.scenario)
    summ = m.summary()
    if a.json:
        print(json.dumps(summ, indent=1))
        return 0
    print(f"model {summ['name']} ({m.path}), scenario {summ['scenario']}: valid")
    print(f"  {len(m.facilities)} nodes, {summ['lanes']} lanes, {len(m.demand)} demand sinks, "
          f"start {m.calendar.start}")
    print(f"  {'stage':<16}{'n':>4}{'capacity t/yr':>16}  countries (share of capacity)")
    for stage, s in summ["stages"].items():
        ctry = sorted(s["by_country"].items(), key=lambda kv: -kv[1]["capacity_t_yr"])
        cs = ", ".join(f"{c} {d['share']:.0%}" if s["capacity_t_yr"] > 0 else f"{c} ({d['facilities']})"
                       for c, d in ctry)
        print(f"  {stage:<16}{s['facilities']:>4}{s['capacity_t_yr']:>16,.0f}  {cs}")
    if summ["demand_t_yr_by_region"]:
        print("  demand t/yr: " + ", ".join(f"{r} {v:,.0f}" for r, v in summ["demand_t_yr_by_region"].items()))
    return 0


def cmd_run(a):
    from ..experiment import Task, format_table, run_replications, write_replications_csv, write_summary
    from ..engine.results import versions
    from ..random import as_entropy
    if a.reps < 1:
        raise SystemExit("supplysim run: --reps must be at least 1")
    if a.jobs < 1:
        raise SystemExit("supplysim run: --jobs must be at least 1")
    model_path = a.model or _default_model()
    m = _load(model_path, a.scenario)
    until = a.days if a.days is not None else (a.years if a.years is not None else m.years) * 365.0
    if until <= 0:
        raise SystemExit("supplysim run: the horizon must be positive")
    entropy = as_entropy(a.seed)
    # without --out, a folder under runs/ named after the model and scenario, slugged: a scenario
    # named "../../x" must not lead outside runs/
    stem = Path(str(model_path)).stem if Path(model_path).is_file() else Path(model_path).resolve().name
    out = Path(a.out) if a.out else Path("runs") / slug(f"{stem}-{m.scenario_name}")
    out.mkdir(parents=True, exist_ok=True)
    tasks = [Task(str(model_path), a.scenario, entropy, r, until, (), not a.no_check) for r in range(a.reps)]
    manifest = {"command": " ".join(["supplysim"] + sys.argv[1:]), "model": m.name, "model_path": str(model_path),
                "model_sha256": m.digest(), "model_files": m.files, "scenario": m.scenario_name,
                "scenario_meta": m.scenario, "entropy": entropy, "replications": a.reps, "horizon_days": until,
                "start": m.calendar.start.isoformat(), "versions": versions(),
                "started": time.strftime("%Y-%m-%dT%H:%M:%S")}
    results = []
    bar = None
    if not a.quiet:
        from tqdm import tqdm
        bar = tqdm(total=a.reps, desc=f"{m.scenario_name}", unit="rep", file=sys.stderr)
    interrupted = False
    try:
        for _, res in run_replications(tasks, jobs=a.jobs, progress=bar.update if bar else None):
            results.append(res)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if bar:
            bar.close()
    if not results:
        print("interrupted before any replication finished", file=sys.stderr)
        return 130
    manifest["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    manifest["completed_replications"] = len(results)
    data = write_summary(out / "summary.json", manifest, results)
    write_replications_csv(out / "replications.csv", results)
    print(format_table(data["scenarios"]))
    print(f"wrote {out / 'summary.json'} and {out / 'replications.csv'}")
    if interrupted:
        print(f"interrupted: kept {len(results)} of {a.reps} replications", file=sys.stderr)
        return 130
    return 0


def cmd_scenarios(a):
    from ..model import list_scenarios
    sc = list_scenarios(a.model or _default_model())
    if not sc:
        print("no scenarios beside this model (scenarios/NAME.toml)")
        return 0
    w = max(len(k) for k in sc)
    for k, d in sc.items():
        print(f"{k:<{w}}  {d}")
    return 0


#: Numeric options any command may take, with the range each accepts (checked before anything runs).
_RANGES = {
    "reps": (1, 10**6, "an integer in [1, 1000000]"),
    "jobs": (1, 1024, "an integer in [1, 1024] (worker processes)"),
    "years": (0, MAX_YEARS, f"a number of years > 0, at most {MAX_YEARS:g}"),
    "days": (0, MAX_YEARS * 365, f"a number of days > 0, at most {MAX_YEARS * 365:g}"),
    "seed": (0, None, "an integer >= 0"),
    "precision": (0, 1, "a relative half-width in (0, 1)"),
    "max_reps": (1, 10**6, "an integer in [1, 1000000]"),
}


def _argument_problems(a) -> list:
    """``--option: expected ..., found ...`` for every numeric option out of its range."""
    out = []
    for name, (lo, hi, expected) in _RANGES.items():
        v = getattr(a, name, None)
        if v is None:
            continue
        ok = math.isfinite(v) and v > lo if name in ("years", "days", "precision") else v >= lo
        ok = ok and (hi is None or (v < hi if name == "precision" else v <= hi))
        if not ok:
            out.append(f"--{name.replace('_', '-')}: expected {expected}, found {v!r}")
    if getattr(a, "max_reps", None) is not None and getattr(a, "reps", None) is not None and a.max_reps < a.reps:
        out.append(f"--max-reps: expected at least --reps ({a.reps}), found {a.max_reps}")
    return out


def main(argv=None):
    """Run the command line; return the exit status (0 done, 2 bad input or damaged results, 130 interrupted).

    Every error the user can act on is printed as one message naming what is wrong (the file and
    key of a model, the option, the replication, the store) without a traceback.
    """
    from ..engine import InvariantError
    from ..experiment.executors import ReplicationError
    from ..experiment.store import StoreError
    from ..model import ModelError
    from ..model.load import ALLOW_ENV
    p = _parser()
    a = p.parse_args(argv)
    if a.version:
        from .. import __version__
        print(f"supplysim {__version__}")
        return 0
    if not a.cmd:
        p.print_help()
        return 0
    bad = _argument_problems(a)
    if bad:
        print("\n".join(f"supplysim {a.cmd}: {b}" for b in bad), file=sys.stderr)
        return EXIT_MODEL
    if a.allow_dir:
        # the environment carries the folders to worker processes, which load the model themselves
        os.environ[ALLOW_ENV] = os.pathsep.join([*(str(Path(d).resolve()) for d in a.allow_dir),
                                                 *filter(None, os.environ.get(ALLOW_ENV, "").split(os.pathsep))])
    try:
        return a.func(a)
    except ModelError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_MODEL
    except ReplicationError as exc:
        print(f"supplysim {a.cmd}: {exc}", file=sys.stderr)
        if isinstance(exc.error, InvariantError):
            print("  an invariant of the simulation failed (see docs/model-format.md, section 12); the "
                  "replications finished before it are kept", file=sys.stderr)
        return EXIT_MODEL
    except StoreError as exc:
        print(f"supplysim {a.cmd}: {exc}", file=sys.stderr)
        return EXIT_MODEL
    except (OSError, ValueError, OverflowError) as exc:
        print(f"supplysim {a.cmd}: {exc}", file=sys.stderr)
        return EXIT_MODEL
    except KeyboardInterrupt:
        print(f"supplysim {a.cmd}: interrupted", file=sys.stderr)
        return 130

