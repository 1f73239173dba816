"""Experiment throughput and memory.

(a) Throughput: an N-replication, 4-scenario comparison of the default model over a
    10-year and a 7-year horizon, run as a user runs it: ``supplysim compare models/rare_earths
    --scenarios ... --reps N --years Y --jobs J --seed S --out DIR --quiet`` in a fresh
    process, with its defaults (invariant checks every month, store, exports, figures and the
    HTML report). The target is 100 replications x 4 scenarios x 10 years in <= 5 minutes on
    2 cores. With ``--reps`` below 100 the 100-replication time is also extrapolated
    (measured time x 100 / reps; start-up and the report are counted in full, so the
    extrapolation errs high by that much).
(b) Memory: peak RSS of the main process while exporting and aggregating a store of 1,000
    replications (``ExperimentResults(out).export()``: summary with paired differences,
    replications.csv, timeseries.csv with streamed quantile sketches), measured in a fresh
    process with ``resource.getrusage(RUSAGE_SELF).ru_maxrss``. The store is made cheaply
    (baseline, 1-year horizon, ``--jobs``); its creation is also measured (main process and
    workers, ``RUSAGE_SELF`` / ``RUSAGE_CHILDREN``). An existing store in ``--mem-out`` with
    enough replications is reused.

    python benchmarks/bench_experiment.py                          # full: 100 reps, 10 and 7 years, 1,000-rep store
    python benchmarks/bench_experiment.py --reps 4 --years 2 --years2 1 --mem-reps 50   # quick check

A speed probe (median of 3 plain-SimPy replications of the peer network,
``simpy_baseline.py``) runs before and after each throughput run: on a shared machine whose
speed drifts, it tells a slow spell from a slow engine.

Writes benchmarks/results/experiment.json and prints a Markdown table.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import shown, ROOT, machine, write_json  # noqa: E402
import simpy_baseline  # noqa: E402

SCENARIOS = ["baseline", "cn-2010-quota", "cn-2025-04-licensing", "cn-us-embargo"]


def speed_probe(reps=3):
    """Median seconds of a plain-SimPy replication of the peer network (3,650 days)."""
    return sorted(simpy_baseline.run(1, r, 3650, False)["wall_s"] for r in range(reps))[reps // 2]

_THROUGHPUT = r"""
import json, resource, sqlite3, sys, time
from supplysim.experiment.experiment import Experiment
a = json.loads(sys.argv[1])
t0 = time.perf_counter()
exp = Experiment(a["model"], scenarios=a["scenarios"], reps=a["reps"], seed=a["seed"], years=a["years"],
                 out=a["out"], check=False)
t1 = time.perf_counter()
exp.run(jobs=a["jobs"], progress=False, quiet=True, resume=a.get("resume", False))
t2 = time.perf_counter()
db = sqlite3.connect(a["out"] + "/results.sqlite")
walls = {s: [w for (w,) in db.execute("SELECT wall_s FROM replications WHERE scenario = ?", (s,))]
         for s in a["scenarios"]}
print(json.dumps({"load_s": t1 - t0, "run_export_s": t2 - t1, "wall_s": t2 - t0, "rep_wall_s": walls,
                  "maxrss_self_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "maxrss_children_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""

_COMPARE = r"""
import json, resource, sqlite3, sys, time
from supplysim.cli import main
a = json.loads(sys.argv[1])
t0 = time.perf_counter()
rc = main(["compare", a["model"], "--scenarios", ",".join(a["scenarios"]), "--reps", str(a["reps"]),
           "--years", str(a["years"]), "--jobs", str(a["jobs"]), "--seed", str(a["seed"]), "--out", a["out"], "--quiet"])
t1 = time.perf_counter()
assert rc in (0, None), rc
db = sqlite3.connect(a["out"] + "/results.sqlite")
walls = {s: [w for (w,) in db.execute("SELECT wall_s FROM replications WHERE scenario = ?", (s,))]
         for s in a["scenarios"]}
print(json.dumps({"wall_s": t1 - t0, "rep_wall_s": walls,
                  "maxrss_self_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "maxrss_children_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""

_EXPORT = r"""
import json, resource, sys, time
from supplysim.experiment.experiment import ExperimentResults
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t0 = time.perf_counter()
res = ExperimentResults(sys.argv[1])
n = sum(len(res.replications(s)) for s in res.scenarios)
res.export()
t1 = time.perf_counter()
print(json.dumps({"replications": n, "export_s": t1 - t0, "maxrss_before_mb": rss0,
                  "maxrss_self_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _py(code, *args):
    r = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"benchmark step failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def throughput(args, years):
    out = ROOT / "runs" / "bench_experiment" / f"throughput-{years:g}y"
    shutil.rmtree(out, ignore_errors=True)
    r = _py(_COMPARE, json.dumps({"model": "models/rare_earths", "scenarios": args.scenarios, "reps": args.reps,
                                  "seed": args.seed, "years": years, "out": str(out), "jobs": args.jobs}))
    n = args.reps * len(args.scenarios)
    per = {s: sum(v) / len(v) for s, v in r["rep_wall_s"].items() if v}
    cpu = sum(sum(v) for v in r["rep_wall_s"].values())
    r.update({"years": years, "reps": args.reps, "scenarios": args.scenarios, "jobs": args.jobs, "replications": n,
              "mean_rep_wall_s": per, "sum_rep_wall_s": cpu,
              "wall_100_reps_s": r["wall_s"] * 100 / args.reps,
              "extrapolated": args.reps != 100})
    del r["rep_wall_s"]
    return r


def memory(args):
    out = Path(args.mem_out)
    have = 0
    if (out / "results.sqlite").exists():
        import sqlite3
        have = sqlite3.connect(out / "results.sqlite").execute("SELECT count(*) FROM replications").fetchone()[0]
    create = None
    if have < args.mem_reps:
        if have and not args.mem_resume:
            shutil.rmtree(out)
        create = _py(_THROUGHPUT, json.dumps({"model": "models/rare_earths", "scenarios": ["baseline"],
                                              "reps": args.mem_reps, "seed": args.seed, "years": args.mem_years,
                                              "out": str(out), "jobs": args.jobs,
                                              "resume": bool(have and args.mem_resume)}))
        create.pop("rep_wall_s", None)
    exp = _py(_EXPORT, str(out))
    size = (out / "results.sqlite").stat().st_size / 2**20
    return {"store": str(out.relative_to(ROOT) if out.is_relative_to(ROOT) else out), "store_mb": size,
            "horizon_years": args.mem_years, "create": create, "export": exp,
            "under_1gb": exp["maxrss_self_mb"] < 1024}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=100, help="replications per scenario (default 100)")
    ap.add_argument("--years", type=float, default=10, help="horizon of the main throughput run (default 10)")
    ap.add_argument("--years2", type=float, default=7, help="second horizon (default 7; 0 to skip)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated (default: %(default)s)")
    ap.add_argument("--mem-reps", type=int, default=1000, help="replications in the memory store (default 1000)")
    ap.add_argument("--mem-years", type=float, default=1, help="horizon of the memory store (default 1)")
    ap.add_argument("--mem-out", default=str(ROOT / "runs" / "bench_experiment" / "store-1000"))
    ap.add_argument("--mem-resume", action="store_true", help="top up an existing smaller store instead of "
                                                              "replacing it")
    ap.add_argument("--skip-throughput", action="store_true")
    ap.add_argument("--skip-memory", action="store_true")
    args = ap.parse_args(argv)
    args.scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    data = {"machine": machine(), "started": time.strftime("%Y-%m-%dT%H:%M:%S"), "command": " ".join(sys.argv)}
    rows = []
    if not args.skip_throughput:
        data["throughput"] = []
        for y in [args.years] + ([args.years2] if args.years2 else []):
            before = speed_probe()
            r = throughput(args, y)
            r["speed_probe_s"] = {"before": before, "after": speed_probe()}
            data["throughput"].append(r)
            rows.append([f"(a) supplysim compare, {r['reps']} reps x {len(r['scenarios'])} scenarios, {y:g} years, jobs {r['jobs']}",
                         f"{r['wall_s']:.1f} s wall ({r['sum_rep_wall_s']:.0f} s in replications)"])
            rows.append([f"(a) -> 100 reps x {len(r['scenarios'])} scenarios, {y:g} years"
                         + (" (extrapolated)" if r["extrapolated"] else ""),
                         f"{r['wall_100_reps_s']:.0f} s = {r['wall_100_reps_s'] / 60:.1f} min "
                         f"(target 300 s: {'met' if r['wall_100_reps_s'] <= 300 else 'NOT met'})"])
            rows.append([f"(a) mean s/replication, {y:g} years",
                         ", ".join(f"{s} {v:.2f}" for s, v in r["mean_rep_wall_s"].items())])
            rows.append(["speed probe: plain-SimPy peer replication before / after",
                         f"{r['speed_probe_s']['before']:.3f} s / {r['speed_probe_s']['after']:.3f} s"])
    if not args.skip_memory:
        m = memory(args)
        data["memory"] = m
        if m["create"]:
            rows.append([f"(b) create {args.mem_reps} reps (baseline, {args.mem_years:g} y, jobs {args.jobs})",
                         f"{m['create']['wall_s']:.0f} s; peak RSS main {m['create']['maxrss_self_mb']:.0f} MB, "
                         f"largest worker {m['create']['maxrss_children_mb']:.0f} MB"])
        e = m["export"]
        rows.append([f"(b) ExperimentResults.export() of {e['replications']} reps ({m['store_mb']:.0f} MB store)",
                     f"{e['export_s']:.1f} s; peak RSS {e['maxrss_self_mb']:.0f} MB "
                     f"(after imports {e['maxrss_before_mb']:.0f} MB; target < 1024 MB: "
                     f"{'met' if m['under_1gb'] else 'NOT met'})"])
    data["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    p = write_json("experiment.json", data)
    print("| measurement | result |\n|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} |")
    print(f"\nwritten {shown(p)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
