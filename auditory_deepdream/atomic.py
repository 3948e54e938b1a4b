"""Atomic file writes: write to a temporary file beside the target, then rename.

A long job that is interrupted (a dataset build, a search) never leaves a half-written
file behind: readers see either the old file or the new one.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

__all__ = ["atomic_path", "write_text_atomic", "write_json_atomic", "write_csv_atomic", "save_npy_atomic",
           "save_keras_atomic"]


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
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="." + path.stem,
                               suffix=path.suffix if suffix is None else suffix)
    os.close(fd)
    try:
        yield Path(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600 files; give the final file normal permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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

    with atomic_path(path, suffix=".npy") as tmp:
        np.save(tmp, array)
    return Path(path)


def save_keras_atomic(model, path) -> Path:
    """Save a Keras model as a ``.keras`` file atomically and return the path."""
    with atomic_path(path, suffix=".keras") as tmp:
        model.save(tmp)
    return Path(path)
