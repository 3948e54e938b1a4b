"""The build's plan: options, splits by source note, and the augmentation plan.

* :class:`DatasetConfig` holds a build's options (saved in the store's ``meta.json``);
* :func:`assign_splits` puts every source note in train, valid or test;
* :func:`plan_augmentation` chooses, per family, a time-stretch and a segment hop
  (K-means on family sizes, as in the dissertation's section 3.4);
* :func:`apply_plan` writes the plan onto the notes as ``hop_seconds`` and ``stretch_rate``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..audio import n_segments
from ..errors import DatasetError
from ..settings import AudioSettings
from .recording import RecordingAugmentation

__all__ = ["DATASET_PRESETS", "SPLITS", "DatasetConfig", "apply_plan", "assign_splits", "plan_augmentation"]

SPLITS = ("train", "valid", "test")


@dataclass(frozen=True)
class DatasetConfig:
    """Options of a dataset build (saved in the store's ``meta.json``).

    Parameters
    ----------
    split_fractions : (float, float, float)
        Fractions of source notes in train, valid and test.
    seed : int
        Seed of the note-to-split assignment and of K-means.
    stretch_rate : float
        Time-stretch rate for under-represented families (0.5 doubles the length).
    stretch_below : float
        A family is under-represented when its estimated train segment count is below
        this fraction of the largest family's.
    hop_clusters : int
        K-means clusters of family counts (the dissertation uses 4).
    hop_seconds : tuple of float
        Hop of each cluster, from the most to the least populated cluster.
    augment_splits : tuple of str
        Splits that get stretching and the per-family hop; the others are cut into
        non-overlapping segments so evaluation sees every note once.
    notes_per_chunk : int
        Notes per store chunk (the unit of resumption and of parallel work).
    jobs : int
        Worker processes for encoding.
    on_unknown : {'error', 'skip'}
        What to do with labels the ontology does not list.
    classes : tuple of str, optional
        Fixed label order (for example a held-out store that must match a training store).
    recording : RecordingAugmentation, optional
        Also store this many recording-augmented copies of every note in
        ``augment_splits`` (see :mod:`~auditory_deepdream.dataset.recording`).
    """

    split_fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)
    seed: int = 0
    stretch_rate: float = 0.5
    stretch_below: float = 0.5
    hop_clusters: int = 4
    hop_seconds: tuple[float, ...] = (1.0, 0.8, 0.6, 0.5)
    augment_splits: tuple[str, ...] = ("train",)
    notes_per_chunk: int = 128
    jobs: int = 2
    on_unknown: str = "error"
    classes: tuple[str, ...] | None = None
    recording: RecordingAugmentation | None = None

    def __post_init__(self):
        if len(self.split_fractions) != 3 or min(self.split_fractions) < 0 or \
                abs(sum(self.split_fractions) - 1) > 1e-6:
            raise DatasetError("split_fractions must be three non-negative numbers summing to 1.")
        if len(self.hop_seconds) < self.hop_clusters or min(self.hop_seconds) <= 0:
            raise DatasetError("hop_seconds needs one positive hop per K-means cluster.")
        if self.on_unknown not in ("error", "skip"):
            raise DatasetError("on_unknown must be 'error' or 'skip'.")
        if not 0 < self.stretch_rate:
            raise DatasetError("stretch_rate must be positive.")
        if self.notes_per_chunk < 1 or self.jobs < 1:
            raise DatasetError("notes_per_chunk and jobs must be at least 1.")


DATASET_PRESETS = {"small": DatasetConfig(notes_per_chunk=32), "demo": DatasetConfig(notes_per_chunk=64),
                   "full": DatasetConfig(recording=RecordingAugmentation(copies=2, strength=1.0))}


def assign_splits(notes: pd.DataFrame, *, fractions=(0.8, 0.1, 0.1), seed: int = 0) -> pd.Series:
    """Split by source note: a note's split depends only on its ``note_id`` and ``seed``.

    Every segment (and every augmented copy) of a note inherits the note's split, so no
    note leaks between train and test; adding notes never moves existing ones.

    Parameters
    ----------
    notes : pd.DataFrame
        Needs ``note_id``.
    fractions : (float, float, float)
        Expected shares of train, valid and test.
    seed : int

    Returns
    -------
    split : pd.Series of {'train', 'valid', 'test'}, aligned with ``notes``
    """
    # a hash, not a random draw, so a note's split does not depend on the other notes
    u = np.array([int.from_bytes(hashlib.sha1(f"{seed}:{n}".encode()).digest()[:8], "big") / 2 ** 64
                  for n in notes["note_id"]])
    edges = np.cumsum(fractions)[:-1]
    return pd.Series(np.asarray(SPLITS)[np.searchsorted(edges, u, side="right")], index=notes.index)


def plan_augmentation(notes: pd.DataFrame, *, settings: AudioSettings,
                      config: DatasetConfig = DatasetConfig()) -> pd.DataFrame:
    """Choose, per family, whether to time-stretch and which hop to cut segments with.

    Counts are estimated train segments at a one-segment hop (from file headers, so no
    audio is decoded). Families under ``config.stretch_below`` of the largest count are
    stretched (their estimate grows by ``1 / stretch_rate``, the stretched copy's
    length); K-means with ``config.hop_clusters`` clusters on the resulting counts gives
    each family a cluster, ranked from most to least populated, and the cluster's hop
    from ``config.hop_seconds``.

    Parameters
    ----------
    notes : pd.DataFrame
        Curated notes with ``family``, ``split`` and ``duration_samples``
        (see :func:`~auditory_deepdream.dataset.read_durations`).
    settings : AudioSettings
    config : DatasetConfig

    Returns
    -------
    plan : pd.DataFrame
        Indexed by family: ``notes``, ``est_segments``, ``stretch`` (bool),
        ``est_after_stretch``, ``cluster`` (0 = most populated), ``hop_seconds``.
    """
    # imported here: scikit-learn takes seconds to load and only this step needs it
    from sklearn.cluster import KMeans

    seg = settings.segment_samples
    train = notes[notes["split"].isin(config.augment_splits)]
    est = train.assign(n=[n_segments(max(int(d), 1), segment_samples=seg, hop_samples=seg)
                          for d in train["duration_samples"]])
    families = sorted(notes["family"].unique())
    plan = pd.DataFrame(index=pd.Index(families, name="family"))
    plan["notes"] = train.groupby("family").size().reindex(families, fill_value=0)
    plan["est_segments"] = est.groupby("family")["n"].sum().reindex(families, fill_value=0)
    top = plan["est_segments"].max()
    plan["stretch"] = plan["est_segments"] < config.stretch_below * top
    plan["est_after_stretch"] = np.where(plan["stretch"],
                                         plan["est_segments"] * (1 + 1 / config.stretch_rate),
                                         plan["est_segments"])
    counts = plan["est_after_stretch"].to_numpy(dtype=float).reshape(-1, 1)
    k = min(config.hop_clusters, len(np.unique(counts)))
    if k >= 2:
        km = KMeans(n_clusters=k, n_init=10, random_state=config.seed).fit(counts)
        rank = np.argsort(np.argsort(-km.cluster_centers_.ravel()))  # cluster -> 0 for largest
        plan["cluster"] = rank[km.labels_]
    else:
        plan["cluster"] = 0
    plan["hop_seconds"] = [config.hop_seconds[c] for c in plan["cluster"]]
    return plan


def apply_plan(notes: pd.DataFrame, plan: pd.DataFrame, *, settings: AudioSettings,
               config: DatasetConfig) -> pd.DataFrame:
    """Give every note the hop and stretch its split and family get.

    Parameters
    ----------
    notes : pd.DataFrame
        Curated notes with ``family`` and ``split``.
    plan : pd.DataFrame
        From :func:`plan_augmentation`.
    settings : AudioSettings
    config : DatasetConfig

    Returns
    -------
    notes : pd.DataFrame
        A copy with ``hop_seconds`` (the family's hop in ``config.augment_splits``, one
        segment elsewhere), ``stretch_rate`` (``config.stretch_rate`` for stretched
        families in those splits, else None) and ``recording_copies`` (``config.recording``'s
        copies in those splits, else 0).
    """
    augment = notes["split"].isin(config.augment_splits)
    stretch = augment & notes["family"].map(plan["stretch"]).astype(bool)
    copies = config.recording.copies if config.recording is not None else 0
    return notes.assign(
        recording_copies=np.where(augment, copies, 0).astype(int),
        hop_seconds=np.where(augment, notes["family"].map(plan["hop_seconds"]), settings.segment_seconds),
        stretch_rate=pd.Series(np.where(stretch, config.stretch_rate, None), index=notes.index, dtype=object))
