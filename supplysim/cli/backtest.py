"""``supplysim backtest``: a scenario's monthly trade and prices against observed data.

Runs the replications (common random numbers from one root seed, as every command), compares them
with the observed-data file (:mod:`supplysim.backtest`), prints per series the error and the largest
drop, and writes ``backtest.json`` (manifest and every number), ``backtest.csv`` (row by row) and
``backtest.png`` into the output folder. ``docs/backtest.md`` documents the file and the measures.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import sys
from pathlib import Path

__all__ = ["register", "cmd_backtest"]


def register(sub):
    b = sub.add_parser(
        "backtest", help="compare a scenario's monthly trade and prices with observed data",
        description="Run N replications of a model and scenario up to the last observed month, compare them with "
                    "an observed-data CSV (month, exporter, importer, commodity, tonnes or price; see "
                    "docs/backtest.md), print per series the MAPE, bias, RMSE, coverage and the largest drop "
                    "(observed and simulated), and write DIR/backtest.json, DIR/backtest.csv and DIR/backtest.png.")
    b.add_argument("model", nargs="?", help="model file or directory (default: the default model)")
    b.add_argument("--scenario", help="scenario name (or a+b) or scenario file; default baseline")
    b.add_argument("--observed", required=True, metavar="FILE.csv", help="observed data (docs/backtest.md)")
    b.add_argument("--reps", type=int, default=10, help="replications (default 10)")
    b.add_argument("--seed", type=int, default=None, help="root seed (default: fresh entropy, recorded)")
    b.add_argument("--jobs", type=int, default=1, help="worker processes (default 1); results do not depend on it")
    b.add_argument("--out", default=None, help="output directory (default runs/backtest-<model>-<scenario>)")
    b.add_argument("--quiet", action="store_true", help="print only the per-series table")
    b.set_defaults(func=cmd_backtest)


def _first_day_after(cal, label):
    y, m = int(label[:4]), int(label[5:7])
    y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return cal.day(dt.date(y, m, 1))


def _fmt(x, unit, signed=False):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    s = f"{x:+,.1f}" if signed else f"{x:,.1f}"
    return f"{s} {unit}"


def _drop(d):
    return "-" if not d else f"{d['depth']:.0%} {d['peak']}->{d['trough']}"


def format_reports(reports) -> str:
    """The per-series table the command prints."""
    head = f"{'series':<32} {'n':>3} {'MAPE':>7} {'bias':>14} {'bias %':>8} {'RMSE':>12} {'cover':>6}  " \
           f"{'largest drop observed':<24} {'simulated':<24}"
    lines = [head, "-" * len(head)]
    for r in reports:
        if not r["points"]:
            why = "no price series in the results (the model has no market)" if r["kind"] == "price" \
                else "not in the results"
            lines.append(f"{r['series']:<32} {0:>3}  {why}")
            continue
        lines.append(f"{r['series']:<32} {r['points']:>3} {r['mape']:>7.1%} {_fmt(r['bias'], r['unit'], True):>14} "
                     f"{r['bias_pct']:>+8.1%} {_fmt(r['rmse'], r['unit']):>12} {r['coverage']:>6.0%}  "
                     f"{_drop(r.get('drop_observed')):<24} {_drop(r.get('drop_simulated')):<24}")
    return "\n".join(lines)


def _rows_csv(reports) -> str:
    import csv
    import io
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["series", "months", "observed", "simulated_mean", "simulated_p2_5", "simulated_p97_5", "unit",
                "source", "line"])
    for r in reports:
        for t in r["rows"]:
            w.writerow([r["series"], t["months"], t["observed"], t["simulated"], t["low"], t["high"], r["unit"],
                        t["source"], t["line"]])
    return buf.getvalue()


def cmd_backtest(a):
    from ..backtest import ObservedDataError, compare, draw_backtest, read_observed
    from ..backtest.observed import month_index
    from ..engine.results import versions
    from ..experiment import Task, run_replications
    from ..experiment.files import slug, write_text
    from ..model import load_model
    from ..model.errors import Problem
    from ..paths import default_model_path
    from ..random import as_entropy
    if a.reps < 2:
        raise SystemExit("supplysim backtest: --reps must be at least 2 (the simulated range needs replications)")
    if a.jobs < 1:
        raise SystemExit("supplysim backtest: --jobs must be at least 1")
    model_path = str(a.model or default_model_path())
    model = load_model(model_path, scenario=a.scenario)
    obs = read_observed(a.observed)
    start = model.calendar.month_label(0)
    early = [Problem(a.observed, f"line {o.line}, column month", f"{o.first} is before the model's start ({start})")
             for o in obs if month_index(o.first) < month_index(start)]
    if early:
        raise ObservedDataError(early)
    last = max((o.last for o in obs), key=month_index)
    until = _first_day_after(model.calendar, last)
    entropy = as_entropy(a.seed)
    tasks = [Task(model_path, a.scenario, entropy, r, until) for r in range(a.reps)]
    if not a.quiet:
        print(f"backtest: {model.name}, scenario {model.scenario_name}, {a.reps} replications to {last} "
              f"(day {until:g}), seed {entropy}, observed {a.observed} ({len(obs)} rows)", flush=True)
    results = sorted((res for _, res in run_replications(tasks, jobs=a.jobs)), key=lambda r: r.replication)
    reports = compare(obs, results)
    print(format_reports(reports))
    out = Path(a.out) if a.out else Path("runs") / slug(f"backtest-{Path(model_path).stem}-{model.scenario_name}")
    out.mkdir(parents=True, exist_ok=True)
    manifest = {"command": " ".join(["supplysim"] + sys.argv[1:]), "model": model.name,
                "model_sha256": model.digest(), "scenario": model.scenario_name, "entropy": entropy,
                "replications": a.reps, "horizon_days": until, "observed": str(a.observed),
                "observed_sha256": hashlib.sha256(Path(a.observed).read_bytes()).hexdigest(),
                "versions": versions()}
    write_text(out / "backtest.json", json.dumps(_clean({"manifest": manifest, "series": reports}), indent=2,
                                                 allow_nan=False))
    write_text(out / "backtest.csv", _rows_csv(reports))
    draw_backtest(reports, out / "backtest.png",
                  title=f"{model.name} / {model.scenario_name}: observed (black) and simulated (blue, mean and "
                        f"2.5-97.5% of {a.reps} replications)")
    if not a.quiet:
        print(f"written: {out / 'backtest.json'}, {out / 'backtest.csv'}, {out / 'backtest.png'}")
    return 0


def _clean(x):
    """JSON-ready: NaN and infinities become null (strict JSON has neither)."""
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x
