"""Where replications run: in this process, in local processes, or on a Dask cluster.

Every executor gets the same tasks and each task derives its own random
streams from (root entropy, replication index, source name), so the results
are bit-identical whichever runs them and in whatever order they finish.

Two habits keep long runs safe:

* a few tasks are in flight at a time and each finished one is dropped as
  soon as its result is handed on, so the main process holds no more results
  at 3,000 replications than at 100;
* local workers watch their parent and exit when it dies (a ``kill -9`` of
  the command leaves no worker behind; a worker killed off while still
  importing exits as soon as its start-up is done); on Dask, the scheduler
  releases a client's tasks when the client goes away, and with few in
  flight little work is left running.
"""
from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import os
import threading
import time

__all__ = ["execute", "describe_executor", "ReplicationError", "PARENT_POLL_S"]

#: How often a worker checks that its parent is alive (seconds).
PARENT_POLL_S = 0.5


class ReplicationError(RuntimeError):
    """A replication raised an exception; the message says which replication and what went wrong.

    Attributes
    ----------
    task : object
        The task that failed (with ``scenario`` and ``replication`` where it has them).
    error : BaseException
        What it raised (an :class:`~supplysim.engine.InvariantError`, for example).
    """

    def __init__(self, task, error):
        self.task, self.error = task, error
        super().__init__(f"{_describe(task)} failed: {type(error).__name__}: {error}")

    def __reduce__(self):
        return (ReplicationError, (self.task, self.error))


def _describe(task) -> str:
    rep, scen = getattr(task, "replication", None), getattr(task, "scenario", None)
    if rep is None:
        return "a replication"
    return f"replication {rep}" + (f" of scenario '{scen}'" if scen else "")


def describe_executor(executor, jobs) -> str:
    if executor is None or executor == "serial":
        return "serial" if jobs <= 1 else f"processes x{jobs}"
    if executor == "processes":
        return f"processes x{jobs}"
    return f"dask {getattr(executor, 'scheduler', None) and executor.scheduler.address or executor!r}"


def _exit_with_parent(parent_pid, warm=None):
    """Pool initializer: exit this worker when ``parent_pid`` is no longer its parent, then warm it."""
    def watch():
        while os.getppid() == parent_pid:
            time.sleep(PARENT_POLL_S)
        os._exit(70)   # the parent died: nobody will read what this worker computes

    threading.Thread(target=watch, name="supplysim-parent-watch", daemon=True).start()
    if warm is not None:
        warm()


def execute(fn, tasks, executor=None, jobs=1, warm=None, in_flight=None):
    """Run ``fn`` on every task; yield results as they finish (any order).

    Parameters
    ----------
    executor : None, "serial", "processes", or a ``distributed.Client``
        ``None`` means serial when ``jobs`` is 1 and local processes otherwise.
    jobs : int
        Worker processes for the local pool (at least 1).
    warm : callable, optional
        Run once in each local worker process before its first task (to load
        what every task shares). It must not change any result.
    in_flight : int, optional
        Tasks submitted ahead of the results read (default: four per worker).

    Raises
    ------
    ReplicationError
        When a task raises; it names the task's scenario and replication.

    Examples
    --------
    >>> sorted(execute(abs, [-2, 1, -3]))
    [1, 2, 3]
    """
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, found {jobs}")
    tasks = list(tasks)
    if not tasks:
        return
    if executor is None:
        executor = "serial" if jobs <= 1 else "processes"
    if executor == "serial":
        for t in tasks:
            yield _call(fn, t)
        return
    if executor == "processes":
        ctx = mp.get_context("spawn")
        ex = cf.ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_exit_with_parent,
                                    initargs=(os.getpid(), warm))
        try:
            yield from _stream(lambda t: ex.submit(fn, t), tasks, in_flight or 4 * jobs,
                               lambda fs: cf.wait(fs, return_when=cf.FIRST_COMPLETED)[0])
        finally:
            ex.shutdown(wait=True, cancel_futures=True)
        return
    # a dask.distributed Client (optional extra): pure=False so equal-looking calls are not merged
    from distributed import wait
    width = in_flight or 4 * max(1, sum(executor.nthreads().values()))
    yield from _stream(lambda t: executor.submit(fn, t, pure=False), tasks, width,
                       lambda fs: wait(list(fs), return_when="FIRST_COMPLETED").done)


def _call(fn, task):
    try:
        return fn(task)
    except Exception as exc:
        raise ReplicationError(task, exc) from exc


def _stream(submit, tasks, width, wait_some):
    """Keep ``width`` tasks in flight; yield each result and forget its future at once."""
    todo = iter(tasks)
    pending = {}   # future -> task
    try:
        for t in todo:
            pending[submit(t)] = t
            if len(pending) >= width:
                break
        while pending:
            for f in wait_some(set(pending)):
                task = pending.pop(f)
                try:
                    result = f.result()
                except Exception as exc:
                    raise ReplicationError(task, exc) from exc
                del f
                yield result
                del result
                for t in todo:
                    pending[submit(t)] = t
                    break
    finally:
        for f in pending:
            f.cancel()
