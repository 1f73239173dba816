"""Experiments: scenarios x replications with common random numbers, a resumable store,
paired comparisons against a baseline, and exports.

Examples
--------
>>> exp = Experiment("models/examples/tutorial.toml", scenarios=["baseline"], reps=4, seed=1,
...                  days=120, out="runs/doc-example")                       # doctest: +SKIP
>>> res = exp.run(progress=False)                                             # doctest: +SKIP
>>> res.summary()["baseline"]["kpis"]["fill_rate"]["n"]                        # doctest: +SKIP
4
"""
from __future__ import annotations

import csv
import json
import logging
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..engine import Simulation
from ..engine.results import versions
from ..model import load_model
from ..model.overlay import Overrides
from ..random import as_entropy
from .executors import describe_executor, execute
from .metrics import recovery_months, replication_metrics, replication_series
from .runner import cached_model, warmer
from .sketch import Moments, QuantileSketch
from .stats import mean_ci, paired
from .files import atomic_write
from .store import Store, repair

__all__ = ["Experiment", "ExperimentResults", "ExperimentTask", "run_experiment_task"]

log = logging.getLogger("supplysim")


@dataclass(frozen=True)
class ExperimentTask:
    """One replication of one scenario: everything a worker needs, nothing it shares."""

    model_path: str
    scenario: str        # label used in the store ("baseline" = the model as is)
    entropy: int
    replication: int
    until: float
    options: tuple = ()
    check: bool = True
    overrides: Overrides = Overrides()   # key-path values set on top of the scenario (a design point)
    label: str = ""                      # the store's name for the run, when not the scenario's


def run_experiment_task(task: ExperimentTask):
    """Run one replication and return what the store keeps (small, picklable)."""
    model = cached_model(task.model_path, _model_scenario(task.scenario), tuple(task.options),
                         task.overrides or None)   # None: the same cache entry as the warmed model
    sim = Simulation(model, seed=task.entropy, replication=task.replication, check=task.check)
    res = sim.run(until=task.until)
    return (task.label or task.scenario, task.replication, replication_metrics(res, sim.t_disrupt),
            replication_series(res), res.months, res.kpis["wall_s"], sim.t_disrupt)


def _model_scenario(label):
    """The scenario argument of ``load_model`` for a scenario label (``baseline``: none)."""
    return None if label == "baseline" else label


class Experiment:
    """Scenarios x replications of one model, written to ``out/results.sqlite``.

    Parameters
    ----------
    model : str or Path
        Model file or directory.
    scenarios : list of str
        Scenario names (``"baseline"`` is the model itself; ``a+b`` combines).
    baseline : str, optional
        The scenario others are compared with (default: ``"baseline"`` if
        listed, else the first).
    reps : int
        Replications per scenario.
    seed : int, optional
        Root entropy (fresh if None, and recorded).
    years, days : float, optional
        Horizon (default: the model's ``years``).
    out : str or Path
        Output directory.
    """

    def __init__(self, model, scenarios=("baseline",), baseline=None, reps=30, seed=None, years=None, days=None,
                 out="runs/experiment", options=(), check=True, command=None, crn=True):
        self.model_path = str(model)
        self.scenarios = list(dict.fromkeys(scenarios))
        if not self.scenarios:
            raise ValueError("an experiment needs at least one scenario")
        self.baseline = baseline or ("baseline" if "baseline" in self.scenarios else self.scenarios[0])
        if self.baseline not in self.scenarios:
            self.scenarios.insert(0, self.baseline)
        if reps < 1:
            raise ValueError("reps must be at least 1")
        self.reps = int(reps)
        self.seed = seed
        self.options = tuple(options)
        self.check = check
        self.crn = crn
        self.out = Path(out)
        self.command = command or " ".join(sys.argv)
        # load every scenario now: a broken file fails before any replication runs
        self.models = {s: load_model(self.model_path, scenario=_model_scenario(s), options=self.options)
                       for s in self.scenarios}
        base = self.models[self.baseline]
        self.until = days if days is not None else (years if years is not None else base.years) * 365.0
        self.horizon_given = days is not None or years is not None   # resume compares it with the store's
        if self.until <= 0:
            raise ValueError("the horizon must be positive")

    # -- running -----------------------------------------------------------------------------------
    def _manifest(self, entropy):
        base = self.models[self.baseline]
        files = {}
        for m in self.models.values():
            files.update(m.files)
        return {"command": self.command, "model_path": self.model_path, "model": base.name,
                "model_sha256": {s: m.digest() for s, m in self.models.items()}, "model_digest": "content",
                "model_files": files,
                "scenarios": {s: {"name": m.scenario_name, "description": m.scenario.get("description", ""),
                                  "options": m.scenario.get("options", []),
                                  "references": m.scenario.get("references", [])}
                              for s, m in self.models.items()},
                "scenario_order": self.scenarios, "baseline": self.baseline, "entropy": entropy,
                "horizon_days": self.until, "start": base.calendar.start.isoformat(), "options": list(self.options),
                "invariant_checks": self.check, "versions": versions()}

    def run(self, executor=None, jobs=1, resume=False, progress=True, precision=None, metric="fill_rate",
            max_reps=None, quiet=False) -> "ExperimentResults":
        """Run the missing replications and export the results.

        ``resume`` reuses ``out/results.sqlite``: the seed and horizon come from
        its manifest and only the replications it lacks are run. With
        ``precision`` (relative half-width of the 95% interval of ``metric``),
        replications are added in rounds until every scenario reaches it or
        ``max_reps`` (rule A3).
        """
        self.out.mkdir(parents=True, exist_ok=True)
        db = self.out / "results.sqlite"
        if db.exists() and not resume:
            raise FileExistsError(f"{db} exists: pass resume=True (--resume) to continue it, or choose another --out")
        _log_to(self.out / "run.log", quiet)
        if db.exists():
            self._repair(db, quiet)
        store = Store(db)
        try:
            old = store.manifest()
            if old:
                self._check_resume(old, db, store, quiet)
                entropy = old["entropy"]
                self.until = old["horizon_days"]
            else:
                entropy = as_entropy(self.seed)
                store.set_manifest({**self._manifest(entropy), "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
                                    "executor": describe_executor(executor, jobs), "crn": self.crn})
            self.entropy = entropy
            target = self.reps
            while True:
                self._run_round(store, entropy, target, executor, jobs, progress and not quiet)
                if precision is None:
                    break
                hw = self._worst_relative_half_width(store, metric)
                log.info("after %d replications the worst relative half-width of %s is %.4g", target, metric, hw)
                if hw <= precision or (max_reps is not None and target >= max_reps):
                    store.set_manifest({"precision": {"metric": metric, "target": precision, "achieved": hw}})
                    break
                target = min(int(math.ceil(target * 1.5)), max_reps or 10**9)
            store.set_manifest({"finished": time.strftime("%Y-%m-%dT%H:%M:%S"), "replications": target})
        finally:
            store.close()
        self._write_bounds()
        res = ExperimentResults(self.out)
        res.export()
        return res

    def _repair(self, db, quiet):
        """Before resuming: drop the replications whose checksums fail (they run again) and say so."""
        fixed = repair(db)
        if fixed["damaged_file"]:
            lost = ", ".join(f"{s} #{r}" for s, r in fixed["dropped"][:20])
            msg = (f"{db} was damaged: kept {fixed['kept']} replications that verify"
                   + (f", dropped the damaged {lost}{' ...' if len(fixed['dropped']) > 20 else ''}" if lost else "")
                   + f"; the missing replications run again (the damaged file is kept as {fixed['damaged_file']})")
            log.warning(msg)
            print(msg, file=sys.stderr)   # not only a progress message: --quiet does not hide it

    def _check_resume(self, old, db, store, quiet):
        """Refuse to resume a run this command would not continue unchanged; say what differs."""
        wrong = []
        if self.seed is not None and as_entropy(self.seed) != old.get("entropy"):
            wrong.append(f"--seed {self.seed} differs from the stored run's seed {old.get('entropy')} (leave "
                         "--seed out to continue with the stored one)")
        if self.horizon_given and not math.isclose(self.until, old.get("horizon_days", math.nan)):
            wrong.append(f"the horizon of {self.until:g} days differs from the stored {old.get('horizon_days')} "
                         "(leave --years/--days out to continue with the stored one)")
        stored = list(old.get("scenario_order") or [])
        if stored != self.scenarios:
            wrong.append(f"the scenarios {', '.join(self.scenarios)} differ from the stored {', '.join(stored)}")
        if old.get("crn", True) != self.crn:
            wrong.append("common random numbers were " + ("on" if old.get("crn", True) else "off") +
                         " in the stored run")
        if not wrong:
            wrong += self._changed_models(old)
        if wrong:
            raise ValueError(f"{db}: cannot resume: " + "; ".join(wrong) + ". Start a new --out for a new run.")
        have = max((len(v) for v in _per_scenario(store.done()).values()), default=0)
        asked = old.get("replications")
        if asked is not None and asked != self.reps:
            msg = (f"resuming {db}: the stored run asked for {asked} replications per scenario (it holds up to "
                   f"{have}); this one asks for {self.reps}")
            log.info(msg)
            print(msg, file=sys.stderr)

    def _changed_models(self, old):
        """What differs in the model content between the store and this command, per scenario."""
        new = {s: m.digest() for s, m in self.models.items()}
        was = old.get("model_sha256") or {}
        if old.get("model_digest") != "content":
            # stores written before digests covered content: compare the files' texts instead
            old_texts = sorted((old.get("model_files") or {}).values())
            files = {}
            for m in self.models.values():
                files.update(m.files)
            return [] if sorted(files.values()) == old_texts else \
                ["the model or scenario files changed since this run began"]
        changed = [s for s in self.scenarios if was.get(s) != new.get(s)]
        if not changed:
            return []
        old_files = old.get("model_files") or {}
        now = {}
        for m in self.models.values():
            now.update(m.files)
        texts = {t for t in old_files.values()}
        edited = sorted(n for n, t in now.items() if t not in texts)
        return [f"the model content of {', '.join(changed)} changed since this run began"
                + (f" (files whose text differs: {', '.join(edited)})" if edited else "")]

    def _write_bounds(self):
        """Static capacity bounds per scenario and region, mid-way through the last simulated year.

        The report shows them beside the simulated long-run delivery: no run may
        deliver more than the network can carry.
        """
        try:
            from ..analysis import capacity_bounds
        except ImportError:   # the analysis package is optional for experiments
            return
        day = max(self.until - 182.5, 0.0)
        doc = {"day": day, "unit": "t/yr of demanded product", "scenarios": {}}
        for s, m in self.models.items():
            try:
                b = capacity_bounds(m, day)
            except Exception as exc:  # a bound that cannot be computed must not lose the run
                log.warning("static bounds for %s failed: %s", s, exc)
                continue
            doc["scenarios"][s] = {"bounds": {r: {"bound_t_yr": v.get("bound_t_yr"), "demand_t_yr": v.get("demand_t_yr")}
                                              for r, v in b.items()}}
        with atomic_write(self.out / "bounds.json") as fh:
            json.dump(doc, fh, indent=1, default=lambda x: None)

    def _run_round(self, store, entropy, target, executor, jobs, progress):
        done = store.done()
        tasks = [ExperimentTask(self.model_path, s, entropy if self.crn else _independent(entropy, s), r,
                                self.until, self.options, self.check)
                 for r in range(target) for s in self.scenarios if (s, r) not in done]
        if not tasks:
            return
        log.info("running %d replications (%s)", len(tasks), describe_executor(executor, jobs))
        bar = None
        if progress:
            bar = _bar(len(tasks))
        try:
            warm = warmer((t.model_path, _model_scenario(t.scenario), t.options) for t in tasks)
            for scen, rep, metrics, series, months, wall, _ in execute(run_experiment_task, tasks, executor, jobs,
                                                                       warm=warm):
                store.add(scen, rep, metrics, series, months, wall)
                log.info("done %s #%d (%.2f s)", scen, rep, wall)
                if bar:
                    bar.update()
        except KeyboardInterrupt:
            log.warning("interrupted: %d replications are stored; rerun with --resume", len(store.done()))
            raise
        finally:
            if bar:
                bar.close()

    def _worst_relative_half_width(self, store, metric):
        worst = 0.0
        for s in self.scenarios:
            vals = [m.get(metric, float("nan")) for _, m in store.metrics(s)]
            st = mean_ci(vals)
            if st["n"] < 2 or st["mean"] == 0:
                return math.inf
            worst = max(worst, abs(st["half_width"] / st["mean"]))
        return worst


def _per_scenario(keys) -> dict:
    out = {}
    for s, r in keys:
        out.setdefault(s, set()).add(r)
    return out


def _bar(total):
    """A progress bar over replications, without tqdm's monitor thread.

    The bar advances once per replication, so the monitor (which refreshes
    bars stalled between updates) has nothing to do; and a thread left running
    would keep the report from drawing its figures in a forked process.
    """
    from tqdm import tqdm

    class Bar(tqdm):
        monitor_interval = 0
    return Bar(total=total, unit="rep", desc="replications", file=sys.stderr)


def _independent(entropy, scenario):
    """Entropy of its own for a scenario: switches common random numbers off (for comparisons of CRN)."""
    import zlib
    ss = np.random.SeedSequence(entropy, spawn_key=(zlib.crc32(scenario.encode()),))
    return int(ss.generate_state(2, np.uint64)[0])


def _log_to(path, quiet):
    if any(getattr(h, "_supplysim", False) and h.baseFilename == str(Path(path).resolve())
           for h in log.handlers):
        return
    h = logging.FileHandler(path)
    h._supplysim = True
    h.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(h)
    log.setLevel(logging.INFO)


class ExperimentResults:
    """Read access to a stored experiment: summaries, paired comparisons, exports.

    A view of the store as it is when the view is made: summaries, differences,
    recovery times and time series are computed once and shared by the exports,
    the report and its figures (make a new view to see replications added later).
    """

    def __init__(self, out):
        self.out = Path(out)
        self.store = Store(self.out / "results.sqlite")
        self.manifest = self.store.manifest()
        self.scenarios = [s for s in self.manifest.get("scenario_order", self.store.scenarios())
                          if s in set(self.store.scenarios())]
        self.baseline = self.manifest.get("baseline", self.scenarios[0] if self.scenarios else None)
        self._memo = {}

    def detached(self) -> "ExperimentResults":
        """A view sharing what this one has computed, with its own connection to the store.

        For use in a forked process: an SQLite connection must not be used on
        both sides of a fork.
        """
        new = object.__new__(ExperimentResults)
        new.__dict__.update(self.__dict__)
        new.store = Store(self.store.path)
        return new

    def _once(self, key, fn):
        if key not in self._memo:
            self._memo[key] = fn()
        return self._memo[key]

    def metrics(self, scenario) -> dict:
        """``{metric: array over replications}`` (replication order)."""
        return self._table(scenario)[1]

    def _table(self, scenario):
        """Replication indices and ``{metric: array over them}`` (NaN where a replication lacks it)."""
        return self._once(("table", scenario), lambda: self._read_table(scenario))

    def _read_table(self, scenario):
        rows = self.store.metrics(scenario)
        keys = {}
        for _, m in rows:
            for k in m:
                keys.setdefault(k, None)
        return [r for r, _ in rows], {k: np.array([m.get(k, np.nan) for _, m in rows], float) for k in keys}

    def replications(self, scenario) -> list:
        return self.store.replications(scenario)

    def summary(self) -> dict:
        """Per scenario: KPIs and per-region KPIs as mean, 95% interval, n, P5/P50/P95."""
        return self._once("summary", self._summary)

    def _summary(self):
        out = {}
        for s in self.scenarios:
            ms = self.metrics(s)
            kpis, regions = {}, {}
            for k, v in ms.items():
                st = _clean(mean_ci(v))
                if "[" in k:
                    name, key = k[:-1].split("[", 1)
                    if ":" not in key and "/" not in key and name in _REGION_KPIS:
                        regions.setdefault(key, {})[name] = st
                    else:
                        kpis[k] = st
                else:
                    kpis[k] = st
            out[s] = {"kpis": kpis, "regions": regions, "replications": len(self.replications(s))}
        return out

    def compare(self, a, b, metric="fill_rate", comparisons=1) -> dict:
        """Paired comparison ``b - a`` of ``metric`` over common replications (rule A4)."""
        (reps_a, ma), (reps_b, mb) = self._table(a), self._table(b)
        reps = sorted(set(reps_a) & set(reps_b))
        if len(reps) < 2:
            raise ValueError(f"need at least 2 common replications of {a} and {b}, have {len(reps)}")
        x = ma[metric][np.searchsorted(reps_a, reps)].tolist() if metric in ma else [np.nan] * len(reps)
        y = mb[metric][np.searchsorted(reps_b, reps)].tolist() if metric in mb else [np.nan] * len(reps)
        return _clean(paired(x, y, comparisons=comparisons))

    def differences(self, metrics=None) -> dict:
        """Every scenario against the baseline, Bonferroni over the scenarios compared."""
        if metrics is None:
            return self._once("differences", lambda: self._differences(None))
        return self._differences(metrics)

    def _differences(self, metrics):
        others = [s for s in self.scenarios if s != self.baseline]
        if not others:
            return {}
        ms = self.metrics(self.baseline)
        metrics = metrics or [k for k in ms if k.startswith(("fill_rate", "unmet_demand_t", "shortfall_t_yr",
                                                            "tts_days", "nadir_fill_rate", "triangle_days",
                                                            "recovery_months"))]
        rec = self.recovery()
        out = {}
        for s in others:
            out[s] = {}
            for k in metrics:
                if k.startswith("recovery_months"):
                    continue
                try:
                    out[s][k] = self.compare(self.baseline, s, k, comparisons=len(others))
                except ValueError:
                    pass
            for reg, st in rec.get(s, {}).items():
                out[s][f"recovery_months[{reg}]"] = st
        return out

    def recovery(self, eps=0.02) -> dict:
        """Per scenario and region: months to recover to within ``eps`` of the baseline's monthly fill."""
        return self._once(("recovery", eps), lambda: self._recovery(eps))

    def _recovery(self, eps):
        if not self.baseline:
            return {}
        # only the baseline's fill rates are kept (a copy: the series share one buffer per replication)
        base = {r: (ser["fill_rate"][0], ser["fill_rate"][1].copy()) for r, _, ser in self.store.series(self.baseline)}
        out = {}
        t_start = {}
        for s in self.scenarios:
            if s == self.baseline:
                continue
            vals = {}
            for r, months, ser in self.store.series(s):
                if r not in base:
                    continue
                regs, fr = ser["fill_rate"]
                bregs, bfr = base[r]
                start = t_start.setdefault(s, _first_month_of_shortfall(fr, bfr))
                for j, g in enumerate(regs):
                    if g in bregs:
                        vals.setdefault(g, []).append(recovery_months(bfr[:, bregs.index(g)], fr[:, j], start, eps))
            out[s] = {g: _clean(mean_ci(v)) for g, v in vals.items()}
        return out

    def timeseries(self):
        """Yield ``(scenario, metric, key, months, mean, p05, p50, p95)`` folding replications in order."""
        return iter(self._once("timeseries", lambda: list(self._timeseries())))

    def _timeseries(self):
        for s in self.scenarios:
            acc = {}   # metric -> (labels, moments, sketch) over the whole (months x keys) array
            months = None
            for r, mo, ser in self.store.series(s):
                months = mo
                for name, (labels, arr) in ser.items():
                    a = acc.get(name)
                    if a is None:
                        a = acc[name] = (labels, Moments(arr.shape), QuantileSketch())
                    elif a[0] != labels or a[1].mean.shape != arr.shape:
                        raise ValueError(f"{self.store.path}: replication {r} of {s} has other {name} series "
                                         f"({len(labels)} keys, shape {arr.shape}) than the replications before "
                                         f"({len(a[0])} keys, shape {a[1].mean.shape}); the store mixes runs "
                                         "of different models")
                    a[1].add(arr)
                    a[2].add(arr)
            for name, (labels, mom, sk) in acc.items():
                q = sk.quantiles([0.05, 0.5, 0.95])
                for j, key in enumerate(labels):
                    yield s, name, key, months, mom.mean[:, j], q[0][:, j], q[1][:, j], q[2][:, j]

    def export(self):
        """Write summary.json, replications.csv and timeseries.csv beside the store."""
        summ = self.summary()
        man = {k: v for k, v in self.manifest.items() if k != "model_files"}
        man["model_files"] = sorted(self.manifest.get("model_files", {}))
        data = {"manifest": man, "scenarios": summ, "differences": self.differences()}
        with atomic_write(self.out / "summary.json") as fh:
            json.dump(data, fh, indent=1, default=str)
        with atomic_write(self.out / "replications.csv") as fh:
            keys = {"scenario": None, "replication": None}
            for s in self.scenarios:
                keys.update(dict.fromkeys(self._table(s)[1]))
            w = csv.DictWriter(fh, fieldnames=list(keys))
            w.writeheader()
            for s in self.scenarios:   # streamed: one scenario's decoded rows at a time
                w.writerows({"scenario": s, "replication": r, **m} for r, m in self.store.metrics(s))
        with atomic_write(self.out / "timeseries.csv") as fh:
            w = csv.writer(fh)
            w.writerow(["scenario", "metric", "key", "month", "mean", "p05", "p50", "p95"])
            for s, name, key, months, mean, p05, p50, p95 in self.timeseries():
                for i, mo in enumerate(months):
                    w.writerow([s, name, key, mo, f"{mean[i]:.10g}", f"{p05[i]:.10g}", f"{p50[i]:.10g}",
                                f"{p95[i]:.10g}"])
        return data


_REGION_KPIS = {"fill_rate", "unmet_demand_t", "demand_t", "lost_t", "backlog_end_t", "tts_days", "nadir_fill_rate",
                "triangle_days", "shortfall_t_yr"}


def _first_month_of_shortfall(fr, bfr):
    gap = (bfr - fr) > 0.02 if fr.shape == bfr.shape else np.zeros(fr.shape, bool)
    idx = np.where(gap.any(axis=1))[0]
    return int(idx[0]) if idx.size else 0


def _clean(d):
    return {k: (None if isinstance(v, float) and (math.isnan(v) or math.isinf(v)) else v) for k, v in d.items()}
