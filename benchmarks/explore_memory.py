"""Peak memory of the main process of an exploration against its number of design points.

Each size runs in a fresh process: a full-factorial design over two uncertainties of the
tutorial model (alloy capacity, EU lead time), one replication of 90 days per point on
``--jobs`` worker processes, then every outcome read back from the store (what the report
does first). The main process only makes tasks, stores results and reads outcomes, so its peak
RSS should not grow with the number of points.

    python benchmarks/explore_memory.py                  # 64, 529 and 2,025 points, 2 workers
    python benchmarks/explore_memory.py --levels 8 45 --jobs 1
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = """
[uncertainties.alloy_capacity]
keys = ["facilities.alloy_kr.capacity"]
range = [800, 5000]
[uncertainties.eu_lead_max]
keys = ["lanes.magnets-eu-buyers.lead_time.max"]
range = [38, 80]
[outcomes.jp_on_time]
metric = "on_time_fill"
regions = ["JP"]
[outcomes.eu_peak_backlog]
kind = "series"
series = "backlog_t"
keys = ["EU"]
stat = "max"
"""


def one(levels, jobs):
    sys.path.insert(0, str(ROOT))
    from supplysim.explore.run import Exploration
    with tempfile.TemporaryDirectory() as d:
        spec = Path(d) / "spec.toml"
        spec.write_text(SPEC)
        t0 = time.perf_counter()
        res = Exploration(ROOT / "models" / "examples" / "tutorial.toml", spec, design="full", n=levels, reps=1,
                          seed=1, days=90, out=Path(d) / "out").run(jobs=jobs, progress=False)
        res.outcomes()
        wall = time.perf_counter() - t0
        points = len(res.points)
        res.close()
    print(json.dumps({"points": points, "wall_s": wall,
                      "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("--levels", type=int, nargs="+", default=[8, 23, 45], help="levels per uncertainty")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.one:
        one(a.one, a.jobs)
        return 0
    print(f"{'points':>8} {'wall s':>8} {'peak RSS MiB':>13}")
    for lv in a.levels:
        r = json.loads(subprocess.run([sys.executable, __file__, "--one", str(lv), "--jobs", str(a.jobs)],
                                      check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
        print(f"{r['points']:>8,} {r['wall_s']:>8.1f} {r['peak_rss_mib']:>13.1f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
