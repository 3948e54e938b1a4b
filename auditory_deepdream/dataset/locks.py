"""One job at a time per folder: the lock a store build or a render holds on the folder it writes.

A build or render runs for minutes to hours, so a second one aimed at the same folder is
refused at once (:class:`~auditory_deepdream.errors.DatasetError`) instead of waiting. The lock
is an OS file lock (``fcntl.flock`` through :mod:`filelock`) on ``<folder>/.lock``: the system
drops it when its process ends, even when killed, so a lock file left behind blocks nothing.
Holding the lock is also what makes it safe to delete the temporary files that a killed job
left (:func:`~auditory_deepdream.atomic.remove_stale_temps`): no other writer can be at work there.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from filelock import FileLock, Timeout

from ..atomic import output_error, remove_stale_temps
from ..errors import DatasetError

__all__ = ["LOCK_FILE", "folder_lock"]

LOCK_FILE = ".lock"

log = logging.getLogger(__name__)


@contextlib.contextmanager
def folder_lock(folder, *, job: str, clean=()):
    """Hold ``folder``'s lock for ``job``, after removing the temporaries a killed job left.

    Parameters
    ----------
    folder : path-like
        The folder the job writes (created if missing).
    job : str
        What holds the lock, for the error a second job gets (``"build"``, ``"render"``).
    clean : sequence of str
        Subfolders, besides ``folder`` itself, whose stale temporary files are removed.

    Raises
    ------
    DatasetError
        Another job holds the lock: it is refused at once, never queued.
    OutputError
        The folder or its lock file cannot be created.
    """
    folder = Path(folder)
    lock_path = folder / LOCK_FILE
    try:
        folder.mkdir(parents=True, exist_ok=True)
        lock = FileLock(lock_path, timeout=0)
        lock.acquire()
    except Timeout:
        raise DatasetError(
            f"Cannot {job} into {folder}: another build or render is writing there (it holds {lock_path}). "
            "Wait for it to finish, or write to another folder.") from None
    except OSError as exc:
        raise output_error(lock_path, exc) from None
    try:
        for part in (folder, *(folder / c for c in clean)):
            for stale in remove_stale_temps(part):
                log.info("removed %s, left by a job that was killed", stale)
        yield
    finally:
        lock.release()
