"""Run replications serially or in local processes, with identical results either way.

A task is (model path, scenario, options, root entropy, replication, horizon):
the worker loads the model itself and derives its streams from the entropy
and the replication index (rule R3), so the executor and the number of
workers cannot change any number.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

from ..engine import Simulation
from ..model import load_model
from .executors import execute

__all__ = ["Task", "run_task", "run_replications", "warm_worker", "warmer"]


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
def cached_model(path, scenario, options, overrides=None):
    """A loaded model, kept per worker process so replications do not parse files again.

    ``overrides`` (a hashable :class:`~supplysim.model.overlay.Overrides`) are part of
    the key: each design point of an exploration is a model of its own.
    """
    return load_model(path, scenario=scenario, options=options, overrides=overrides)


def warm_worker(models):
    """Load every ``(path, scenario, options)`` model in a fresh worker process, then freeze the heap.

    What is loaded now lives as long as the worker; ``gc.freeze`` moves it out of
    the collector's generations so collections during the runs do not traverse
    it again and again (about 1% of a replication of the default model).
    """
    import gc
    for path, scenario, options in models:
        cached_model(path, scenario, tuple(options))
    gc.freeze()


def warmer(models):
    """The pool initializer that warms each worker with the distinct ``(path, scenario, options)`` models."""
    return functools.partial(warm_worker, sorted({(p, s, tuple(o)) for p, s, o in models}, key=repr))


def run_task(task: Task):
    """Run one replication (in this process) and return its result."""
    model = cached_model(task.model_path, task.scenario, tuple(task.options))
    return Simulation(model, seed=task.entropy, replication=task.replication, check=task.check).run(until=task.until)


def _task_and_result(task: Task):
    return task, run_task(task)


def run_replications(tasks, jobs=1, progress=None):
    """Run ``tasks``; yield ``(task, result)`` as each finishes.

    Parameters
    ----------
    tasks : list of Task
    jobs : int
        1 runs in this process; more uses a process pool (see :func:`.executors.execute`).
    progress : callable, optional
        Called once per finished replication.
    """
    tasks = list(tasks)
    warm = warmer((t.model_path, t.scenario, t.options) for t in tasks)
    for pair in execute(_task_and_result, tasks, None, jobs, warm=warm):
        if progress:
            progress()
        yield pair
