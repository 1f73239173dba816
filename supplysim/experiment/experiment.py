"""Experiments: scenarios x replications with common random numbers, a resumable store,
paired comparisons against a baseline, and exports.

Every result carries one manifest schema (:meth:`Experiment.manifest`, desmod's habit, rule V4):
``supplysim run`` is a one-scenario experiment and ``supplysim compare`` a several-scenario one,
through the same store and the same exports.

Examples
--------
>>> import tempfile
>>> from supplysim.paths import models_dir
>>> out = tempfile.mkdtemp()
>>> exp = Experiment(models_dir() / "examples" / "tutorial.toml", scenarios=["baseline"], reps=3, seed=1,
...                  days=60, out=out)
>>> res = exp.run(progress=False, quiet=True)
>>> st = res.summary()["baseline"]["regions"]["EU"]["delivered_share"]
>>> st["n"], 0.0 <= st["ci_low"] <= st["ci_high"] <= 1.0
(3, True)
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
from ..engine.invariants import check_setting
from ..engine.results import versions
from ..model import load_model
from ..model.overlay import Overrides
from ..random import as_entropy
from .. import catalogue as cat
from .executors import describe_executor, execute
from .files import atomic_write, write_text
from .metrics import replication_metrics, replication_series
from .runner import cached_model, warmer
from .sketch import Moments, QuantileSketch
from .stats import difference, mean_ci, summarize
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
    check: str = "yearly"
    overrides: Overrides = Overrides()   # key-path values set on top of the scenario (a design point)
    label: str = ""                      # the store's name for the run, when not the scenario's


def run_experiment_task(task: ExperimentTask):
    """Run one replication and return what the store keeps (small, picklable)."""
    model = cached_model(task.model_path, _model_scenario(task.scenario), tuple(task.options),
                         task.overrides or None)   # None: the same cache entry as the warmed model
    sim = Simulation(model, seed=task.entropy, replication=task.replication, check=task.check)
    res = sim.run(until=task.until)
    series = replication_series(res)
    return (task.label or task.scenario, task.replication, replication_metrics(res, series), series, res.months,
            res.kpis["wall_s"], res.manifest["disruption_start_day"])


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
    check : {"yearly", "monthly", "off"}
        How often each replication checks its invariants (see ``Simulation``); sweeps check
        yearly, which catches the faults a monthly check does at a twelfth of its cost.
    """

    def __init__(self, model, scenarios=("baseline",), baseline=None, reps=30, seed=None, years=None, days=None,
                 out="runs/experiment", options=(), check="yearly", command=None, crn=True):
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
        self.check = check_setting(check)
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
    def manifest(self, entropy) -> dict:
        """The manifest every result of this experiment carries (rule V4): command, model path, name,
        files and hashes, scenarios, baseline, root entropy, horizon, start, options, versions."""
        return self._manifest(entropy)

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
                "invariant_checks": self.check, "versions": versions(),
                # the market names readers see in tables and figures (keys keep the ids)
                "markets": {m.id: m.name for m in base.market.markets.values()} if base.market else {}}

    def run(self, executor=None, jobs=1, resume=False, progress=True, precision=None, metric="delivered_share",
            max_reps=None, quiet=False) -> "ExperimentResults":
        """Run the missing replications and export the results.

        ``resume`` reuses ``out/results.sqlite``: the seed and horizon come from
        its manifest and only the replications it lacks are run. With
        ``precision`` (relative half-width of the 95% interval of ``metric``,
        a catalogue name: every key of it, or one ``name[key]``), replications
        are added in rounds until every scenario reaches it or ``max_reps``
        (rule A3).
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
            starts = {}
            for scen, rep, metrics, series, months, wall, t0 in execute(run_experiment_task, tasks, executor, jobs,
                                                                        warm=warm):
                store.add(scen, rep, metrics, series, months, wall)
                if scen not in starts:
                    starts[scen] = t0
                    store.set_manifest({"disruption_start_day": {**store.manifest().get("disruption_start_day", {}),
                                                                 **starts}})
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
            rows = [m for _, m in store.metrics(s)]
            names = sorted({k for m in rows for k in m if k == metric or cat.split(k)[0] == metric})
            if not names:
                raise ValueError(f"--metric {metric}: no such metric in the results (see docs/metrics.md)")
            for k in names:
                st = mean_ci([m.get(k, float("nan")) for m in rows])
                if st["n"] < 2:
                    return math.inf
                if st["mean"] != 0:
                    worst = max(worst, abs(st["half_width"] / st["mean"]))
        return worst


def _per_scenario(keys) -> dict:
    out = {}
    for s, r in keys:
        out.setdefault(s, set()).add(r)
    return out


def _bar(total):
    """Progress over replications: a bar on a terminal, plain lines otherwise (logs stay readable).

    The bar runs without tqdm's monitor thread: it advances once per replication, so the monitor
    has nothing to do, and a thread left running would keep the report from drawing its figures
    in a forked process.
    """
    if not sys.stderr.isatty():
        return _Lines(total)
    from tqdm import tqdm

    class Bar(tqdm):
        monitor_interval = 0
    return Bar(total=total, unit="rep", desc="replications", file=sys.stderr)


class _Lines:
    """Progress as one plain line per tenth of the work (or per minute): no carriage returns."""

    def __init__(self, total, stream=None):
        self.total, self.n, self.t0 = total, 0, time.perf_counter()
        self.stream = stream or sys.stderr
        self._next, self._last = max(1, total // 10), self.t0

    def update(self, k=1):
        self.n += k
        now = time.perf_counter()
        if self.n >= self._next or self.n == self.total or now - self._last >= 60:
            el = now - self.t0
            eta = el / self.n * (self.total - self.n)
            print(f"replications {self.n}/{self.total} ({self.n / self.total:.0%}), {el:.0f} s elapsed, "
                  f"about {eta:.0f} s left", file=self.stream, flush=True)
            self._next = self.n + max(1, self.total // 10)
            self._last = now

    def close(self):
        pass


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
    """Read access to a stored experiment: summaries, paired comparisons, tables, exports.

    A view of the store as it is when the view is made: summaries, differences and time series
    are computed once and shared by the exports, the report and its figures (make a new view to
    see replications added later). Every summary follows the metric's kind in the catalogue
    (:mod:`supplysim.catalogue`): fractions stay in [0, 1], tonnes never go below 0, censored
    times are summarised by their Kaplan-Meier median.
    """

    def __init__(self, out):
        self.out = Path(out)
        self.store = Store(self.out / "results.sqlite")
        self.manifest = self.store.manifest()
        stored = set(self.store.scenarios())
        self.scenarios = [s for s in self.manifest.get("scenario_order", sorted(stored)) if s in stored]
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

    # -- per-replication values ----------------------------------------------------------------------
    def metrics(self, scenario) -> dict:
        """``{name[key]: array over replications}`` (replication order)."""
        return self._table(scenario)[1]

    def _table(self, scenario):
        """Replication indices and ``{metric: array over them}`` (NaN where a replication lacks it)."""
        return self._once(("table", scenario), lambda: self._read_table(scenario))

    def _read_table(self, scenario):
        return self.store.metric_table(scenario)

    def replications(self, scenario) -> list:
        return self.store.replications(scenario)

    def regions(self) -> list:
        """Demand regions of the experiment, sorted."""
        regs = set()
        for s in self.scenarios:
            regs.update(k for n, k in map(cat.split, self.metrics(s)) if n == "demand_t" and k)
        return sorted(regs)

    def metric_values(self, scenario, metric, window=None):
        """Values of ``metric`` (``name[key]``) over the replications, in replication order.

        With ``window = (first, last)`` months (``"2026-01"``, ``"2027-12"``), a region metric is
        computed again from the stored monthly series over that window with the catalogue's
        estimator. Censored metrics come with their flags: the result is ``(values, flags)``.
        """
        name, key = cat.split(metric)
        m = cat.get(name) if name in {x.name for x in cat.METRICS} else None
        if window is None:
            ms = self.metrics(scenario)
            vals = ms.get(metric, np.full(len(self.replications(scenario)), np.nan))
            if m is not None and m.censored:
                return vals, ms.get(f"{m.flag}[{key}]", np.full(vals.shape, np.nan))
            return vals
        if m is None or m.scope != "region" or name == "time_to_survive_days":
            raise ValueError(f"{metric}: only the catalogue's region metrics (except time to survive) have windows")
        t0 = (self.manifest.get("disruption_start_day") or {}).get(scenario)
        vals, flags = [], []
        for _, months, ser in self.store.series(scenario):
            rm = cat.region_metrics(ser, months, self.manifest["start"], self.manifest["horizon_days"], t0, window)
            vals.append(rm[name].get(key, np.nan))
            flags.append(rm.get(f"{name}_censored", {}).get(key, np.nan))
        vals = np.array(vals, float)
        return (vals, np.array(flags, float)) if m.censored else vals

    # -- summaries -------------------------------------------------------------------------------------
    def summary(self) -> dict:
        """Per scenario: ``replications``, ``regions`` (``{region: {metric: summary}}``) and ``metrics``
        (``{name[key]: summary}`` of the other scopes); each summary as :func:`.stats.summarize` gives it."""
        return self._once("summary", self._summary)

    def _summary(self):
        out = {}
        for s in self.scenarios:
            ms = self.metrics(s)
            regions, other = {}, {}
            for k, v in ms.items():
                name, key = cat.split(k)
                m = _entry(name)
                if m is None:       # a censoring flag, or a name not in the catalogue
                    continue
                st = _clean(summarize(v, m.kind, censored=ms.get(f"{m.flag}[{key}]") if m.censored else None))
                if m.scope == "region" and key is not None:
                    regions.setdefault(key, {})[name] = st
                else:
                    other[k] = st
            out[s] = {"replications": len(self.replications(s)), "regions": dict(sorted(regions.items())),
                      "metrics": other}
        return out

    def compare(self, a, b, metric, comparisons=1) -> dict:
        """Paired comparison ``b - a`` of ``metric`` (``name[key]``) over common replications (rule A4)."""
        (reps_a, ma), (reps_b, mb) = self._table(a), self._table(b)
        reps = sorted(set(reps_a) & set(reps_b))
        if len(reps) < 2:
            raise ValueError(f"need at least 2 common replications of {a} and {b}, have {len(reps)}")
        ia, ib = np.searchsorted(reps_a, reps), np.searchsorted(reps_b, reps)

        def col(ms, k, idx):
            return ms[k][idx] if k in ms else np.full(len(idx), np.nan)
        name, key = cat.split(metric)
        m = _entry(name)
        kind = m.kind if m else "signed"
        if kind == "censored":
            flag = f"{m.flag}[{key}]"
            return _clean(difference(col(ma, metric, ia), col(mb, metric, ib), kind, comparisons=comparisons,
                                     censored_x=col(ma, flag, ia), censored_y=col(mb, flag, ib)))
        return _clean(difference(col(ma, metric, ia), col(mb, metric, ib), kind, comparisons=comparisons))

    def differences(self, metrics=None) -> dict:
        """Every scenario against the baseline, Bonferroni over the scenarios compared.

        Default ``metrics``: every region metric of the catalogue, for every region.
        """
        if metrics is None:
            return self._once("differences", lambda: self._differences(None))
        return self._differences(metrics)

    def _differences(self, metrics):
        others = [s for s in self.scenarios if s != self.baseline]
        if not others:
            return {}
        if metrics is None:
            metrics = [f"{m.name}[{r}]" for m in cat.of_scope("region") for r in self.regions()]
        out = {}
        for s in others:
            out[s] = {}
            for k in metrics:
                try:
                    out[s][k] = self.compare(self.baseline, s, k, comparisons=len(others))
                except ValueError:
                    pass
        return out

    # -- monthly series ------------------------------------------------------------------------------
    def timeseries(self):
        """Yield ``(scenario, series, key, months, mean, p05, p50, p95)`` folding replications in order."""
        return iter(self._once("timeseries", lambda: list(self._timeseries())))

    def _timeseries(self):
        for s in self.scenarios:
            acc = {}   # series -> (labels, moments, sketch) over the whole (months x keys) array
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

    # -- tables for other tools (pandas, Parquet) -------------------------------------------------------
    def to_frame(self):
        """Per-replication metrics as a pandas DataFrame: index (scenario, replication), one column per
        ``name[key]`` (needs the ``data`` extra: ``pip install 'supplysim[data]'``)."""
        pd = _pandas()
        parts = []
        for s in self.scenarios:
            reps, ms = self._table(s)
            df = pd.DataFrame(ms, index=pd.MultiIndex.from_product([[s], reps], names=["scenario", "replication"]))
            parts.append(df)
        return pd.concat(parts) if parts else pd.DataFrame()

    def summary_frame(self):
        """The region summaries as a long pandas DataFrame: scenario, region, metric, unit, estimate,
        ci_low, ci_high, n (and n_censored for censored times)."""
        pd = _pandas()
        rows = []
        for s, sc in self.summary().items():
            for r, d in sc["regions"].items():
                for name, st in d.items():
                    rows.append({"scenario": s, "region": r, "metric": name, "unit": cat.get(name).unit,
                                 "estimate": st.get("estimate"), "ci_low": st.get("ci_low"),
                                 "ci_high": st.get("ci_high"), "n": st.get("n"), "n_censored": st.get("n_censored")})
        return pd.DataFrame(rows)

    def iter_series_rows(self):
        """Yield ``(scenario, replication, series, key, month, value)`` for every stored monthly value."""
        for s in self.scenarios:
            for r, months, ser in self.store.series(s):
                for name, (labels, arr) in ser.items():
                    for j, key in enumerate(labels):
                        for i, mo in enumerate(months):
                            yield s, r, name, key, mo, float(arr[i, j])

    def write_parquet(self, path=None) -> Path:
        """Every replication's monthly series to one Parquet file (long form: scenario, replication,
        series, key, month, value), written one replication at a time (needs pyarrow)."""
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError as exc:
            raise ImportError("Parquet export needs pyarrow: pip install 'supplysim[data]'") from exc
        path = Path(path) if path is not None else self.out / "series.parquet"
        schema = pa.schema([("scenario", pa.string()), ("replication", pa.int32()), ("series", pa.string()),
                            ("key", pa.string()), ("month", pa.string()), ("value", pa.float64())])

        # row groups of at least 4,096 rows (a dozen tutorial replications): a group per replication
        # kept the main process's peak growing with the replications (+33 MB at 3,000), and larger
        # buffers cost more than they save (measured: benchmarks/README.md, memory)
        pending, rows = [], 0

        def flush():
            nonlocal pending, rows
            if pending:
                w.write_table(pa.concat_tables(pending))
            pending, rows = [], 0

        with atomic_write(path, "wb") as fh, pq.ParquetWriter(fh, schema) as w:
            for s in self.scenarios:
                for r, months, ser in self.store.series(s):
                    cols = {k: [] for k in schema.names}
                    for name, (labels, arr) in ser.items():
                        nm, nk = arr.shape
                        cols["series"] += [name] * (nm * nk)
                        cols["key"] += [str(k) for k in labels for _ in range(nm)]
                        cols["month"] += list(months) * nk
                        cols["value"] += np.asarray(arr, float).T.ravel().tolist()
                    n = len(cols["value"])
                    cols["scenario"] = [s] * n
                    cols["replication"] = [r] * n
                    pending.append(pa.table(cols, schema=schema))
                    rows += n
                    if rows >= 4096:
                        flush()
            flush()
        return path

    # -- exports ---------------------------------------------------------------------------------------
    def export(self, parquet=None):
        """Write summary.json, replications.csv, timeseries.csv (and series.parquet when pyarrow is
        installed, or when ``parquet`` is True) beside the store."""
        summ = self.summary()
        man = {k: v for k, v in self.manifest.items() if k != "model_files"}
        man["model_files"] = sorted(self.manifest.get("model_files", {}))
        units = {m.name: {"unit": m.unit, "kind": m.kind, "meaning": m.meaning} for m in cat.METRICS}
        data = {"manifest": man, "metrics": units, "scenarios": summ, "differences": self.differences()}
        write_text(self.out / "summary.json", json.dumps(data, indent=1, default=str))
        with atomic_write(self.out / "replications.csv") as fh:
            keys = {"scenario": None, "replication": None}
            for s in self.scenarios:
                keys.update(dict.fromkeys(self._table(s)[1]))
            w = csv.DictWriter(fh, fieldnames=list(keys))
            w.writeheader()
            for s in self.scenarios:   # streamed: one scenario's decoded rows at a time
                w.writerows({"scenario": s, "replication": r, **m} for r, m in self.store.iter_metrics(s))
        with atomic_write(self.out / "timeseries.csv") as fh:
            w = csv.writer(fh)
            w.writerow(["scenario", "series", "key", "month", "mean", "p05", "p50", "p95"])
            for s, name, key, months, mean, p05, p50, p95 in self.timeseries():
                for i, mo in enumerate(months):
                    w.writerow([s, name, key, mo, f"{mean[i]:.10g}", f"{p05[i]:.10g}", f"{p50[i]:.10g}",
                                f"{p95[i]:.10g}"])
        if parquet or (parquet is None and _has("pyarrow")):
            self.write_parquet()
        return data


def _has(module):
    import importlib.util
    return importlib.util.find_spec(module) is not None


def _pandas():
    try:
        import pandas as pd
    except ImportError as exc:
        raise ImportError("DataFrames need pandas: pip install 'supplysim[data]'") from exc
    return pd


def _entry(name):
    """The catalogue entry of a stored name, or None (censoring flags, names from other versions)."""
    try:
        return cat.get(name)
    except KeyError:
        return None


def _clean(d):
    return {k: (None if isinstance(v, float) and (math.isnan(v) or math.isinf(v)) else v) for k, v in d.items()}
