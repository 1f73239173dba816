"""Running an exploration: every design point is a scenario overlay run through the experiment's store.

Each design point is the explore file's scenario with the point's key-path
overrides (and its levers' options), run for ``reps`` replications as
:class:`~supplysim.experiment.experiment.ExperimentTask` objects on the same
executors as ``supplysim compare`` and stored, one committed row per
replication, in ``OUT/results.sqlite`` under the point's label. Every point's
replication ``r`` draws from the same streams (root entropy, ``r``, source
name: rules R3 and R4), so points differ only by their inputs (common random
numbers), and the numbers do not depend on the executor, the number of
workers or interruptions: ``resume`` runs only the missing rows.

Tasks are made lazily and handed to the executor in chunks, so the main
process holds one chunk of results at a time whatever the number of points.

Examples
--------
>>> from supplysim.explore.spec import parse_spec
>>> from supplysim.explore.testfunctions import ishigami
>>> spec = parse_spec('''
... [uncertainties.x1]
... keys = []
... range = [-3.14159, 3.14159]
... [uncertainties.x2]
... keys = []
... range = [-3.14159, 3.14159]
... [uncertainties.x3]
... keys = []
... range = [-3.14159, 3.14159]
... [outcomes.y]
... metric = "y"
... ''', "ishigami.toml")
>>> import tempfile
>>> res = Exploration(None, spec, "full", 2, reps=1, seed=3, out=tempfile.mkdtemp(),
...                   evaluator=ishigami).run(progress=False)
>>> res.means("y").shape                      # 2 levels of 3 inputs
(8,)
"""
from __future__ import annotations

import itertools
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ..experiment.executors import describe_executor, execute
from ..experiment.experiment import ExperimentTask, run_experiment_task
from ..experiment.experiment import _bar, _log_to   # the compare run's progress bar and log file
from ..experiment.store import Store, repair
from ..engine.invariants import check_setting
from ..engine.results import versions
from ..model import load_model
from ..model.errors import ModelError, Problem
from ..random import as_entropy
from .designs import Design, make_design

__all__ = ["Exploration", "FunctionTask", "run_point", "Progress", "CHUNK"]

log = logging.getLogger("supplysim")

#: Tasks handed to the executor at a time: bounds the results held in memory (a pool restarts per chunk,
#: about a second against minutes of replications).
CHUNK = 256


@dataclass(frozen=True)
class FunctionTask:
    """One replication of a design point evaluated by a Python function instead of the simulator.

    ``evaluator(values, replication, entropy)`` returns ``{metric: number}``; it must be
    a module-level function (workers import it) and draw any randomness from
    ``supplysim.random.stream(entropy, replication, name)``.
    """

    evaluator: object
    label: str
    replication: int
    entropy: int
    values: tuple


def run_point(task):
    """Run one task of an exploration; return ``(label, replication, metrics, series, months, wall_s)``."""
    if isinstance(task, FunctionTask):
        t0 = time.perf_counter()
        m = task.evaluator(dict(task.values), task.replication, task.entropy)
        return task.label, task.replication, {k: float(v) for k, v in m.items()}, {}, [], time.perf_counter() - t0
    label, rep, metrics, series, months, wall, _ = run_experiment_task(task)
    return label, rep, metrics, series, months, wall


class Progress:
    """Replications done, elapsed time and ETA: a tqdm bar on a terminal, a plain line every 10% otherwise."""

    def __init__(self, total, desc="replications", enabled=True, stream=None):
        self.total, self.done, self.desc = total, 0, desc
        self.stream = stream or sys.stderr
        self.t0 = time.perf_counter()
        self.bar = None
        self.enabled = enabled and total > 0
        self._next = 0.1
        if self.enabled and getattr(self.stream, "isatty", lambda: False)():
            self.bar = _bar(total)

    def update(self, k=1):
        self.done += k
        if self.bar is not None:
            self.bar.update(k)
        elif self.enabled and (self.done >= self.total or self.done / self.total >= self._next):
            self._next = (int(self.done / self.total * 10) + 1) / 10
            print(self.line(), file=self.stream, flush=True)

    def line(self) -> str:
        el = time.perf_counter() - self.t0
        eta = el / self.done * (self.total - self.done) if self.done else float("nan")
        return (f"{self.desc}: {self.done:,}/{self.total:,} ({self.done / self.total:.0%}), "
                f"{_clock(el)} elapsed, ETA {_clock(eta)}")

    def close(self):
        if self.bar is not None:
            self.bar.close()


def _clock(s):
    if s != s:
        return "?"
    s = int(round(s))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


class Exploration:
    """A design over an explore file's uncertainties and levers, run on a model (or a Python evaluator).

    Parameters
    ----------
    model : str or Path or None
        Model file or directory (None with ``evaluator``).
    spec : Spec or str or Path
        The explore file (see :mod:`supplysim.explore.spec`).
    design : {"lhs", "sobol", "morris", "full"}, optional
        Default ``lhs`` (on resume: the stored design; a different one is an error).
    n : int, optional
        Design size (see :mod:`supplysim.explore.designs`); default 64.
    reps : int
        Replications per design point.
    seed : int, optional
        Root entropy (fresh and recorded if None); it seeds the design and the replications.
    years, days : float, optional
        Horizon (default: the explore file's ``years``, else the model's).
    out : str or Path
        Output directory (``results.sqlite``, ``run.log``; the report and exports).
    evaluator : callable, optional
        ``evaluator(values, replication, entropy) -> {metric: number}`` run instead of the
        simulator (analytic test functions; see :class:`FunctionTask`).
    """

    def __init__(self, model, spec, design=None, n=None, reps=3, seed=None, years=None, days=None,
                 out="runs/explore", check="yearly", command=None, evaluator=None, second_order=False):
        from .spec import Spec, load_spec
        self.spec = spec if isinstance(spec, Spec) else load_spec(spec)
        self.model_path = None if model is None else str(model)
        self.design_kind, self.n = design, n
        if reps < 1:
            raise ValueError("reps must be at least 1")
        self.reps, self.seed, self.check = int(reps), seed, check_setting(check)
        self.out = Path(out)
        self.command = command or " ".join(sys.argv)
        self.evaluator = evaluator
        self.second_order = second_order
        self.scenario = self.spec.scenario or "baseline"
        if evaluator is None:
            if self.model_path is None:
                raise ValueError("an exploration needs a model (or an evaluator)")
            self.base = load_model(self.model_path, scenario=self.spec.scenario, options=self.spec.options)
            self._check_spec()
            horizon = self.spec.years if self.spec.years is not None else self.base.years
        else:
            self.base = None
            horizon = self.spec.years or 1.0
        self.until = days if days is not None else (years if years is not None else horizon) * 365.0
        if not self.until > 0:
            raise ValueError("the horizon must be positive")
        if self.base is not None:
            self._check_windows()

    # -- checks before anything runs -------------------------------------------------------------------
    def _load_point(self, values):
        ov = self.spec.overrides(values)
        try:
            return load_model(self.model_path, scenario=self.spec.scenario, options=self.spec.model_options(values),
                              overrides=ov)
        except ModelError as exc:
            raise ModelError([self._locate(p) for p in exc.problems]) from None

    def _locate(self, prob):
        """A problem with an override's model key path, restated at the explore file's key that sets it."""
        if prob.file != self.spec.path:
            return prob
        for p in self.spec.parameters:
            for i, t in enumerate(p.targets):
                if t.key == prob.path:
                    grp = "uncertainties" if p.kind == "uncertainty" else "levers"
                    return Problem(prob.file, f"{grp}.{p.name}.keys.{i}", f"{t.key}: {prob.message}")
        return prob

    def _check_spec(self):
        sp = self.spec
        probs = [Problem(sp.path, f"uncertainties.{p.name}.keys", "sets no model value (keys = []); name the "
                                                                   "key paths it sets")
                 for p in sp.uncertainties if not p.targets]
        regions = sorted({d.region for d in self.base.demand.values()})
        for o in sp.outcomes:
            if o.kind == "metric" and o.keys:
                for r in o.keys:
                    if r not in regions:
                        probs.append(Problem(sp.path, f"outcomes.{o.name}.regions",
                                             f"unknown region '{r}'; the model's demand regions: {', '.join(regions)}"))
        for p in sp.levers:
            for v in (p.values if p.options else ()):
                for opt in p.option_names(v):
                    if opt not in self.base_options():
                        probs.append(Problem(sp.path, f"levers.{p.name}.options",
                                             f"unknown option '{opt}'; the model has: "
                                             f"{', '.join(self.base_options()) or 'none'}"))
        if probs:
            raise ModelError(probs)
        # every key path must exist: load the model at a reference point (the middle of every range)
        ref = {p.name: (p.values[0] if p.discrete else p.from_unit([0.5])[0]) for p in sp.parameters}
        self._load_point(ref)

    def base_options(self) -> list:
        """The model's named options."""
        from ..model.load import read_document
        return list(read_document(self.model_path).data.get("options", {}))

    def _check_windows(self):
        import datetime as dt
        start = self.base.calendar.start
        end = start + dt.timedelta(days=self.until - 1e-9)
        last = f"{end.year:04d}-{end.month:02d}"
        first = f"{start.year:04d}-{start.month:02d}"
        probs = []
        for o in self.spec.outcomes:
            if o.window and (o.window[1] > last or o.window[0] < first):
                probs.append(Problem(self.spec.path, f"outcomes.{o.name}.window",
                                     f"{o.window[0]}..{o.window[1]} is not within the run ({first}..{last}); "
                                     "lengthen the horizon (--years) or move the window"))
        if probs:
            raise ModelError(probs)

    # -- running -----------------------------------------------------------------------------------------
    def _manifest(self, design, entropy, executor, jobs):
        points = []
        digest = None
        files = {}
        if self.base is not None:
            digest = self.base.digest()
            files = dict(self.base.files)
        for pt in design.points():
            ov = self.spec.overrides(pt.values)
            entry = {"label": pt.label, "scenario": pt.scenario, "policy": pt.policy, "values": pt.values,
                     "overrides": ov.as_dict(), "options": list(self.spec.model_options(pt.values))}
            if self.base is not None:
                entry["model_sha256"] = self._load_point(pt.values).digest()   # validates every point
            points.append(entry)
        return {"kind": "explore", "command": self.command, "model_path": self.model_path,
                "model": self.base.name if self.base is not None else None, "model_sha256": digest,
                "model_files": files, "scenario": self.scenario, "spec_file": self.spec.path,
                "spec_text": self.spec.text, "spec_sha256": self.spec.digest(), "design": design.to_json(),
                "points": points, "entropy": entropy, "reps": self.reps, "horizon_days": self.until,
                "start": self.base.calendar.start.isoformat() if self.base is not None else None,
                "options": list(self.spec.options), "invariant_checks": self.check, "crn": True,
                "evaluator": None if self.evaluator is None else
                f"{self.evaluator.__module__}:{self.evaluator.__qualname__}",
                "versions": versions(), "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
                "executor": describe_executor(executor, jobs)}

    def _resume(self, old, db):
        """The stored design and entropy, after checking that this run is the stored one continued."""
        if old.get("kind") != "explore":
            raise ValueError(f"{db} holds a scenario comparison, not an exploration; choose another --out")
        diffs = []
        if old.get("spec_sha256") != self.spec.digest():
            diffs.append(f"the explore file {self.spec.path} changed since the run began")
        if self.base is not None and old.get("model_sha256") != self.base.digest():
            diffs.append("the model or scenario files changed since the run began")
        d = old["design"]
        if self.design_kind is not None and self.design_kind != d["kind"]:
            diffs.append(f"--design {self.design_kind} differs from the stored {d['kind']}")
        if self.n is not None and int(self.n) != d["n"]:
            diffs.append(f"--n {self.n} differs from the stored {d['n']}")
        if self.seed is not None and as_entropy(self.seed) != old["entropy"]:
            diffs.append(f"--seed {self.seed} differs from the stored seed {old['entropy']}")
        if abs(self.until - old["horizon_days"]) > 1e-9:
            diffs.append(f"the horizon ({self.until:g} days) differs from the stored {old['horizon_days']:g} days")
        if self.reps < old["reps"]:
            diffs.append(f"--reps {self.reps} is fewer than the stored {old['reps']} (a resume may add replications)")
        if diffs:
            raise ValueError(f"{db}: cannot resume: " + "; ".join(diffs) + ". Start a new --out.")
        return Design.from_json(d), old["entropy"]

    def _repair(self, db):
        """Before resuming: drop the rows whose checksums fail (they run again) and say so."""
        fixed = repair(db)
        if fixed["damaged_file"]:
            msg = (f"{db} was damaged: kept {fixed['kept']} replications that verify, dropped "
                   f"{len(fixed['dropped'])}; they run again (the damaged file is kept as {fixed['damaged_file']})")
            log.warning(msg)
            print(msg, file=sys.stderr)   # not a progress message: --quiet does not hide it

    def tasks(self, design, entropy, done=frozenset()):
        """The missing tasks, point by point (a worker's model cache then serves a point's replications)."""
        for pt in design.points():
            if self.evaluator is not None:
                vals = tuple(sorted(pt.values.items()))
                for r in range(self.reps):
                    if (pt.label, r) not in done:
                        yield FunctionTask(self.evaluator, pt.label, r, entropy, vals)
                continue
            ov, opts = self.spec.overrides(pt.values), self.spec.model_options(pt.values)
            for r in range(self.reps):
                if (pt.label, r) not in done:
                    yield ExperimentTask(self.model_path, self.scenario, entropy, r, self.until, opts, self.check,
                                         ov, pt.label)

    def run(self, executor=None, jobs=1, resume=False, progress=True, quiet=False):
        """Run every missing replication of every design point; return the stored results.

        Raises
        ------
        FileExistsError
            If ``out/results.sqlite`` exists and ``resume`` is False.
        ValueError
            If ``resume`` finds a store of another run (the message lists what differs).
        """
        from .results import ExplorationResults
        self.out.mkdir(parents=True, exist_ok=True)
        db = self.out / "results.sqlite"
        if db.exists() and not resume:
            raise FileExistsError(f"{db} exists: pass --resume to continue it, or choose another --out")
        if db.exists():
            self._repair(db)
        store = Store(db)
        _log_to(self.out / "run.log", quiet)
        try:
            old = store.manifest()
            if old:
                design, entropy = self._resume(old, db)
                store.set_manifest({"reps": self.reps})
            else:
                entropy = as_entropy(self.seed)
                design = make_design(self.spec, self.design_kind or "lhs", self.n or 64, entropy,
                                     second_order=self.second_order)
                store.set_manifest(self._manifest(design, entropy, executor, jobs))
            self.entropy, self.design = entropy, design
            done = store.done()
            total = len(design) * self.reps - sum(1 for s, r in done if r < self.reps)
            log.info("exploration %s: %s design, %d points x %d replications, %d to run (%s)", self.spec.name,
                     design.kind, len(design), self.reps, total, describe_executor(executor, jobs))
            bar = Progress(total, "replications", enabled=progress and not quiet)
            it = self.tasks(design, entropy, done)
            try:
                while True:
                    chunk = list(itertools.islice(it, CHUNK))
                    if not chunk:
                        break
                    for label, rep, metrics, series, months, wall in execute(run_point, chunk, executor, jobs):
                        store.add(label, rep, metrics, series, months, wall)
                        bar.update()
            except KeyboardInterrupt:
                log.warning("interrupted: %d replications are stored; rerun with --resume", len(store.done()))
                raise
            finally:
                bar.close()
            store.set_manifest({"finished": time.strftime("%Y-%m-%dT%H:%M:%S")})
        finally:
            store.close()
        return ExplorationResults(self.out)
