"""Small helpers shared by the benchmark scripts (timing, statistics, machine description)."""
from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
RESULTS = BENCH / "results"


def summary(xs) -> dict:
    """Mean, sd, median, min and max of a list of numbers."""
    xs = [float(x) for x in xs]
    if not xs:
        return {"n": 0}
    return {"n": len(xs), "mean": statistics.fmean(xs), "sd": statistics.stdev(xs) if len(xs) > 1 else 0.0,
            "median": statistics.median(xs), "min": min(xs), "max": max(xs)}


def events_processed(env) -> int:
    """Events an environment has processed: supplysim's kernel counts them; for a plain SimPy
    environment, the event ids handed out minus the events still queued."""
    if hasattr(env, "processed"):
        return env.processed
    return next(env._eid) - len(env._queue)


def machine() -> dict:
    """What the figures were measured on."""
    import numpy
    import simpy
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True, check=False).stdout.strip()
    except OSError:
        commit = ""
    try:
        load = os.getloadavg()
    except OSError:
        load = None
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpus": os.cpu_count(), "cpu": cpu, "platform": platform.platform(),
            "python": platform.python_version(), "simpy": simpy.__version__, "numpy": numpy.__version__,
            "git_commit": commit, "loadavg_at_start": load}


def callgrind(cmd, env=None, cwd=None, out="/dev/null"):
    """Run ``cmd`` under valgrind's callgrind (its output file ``out``); return the finished process and the
    instructions it executed. Exits with the process's error output if it failed."""
    p = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"] + list(cmd), env=env,
                       capture_output=True, text=True, cwd=cwd, check=False)
    if p.returncode:
        raise SystemExit(f"failed under valgrind: {' '.join(map(str, cmd))}\n{p.stderr[-3000:]}")
    return p, int(next(x for x in p.stderr.splitlines() if "Collected :" in x).split()[-1])


def write_json(name: str, data: dict) -> Path:
    """Write ``data`` to ``name``: a bare file name goes to benchmarks/results/, a path is used as given."""
    p = Path(name)
    if p.parent == Path("."):
        p = RESULTS / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return p


def table(rows, headers) -> str:
    """A plain-text table (also valid Markdown)."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    w = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    line = lambda r: "| " + " | ".join(c.ljust(w[i]) for i, c in enumerate(r)) + " |"  # noqa: E731
    sep = "|" + "|".join("-" * (x + 2) for x in w) + "|"
    return "\n".join([line(cells[0]), sep] + [line(r) for r in cells[1:]])


def shown(p: Path) -> str:
    """``p`` relative to the project when it lies inside it, else as given."""
    p = Path(p).resolve()
    return str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else str(p)
