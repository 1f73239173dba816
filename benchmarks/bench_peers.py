"""Seconds per replication of the peer network: supplysim vs plain SimPy vs SupplyNetPy.

Each tool runs the same network (benchmarks/models/peer_network.toml, its plain-SimPy
twin benchmarks/simpy_baseline.py and the SupplyNetPy version
benchmarks/supplynetpy_network.py) for ``--reps`` replications of ``--days`` days, in
the baseline and the export_ban scenario. supplysim and plain SimPy alternate replication by replication,
so the machine's slow spells fall on both. A replication's time covers building the
simulation and running it (supplysim: ``Simulation(...)`` + ``run``; the model file is
parsed once, outside the timing, and that time is reported apart). One untimed warm-up
replication runs first for each tool.

SupplyNetPy runs in its own virtual environment ``.peers`` (``python3 -m venv .peers &&
.peers/bin/pip install supplynetpy==0.5.1 simpy``) and is skipped, with a message, when
``.peers/bin/python`` is absent.

With ``--instructions`` it also counts the instructions of one replication of
supplysim and of plain SimPy (valgrind's callgrind: a process running four
replications minus one running one, divided by three, so imports, parsing and
warm-up are left out). Wall times on a shared machine move with its load;
instruction counts do not.

Usage::

    python benchmarks/bench_peers.py                 # 20 reps x 3650 days, both scenarios
    python benchmarks/bench_peers.py --reps 5 --scenario baseline
    python benchmarks/bench_peers.py --no-supplynetpy --instructions   # + instructions (~2 min)

Writes benchmarks/results/peers.json.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import simpy_baseline  # noqa: E402
from _common import shown, BENCH, ROOT, callgrind, events_processed, machine, summary, table, write_json  # noqa: E402

MODEL = BENCH / "models" / "peer_network.toml"
OVERLAY = BENCH / "models" / "peer_export_ban.toml"
PEERS_PY = ROOT / ".peers" / "bin" / "python"
SCENARIOS = {"baseline": None, "export_ban": OVERLAY}


def bench_interleaved(scenario, reps, days, seed):
    """supplysim and plain SimPy, one replication of each in turn.

    Alternating keeps slow spells of a shared machine from landing on one tool
    only, so the ratio of the two is steadier than their absolute times.
    """
    from supplysim import Simulation, load_model
    t0 = time.perf_counter()
    model = load_model(MODEL, scenario=SCENARIOS[scenario])
    load_s = time.perf_counter() - t0
    ban = scenario == "export_ban"
    Simulation(model, seed=seed, replication=10_000, check=False).run(until=days)   # warm-ups
    simpy_baseline.run(seed, 10_000, days, ban)
    ours, plain = [], []
    for r in range(reps):
        t0 = time.perf_counter()
        sim = Simulation(model, seed=seed, replication=r, check=False)
        res = sim.run(until=days)
        wall = time.perf_counter() - t0
        ours.append({"rep": r, "wall_s": wall, "run_s": res.kpis["wall_s"], "events": events_processed(sim.env),
                     "fill_rate": res.kpis["fill_rate"]})
        o = simpy_baseline.run(seed, r, days, ban)
        plain.append({"rep": r, "wall_s": o["wall_s"], "events": o["events"], "fill_rate": o["fill_rate"]})
    return {"supplysim": {"reps": ours, "model_load_s": load_s}, "plain SimPy": {"reps": plain}}


def bench_supplynetpy(scenario, reps, days, seed):
    if not PEERS_PY.exists():
        return {"skipped": f"{PEERS_PY.relative_to(ROOT)} not found; create it with: python3 -m venv .peers && "
                           ".peers/bin/pip install supplynetpy==0.5.1 simpy"}
    cmd = [str(PEERS_PY), str(BENCH / "supplynetpy_network.py"), "--reps", str(reps), "--days", str(days),
           "--seed", str(seed)] + (["--export-ban"] if scenario == "export_ban" else [])
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
    if p.returncode != 0:
        return {"skipped": f"SupplyNetPy run failed (exit {p.returncode}): {p.stderr.strip()[-800:]}"}
    rows, versions = [], {}
    for line in p.stdout.splitlines():
        d = json.loads(line)
        if "versions" in d:
            versions = d["versions"]
        else:
            rows.append(d)
    return {"reps": rows, "versions": versions}




def count_worker(tool, scenario, reps, days, seed):
    """Run ``reps`` replications of one tool (in a process valgrind counts)."""
    if tool == "supplysim":
        from supplysim import Simulation, load_model
        model = load_model(MODEL, scenario=SCENARIOS[scenario])
        for r in range(reps):
            Simulation(model, seed=seed, replication=r, check=False).run(until=days)
    else:
        for r in range(reps):
            simpy_baseline.run(seed, r, days, scenario == "export_ban")


def instructions(tool, scenario, days, seed):
    """Instructions of one replication: a process running four minus one running one, over three."""
    counts = []
    for reps in (1, 4):
        cmd = [sys.executable, str(Path(__file__).resolve()), "--count", tool, "--scenario", scenario,
               "--reps", str(reps), "--days", str(days), "--seed", str(seed)]
        counts.append(callgrind(cmd, cwd=ROOT)[1])
    return (counts[1] - counts[0]) / 3


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--days", type=float, default=3650)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--scenario", choices=["baseline", "export_ban", "both"], default="both")
    ap.add_argument("--no-supplynetpy", action="store_true", help="skip the SupplyNetPy runs")
    ap.add_argument("--out", default="peers.json")
    ap.add_argument("--instructions", action="store_true", help="also count instructions per replication (valgrind)")
    ap.add_argument("--count", choices=["supplysim", "plain SimPy"], help=argparse.SUPPRESS)   # (a counted process)
    a = ap.parse_args(argv)
    if a.count:
        return count_worker(a.count, a.scenario, a.reps, a.days, a.seed)
    scen = ["baseline", "export_ban"] if a.scenario == "both" else [a.scenario]
    out = {"benchmark": "peers", "reps": a.reps, "days": a.days, "seed": a.seed, "machine": machine(),
           "command": "python benchmarks/bench_peers.py " + " ".join(argv if argv is not None else sys.argv[1:]),
           "scenarios": {}}
    for sc in scen:
        print(f"[{sc}] supplysim and plain SimPy, interleaved: {a.reps} reps x {a.days:g} days ...",
              file=sys.stderr, flush=True)
        res = bench_interleaved(sc, a.reps, a.days, a.seed)
        if a.no_supplynetpy:
            res["SupplyNetPy 0.5.1"] = {"skipped": "--no-supplynetpy"}
        else:
            print(f"[{sc}] SupplyNetPy 0.5.1: {a.reps} reps x {a.days:g} days ...", file=sys.stderr, flush=True)
            res["SupplyNetPy 0.5.1"] = bench_supplynetpy(sc, a.reps, a.days, a.seed)
        for tool, r in res.items():
            if "reps" in r:
                r["wall_s"] = summary(x["wall_s"] for x in r["reps"])
                r["events"] = summary(x["events"] for x in r["reps"])
                r["fill_rate"] = summary(x["fill_rate"] for x in r["reps"])
                r["events_per_s"] = r["events"]["mean"] / r["wall_s"]["mean"]
            else:
                print(f"  {tool} skipped: {r['skipped']}", file=sys.stderr)
        paired = [x["wall_s"] / y["wall_s"] for x, y in zip(res["supplysim"]["reps"], res["plain SimPy"]["reps"])]
        ratios = {}
        med = {t: r["wall_s"]["median"] for t, r in res.items() if "wall_s" in r}
        if "supplysim" in med and "plain SimPy" in med:
            ratios["supplysim / plain SimPy"] = med["supplysim"] / med["plain SimPy"]
            # replication by replication (each pair ran back to back): the steadier figure
            ratios["supplysim / plain SimPy, median of paired ratios"] = summary(paired)["median"]
        if "SupplyNetPy 0.5.1" in med and "plain SimPy" in med:
            ratios["SupplyNetPy / plain SimPy"] = med["SupplyNetPy 0.5.1"] / med["plain SimPy"]
        if "SupplyNetPy 0.5.1" in med and "supplysim" in med:
            ratios["SupplyNetPy / supplysim"] = med["SupplyNetPy 0.5.1"] / med["supplysim"]
        out["scenarios"][sc] = {"tools": res, "ratios_of_medians": ratios}
        if a.instructions:
            ins = {t: instructions(t, sc, a.days, a.seed) for t in ("supplysim", "plain SimPy")}
            ratios["supplysim / plain SimPy, instructions"] = ins["supplysim"] / ins["plain SimPy"]
            out["scenarios"][sc]["instructions_per_rep"] = ins

        rows = []
        for tool, r in res.items():
            if "wall_s" not in r:
                rows.append([tool, "skipped", "", "", "", ""])
                continue
            w, e, f = r["wall_s"], r["events"], r["fill_rate"]
            rows.append([tool, f"{w['mean']:.4f} ± {w['sd']:.4f}", f"{w['median']:.4f}", f"{e['mean']:,.0f}",
                         f"{r['events_per_s']:,.0f}", f"{f['mean']:.4f} ± {f['sd']:.4f}"])
        print(f"\n## {sc}: {a.reps} replications x {a.days:g} days\n")
        print(table(rows, ["tool", "s/rep mean ± sd", "s/rep median", "events/rep", "events/s",
                           "fill rate mean ± sd"]))
        for k, v in ratios.items():
            print(f"  {k}: {v:.2f}x" + ("" if "instructions" in k else " (medians)"))
        for t, n in out["scenarios"][sc].get("instructions_per_rep", {}).items():
            print(f"  {t}: {n / 1e6:,.1f} M instructions per replication")
    p = write_json(a.out, out)
    print(f"\nwrote {shown(p)}")


if __name__ == "__main__":
    main()
