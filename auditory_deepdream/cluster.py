"""Dask clusters for the jobs that outgrow one process: dataset builds and parallel searches.

A job takes the address of a running Dask scheduler (``dask scheduler`` on one machine and
``dask worker ADDRESS`` on each of the others, or a Kubernetes, SLURM or cloud cluster's
scheduler), or nothing, in which case an embedded :class:`distributed.LocalCluster` of
worker processes on this machine runs it. The client (the process that called the job)
keeps every file write: workers only compute and return, so a lost worker or a killed
client never leaves a half-written file, and a rerun resumes.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from concurrent.futures import CancelledError

from .errors import ClusterError
from .extras import require

__all__ = ["dask_client", "run_jobs"]


def _distributed(module: str = "distributed"):
    return require(module, extra="cluster", needed_for="Running jobs on a Dask cluster (--jobs above 1, "
                                                      "--scheduler, search --parallel)")


def _adaptive_malloc():
    """A worker plugin that gives glibc back its adaptive allocation thresholds (its class is made
    here, not at import: distributed is an extra; the workers receive it pickled by value)."""
    plugin = _distributed("distributed.diagnostics.plugin")

    class AdaptiveMalloc(plugin.WorkerPlugin):
        """A worker plugin that gives glibc back its adaptive allocation thresholds.

        Dask starts worker processes with ``MALLOC_TRIM_THRESHOLD_=65536`` so that they hand
        memory back quickly. Setting it fixes glibc's mmap threshold too, so every array over
        128 KiB is mapped and faulted in afresh; the encode jobs make thousands of them, and a
        chunk took 2.3 times as long in a worker as in the client (measured here). Raising both
        thresholds per worker, at start-up and for workers that join later, restores the speed
        of a plain process: blocks over 32 MiB are still mapped and handed back when freed, and
        the heap is trimmed once 64 MiB lie free at its top.
        """

        name = "auditory-deepdream-adaptive-malloc"

        def setup(self, worker=None):
            import ctypes
            import ctypes.util
            import sys

            if not sys.platform.startswith("linux"):
                return
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            if hasattr(libc, "mallopt"):
                m_trim_threshold, m_mmap_threshold = -1, -3  # glibc's malloc.h
                libc.mallopt(m_mmap_threshold, 32 * 2**20)
                libc.mallopt(m_trim_threshold, 64 * 2**20)

    return AdaptiveMalloc()


def _started(factory, *, tries: int = 3):
    """``factory()``, retried when distributed's event-loop thread fails to start.

    ``distributed`` gives the thread that runs a client's (or local cluster's) event loop ten
    seconds to start and then fails a bare ``assert``; on a machine saturated by other work
    that can happen once and succeed on the next try.
    """
    for attempt in range(tries):
        try:
            return factory()
        except AssertionError as exc:
            if attempt == tries - 1:
                raise ClusterError(
                    f"Dask's event-loop thread did not start in {tries} tries of 10 s: this machine is "
                    "too busy to run the cluster client. Retry when it is quieter.") from exc


def _connect(scheduler: str, timeout: float):
    Client = _distributed().Client

    try:
        client = _started(lambda: Client(scheduler, timeout=timeout, set_as_default=False))
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        raise ClusterError(
            f"Cannot reach a Dask scheduler at {scheduler!r} ({exc}). Check the address (as printed by "
            "`dask scheduler`, e.g. tcp://10.0.0.5:8786) and that the port is open, or leave out the "
            "scheduler to run on this machine's cores.") from exc
    try:
        client.wait_for_workers(1, timeout=timeout)
    except (OSError, TimeoutError) as exc:
        client.close()
        raise ClusterError(
            f"The Dask scheduler at {scheduler!r} has no workers after {timeout:g} s. Start some with "
            f"`dask worker {scheduler}` on the machines that should do the work.") from exc
    return client


@contextlib.contextmanager
def dask_client(scheduler: str | None = None, *, n_workers: int = 2, timeout: float = 10.0, announce=print):
    """A :class:`distributed.Client` on a scheduler, or on a local cluster of worker processes.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running scheduler, e.g. ``"tcp://10.0.0.5:8786"``. ``None`` starts a
        :class:`distributed.LocalCluster` on loopback and closes it afterwards.
    n_workers : int
        Worker processes of the local cluster (one thread each: the jobs hold the GIL).
    timeout : float
        Seconds to wait for the scheduler and for its first worker.
    announce : callable, optional
        Called once with a line naming the dashboard (``print`` by default; ``None`` for quiet).

    Yields
    ------
    distributed.Client

    Raises
    ------
    ClusterError
        The scheduler cannot be reached or has no workers, or the client cannot start.
    """
    distributed = _distributed()
    Client, LocalCluster = distributed.Client, distributed.LocalCluster

    with contextlib.ExitStack() as stack:
        if scheduler:
            client = stack.enter_context(_connect(scheduler, timeout))
        else:
            cluster = stack.enter_context(_started(lambda: LocalCluster(
                n_workers=int(n_workers), threads_per_worker=1, processes=True, host="127.0.0.1",
                dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR)))
            client = stack.enter_context(_started(lambda: Client(cluster, set_as_default=False)))
        client.register_plugin(_adaptive_malloc())
        if announce is not None:
            workers = len(client.scheduler_info(n_workers=-1)["workers"])
            announce(f"Dask: {workers} workers at {client.scheduler.address}; dashboard {client.dashboard_link}")
        yield client


def _failure(key, exc: BaseException) -> BaseException:
    """The error to raise for a job that failed on the cluster."""
    KilledWorker = _distributed().KilledWorker

    if isinstance(exc, KilledWorker):
        return ClusterError(
            f"Job {key} killed the Dask workers that ran it, several times over (out of memory, or "
            "workers lost). Finished work is kept: rerun the same command to resume, with larger "
            "workers or fewer at a time.")
    if isinstance(exc, CancelledError):
        return ClusterError(
            f"Job {key} was cancelled: the connection to the Dask scheduler was lost. Finished work is "
            "kept: check the scheduler, then rerun the same command to resume.")
    return exc


def run_jobs(client, fn, jobs: dict, *, name: str = "job"):
    """Run ``fn(**jobs[key])`` for every key on the cluster; yield ``(key, result)`` as each finishes.

    A job whose worker dies is re-run elsewhere by Dask (up to its ``allowed-failures``).
    Jobs that fail are reported after every other job has finished and been yielded, so
    the caller keeps all the work that succeeded.

    Parameters
    ----------
    client : distributed.Client
    fn : callable
        A picklable function (a module-level function or a :func:`functools.partial` of one).
    jobs : dict
        Key -> keyword arguments of ``fn``.
    name : str
        Prefix of the task names on the dashboard.

    Raises
    ------
    ClusterError
        A job kept killing its workers, or the scheduler went away.
    Exception
        The first failed job's own error, when it raised one.
    """
    as_completed = _distributed().as_completed

    run = uuid.uuid4().hex[:8]
    futures = {client.submit(fn, pure=False, key=f"{name}-{key}-{run}", **kwargs): key
               for key, kwargs in jobs.items()}
    failed = []
    try:
        for future in as_completed(futures, loop=client.loop):
            key = futures[future]
            try:
                result = future.result()
            except Exception as exc:  # noqa: BLE001 - raised below, once the other jobs are done
                failed.append((key, exc))
                continue
            future.release()
            yield key, result
    finally:
        client.cancel(list(futures))
    if failed:
        _raise_first(failed)


def _raise_first(failed: list) -> None:
    """Raise the error of the first failed ``(key, exception)`` pair, cluster failures as :class:`ClusterError`."""
    key, exc = min(failed, key=lambda pair: str(pair[0]))
    raise _failure(key, exc)
