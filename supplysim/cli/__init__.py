"""The ``supplysim`` command."""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

from ..model.fields import MAX_YEARS

__all__ = ["main", "add_check_option"]

EXIT_MODEL = 2

#: ``--check`` choices: the names of ``supplysim.engine.invariants.CHECKS`` (not imported: ``--help``
#: would then load the experiment layer), the sweeps' default first.
CHECK_CHOICES = ("yearly", "monthly", "off")


def add_check_option(parser):
    """Add ``--check {yearly,monthly,off}`` (default yearly) and ``--no-check`` (``--check off``) to the
    parser of a command that runs replications; the parsed option is ``check``."""
    parser.add_argument("--check", choices=CHECK_CHOICES, default="yearly",
                        help="how often each replication checks mass balance, stock signs and pipelines (default "
                             "yearly: the totals are cumulative, so it catches what a monthly check does and dates "
                             "it less closely; results are the same)")
    parser.add_argument("--no-check", dest="check", action="store_const", const="off", help="--check off")


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

    v.set_defaults(func=cmd_validate)
    # the command groups of this package, then commands that live beside their own subject
    import importlib
    for name in COMMANDS + PLUGINS:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if not name.startswith(exc.name or "?"):
                raise
            continue
        mod.register(sub)
    return p


#: Command groups of this package: ``run`` and ``scenarios``; ``compare`` and ``report``; ``backtest``.
COMMANDS = ("supplysim.cli.run", "supplysim.cli.compare", "supplysim.cli.backtest")

#: Modules that add subcommands: each has ``register(subparsers)`` setting ``func`` defaults.
PLUGINS = ("supplysim.analysis.cli", "supplysim.plots.cli", "supplysim.explore.cli")


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
    except BrokenPipeError:
        return _closed_pipe()
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


def _closed_pipe():
    """The reader of our output went away (``supplysim scenarios | head``): stop quietly.

    Python would report the broken pipe again when it flushes stdout at exit, so stdout is
    pointed at the null device first.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return 0
