"""Where replications run: in this process, in local processes, or on a Dask cluster.

Every executor gets the same tasks and each task derives its own random
streams from (root entropy, replication index, source name), so the results
are bit-identical whichever runs them and in whatever order they finish.
"""
from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp

__all__ = ["execute", "describe_executor"]


def describe_executor(executor, jobs) -> str:
    if executor is None or executor == "serial":
        return "serial" if jobs <= 1 else f"processes x{jobs}"
    if executor == "processes":
        return f"processes x{jobs}"
    return f"dask {getattr(executor, 'scheduler', None) and executor.scheduler.address or executor!r}"


def execute(fn, tasks, executor=None, jobs=1, warm=None):
    """Run ``fn`` on every task; yield results as they finish (any order).

    Parameters
    ----------
    executor : None, "serial", "processes", or a ``distributed.Client``
        ``None`` means serial when ``jobs`` is 1 and local processes otherwise.
    jobs : int
        Worker processes for the local pool.
    warm : callable, optional
        Run once in each local worker process before its first task (to load
        what every task shares). It must not change any result.
    """
    tasks = list(tasks)
    if not tasks:
        return
    if executor is None:
        executor = "serial" if jobs <= 1 else "processes"
    if executor == "serial":
        for t in tasks:
            yield fn(t)
        return
    if executor == "processes":
        ctx = mp.get_context("spawn")
        with cf.ProcessPoolExecutor(max_workers=max(1, jobs), mp_context=ctx, initializer=warm) as ex:
            futs = [ex.submit(fn, t) for t in tasks]
            try:
                for f in cf.as_completed(futs):
                    yield f.result()
            finally:
                for f in futs:
                    f.cancel()
        return
    # a dask.distributed Client (optional extra): pure=False so equal-looking calls are not merged
    from distributed import as_completed
    futs = executor.map(fn, tasks, pure=False)
    try:
        for f in as_completed(futs):
            yield f.result()
    finally:
        for f in futs:
            f.cancel()
