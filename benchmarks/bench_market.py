"""What the market layer costs: one replication of the default model with and without its market.

Two measures, side by side for each scenario:

* ``--mode time`` (default): seconds per replication, the two variants run in turns on the same
  seeds (so machine load falls on both alike); the median of the per-seed ratios is reported;
* ``--mode instructions``: instructions executed (valgrind ``--tool=callgrind``, deterministic),
  each variant in a child process, less a one-day run of the same variant (imports and model
  loading).

"Without" is the same model with its ``[market]`` section taken out (``Model.market = None``),
so every other part is identical. With the market, the run does more than price: patience
writes off backlogs and demand, stocks and supply respond, so the comparison is of the whole
replication a user gets either way.

    python benchmarks/bench_market.py                          # --reps 6 --years 7
    python benchmarks/bench_market.py --mode instructions      # ~10 min
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _common import callgrind  # noqa: E402
from supplysim import Simulation, load_model  # noqa: E402

SCENARIOS = ("baseline", "cn-2025-04-licensing")
MODEL = ROOT / "models" / "rare_earths"


def _model(scenario, market):
    m = load_model(MODEL, scenario=None if scenario == "baseline" else scenario)
    return m if market else dataclasses.replace(m, market=None)


def time_mode(reps, years, seed):
    rows = []
    for sc in SCENARIOS:
        models = {on: _model(sc, on) for on in (True, False)}
        t = {True: [], False: []}
        for r in range(reps):
            for on in ((True, False) if r % 2 == 0 else (False, True)):   # alternate who runs first
                t0 = time.perf_counter()
                Simulation(models[on], seed=seed, replication=r).run(years=years)
                t[on].append(time.perf_counter() - t0)
        ratio = np.array(t[True]) / np.array(t[False])
        rows.append({"scenario": sc, "with_s": float(np.median(t[True])), "without_s": float(np.median(t[False])),
                     "ratio_median": float(np.median(ratio)), "ratio_min": float(ratio.min()),
                     "ratio_max": float(ratio.max())})
    print(f"| scenario | s/replication with market | without | with / without (median of {reps} paired) |")
    print("|---|---|---|---|")
    for x in rows:
        print(f"| {x['scenario']} | {x['with_s']:.2f} | {x['without_s']:.2f} | {x['ratio_median']:.3f} "
              f"({x['ratio_min']:.3f}-{x['ratio_max']:.3f}) |")
    return rows


def _child(scenario, market, days, seed):
    Simulation(_model(scenario, market == "on"), seed=seed, replication=0).run(until=days)


def _instructions(args):
    return callgrind([sys.executable, __file__, "--child"] + args)[1]


def instructions_mode(years, seed):
    rows = []
    for sc in SCENARIOS:
        out = {}
        for on in ("on", "off"):
            full = _instructions([sc, on, str(365.0 * years), str(seed)])
            base = _instructions([sc, on, "1", str(seed)])
            out[on] = (full - base) / 1e9
        rows.append({"scenario": sc, "with_G": out["on"], "without_G": out["off"], "ratio": out["on"] / out["off"]})
    print(f"| scenario ({years} years) | instructions with market | without | with / without |")
    print("|---|---|---|---|")
    for x in rows:
        print(f"| {x['scenario']} | {x['with_G']:.2f} G | {x['without_G']:.2f} G | {x['ratio']:.3f} |")
    return rows


def main(argv=None):
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--child":
        sc, on, days, seed = sys.argv[2:6]
        _child(sc, on, float(days), int(seed))
        return 0
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mode", choices=("time", "instructions"), default="time")
    p.add_argument("--reps", type=int, default=6)
    p.add_argument("--years", type=float, default=7)
    p.add_argument("--seed", type=int, default=7)
    a = p.parse_args(argv)
    rows = time_mode(a.reps, a.years, a.seed) if a.mode == "time" else instructions_mode(a.years, a.seed)
    out = ROOT / "benchmarks" / "results" / f"market_{a.mode}.json"
    out.write_text(json.dumps({"mode": a.mode, "years": a.years, "seed": a.seed, "reps": a.reps, "rows": rows,
                               "load": list(__import__("os").getloadavg())}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
