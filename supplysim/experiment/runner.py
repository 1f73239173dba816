"""Run replications serially or in local processes, with identical results either way.

A task is (model path, scenario, options, root entropy, replication, horizon):
the worker loads the model itself and derives its streams from the entropy
and the replication index (rule R3), so the executor and the number of
workers cannot change any number.
"""
from __future__ import annotations

import concurrent.futures as cf
import functools
import multiprocessing as mp
from dataclasses import dataclass

from ..engine import Simulation
from ..model import load_model

__all__ = ["Task", "run_task", "run_replications"]


@dataclass(frozen=True)
class Task:
    """One replication to run."""

    model_path: str
    scenario: str | None
    entropy: int
    replication: int
    until: float
    options: tuple = ()
    check: bool = True


@functools.lru_cache(maxsize=16)
def _model(path, scenario, options):
    return load_model(path, scenario=scenario, options=options)


def run_task(task: Task):
    """Run one replication (in this process) and return its result."""
    model = _model(task.model_path, task.scenario, tuple(task.options))
    return Simulation(model, seed=task.entropy, replication=task.replication, check=task.check).run(until=task.until)


def run_replications(tasks, jobs=1, progress=None):
    """Run ``tasks``; yield ``(task, result)`` as each finishes.

    Parameters
    ----------
    tasks : list of Task
    jobs : int
        1 runs in this process; more uses a process pool (spawn context).
    progress : callable, optional
        Called once per finished replication.
    """
    tasks = list(tasks)
    if jobs <= 1 or len(tasks) <= 1:
        for t in tasks:
            r = run_task(t)
            if progress:
                progress()
            yield t, r
        return
    ctx = mp.get_context("spawn")
    with cf.ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as ex:
        futs = {ex.submit(run_task, t): t for t in tasks}
        try:
            for f in cf.as_completed(futs):
                r = f.result()
                if progress:
                    progress()
                yield futs[f], r
        except BaseException:
            for f in futs:
                f.cancel()
            raise
