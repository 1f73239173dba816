"""Interop with ema-workbench and SALib: exports they read as they are, and supplysim as an ema-workbench model.

Exports (written beside the store by :func:`export`)

``points.csv``
    One row per design point: label, scenario row, lever combination, every
    input, each outcome's mean over the point's replications and their number.
``replication_outcomes.csv``
    One row per stored replication: label, replication, each outcome.
``ema_results.tar.gz``
    ema-workbench's ``save_results`` format: ``experiments.csv`` (uncertainties,
    levers, ``scenario``, ``policy``, ``model``), ``metadata.json`` and one
    ``NAME.cls`` per outcome (the points' means):
    ``experiments, outcomes = ema_workbench.load_results("ema_results.tar.gz")``.
``salib/``
    ``problem.txt`` (SALib's parameter file: the unit hypercube the design was
    drawn in), ``X.txt`` (the design in it, one row per scenario row),
    ``values.txt`` (the same rows in the inputs' own units) and
    ``Y_OUTCOME[_POLICY].txt`` (point means, design order), for
    ``salib analyze sobol -p problem.txt -Y Y_OUTCOME.txt -c 0 --max-order 1``
    or ``salib analyze morris -p problem.txt -X X.txt -Y Y_OUTCOME.txt -c 0``.

The adapter (:func:`ema_model`) wraps the simulator as an ema-workbench
``Model``: ``perform_experiments(ema_model(MODEL, SPEC, reps=3, seed=1), 100)``
samples with ema-workbench's own samplers and evaluators; each experiment runs
``reps`` replications of the model with the experiment's overrides (the same
streams for every experiment: common random numbers) and returns the mean of
each outcome of the explore file.
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import tarfile
from pathlib import Path

import numpy as np

from ..experiment.files import atomic_write, slug

__all__ = ["export", "write_ema_archive", "write_salib_files", "ema_model", "SupplysimFunction", "write_atomic"]


def write_atomic(path, data):
    """Write ``data`` (str or bytes) to ``path`` atomically (an interrupted write leaves the previous file)."""
    with atomic_write(path, "wb") as fh:
        fh.write(data.encode("utf-8") if isinstance(data, str) else data)
    return Path(path)


def _csv(rows) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerows(rows)
    return buf.getvalue()


def _num(v):
    if isinstance(v, float):
        return "" if not math.isfinite(v) else repr(v)
    return v


def export(res) -> list:
    """Write every export of a stored exploration beside its store; return the paths written."""
    out = res.out
    spec = res.spec
    inputs = [p.name for p in spec.uncertainties] + [p.name for p in spec.levers]
    outs = res.outcomes()
    means = {o.name: res.means(o.name) for o in spec.outcomes}
    nrep = np.isfinite(next(iter(outs.values()))).sum(axis=1) if outs else np.zeros(len(res.points), int)
    rows = [["point", "scenario", "policy", *inputs, *means, "replications"]]
    for i, p in enumerate(res.points):
        rows.append([p.label, p.scenario, p.policy, *(_num(p.values[n]) for n in inputs),
                     *(_num(float(means[o][i])) for o in means), int(nrep[i])])
    paths = [write_atomic(out / "points.csv", _csv(rows))]
    rows = [["point", "replication", *outs]]
    for i, p in enumerate(res.points):
        for r in range(res.reps):
            vals = [float(outs[o][i, r]) for o in outs]
            if any(math.isfinite(v) for v in vals):
                rows.append([p.label, r, *(_num(v) for v in vals)])
    paths.append(write_atomic(out / "replication_outcomes.csv", _csv(rows)))
    paths.append(write_ema_archive(res, out / "ema_results.tar.gz"))
    paths += write_salib_files(res, out / "salib")
    return paths


def write_ema_archive(res, path):
    """ema-workbench's ``save_results`` archive of the points (inputs) and outcome means."""
    spec = res.spec
    unc = [p.name for p in spec.uncertainties]
    lev = [p.name for p in spec.levers]
    model = res.manifest.get("model") or "supplysim"
    rows = [[*unc, *lev, "scenario", "policy", "model"]]
    for p in res.points:
        rows.append([*(_num(p.values[n]) for n in unc + lev), p.scenario, p.policy or "none", model])
    dtypes = {n: "float64" for n in unc}
    for p in spec.levers:
        dtypes[p.name] = "int64" if all(isinstance(v, int) for v in p.values) else \
            "float64" if not p.options else "category"
    for p in spec.uncertainties:
        if p.integer or (p.discrete and all(isinstance(v, int) for v in p.values)):
            dtypes[p.name] = "int64"
    dtypes.update({"scenario": "int64", "policy": "category", "model": "category"})
    files = {"experiments.csv": _csv(rows)}
    meta = {"version": 0.1, "outcomes": [], "experiments": dtypes}
    for o in spec.outcomes:
        files[f"{o.name}.cls"] = "".join(f"{_num(float(v))}\n" for v in res.means(o.name))
        meta["outcomes"].append(["ScalarOutcome", o.name, f"{o.name}.cls"])
    files["metadata.json"] = json.dumps(meta)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as z:
        for name, text in files.items():
            data = text.encode("utf-8")
            info = tarfile.TarInfo(name)
            info.size = len(data)
            z.addfile(info, io.BytesIO(data))
    return write_atomic(path, buf.getvalue())


def write_salib_files(res, folder) -> list:
    """SALib's parameter file, the design matrix and one output file per outcome (and lever combination)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    d = res.design
    if d.unit is not None:
        problem = "".join(f"{n},0,1\n" for n in d.names)
        X = np.asarray(d.unit, float)
    else:
        vals = np.array([[r[n] for n in d.names] for r in d.rows], float)
        problem = "".join(f"{n},{vals[:, j].min()!r},{vals[:, j].max()!r}\n" for j, n in enumerate(d.names))
        X = vals
    values = np.array([[r[n] for n in d.names] for r in d.rows], float)
    paths = [write_atomic(folder / "problem.txt", problem), write_atomic(folder / "X.txt", _matrix(X)),
             write_atomic(folder / "values.txt", _matrix(values))]
    for o in res.spec.outcomes:
        for pol in res.policies:
            name = f"Y_{o.name}" + (f"_{slug(pol)}" if pol else "") + ".txt"
            paths.append(write_atomic(folder / name, _matrix(res.means(o.name, pol)[:, None])))
    return paths


def _matrix(a) -> str:
    return "".join(" ".join(repr(float(x)) for x in row) + "\n" for row in np.asarray(a, float))


# ---- supplysim as an ema-workbench model ------------------------------------------------------------------
class SupplysimFunction:
    """The callable an ema-workbench ``Model`` runs: keyword inputs -> ``{outcome: mean over replications}``.

    Picklable (plain fields), so ema-workbench's multiprocessing evaluator can ship it to workers.
    """

    def __init__(self, model_path, spec, scenario, reps, entropy, until, check="yearly"):
        self.model_path, self.spec, self.scenario = model_path, spec, scenario
        self.reps, self.entropy, self.until, self.check = reps, entropy, until, check

    def __call__(self, **values):
        from ..experiment.experiment import ExperimentTask, run_experiment_task
        from .outcomes import replication_outcome
        ov, opts = self.spec.overrides(values), self.spec.model_options(values)
        acc = {o.name: [] for o in self.spec.outcomes}
        for r in range(self.reps):
            task = ExperimentTask(self.model_path, self.scenario, self.entropy, r, self.until, opts, self.check, ov,
                                  "ema")
            _, _, metrics, series, months, _, _ = run_experiment_task(task)
            for o in self.spec.outcomes:
                acc[o.name].append(replication_outcome(o, metrics, months, series))
        return {k: float(np.nanmean(v)) if np.isfinite(v).any() else float("nan") for k, v in acc.items()}


def _ema_parameter(p):
    from ema_workbench import CategoricalParameter, IntegerParameter, RealParameter
    if p.discrete:
        return CategoricalParameter(p.name, list(p.values))
    if p.integer:
        return IntegerParameter(p.name, int(p.low), int(p.high))
    return RealParameter(p.name, p.low, p.high)


def ema_model(model, spec, reps=3, seed=None, years=None, days=None, name="supplysim", check="yearly"):
    """An ema-workbench ``Model`` running supplysim with the explore file's uncertainties, levers and outcomes.

    ema-workbench samples continuous uncertainties uniformly over their range (the
    explore file's distributions shape supplysim's own designs only). The model and
    the explore file are checked now, as ``supplysim explore`` checks them.

    Examples
    --------
    >>> from ema_workbench import perform_experiments                     # doctest: +SKIP
    >>> m = ema_model("models/rare_earths", "experiments/explore_eu_shortfall.toml", reps=2, seed=1)  # doctest: +SKIP
    >>> experiments, outcomes = perform_experiments(m, scenarios=50)       # doctest: +SKIP
    """
    from ema_workbench import Model, ScalarOutcome

    from ..random import as_entropy
    from .run import Exploration
    exp = Exploration(model, spec, reps=reps, seed=seed, years=years, days=days, check=check, out=os.devnull)
    fn = SupplysimFunction(exp.model_path, exp.spec, exp.scenario, exp.reps, as_entropy(seed), exp.until, exp.check)
    m = Model(re.sub(r"\W", "_", name), function=fn)
    m.uncertainties = [_ema_parameter(p) for p in exp.spec.uncertainties]
    m.levers = [_ema_parameter(p) for p in exp.spec.levers]
    m.outcomes = [ScalarOutcome(o.name) for o in exp.spec.outcomes]
    return m
