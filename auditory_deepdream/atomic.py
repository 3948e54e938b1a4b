"""Atomic file writes: write to a temporary file beside the target, then rename.

A long job that is interrupted (a dataset build, a search) never leaves a half-written
file behind: readers see either the old file or the new one. The temporary file is named
``.<stem>.part-XXXXXXXX<suffix>`` (``XXXXXXXX`` random); a process that is killed outright
leaves it, and :func:`remove_stale_temps` is how a resumed job clears those.

When the system refuses the write (a read-only or full disk, a folder without write
permission, a path that is a folder) the writers raise
:class:`~auditory_deepdream.errors.OutputError`, whose message names the path, the cause and
what to do, and leave neither the file nor a temporary one behind.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

from .errors import AuditoryDeepDreamError, OutputError

__all__ = ["atomic_path", "scratch_path", "write_text_atomic", "write_json_atomic", "write_csv_atomic", "save_npy_atomic",
           "save_keras_atomic", "lost_errno", "output_error", "remove_stale_temps"]

_TEMP_MARK = ".part-"
# mkstemp's random part: 8 characters of [a-z0-9_]
_TEMP_NAME = re.compile(r"\..*" + re.escape(_TEMP_MARK) + r"[a-z0-9_]{8}(\.[^.]+)?")

# errno -> (the cause, what to do), with the refusing folder filled in
_FAULTS = {
    errno.EROFS: ("{folder} is on a read-only file system",
                  "write to a folder on a writable disk, or remount that one read-write"),
    errno.ENOSPC: ("the disk holding {folder} is full",
                   "free some space on it, or write to another disk"),
    errno.EDQUOT: ("the disk quota on {folder} is used up",
                   "free some space, or write to another disk"),
    errno.EACCES: ("there is no permission to write in {folder}",
                   "choose a folder you can write to, or give yourself write permission on it"),
    errno.EPERM: ("the system does not permit writing in {folder} (it may be immutable)",
                  "choose another folder, or lift the restriction (for example chattr -i)"),
    errno.EISDIR: ("it is an existing folder, not a file",
                   "give the path of a file, for example one inside that folder"),
    errno.ENOTDIR: ("part of its folder path, {folder}, is a file rather than a folder",
                    "choose a path whose folders are folders"),
    errno.EFBIG: ("the file is larger than the file system of {folder} allows",
                  "write to another disk"),
    errno.EIO: ("the disk holding {folder} reported an input/output error",
                "check the disk, or write to another one"),
}


def output_error(path, exc: OSError, *, folder=None) -> OutputError:
    """The :class:`~auditory_deepdream.errors.OutputError` for the system's refusal ``exc`` to write ``path``.

    Parameters
    ----------
    path : path-like
        The file that was being written.
    exc : OSError
    folder : path-like, optional
        The folder the system refused (default ``path``'s).
    """
    path = Path(path)
    folder = Path(folder) if folder is not None else path.parent
    cause, fix = _FAULTS.get(exc.errno, (f"{{folder}} refused it ({exc.strerror or exc})",
                                         "check the folder and the disk, and try again"))
    return OutputError(f"Cannot write {path}: {cause.format(folder=folder)}. Nothing was written; "
                       f"{fix.format(folder=folder)}.")


def lost_errno(folder, *, needed: int, detail: str) -> OSError:
    """The OSError behind a writer's failure report that lost its errno.

    libsndfile says only "System error.", numpy "N requested and M written". Called while
    the temporary file still holds what was written: less room left in ``folder`` than the
    ``needed`` bytes means a full disk; anything else is an input/output error.

    Parameters
    ----------
    folder : path-like
        Where the file was being written.
    needed : int
        Bytes the data takes in memory (an upper bound on what is still to be written).
    detail : str
        The writer's own words, kept in the message.
    """
    code = errno.ENOSPC if shutil.disk_usage(folder).free < needed else errno.EIO
    return OSError(code, f"{os.strerror(code)} ({detail})")


def _make_folder(path: Path) -> None:
    """Create ``path``'s folder; OutputError, naming the folder that could not be made, if refused."""
    try:
        if path.is_dir():
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        path.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError as exc:  # mkdir found a file where a folder of the path should be
        raise output_error(path, OSError(errno.ENOTDIR, os.strerror(errno.ENOTDIR)), folder=exc.filename) from None
    except OSError as exc:
        # mkdir names the folder it could not create: the fault is in the one holding it
        made = Path(exc.filename) if exc.filename and Path(exc.filename) != path else None
        raise output_error(path, exc, folder=made.parent if made else None) from None


def _temp_file(path: Path, *, suffix: str | None) -> Path:
    """A new empty file beside ``path``, named ``.<stem>.part-XXXXXXXX<suffix>`` (the folder is created)."""
    _make_folder(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}{_TEMP_MARK}",
                                   suffix=path.suffix if suffix is None else suffix)
    except OSError as exc:
        raise output_error(path, exc) from None
    os.close(fd)
    return Path(tmp)


@contextlib.contextmanager
def atomic_path(path, *, suffix: str | None = None):
    """Yield a temporary path in ``path``'s folder; rename it onto ``path`` on success.

    Parameters
    ----------
    path : path-like
        The final file (its folder is created).
    suffix : str, optional
        Suffix of the temporary file (default ``path``'s), for writers that pick the
        format from it.

    Raises
    ------
    OutputError
        The system refused the write (read-only or full disk, no write permission, ``path``
        an existing folder); no file or temporary file is left.
    """
    path = Path(path)
    tmp = _temp_file(path, suffix=suffix)
    try:
        yield Path(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600 files; give the final file normal permissions
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.errno in _FAULTS and not isinstance(exc, AuditoryDeepDreamError):
            raise output_error(path, exc) from None
        raise


@contextlib.contextmanager
def scratch_path(path, *, suffix: str | None = None):
    """Yield a temporary file in ``path``'s folder, named as :func:`atomic_path` names its own; always deleted.

    For a long writer's intermediate data (a streamed dream's parts): on the disk the result
    goes to, and left by a killed process under a name :func:`remove_stale_temps` knows.

    Raises
    ------
    OutputError
        The system refused the file (as :func:`atomic_path`).
    """
    path = Path(path)
    tmp = _temp_file(path, suffix=suffix)
    try:
        yield tmp
    except OSError as exc:
        if exc.errno in _FAULTS and not isinstance(exc, AuditoryDeepDreamError):
            raise output_error(path, exc) from None
        raise
    finally:
        Path(tmp).unlink(missing_ok=True)


def remove_stale_temps(folder) -> list[Path]:
    """Delete the temporary files that :func:`atomic_path` left in ``folder`` when killed.

    Only regular files named as :func:`atomic_path` names them
    (``.<stem>.part-XXXXXXXX<suffix>``) are removed; nothing else in the folder is touched.
    Call it only while no other writer can be at work in ``folder`` (under the folder's
    lock): a live writer's temporary file has the same name.

    Parameters
    ----------
    folder : path-like
        A missing folder holds nothing to remove.

    Returns
    -------
    removed : list of pathlib.Path
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    stale = sorted(p for p in folder.iterdir()
                   if _TEMP_NAME.fullmatch(p.name) and p.is_file() and not p.is_symlink())
    for p in stale:
        p.unlink(missing_ok=True)
    return stale


def write_text_atomic(path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically and return the path."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return Path(path)


def write_json_atomic(path, data) -> Path:
    """Write ``data`` as indented, key-sorted JSON to ``path`` atomically and return the path."""
    return write_text_atomic(path, json.dumps(data, indent=2, sort_keys=True, default=str))


def write_csv_atomic(path, frame) -> Path:
    """Write a pandas DataFrame as CSV (no index) atomically and return the path."""
    with atomic_path(path, suffix=".csv") as tmp:
        frame.to_csv(tmp, index=False)
    return Path(path)


def save_npy_atomic(path, array) -> Path:
    """Write ``array`` as ``.npy`` atomically and return the path."""
    import numpy as np

    array = np.asarray(array)
    with atomic_path(path, suffix=".npy") as tmp:
        try:
            np.save(tmp, array)
        except OSError as exc:
            if exc.errno is not None:
                raise
            raise lost_errno(tmp.parent, needed=array.nbytes, detail=str(exc)) from None
    return Path(path)


def save_keras_atomic(model, path) -> Path:
    """Save a Keras model as a ``.keras`` file atomically and return the path."""
    with atomic_path(path, suffix=".keras") as tmp:
        model.save(tmp)
    return Path(path)
