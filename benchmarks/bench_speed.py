"""Side by side: CPU seconds and instructions per replication of the default model, two engines.

The engine of this checkout ("new") runs against another checkout of the project
("old", e.g. a worktree of an earlier commit), each in its own subprocess with its
own ``PYTHONPATH``. Runs alternate old/new (the order flips every round), so a slow
spell of a shared machine falls on both. Every replication's results are
fingerprinted (``fingerprint.py``): the table says whether the two engines gave the
same results, replication by replication.

    python benchmarks/bench_speed.py --old ../wt-before                      # CPU s/rep, 3 rounds
    python benchmarks/bench_speed.py --old ../wt-before --instructions       # + valgrind instructions
    python benchmarks/bench_speed.py --old ../wt-before --check yearly       # the new engine checks as sweeps do

CPU seconds are the process time of ``Simulation(...)`` + ``run(years=...)`` (model
parsed once before). Instructions per replication are those of a process that loads
the model and runs one replication minus those of one that only loads it (valgrind's
callgrind; the machine has no hardware counters), so imports and parsing are left out.

Both engines check their invariants at every month end unless ``--check yearly`` (or ``off``)
is given: the setting goes to both engines' ``Simulation(check=...)``, except that an engine
from before check cadences (whose ``check`` is a switch) is given on for any setting but
``off``, and checks monthly.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _common import ROOT, callgrind, events_processed, machine, shown, table, write_json

MODEL = ROOT / "models" / "rare_earths"
SCENARIOS = ("baseline", "cn-2025-04-licensing")


def worker(a):
    """Run in a subprocess whose ``PYTHONPATH`` names the engine under test: print one JSON line."""
    import supplysim
    from supplysim import Simulation, load_model
    tree = Path(os.environ["PYTHONPATH"].split(os.pathsep)[0]).resolve()
    if not Path(supplysim.__file__).resolve().is_relative_to(tree):
        sys.exit(f"supplysim imported from {supplysim.__file__}, not from {tree}")
    from fingerprint import fingerprint   # (after supplysim: it must not put this checkout first)
    model = load_model(a.model, scenario=None if a.scenario == "baseline" else a.scenario)
    try:
        from supplysim.engine.invariants import CHECKS   # noqa: F401 (an engine that takes a cadence)
        check = a.check
    except ImportError:
        check = a.check != "off"   # an engine before cadences: checks are a switch, monthly when on
    reps = []
    for r in range(a.first, a.first + a.reps):
        t0, w0 = time.process_time(), time.perf_counter()
        sim = Simulation(model, seed=a.seed, replication=r, check=check)
        res = sim.run(years=a.years)
        t1, w1 = time.process_time(), time.perf_counter()
        reps.append({"rep": r, "cpu_s": t1 - t0, "wall_s": w1 - w0, "events": events_processed(sim.env),
                     "fingerprint": fingerprint(res),
                     "engine": getattr(supplysim.engine, "ENGINE", "python")})   # (compiled or source)
    print(json.dumps(reps))


def run_worker(tree, scenario, reps, first, a, valgrind=False):
    env = dict(os.environ, PYTHONPATH=str(tree))
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", "--scenario", scenario, "--reps", str(reps),
           "--first", str(first), "--years", str(a.years), "--seed", str(a.seed), "--model", str(a.model),
           "--check", a.check]
    if valgrind:
        p, instructions = callgrind(cmd, env, tree)
        return json.loads(p.stdout.strip().splitlines()[-1]), instructions
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=tree)
    if p.returncode:
        sys.exit(f"worker failed ({tree}, {scenario}):\n{p.stderr[-3000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--old", help="checkout of the engine to compare with (its root directory)")
    p.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    p.add_argument("--reps", type=int, default=2, help="replications per engine, scenario and round (default 2)")
    p.add_argument("--years", type=float, default=10.0)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--scenarios", nargs="+", default=list(SCENARIOS))
    p.add_argument("--instructions", action="store_true", help="also count instructions per replication (valgrind)")
    p.add_argument("--model", default=str(MODEL))
    p.add_argument("--check", choices=("monthly", "yearly", "off"), default="monthly",
                   help="both engines' invariant checks (default monthly; an engine without cadences checks monthly)")
    p.add_argument("--out", default="speed.json")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--scenario", help=argparse.SUPPRESS)
    p.add_argument("--first", type=int, default=0, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.worker:
        return worker(a)
    if not a.old:
        p.error("--old is required (a checkout of the engine to compare with)")
    trees = {"old": Path(a.old).resolve(), "new": ROOT}
    for name, t in trees.items():
        if not (t / "supplysim" / "engine").is_dir():
            p.error(f"--old: {t} is not a checkout of supplysim (no supplysim/engine)")
    commits = {k: subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=t, capture_output=True,
                                 text=True).stdout.strip() for k, t in trees.items()}
    data = {"benchmark": "speed", "command": "python benchmarks/bench_speed.py " + " ".join(sys.argv[1:]),
            "machine": machine(), "commits": commits, "years": a.years, "seed": a.seed, "check": a.check,
            "rounds": a.rounds,
            "reps_per_round": a.reps, "scenarios": {}}
    for sc in a.scenarios:
        runs = {"old": [], "new": []}
        for rnd in range(a.rounds):
            order = ("old", "new") if rnd % 2 == 0 else ("new", "old")
            for eng in order:
                reps = run_worker(trees[eng], sc, a.reps, rnd * a.reps, a)
                runs[eng] += reps
                print(f"{sc} round {rnd} {eng}: " + ", ".join(f"{r['cpu_s']:.3f}" for r in reps) + " CPU s", flush=True)
        d = {eng: {"reps": runs[eng], "cpu_s_median": statistics.median(r["cpu_s"] for r in runs[eng]),
                   "events_median": statistics.median(r["events"] for r in runs[eng])} for eng in runs}
        paired = [o["cpu_s"] / n["cpu_s"] for o, n in zip(runs["old"], runs["new"])]
        d["speedup_cpu_medians"] = d["old"]["cpu_s_median"] / d["new"]["cpu_s_median"]
        d["speedup_cpu_paired_median"] = statistics.median(paired)
        d["same_results"] = all(o["fingerprint"] == n["fingerprint"] for o, n in zip(runs["old"], runs["new"]))
        if a.instructions:
            for eng in ("old", "new"):
                _, base = run_worker(trees[eng], sc, 0, 0, a, valgrind=True)
                _, one = run_worker(trees[eng], sc, 1, 0, a, valgrind=True)
                d[eng]["instructions_per_rep"] = one - base
                print(f"{sc} {eng}: {(one - base) / 1e9:.2f} G instructions/rep", flush=True)
            d["speedup_instructions"] = d["old"]["instructions_per_rep"] / d["new"]["instructions_per_rep"]
        data["scenarios"][sc] = d
    path = write_json(a.out, data)
    rows = []
    for sc, d in data["scenarios"].items():
        ins = (lambda e: f"{d[e]['instructions_per_rep'] / 1e9:.2f}") if a.instructions else (lambda e: "-")
        rows.append([sc, f"{d['old']['cpu_s_median']:.3f}", f"{d['new']['cpu_s_median']:.3f}",
                     f"{d['speedup_cpu_medians']:.2f}x ({d['speedup_cpu_paired_median']:.2f}x paired)",
                     ins("old"), ins("new"),
                     f"{d['speedup_instructions']:.2f}x" if a.instructions else "-",
                     f"{d['old']['events_median']:,.0f} / {d['new']['events_median']:,.0f}",
                     "yes" if d["same_results"] else "NO"])
    print()
    builds = {eng: "/".join(sorted({r["engine"] for d in data["scenarios"].values() for r in d[eng]["reps"]}))
              for eng in ("old", "new")}
    print(f"old = {shown(trees['old'])} ({commits['old']}, {builds['old']}), new = {commits['new']} ({builds['new']}); "
          f"{a.years:g} years, seed {a.seed}, "
          f"{a.rounds} rounds x {a.reps} reps per engine; invariant checks {a.check}")
    print(table(rows, ["scenario", "old CPU s/rep", "new CPU s/rep", "speed-up (CPU)", "old G instr/rep",
                       "new G instr/rep", "speed-up (instr)", "events/rep old / new", "same results"]))
    print(f"\nwritten {shown(path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
