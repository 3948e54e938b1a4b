"""The encoded-dataset store: log-mel features on disk, served in random batches.

Layout of a store directory::

    settings.json            AudioSettings the features were encoded with
    meta.json                classes, sources, build options (written by the builder)
    index.csv                one row per segment (see below); written last, atomically
    shards/shard-00012.npy   float16 array (n_rows, n_mels, n_frames) for chunk 12
    shards/shard-00012.csv   the index rows of chunk 12

A build writes one *chunk* at a time, each atomically (temporary file, then rename),
shard array first and its index part second; a chunk counts as done only when both
exist. An interrupted build therefore resumes at the first missing chunk, and because
chunking is deterministic the resumed store is identical to an uninterrupted one.

Shards are opened with ``mmap_mode="r"``, so a store larger than RAM serves random
batches by gathering rows straight from the page cache.

Index columns written by the store: ``row`` (global row number), ``shard`` and
``shard_row``; everything else (``segment_id``, ``family``, ``pitch``, ``split`` ...)
comes from the builder.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from ..atomic import save_npy_atomic, write_csv_atomic, write_json_atomic
from ..errors import DatasetError
from ..settings import AudioSettings
from .locks import LOCK_FILE

__all__ = ["STORE_DTYPE", "FeatureStore", "StoreWriter"]

STORE_DTYPE = np.float16  # halves disk and page-cache use; 0.03 dB resolution at 64 dB
_SHARD = re.compile(r"shard-(\d{5})\.npy$")


def _shard_file(store_dir: Path, chunk_id: int, suffix: str) -> Path:
    return store_dir / "shards" / f"shard-{chunk_id:05d}{suffix}"


class StoreWriter:
    """Write a store chunk by chunk, resumable after an interruption.

    Parameters
    ----------
    path : path-like
        Store directory (created if missing).
    settings : AudioSettings
        Settings the features are encoded with. An existing partial store with other
        settings is refused (:class:`~auditory_deepdream.errors.SettingsMismatchError`).
    overwrite : bool
        Delete an existing store at ``path`` first instead of resuming it (its lock file,
        :data:`~auditory_deepdream.dataset.locks.LOCK_FILE`, stays).
    """

    def __init__(self, path, *, settings: AudioSettings, overwrite: bool = False):
        self.path = Path(path)
        self.settings = settings
        if overwrite and self.path.exists():
            for part in self.path.iterdir():
                if part.name == LOCK_FILE:  # deleting a held lock's file would let another build lock a new one
                    continue
                if part.is_dir() and not part.is_symlink():
                    shutil.rmtree(part)
                else:
                    part.unlink()
        (self.path / "shards").mkdir(parents=True, exist_ok=True)
        settings_file = self.path / "settings.json"
        if settings_file.exists():
            AudioSettings.load(settings_file).check_compatible(
                settings, mine="partial store on disk", theirs="requested build")
        else:
            settings.save(settings_file)

    def done_chunks(self) -> set[int]:
        """Chunk ids whose shard and index part are both on disk."""
        return {int(m.group(1)) for p in (self.path / "shards").iterdir() if (m := _SHARD.match(p.name))
                and _shard_file(self.path, int(m.group(1)), ".csv").exists()}

    def write_chunk(self, chunk_id: int, features: np.ndarray, index: pd.DataFrame) -> None:
        """Store one chunk.

        Parameters
        ----------
        chunk_id : int
            Position of the chunk in the build order (0, 1, 2, ...).
        features : np.ndarray [shape=(n_rows, n_mels, n_frames)]
        index : pd.DataFrame
            ``n_rows`` rows describing the features, in the same order.
        """
        s = self.settings
        if features.ndim != 3 or features.shape[1:] != (s.n_mels, s.n_frames):
            raise DatasetError(
                f"Chunk {chunk_id} features have shape {features.shape}; expected "
                f"(n, {s.n_mels}, {s.n_frames}) for these audio settings.")
        if len(index) != len(features):
            raise DatasetError(f"Chunk {chunk_id}: {len(features)} feature rows but {len(index)} index rows.")
        # the array goes first: a chunk counts as done only once its index part exists
        save_npy_atomic(_shard_file(self.path, chunk_id, ".npy"), features.astype(STORE_DTYPE))
        part = index.reset_index(drop=True).copy()
        part["shard"] = chunk_id
        part["shard_row"] = np.arange(len(part))
        write_csv_atomic(_shard_file(self.path, chunk_id, ".csv"), part)

    def chunk_index(self, chunk_id: int, *, columns=None) -> pd.DataFrame:
        """The index rows of one written chunk (optionally only ``columns``)."""
        return pd.read_csv(_shard_file(self.path, chunk_id, ".csv"), usecols=columns)

    def finalize(self, meta: dict | None = None) -> FeatureStore:
        """Join the chunk indexes into ``index.csv`` (atomically) and open the store."""
        parts = sorted(self.done_chunks())
        if not parts:
            raise DatasetError(f"No chunks were written to {self.path}; nothing to finalise.")
        frames = [self.chunk_index(c) for c in parts]
        index = pd.concat([f for f in frames if len(f)], ignore_index=True)
        index.insert(0, "row", np.arange(len(index)))
        write_csv_atomic(self.path / "index.csv", index)
        write_json_atomic(self.path / "meta.json", meta or {})
        return FeatureStore(self.path, settings=self.settings)


class FeatureStore:
    """Read side of a store: the index DataFrame and random-access feature rows.

    Parameters
    ----------
    path : path-like
        A finalised store directory.
    settings : AudioSettings, optional
        If given, the store's settings must equal these
        (:class:`~auditory_deepdream.errors.SettingsMismatchError`).

    Attributes
    ----------
    index : pd.DataFrame
        One row per segment; ``row`` is the position used by :meth:`load`.
    settings : AudioSettings
    meta : dict
    """

    def __init__(self, path, *, settings: AudioSettings | None = None):
        self.path = Path(path)
        if not (self.path / "index.csv").is_file():
            raise DatasetError(
                f"{self.path} is not a finished dataset store (no index.csv). Build one with "
                "`auditory-deepdream build-dataset`, or rerun an interrupted build to resume it.")
        self.settings = AudioSettings.load(self.path / "settings.json")
        if settings is not None:
            self.settings.check_compatible(settings, mine="dataset store", theirs="requested settings")
        self.index = pd.read_csv(self.path / "index.csv")
        meta = self.path / "meta.json"
        self.meta = json.loads(meta.read_text()) if meta.exists() else {}
        self._shards: dict[int, np.ndarray] = {}
        self._shard_of = self.index["shard"].to_numpy()
        self._row_in_shard = self.index["shard_row"].to_numpy()

    def __len__(self) -> int:
        return len(self.index)

    @property
    def feature_shape(self) -> tuple[int, int]:
        """``(n_mels, n_frames)`` of one segment."""
        return (self.settings.n_mels, self.settings.n_frames)

    @property
    def classes(self) -> list[str]:
        """Instrument families in label order (from ``meta.json``, else sorted index values)."""
        return list(self.meta.get("classes") or sorted(self.index["family"].unique()))

    def _shard(self, shard_id: int) -> np.ndarray:
        if shard_id not in self._shards:
            self._shards[shard_id] = np.load(_shard_file(self.path, shard_id, ".npy"), mmap_mode="r")
        return self._shards[shard_id]

    def load(self, rows, *, dtype=np.float32) -> np.ndarray:
        """Gather feature rows.

        Parameters
        ----------
        rows : array-like of int [shape=(n,)]
            Global row numbers (the index's ``row`` column).
        dtype : numpy dtype
            Output dtype; ``np.float16`` (the stored type) skips the conversion, which
            costs several times more CPU than the gather itself.

        Returns
        -------
        features : np.ndarray [shape=(n, n_mels, n_frames), dtype=dtype]
        """
        rows = np.asarray(rows, dtype=np.int64)
        if rows.size and (rows.min() < 0 or rows.max() >= len(self)):
            raise DatasetError(f"Row numbers must be in 0..{len(self) - 1}.")
        out = np.empty((rows.size, *self.feature_shape), dtype=dtype)
        shards = self._shard_of[rows]
        for shard_id in np.unique(shards):
            where = np.flatnonzero(shards == shard_id)
            local = self._row_in_shard[rows[where]]
            order = np.argsort(local, kind="stable")  # ascending reads are page-cache friendly
            out[where[order]] = self._shard(int(shard_id))[local[order]]
        return out

    def __getstate__(self):  # memmaps are reopened lazily in worker processes
        state = self.__dict__.copy()
        state["_shards"] = {}
        return state
