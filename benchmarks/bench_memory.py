"""Memory of the main process as an experiment grows: peak RSS at N replications of the tutorial.

Each N runs in a fresh process: ``Experiment("models/examples/tutorial.toml", ["baseline"],
reps=N, seed=1, days=DAYS).run(jobs=JOBS)`` (pool, store, exports; no report), then reports
the main process's peak resident set (``resource.getrusage(RUSAGE_SELF).ru_maxrss``), the
peak it had reached when the replications were all stored (before the exports read the
store back) and the workers' peak (``RUSAGE_CHILDREN``). The main process keeps nothing of
a finished replication once it is stored (executors hand each result on and drop its
future; a few tasks are in flight at a time), so its peak should not grow with N.

    python benchmarks/bench_memory.py                       # N = 100 and 3,000 (about 8 min on 2 cores)
    python benchmarks/bench_memory.py --reps 100 300 --days 120   # quick check

Writes benchmarks/results/memory.json and prints a Markdown table.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, machine, write_json  # noqa: E402

_ONE = r"""
import json, resource, sys, time
from supplysim.experiment import experiment as E
a = json.loads(sys.argv[1])
peak = {}
export = E.ExperimentResults.export
def measured(self):
    peak["stored_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return export(self)
E.ExperimentResults.export = measured
t0 = time.perf_counter()
E.Experiment(a["model"], scenarios=["baseline"], reps=a["reps"], seed=1, days=a["days"], out=a["out"]).run(
    jobs=a["jobs"], progress=False, quiet=True)
print(json.dumps({"reps": a["reps"], "wall_s": time.perf_counter() - t0, **peak,
                  "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "workers_peak_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""


def measure(reps, days, jobs):
    with tempfile.TemporaryDirectory(prefix="supplysim-mem-") as tmp:
        arg = {"model": str(ROOT / "models" / "examples" / "tutorial.toml"), "reps": reps, "days": days,
               "jobs": jobs, "out": str(Path(tmp) / "run")}
        p = subprocess.run([sys.executable, "-c", _ONE, json.dumps(arg)], cwd=ROOT, capture_output=True,
                           text=True, check=True)
        return json.loads(p.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, nargs="+", default=[100, 3000])
    ap.add_argument("--days", type=float, default=365.0, help="horizon per replication (default 365)")
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args()
    rows = [measure(n, a.days, a.jobs) for n in a.reps]
    base = rows[0]["peak_kb"]
    for r in rows:
        r["growth_vs_first"] = r["peak_kb"] / base - 1
    write_json("memory.json", {"machine": machine(), "days": a.days, "jobs": a.jobs, "rows": rows})
    print("| replications | wall | main peak RSS | of which before export | workers' peak | growth vs first |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['reps']:,} | {r['wall_s']:.0f} s | {r['peak_kb'] / 1024:.1f} MB | "
              f"{r['stored_kb'] / 1024:.1f} MB | {r['workers_peak_kb'] / 1024:.1f} MB | "
              f"{100 * r['growth_vs_first']:+.1f}% |")


if __name__ == "__main__":
    main()
