"""Where the dataset jobs (SoundFont rendering, chunk encoding) run: here, or on a Dask cluster.

Both jobs are pure functions of a picklable task. :func:`map_jobs` runs them in this
process, or on a Dask cluster (an embedded :class:`distributed.LocalCluster` of ``jobs``
worker processes, or the cluster behind a :class:`distributed.Client`, see
:mod:`auditory_deepdream.cluster`), and yields each result as it arrives. The caller
writes every result itself, atomically, so a lost worker or a killed build never leaves
a half-written store: a rerun resumes it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator

from ..cluster import dask_client, run_jobs

__all__ = ["map_jobs"]


def _apply(fn: Callable, task):
    return fn(task)


def map_jobs(fn: Callable, tasks: Iterable, *, jobs: int = 1, client=None, name: str = "job",
             announce=print) -> Iterator[tuple[object, object]]:
    """Yield ``(task, fn(task))`` for every task.

    Parameters
    ----------
    fn : callable
        A module-level function (it is pickled for the workers).
    tasks : iterable
        Picklable task descriptions.
    jobs : int
        Without a client: 1 (or a single task) runs everything here, in task order; more
        starts a local cluster of that many worker processes for the call.
    client : distributed.Client, optional
        Run on this cluster (results in the order they finish).
    name : str
        Task name prefix on the Dask dashboard.
    announce : callable, optional
        Receives the local cluster's dashboard line (``None``: quiet).
    """
    tasks = list(tasks)
    if client is None and (jobs <= 1 or len(tasks) <= 1):
        for task in tasks:
            yield task, fn(task)
        return
    with contextlib.ExitStack() as stack:
        if client is None:
            client = stack.enter_context(dask_client(n_workers=min(jobs, len(tasks)), announce=announce))
        for i, result in run_jobs(client, _apply, {i: {"fn": fn, "task": t} for i, t in enumerate(tasks)},
                                  name=name):
            yield tasks[i], result
