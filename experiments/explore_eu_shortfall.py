"""Under which combinations of licence approval rate, review delay and control duration does the EU
lose more than 10% of its magnet demand in 2026-2027, and how much does a 90-day stockpile move
that boundary?

The shock is China's 2026 licence regime on NdPr oxide, NdFeB alloy and magnets to every non-China
buyer, on its own (experiments/scenarios/ndpr-escalation-only.toml). Its approval probability
(0.1-0.9), median review time (20-120 days, 90th percentile twice the median) and duration (90-730
days from 2026-01-01) are sampled with a Latin hypercube; every sampled future runs with and
without an EU strategic stockpile of 90 days of the EU's 2024 magnet demand (6,209 t, released
when the EU buyer's cover falls below 10 days: experiments/scenarios/ndpr-escalation-eu-stockpile.toml),
with common random numbers, so the two are paired future by future. The explore file is
experiments/explore_eu_shortfall.toml. "Lose" is the share of 2026-2027 demand not delivered in
2026-2027 (demand is backordered); the share served late and the peak backlog are reported beside it.

Output in OUT (default runs/explore_eu_shortfall): report.html and report.md (the answer first,
then PRIM boxes, sensitivity indices, figures), answer.md, analysis.json, points.csv, the store
results.sqlite (resumable: --resume) and the exports for ema-workbench and SALib.

    python experiments/explore_eu_shortfall.py                 # default: 64 futures x 2 x 2 reps, minutes on 2 cores
    python experiments/explore_eu_shortfall.py --n 512 --reps 5 --out runs/explore_eu_shortfall-full   # full size
    python experiments/explore_eu_shortfall.py --design sobol --n 128 --reps 3 --out runs/explore_eu_shortfall-sobol
"""
from __future__ import annotations

import argparse
import resource
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:          # run from a checkout without installing
    sys.path.insert(0, str(ROOT))

from supplysim.explore.report import build_report  # noqa: E402
from supplysim.explore.run import Exploration  # noqa: E402

NAME = "explore_eu_shortfall"
MODEL = ROOT / "models" / "rare_earths"
SPEC = ROOT / "experiments" / f"{NAME}.toml"


def main(argv=None):
    ap = argparse.ArgumentParser(prog=f"python experiments/{NAME}.py", description=__doc__.strip().splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--design", default="lhs", choices=("lhs", "sobol", "morris", "full"), help="design (default lhs)")
    ap.add_argument("--n", type=int, default=64, help="design size (default 64 sampled futures)")
    ap.add_argument("--reps", type=int, default=2, help="replications per design point (default 2)")
    ap.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    ap.add_argument("--seed", type=int, default=1, help="root seed (default 1)")
    ap.add_argument("--out", default=f"runs/{NAME}", help=f"output directory (default runs/{NAME})")
    ap.add_argument("--resume", action="store_true", help="continue the run stored in --out instead of replacing it")
    ap.add_argument("--quiet", action="store_true", help="no progress")
    a = ap.parse_args(argv)
    out = Path(a.out)
    if out.exists() and not a.resume:
        for f in ("results.sqlite", "run.log", "report.html", "report.md", "analysis.json", "answer.md",
                  "points.csv", "replication_outcomes.csv", "ema_results.tar.gz"):
            (out / f).unlink(missing_ok=True)
        for d in ("figures", "salib"):
            shutil.rmtree(out / d, ignore_errors=True)
    t0 = time.perf_counter()
    exp = Exploration(MODEL, SPEC, design=a.design, n=a.n, reps=a.reps, seed=a.seed, out=out,
                      command=" ".join([sys.executable] + sys.argv))
    res = exp.run(jobs=a.jobs, resume=a.resume, progress=not a.quiet, quiet=a.quiet)
    run_s = time.perf_counter() - t0
    path, text = build_report(res)
    total_s = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    head = (f"{len(res.points)} design points x {res.reps} replications ({a.design}, n = {a.n}, seed {a.seed}, "
            f"jobs {a.jobs}); run {run_s:.0f} s, with analysis and report {total_s:.0f} s; peak memory of the "
            f"main process {rss:.0f} MiB; results in {out}")
    report_md = (out / "report.md").read_text(encoding="utf-8")
    (out / "answer.md").write_text(report_md.split("### Figures")[0].rstrip() + f"\n\n({head})\n", encoding="utf-8")
    print("\n" + text + "\n\n" + head + f"\nreport: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
