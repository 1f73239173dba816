"""Events per second: the SimPy ceiling against supplysim on real models.

Ceiling cases (pure SimPy, nothing else in the processes):

* ``1 process``: one process doing 10^6 ``yield env.timeout(1)``;
* ``100 processes``: 100 processes doing 10^4 timeouts each (10^6 in all);
* ``Container put/get``: a producer putting 1 unit a day and a consumer getting 1 unit a
  day from a ``simpy.Container`` (plus their timeouts).

supplysim cases: the peer network (benchmarks/models/peer_network.toml, baseline and
export_ban) and models/examples/tutorial.toml, each run for ``--days`` days.

SimPy's events are counted by wrapping ``env.step`` on the environment instance in one
counting run; the events/s figure uses the time of separate runs without the wrapper
(the wrapper itself costs time). supplysim runs on its own kernel
(``supplysim.engine.kernel``), which counts the events it processes.

Usage::

    python benchmarks/bench_events.py            # --reps 5 --days 3650
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import simpy

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import shown, BENCH, ROOT, events_processed, machine, summary, table, write_json  # noqa: E402


def count_steps(env):
    """Wrap ``env.step`` on this instance; returns a one-element list holding the count."""
    n = [0]
    orig = env.step

    def step():
        try:
            orig()
        except simpy.core.EmptySchedule:      # nothing left: no event was processed
            raise
        except BaseException:                  # StopSimulation: the ``until`` event was processed
            n[0] += 1
            raise
        n[0] += 1

    env.step = step
    return n


# -- SimPy ceiling ----------------------------------------------------------------------------
def _one_process(env, n=1_000_000):
    def p():
        to = env.timeout
        for _ in range(n):
            yield to(1)
    env.process(p())


def _many_processes(env, k=100, n=10_000):
    def p():
        to = env.timeout
        for _ in range(n):
            yield to(1)
    for _ in range(k):
        env.process(p())


def _container(env, n=250_000):
    c = simpy.Container(env, capacity=10, init=0)

    def producer():
        for _ in range(n):
            yield c.put(1)
            yield env.timeout(1)

    def consumer():
        for _ in range(n):
            yield c.get(1)
            yield env.timeout(1)

    env.process(producer())
    env.process(consumer())


CEILING = {"SimPy: 1 process x 10^6 timeout(1)": _one_process,
           "SimPy: 100 processes x 10^4 timeout(1)": _many_processes,
           "SimPy: Container put/get (2 processes)": _container}


def bench_ceiling(name, setup, reps):
    env = simpy.Environment()
    setup(env)
    n = count_steps(env)
    env.run()
    events = n[0]
    times = []
    for _ in range(reps):
        env = simpy.Environment()
        setup(env)
        t0 = time.perf_counter()
        env.run()
        times.append(time.perf_counter() - t0)
        assert events_processed(env) == events
    return {"events": events, "run_s": summary(times), "events_per_s": events / statistics.median(times)}


# -- supplysim ---------------------------------------------------------------------------------
SUPPLYSIM = {
    "supplysim: peer network (baseline)": (BENCH / "models" / "peer_network.toml", None),
    "supplysim: peer network (export_ban)": (BENCH / "models" / "peer_network.toml",
                                              BENCH / "models" / "peer_export_ban.toml"),
    "supplysim: tutorial.toml": (ROOT / "models" / "examples" / "tutorial.toml", None),
}


def bench_supplysim(path, scenario, reps, days, seed):
    from supplysim import Simulation, load_model
    model = load_model(path, scenario=scenario)
    times, counts = [], []
    for r in range(reps):
        sim = Simulation(model, seed=seed, replication=r, check=False)
        t0 = time.perf_counter()
        sim.run(until=days)
        times.append(time.perf_counter() - t0)
        counts.append(sim.env.processed)
    ev = statistics.fmean(counts)
    return {"events": ev, "run_s": summary(times), "events_per_s": ev / statistics.fmean(times)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--days", type=float, default=3650)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default="events.json")
    a = ap.parse_args(argv)
    out = {"benchmark": "events", "reps": a.reps, "days": a.days, "machine": machine(),
           "command": "python benchmarks/bench_events.py " + " ".join(argv if argv is not None else sys.argv[1:]),
           "cases": {}}
    for name, setup in CEILING.items():
        print(f"{name} ...", file=sys.stderr, flush=True)
        out["cases"][name] = bench_ceiling(name, setup, a.reps)
    for name, (path, sc) in SUPPLYSIM.items():
        print(f"{name} ...", file=sys.stderr, flush=True)
        out["cases"][name] = bench_supplysim(path, sc, a.reps, a.days, a.seed)
    ceiling = out["cases"]["SimPy: 100 processes x 10^4 timeout(1)"]["events_per_s"]
    rows = []
    for name, r in out["cases"].items():
        r["fraction_of_100_process_ceiling"] = r["events_per_s"] / ceiling
        rows.append([name, f"{r['events']:,.0f}", f"{r['run_s']['median']:.4f}", f"{r['events_per_s']:,.0f}",
                     f"{r['events_per_s'] / ceiling:.2f}", f"{1e6 / r['events_per_s']:.2f}"])
    print(f"\n## events per second ({a.reps} timed runs each; supplysim runs {a.days:g} days)\n")
    print(table(rows, ["case", "events/run", "s/run median", "events/s", "x ceiling (100 proc)", "µs/event"]))
    p = write_json(a.out, out)
    print(f"\nwrote {shown(p)}")


if __name__ == "__main__":
    main()
