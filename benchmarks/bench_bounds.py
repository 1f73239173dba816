"""How much the remaining speed options could give at most: where a default-model replication's instructions go.

Three measurements, each an upper bound on one family of changes that keep the results:

* **where** (valgrind): a replication's instructions split by the shared object that
  executes them (the Python interpreter, numpy, the C library, ...). numpy's share
  bounds what any composition kernel could save, compiled or not: a kernel that
  cost nothing would remove it and no more.
* **origin** (valgrind): the same replication with ``track_origin = false`` (no origin
  blocks in the composition vectors): what following only the composition that rules
  and outputs read could save at most.
* **prefix** (CPU seconds): the time a baseline replication takes to reach each
  scenario's first dated change, against the whole run. A study that forked the
  shared prefix of paired scenarios would skip that much per scenario, and no more.

    python benchmarks/bench_bounds.py                   # all three, ~15 min (valgrind)
    python benchmarks/bench_bounds.py --skip-valgrind   # prefix only, ~1 min

Instructions per replication are those of a process that loads the model and runs one
replication minus those of one that only loads it (as in ``bench_speed.py``);
callgrind's output goes to a temporary directory that is removed afterwards.
"""
from __future__ import annotations

import argparse
import collections
import dataclasses
import datetime as dt
import os
import re
import statistics
import sys
import tempfile
import time
import tomllib
from pathlib import Path

from _common import ROOT, callgrind, machine, shown, table, write_json

MODEL = ROOT / "models" / "rare_earths"
SCENARIOS = ("baseline", "cn-2025-04-licensing")


def worker(a):
    """Load the model (``--years 0``: only that) and run one replication, in a subprocess under valgrind."""
    from supplysim import Simulation, load_model
    model = load_model(a.model, scenario=None if a.scenario == "baseline" else a.scenario)
    if a.no_origin:
        model = dataclasses.replace(model, track_origin=False)
    if a.years > 0:
        Simulation(model, seed=a.seed, replication=0, check=a.check).run(years=a.years)


def count(a, scenario, years, no_origin, out):
    """Run a worker under callgrind writing ``out``; return the instructions it executed."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", "--scenario", scenario, "--years", str(years),
           "--seed", str(a.seed), "--model", str(a.model), "--check", a.check] + (["--no-origin"] if no_origin else [])
    return callgrind(cmd, dict(os.environ, PYTHONPATH=str(ROOT)), ROOT, out)[1]


_NAMED = re.compile(r"(ob|cob)=\((\d+)\)(?: (.*))?")


def by_object(path):
    """Instructions executed in each shared object (self cost, from a callgrind output file)."""
    names, tot, obj, after_calls = {}, collections.Counter(), None, False
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = _NAMED.match(line)
            if m:
                if m.group(3):
                    names[m.group(2)] = m.group(3)
                if m.group(1) == "ob":
                    obj = names[m.group(2)]
            elif line.startswith("calls="):
                after_calls = True   # the next cost line is the call's inclusive cost, not self cost
            elif line[:1].isdigit() or line[:1] in "+-*":
                if after_calls:
                    after_calls = False
                    continue
                parts = line.split()
                if len(parts) >= 2:
                    tot[obj] += int(parts[1])
    return tot


def group(obj):
    """The family a shared object belongs to."""
    name = Path(obj or "?").name
    if "numpy" in (obj or ""):
        return "numpy"
    if name.startswith("libpython"):
        return "Python interpreter"
    if name.startswith(("libc.", "libm.")):
        return "C library (malloc, memset, libm)"
    return "other (heapq, math, ...)"


def where(a, scenario, tmp):
    """Run-only instructions by family, and with origin not followed."""
    load_file, run_file = Path(tmp) / f"{scenario}.load", Path(tmp) / f"{scenario}.run"
    load_total = count(a, scenario, 0, False, load_file)
    run_total = count(a, scenario, a.years, False, run_file)
    load, run = by_object(load_file), by_object(run_file)
    fam = collections.Counter()
    for obj in run:
        fam[group(obj)] += run[obj] - load.get(obj, 0)
    no_origin = count(a, scenario, a.years, True, Path(tmp) / f"{scenario}.no-origin") - load_total
    per_rep = run_total - load_total
    return {"instructions_per_rep": per_rep, "by_family": dict(fam.most_common()),
            "no_origin_instructions_per_rep": no_origin, "no_origin_change": no_origin / per_rep - 1.0}


def first_change(scenario_file, start):
    """The earliest date a scenario file (or one it extends) names on or after the model's start.

    None when it names none: its changes (options switched on, parameters) hold from the start,
    so it shares no prefix with the baseline. A named date is an optimistic bound: a rule may act
    before it takes effect (buyers stocking up after an announcement, which is itself a date here).
    """
    found = []

    def walk(x):
        if isinstance(x, dict):
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)
        elif isinstance(x, dt.date) and x >= start:
            found.append(x)
    doc = tomllib.loads(Path(scenario_file).read_text(encoding="utf-8"))
    if doc.get("options"):
        return None   # an option may add or enable facilities, seen by buyers from the start
    walk(doc)
    ext = doc.get("extends", [])
    for name in [ext] if isinstance(ext, str) else ext:
        base = first_change(Path(scenario_file).parent / name, start)
        if base is None:
            return None
        found.append(base)
    return min(found) if found else None


def prefix(a):
    """CPU seconds of a baseline replication up to each scenario's first dated change, and in all."""
    from supplysim import Simulation, load_model
    model = load_model(a.model)
    start = model.calendar.start
    spin = model.spin_up_days
    dates = {}
    for f in sorted((Path(a.model) / "scenarios").glob("*.toml")):
        d = first_change(f, start)
        if f.stem != "baseline":
            dates[f.stem] = (d - start).days if d is not None else 0
    end = a.years * 365.0
    marks = sorted({d for d in dates.values() if 0 < d < end} | {end})   # (a change after the end: all shared)
    times = collections.defaultdict(list)
    for rep in range(a.reps):
        t0 = time.process_time()
        sim = Simulation(model, seed=a.seed, replication=rep, check=a.check)
        sim.run(until=marks[0])   # (it also builds a result there: prefixes come out a little long, the bound high)
        times[marks[0]].append(time.process_time() - t0)
        for day in marks[1:]:
            sim.env.run(day)
            times[day].append(time.process_time() - t0)
    total = statistics.median(times[end])
    cpu = {sc: statistics.median(times[min(day, end)]) if day > 0 else 0.0 for sc, day in dates.items()}
    rows = {sc: {"day": day, "cpu_s": cpu[sc], "share": cpu[sc] / total}
            for sc, day in sorted(dates.items(), key=lambda kv: kv[1])}
    # a study of the baseline and every scenario, each sharing the baseline's prefix up to its first change
    saved = sum(r["cpu_s"] for r in rows.values())
    study = (len(rows) + 1) * total
    return {"spin_up_days": spin, "cpu_s_whole_run": total, "scenarios": rows,
            "study_speedup_bound": study / (study - saved)}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--years", type=float, default=10.0)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--reps", type=int, default=3, help="replications timed for the prefix (median; default 3)")
    p.add_argument("--scenarios", nargs="+", default=list(SCENARIOS), help="scenarios whose instructions are split")
    p.add_argument("--model", default=str(MODEL))
    p.add_argument("--check", choices=("monthly", "yearly", "off"), default="yearly",
                   help="invariant checks (default yearly, as sweeps run)")
    p.add_argument("--skip-valgrind", action="store_true", help="measure the prefix only")
    p.add_argument("--out", default="bounds.json")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--scenario", help=argparse.SUPPRESS)
    p.add_argument("--no-origin", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.worker:
        return worker(a)
    data = {"benchmark": "bounds", "command": "python benchmarks/bench_bounds.py " + " ".join(sys.argv[1:]),
            "machine": machine(), "years": a.years, "seed": a.seed, "check": a.check, "where": {}}
    if not a.skip_valgrind:
        with tempfile.TemporaryDirectory() as tmp:
            for sc in a.scenarios:
                data["where"][sc] = w = where(a, sc, tmp)
                print(f"{sc}: {w['instructions_per_rep'] / 1e9:.2f} G instructions/rep", flush=True)
    data["prefix"] = pre = prefix(a)
    path = write_json(a.out, data)

    for sc, w in data["where"].items():
        n = w["instructions_per_rep"]
        print(f"\n{sc}, one {a.years:g}-year replication (seed {a.seed}): {n / 1e9:.2f} G instructions")
        print(table([[k, f"{v / 1e9:.2f} G", f"{v / n:.1%}"] for k, v in w["by_family"].items()],
                    ["executed in", "instructions", "share"]))
        numpy = w["by_family"].get("numpy", 0) / n
        print(f"a composition kernel costing nothing: at most {1 / (1 - numpy):.2f}x; "
              f"origin not followed: {w['no_origin_change']:+.1%} ({w['no_origin_instructions_per_rep'] / 1e9:.2f} G)")
    print(f"\nbaseline replication, {a.years:g} years after a {pre['spin_up_days']}-day spin-up: "
          f"{pre['cpu_s_whole_run']:.3f} CPU s (median of {a.reps})")
    print(table([[sc, r["day"], f"{r['cpu_s']:.3f}", f"{r['share']:.1%}"] for sc, r in pre["scenarios"].items()],
                ["scenario", "first dated change (day)", "CPU s to reach it", "share of the run"]))
    print(f"a study of the baseline and these {len(pre['scenarios'])} scenarios sharing each prefix: "
          f"at most {pre['study_speedup_bound']:.2f}x")
    print(f"\nwritten {shown(path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
