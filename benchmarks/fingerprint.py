"""Fingerprints of replication results: one hash per (model, scenario, replication).

A change that only restructures the engine must leave every fingerprint as it
was; a change that alters results on purpose changes some, and says which.

    python benchmarks/fingerprint.py --out fp.json            # record
    python benchmarks/fingerprint.py --compare fp.json        # check against a record

Fingerprints hash results to the last bit, so a record holds for one machine and one set of
library versions: a record of the same commit made on another machine (its numpy and scipy
versions not recorded) gave 9 of 31 equal on this one (x86-64 with AVX-512, Python 3.11.7,
numpy 2.4.6, scipy 1.17.1): the tutorial's and the peer network's, none of the default
model's. OpenBLAS's and numpy's CPU kernels are not the cause (forcing others,
``OPENBLAS_CORETYPE=Haswell`` or numpy without AVX-512, changes none), so most likely a library
version. ``results/fingerprints.json`` was recorded on this machine. Before comparing,
record the fingerprints of the commit to compare with on the machine at hand (``--out``
from a checkout of it).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from supplysim import Simulation, load_model  # noqa: E402
from supplysim.model import list_scenarios  # noqa: E402

#: (model path, scenarios, replications, years)
CASES = [
    (ROOT / "models" / "rare_earths", None, 2, 7),
    (ROOT / "models" / "examples" / "tutorial.toml", None, 3, 3),
    (ROOT / "benchmarks" / "models" / "peer_network.toml",
     [str(ROOT / "benchmarks" / "models" / "peer_export_ban.toml")], 3, 10),
]


def _canon(x):
    if isinstance(x, dict):
        return {str(k): _canon(v) for k, v in sorted(x.items(), key=lambda kv: str(kv[0]))}
    if isinstance(x, (list, tuple)):
        return [_canon(v) for v in x]
    if isinstance(x, (float, np.floating)):
        x = float(x)
        return "nan" if math.isnan(x) else x.hex()
    if isinstance(x, (np.integer,)):
        return int(x)
    return x


def fingerprint(res) -> str:
    """SHA-256 over everything a replication returns except wall-clock time."""
    h = hashlib.sha256()
    kpis = {k: v for k, v in res.kpis.items() if k != "wall_s"}
    body = {"kpis": kpis, "regions": res.regions, "sinks": res.sinks, "facilities": res.facilities,
            "lanes": res.lanes, "controls": res.controls, "months": res.months}
    h.update(json.dumps(_canon(body), sort_keys=True).encode())
    for name in sorted(res.series):
        labels, arr = res.series[name]
        h.update(name.encode())
        h.update(json.dumps([str(x) for x in labels]).encode())
        h.update(np.ascontiguousarray(arr, dtype="<f8").tobytes())
    return h.hexdigest()


def run_all(seed=11):
    out = {}
    for path, scenarios, reps, years in CASES:
        names = [None] + [s for s in (scenarios or list_scenarios(path)) if s != "baseline"]
        for sc in names:
            model = load_model(path, scenario=sc)
            for r in range(reps):
                res = Simulation(model, seed=seed, replication=r).run(years=years)
                key = f"{path.relative_to(ROOT)}|{Path(sc).stem if sc else 'baseline'}|{r}"
                out[key] = fingerprint(res)
                print(key, out[key][:16], flush=True)
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", help="write the fingerprints to this JSON file")
    p.add_argument("--compare", help="compare with fingerprints recorded in this JSON file")
    a = p.parse_args(argv)
    fp = run_all()
    if a.out:
        Path(a.out).write_text(json.dumps(fp, indent=1))
    if a.compare:
        old = json.loads(Path(a.compare).read_text())
        diff = sorted(k for k in set(old) | set(fp) if old.get(k) != fp.get(k))
        print(f"{len(fp) - len(diff)} of {len(set(old) | set(fp))} fingerprints equal")
        for k in diff:
            print("  differs:", k)
        return 1 if diff else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
