"""Validation folds that leave a whole source out: choose a model on sounds it never heard.

A store's own ``test`` split holds other notes of the sample sets it trained on, so it
rewards learning those sample sets. :func:`leave_out` makes a *derived store* (a new
``index.csv`` over the same shard files, linked rather than copied) in which one source
(a SoundFont, a sample library) is the ``test`` split and nothing of it is trained on:

* rows of the left-out source: only their plain segments (``augmentation == 'none'``),
  all in ``test``, whatever their split was;
* every other row keeps its split, except that its own ``test`` rows become ``valid``
  (early stopping then watches more notes; nothing else reads them).

:func:`soundfont_position` tells which SoundFont a render's row came from, for the
common case of a store built from one multi-SoundFont render, and :func:`sample_folder_rows`
which rows a sample folder gave. :func:`without_rows` removes
rows (a training source) from every split, to compare the source on the same test rows;
:func:`derive_once` opens a derived store, or makes it when no process has yet.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from ..atomic import write_csv_atomic, write_json_atomic
from ..errors import DatasetError
from .readers import sample_instrument
from .store import FeatureStore

__all__ = ["derive_once", "leave_out", "sample_folder_rows", "soundfont_fold", "soundfont_position",
           "without_rows"]


def soundfont_position(index: pd.DataFrame) -> pd.Series:
    """Position of each row's SoundFont in the render that made it.

    :func:`~auditory_deepdream.dataset.render_soundfont` numbers instruments
    ``128 * position + program``; the number ends the ``instrument`` column
    (``string_acoustic_169`` is program 41 of the second SoundFont, position 1). Rows
    whose ``source`` (when the index has one) is not ``soundfont``, such as sample
    folders, get -1: no SoundFont position leaves them out.

    Returns
    -------
    pd.Series of int, aligned with ``index``
    """
    rendered = (index["source"] == "soundfont") if "source" in index else pd.Series(True, index=index.index)
    number = pd.to_numeric(index["instrument"].astype(str).str.rsplit("_", n=1).str[-1], errors="coerce")
    if number[rendered].isna().any():
        raise DatasetError("Some rows' instrument names do not end in a number; they are not SoundFont renders.")
    return (number // 128).where(rendered, -1).astype(int)


def sample_folder_rows(index: pd.DataFrame, folders) -> np.ndarray:
    """Which rows were read from the given sample folders.

    :func:`~auditory_deepdream.dataset.read_samples` names a folder's notes by the
    instrument id :func:`~auditory_deepdream.dataset.readers.sample_instrument` gives it
    (``samples_<folder name>``), so a folder is found by its name, wherever it lies.

    Parameters
    ----------
    index : pd.DataFrame
        A store's index (its ``instrument`` column).
    folders : iterable of path-like
        Sample folders, each one given to ``--samples``.

    Returns
    -------
    np.ndarray of bool [shape=(len(index),)]
    """
    return index["instrument"].isin([sample_instrument(p) for p in folders]).to_numpy()


def leave_out(store: FeatureStore, out_dir, *, held_out, description: str, overwrite: bool = False) -> FeatureStore:
    """A derived store whose ``test`` split is one left-out source and nothing else.

    Parameters
    ----------
    store : FeatureStore
        The full store (shards are linked, not copied).
    out_dir : path-like
        Folder of the derived store (written atomically: a folder is either complete or absent).
    held_out : array-like of bool [shape=(len(store),)] or callable
        Rows of the left-out source, or ``held_out(store.index) -> mask``.
    description : str
        What was left out (recorded in ``meta.json``, e.g. ``'TimGM6mb.sf2'``).
    overwrite : bool
        Replace an existing derived store.

    Returns
    -------
    FeatureStore

    Raises
    ------
    DatasetError
        The mask is the wrong length, selects nothing or everything, or ``out_dir`` exists.
    """
    out_dir = Path(out_dir)
    index = store.index
    mask = _mask(index, held_out, name="held_out")
    _clear(out_dir, overwrite)
    plain = (index["augmentation"] == "none").to_numpy() if "augmentation" in index else np.ones(len(index), bool)
    keep = ~mask | plain
    split = np.where(mask, "test", np.where(index["split"].to_numpy() == "test", "valid", index["split"].to_numpy()))
    return _derive(store, out_dir, index.assign(split=split)[keep], meta={"left_out": description})


def without_rows(store: FeatureStore, out_dir, *, drop, description: str, overwrite: bool = False) -> FeatureStore:
    """A derived store with some rows removed from every split, e.g. one training source.

    It compares a training source on one store: a fold with and without the source's rows
    scores on the same test rows, cut with the same per-family hops.

    Parameters
    ----------
    store : FeatureStore
        The store (a fold too; shards are linked, not copied).
    out_dir : path-like
        Folder of the derived store (written atomically).
    drop : array-like of bool [shape=(len(store),)] or callable
        Rows to remove, or ``drop(store.index) -> mask``.
    description : str
        What was removed (recorded in ``meta.json`` as ``without``).
    overwrite : bool
        Replace an existing derived store.

    Returns
    -------
    FeatureStore

    Raises
    ------
    DatasetError
        The mask is the wrong length, selects nothing or everything, or ``out_dir`` exists.
    """
    out_dir = Path(out_dir)
    index = store.index
    mask = _mask(index, drop, name="drop")
    _clear(out_dir, overwrite)
    return _derive(store, out_dir, index[~mask], meta={"without": description})


def _mask(index: pd.DataFrame, rows, *, name: str) -> np.ndarray:
    mask = np.asarray(rows(index) if callable(rows) else rows, dtype=bool)
    if mask.shape != (len(index),):
        raise DatasetError(f"{name} must have one entry per store row ({len(index)}), not shape {mask.shape}.")
    if not mask.any() or mask.all():
        raise DatasetError(f"{name} must select some rows of the store but not all of them.")
    return mask


def _clear(out_dir: Path, overwrite: bool) -> None:
    if out_dir.exists():
        if not overwrite:
            raise DatasetError(f"{out_dir} exists; pass overwrite=True or choose another folder.")
        shutil.rmtree(out_dir)


def _derive(store: FeatureStore, out_dir: Path, rows: pd.DataFrame, *, meta: dict) -> FeatureStore:
    """Write ``rows`` (renumbered) as a store over ``store``'s shards, atomically."""
    derived = rows.copy()
    derived["row"] = np.arange(len(derived))
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    try:
        os.symlink((store.path / "shards").resolve(), tmp / "shards")
        shutil.copy(store.path / "settings.json", tmp / "settings.json")
        write_csv_atomic(tmp / "index.csv", derived)
        write_json_atomic(tmp / "meta.json", {**store.meta, "derived_from": str(store.path), **meta,
                                              "build_key": None})
        os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return FeatureStore(out_dir)


def soundfont_fold(store: FeatureStore, position: int) -> FeatureStore:
    """The store without the SoundFont at ``position`` of its render, derived once and reused.

    The fold lives beside ``store`` as ``<store>-without-<SoundFont stem>`` (named from
    ``meta['training_soundfonts']``); an existing fold folder is opened, not rebuilt, so
    every benchmark that scores on it scores on the same rows.

    Parameters
    ----------
    store : FeatureStore
        A store built from SoundFont renders (:func:`soundfont_position`).
    position : int
        Position of the SoundFont to leave out in the render that made the store.

    Returns
    -------
    FeatureStore
        Its ``test`` split is every plain segment of that SoundFont (:func:`leave_out`).
    """
    fonts = store.meta.get("training_soundfonts") or []
    left = fonts[position] if 0 <= position < len(fonts) else f"SoundFont {position}"
    fold_dir = store.path.with_name(f"{store.path.name}-without-{Path(left).stem}")
    return derive_once(fold_dir, lambda: leave_out(store, fold_dir, description=left,
                                                   held_out=lambda index: soundfont_position(index) == position))


def derive_once(out_dir, derive) -> FeatureStore:
    """The derived store at ``out_dir``: opened if it exists, else made by ``derive()``.

    Derived stores are deterministic, so when another process writes the same folder first
    (``derive`` then fails on the atomic rename with ``OSError``) its store is opened instead.

    Parameters
    ----------
    out_dir : path-like
        The derived store's folder.
    derive : callable
        ``derive() -> FeatureStore`` writing ``out_dir`` (:func:`leave_out`, :func:`without_rows`).

    Returns
    -------
    FeatureStore
    """
    out_dir = Path(out_dir)
    if out_dir.is_dir():
        return FeatureStore(out_dir)
    try:
        return derive()
    except OSError:
        if out_dir.is_dir():  # another process derived the same store first: open theirs
            return FeatureStore(out_dir)
        raise
