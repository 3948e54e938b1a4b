"""Training data from a feature store: the index DataFrame and a batch generator.

The *index* (section 3.6 of the dissertation) has one row per segment::

    segment_id  row  family  pitch  pitch_class  split  family_label          pitch_label
    cello_...   17   string  48     C            train  [0. 0. 0. 1. ...]     [1. 0. 0. ...]

``row`` is the segment's row in the :class:`~auditory_deepdream.dataset.FeatureStore`;
``family`` is the store's instrument family (the class a model learns), ``family_label``
its one-hot vector in the store's class order, and ``pitch_label`` the one-hot pitch
class (12 classes, C first).

:class:`InstrumentSequence` is a :class:`keras.utils.PyDataset` that gathers batches from
the store (so RAM use does not grow with the dataset), reshuffles every epoch from
``(seed, epoch)`` alone, and accepts PyDataset's ``workers`` / ``use_multiprocessing``.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import pandas as pd

from .audio.spectral import mel_centres
from .dataset import PITCH_CLASSES, FeatureStore
from .errors import DatasetError
from .mel_augment import MelAugment, augment_mel

__all__ = ["InstrumentSequence", "audio_fraction", "augmentation_kind", "balance", "build_index"]


def _one_hot(codes: np.ndarray, n: int) -> list[np.ndarray]:
    eye = np.eye(n, dtype=np.float32)
    return [eye[c] for c in codes]


def balance(index: pd.DataFrame, samples_per_family: int, *, seed: int = 0,
            replace: bool = False) -> pd.DataFrame:
    """Draw exactly ``samples_per_family`` rows of every family.

    Parameters
    ----------
    index : pd.DataFrame
        An index from :func:`build_index` (needs column ``family``).
    samples_per_family : int
        Rows kept per family.
    seed : int
        Seeds the draw, so the same seed gives the same rows.
    replace : bool
        Draw with replacement (oversample) families that have fewer rows; otherwise
        such a family is an error.

    Returns
    -------
    pd.DataFrame
        ``samples_per_family * n_families`` rows, grouped by family in
        first-appearance order, each group sorted by store row.
    """
    if samples_per_family < 1:
        raise DatasetError("samples_per_family must be at least 1.")
    counts = index["family"].value_counts()
    short = counts[counts < samples_per_family]
    if len(short) and not replace:
        raise DatasetError(
            f"Families {dict(short)} have fewer than {samples_per_family} segments; "
            "lower samples_per_family or allow oversampling (replace=True).")
    rng = np.random.default_rng(seed)
    parts = []
    for name in pd.unique(index["family"]):
        group = index[index["family"] == name]
        take = rng.choice(len(group), size=samples_per_family,
                          replace=len(group) < samples_per_family)
        parts.append(group.iloc[np.sort(take)])
    return pd.concat(parts, ignore_index=True)


def audio_fraction(store: FeatureStore, rows: pd.DataFrame | None = None) -> np.ndarray:
    """Fraction of each segment that holds the note rather than end-of-note zero padding.

    A note of ``trimmed_samples`` samples (``trimmed_samples / stretch_rate`` for
    time-stretched copies) cut with hop ``hop_seconds`` fills segment ``segment_index``
    from its start up to the note's end; the rest was zero-padded by
    :func:`~auditory_deepdream.audio.segment`.

    Parameters
    ----------
    store : FeatureStore
        Supplies the audio settings and the build's ``stretch_rate``.
    rows : pd.DataFrame, optional
        Rows of ``store.index`` (default: all of them).

    Returns
    -------
    np.ndarray [shape=(len(rows),), dtype=float64]
        Values in ``[0, 1]``; 1 for every segment when the index lacks the columns
        ``trimmed_samples``, ``segment_index`` and ``hop_seconds`` (e.g. NSynth-style stores
        cut without them).
    """
    rows = store.index if rows is None else rows
    needed = {"trimmed_samples", "segment_index", "hop_seconds"}
    if not needed <= set(rows.columns):
        return np.ones(len(rows))
    sr = store.settings.sample_rate
    seg = store.settings.segment_samples
    length = rows["trimmed_samples"].to_numpy(dtype=np.float64)
    if "augmentation" in rows:
        rate = float(store.meta.get("config", {}).get("stretch_rate", 0.5))
        stretched = (rows["augmentation"] == "stretch").to_numpy()
        length = np.where(stretched, np.round(length / rate), length)
    hop = np.round(rows["hop_seconds"].to_numpy(dtype=np.float64) * sr)
    start = rows["segment_index"].to_numpy(dtype=np.float64) * hop
    return np.clip((length - start) / seg, 0.0, 1.0)


def augmentation_kind(rows: pd.DataFrame) -> pd.Series:
    """Each row's store augmentation without its copy number: ``'recording2'`` is ``'recording'``.

    Parameters
    ----------
    rows : pd.DataFrame
        Rows of a store index; without an ``augmentation`` column every row is ``'none'``.

    Returns
    -------
    pd.Series of str, aligned with ``rows``
        ``'none'``, ``'stretch'`` or ``'recording'``.
    """
    if "augmentation" not in rows:
        return pd.Series("none", index=rows.index)
    return rows["augmentation"].astype(str).str.rstrip("0123456789")


def build_index(store: FeatureStore, *, split: str | None = None, classes: list[str] | None = None,
                samples_per_family: int | None = None, replace: bool = False,
                seed: int = 0, min_audio_fraction: float = 0.0,
                augmentations: tuple[str, ...] | None = None) -> pd.DataFrame:
    """The generator's index DataFrame for (a split of) a store.

    Parameters
    ----------
    store : FeatureStore
    split : {'train', 'valid', 'test'}, optional
        Keep only this split (all rows if None).
    classes : list of str, optional
        Family order of the one-hot labels (default: ``store.classes``). Rows whose
        family is not listed are dropped, so a model's classes can be applied to a store
        with other families.
    samples_per_family : int, optional
        Balance the families exactly with :func:`balance`.
    replace : bool
        Let :func:`balance` oversample families with too few rows.
    seed : int
        Seeds the balancing draw.
    min_audio_fraction : float
        Drop segments whose share of real note (see :func:`audio_fraction`) is below this,
        e.g. 0.5 drops final segments that are mostly zero padding. 0 keeps every row.
    augmentations : tuple of str, optional
        Keep only segments of these store augmentations (``'none'``, ``'stretch'``,
        ``'recording'`` for every recording copy; see :func:`augmentation_kind`); default all.

    Returns
    -------
    pd.DataFrame
        Columns ``segment_id``, ``row``, ``family``, ``family_code``, ``pitch``,
        ``pitch_class``, ``split``, ``audio_fraction``, ``note_id``, ``family_label``
        (one-hot float32 arrays of shape ``(len(classes),)``), ``pitch_label`` (one-hot
        float32 arrays of shape ``(12,)``); ``attrs['classes']`` holds the class order.
    """
    if not 0.0 <= min_audio_fraction <= 1.0:
        raise DatasetError(f"min_audio_fraction must be in [0, 1], not {min_audio_fraction}.")
    src = store.index
    if split is not None:
        if "split" not in src:
            raise DatasetError(f"Store {store.path} has no 'split' column; rebuild it with build-dataset.")
        src = src[src["split"] == split]
        if src.empty:
            raise DatasetError(f"Store {store.path} has no rows in split {split!r}.")
    if augmentations is not None:
        src = src[augmentation_kind(src).isin(list(augmentations)).to_numpy()]
        if src.empty:
            raise DatasetError(f"No rows of store {store.path} have augmentations {list(augmentations)}.")
    classes = list(classes or store.classes)
    src = src[src["family"].isin(classes)]
    if src.empty:
        raise DatasetError(f"No rows of store {store.path} belong to the classes {classes}.")
    fraction = audio_fraction(store, src)
    if min_audio_fraction > 0:
        keep = fraction >= min_audio_fraction
        src, fraction = src[keep], fraction[keep]
        if src.empty:
            raise DatasetError(f"No rows of store {store.path} hold at least {min_audio_fraction:.0%} "
                               "real audio; lower min_audio_fraction.")
    code = {name: i for i, name in enumerate(classes)}
    pitch = src["pitch"].to_numpy(dtype=np.int64)
    pc = pitch % 12
    index = pd.DataFrame({
        "segment_id": src["segment_id"].to_numpy() if "segment_id" in src else src["row"].to_numpy(),
        "row": src["row"].to_numpy(dtype=np.int64),
        "family": src["family"].to_numpy(),
        "family_code": src["family"].map(code).to_numpy(dtype=np.int64),
        "pitch": pitch,
        "pitch_class": [PITCH_CLASSES[c] for c in pc],
        "split": src["split"].to_numpy() if "split" in src else "all",
        "audio_fraction": fraction,
        "note_id": src["note_id"].to_numpy() if "note_id" in src else src["row"].to_numpy(),
    })
    if samples_per_family is not None:
        index = balance(index, samples_per_family, seed=seed, replace=replace)
    index["family_label"] = _one_hot(index["family_code"].to_numpy(), len(classes))
    index["pitch_label"] = _one_hot(index["pitch"].to_numpy() % 12, len(PITCH_CLASSES))
    index.attrs["classes"] = classes
    return index.reset_index(drop=True)


class InstrumentSequence(keras.utils.PyDataset):
    """Batches of ``(features, one-hot labels)`` gathered from a store.

    Parameters
    ----------
    store : FeatureStore
    index : pd.DataFrame
        From :func:`build_index`.
    batch_size : int
    target : {'family', 'pitch'}
        Which one-hot label to serve.
    shuffle : bool
        Reshuffle every epoch; the order of epoch ``e`` depends only on ``(seed, e)``.
    per_family : int, optional
        Make every epoch a fresh balanced draw of this many samples per class (with
        replacement only for classes that have fewer), so small families are seen as often
        as large ones while every sample of a large family still gets its turn.
    seed : int
    sample_weight : bool
        Also serve per-sample weights that give every family equal total weight.
    augment : bool or MelAugment
        Augment training batches with :func:`~auditory_deepdream.mel_augment.augment_mel`
        (level, spectral tilt, background noise, SpecAugment masks; ``True`` means
        ``MelAugment()``), drawn from ``(seed, epoch, batch)``, so reproducible.
    label_smoothing : float
        Serve ``(1 - label_smoothing) * one_hot + label_smoothing / n_classes`` as the
        labels (0: one-hot; for a training feed only, so validation losses stay comparable).
    workers, use_multiprocessing, max_queue_size
        Passed to :class:`keras.utils.PyDataset`.

    Each item is ``x`` of shape ``(batch, n_mels, n_frames, 1)`` (float32 dB) and ``y`` of
    shape ``(batch, n_classes)``; the last batch may be smaller. :meth:`dataset` serves the
    same batches as a prefetching ``tf.data`` pipeline, which is what training uses.
    """

    def __init__(self, store: FeatureStore, index: pd.DataFrame, *, batch_size: int = 64,
                 target: str = "family", shuffle: bool = True, per_family: int | None = None,
                 seed: int = 0, sample_weight: bool = False, augment: bool | MelAugment = False,
                 label_smoothing: float = 0.0, workers: int = 1,
                 use_multiprocessing: bool = False, max_queue_size: int = 10):
        super().__init__(workers=workers, use_multiprocessing=use_multiprocessing,
                         max_queue_size=max_queue_size)
        if target not in ("family", "pitch"):
            raise DatasetError(f"target must be 'family' or 'pitch', not {target!r}.")
        if len(index) == 0:
            raise DatasetError("The index is empty; nothing to serve.")
        if batch_size < 1:
            raise DatasetError("batch_size must be at least 1.")
        if not 0.0 <= label_smoothing < 1.0:
            raise DatasetError(f"label_smoothing must be in [0, 1), not {label_smoothing}.")
        self.store = store
        self.index = index
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.seed = int(seed)
        self.target = target
        self.augment = MelAugment() if augment is True else (augment or None)
        # the mel bands' centres, for a warp: computed once here, not per batch
        self._band_hz = mel_centres(store.settings) if self.augment is not None else None
        self._rows = index["row"].to_numpy(dtype=np.int64)
        self._labels = np.stack(index[f"{target}_label"].to_list()).astype(np.float32)
        self._served = (self._labels * (1.0 - label_smoothing) + label_smoothing / self._labels.shape[1]
                        ).astype(np.float32) if label_smoothing else self._labels
        self._weights = None
        if sample_weight:
            codes = self._labels.argmax(axis=1)
            counts = np.bincount(codes, minlength=self._labels.shape[1]).astype(np.float64)
            present = counts > 0
            per_class = np.zeros_like(counts)
            per_class[present] = len(codes) / (present.sum() * counts[present])
            self._weights = per_class[codes].astype(np.float32)
        self.per_family = per_family
        self._codes = self._labels.argmax(axis=1)
        self.epoch = 0
        self._order = self._epoch_order(0)

    def _epoch_order(self, epoch: int) -> np.ndarray:
        rng = np.random.default_rng([self.seed, epoch])
        if self.per_family:
            picks = [rng.choice(members, size=self.per_family, replace=len(members) < self.per_family)
                     for c in np.unique(self._codes) if len(members := np.flatnonzero(self._codes == c))]
            order = np.concatenate(picks)
            return rng.permutation(order) if self.shuffle else np.sort(order)
        if not self.shuffle:
            return np.arange(len(self._rows))
        return rng.permutation(len(self._rows))

    def __len__(self) -> int:
        return math.ceil(len(self._order) / self.batch_size)

    def batch_positions(self, i: int) -> np.ndarray:
        """Positions in ``index`` of the samples in batch ``i`` of the current epoch."""
        if not 0 <= i < len(self):
            raise IndexError(f"Batch {i} out of range 0..{len(self) - 1}.")
        return self._order[i * self.batch_size:(i + 1) * self.batch_size]

    def _key(self, i: int, epoch: int | None = None) -> np.ndarray:
        epoch = self.epoch if epoch is None else epoch
        return np.array([self.seed, epoch * 2 ** 20 + i], dtype=np.int64)

    def __getitem__(self, i: int):
        pos = self.batch_positions(i)
        x = self.store.load(self._rows[pos])[..., np.newaxis]
        if self.augment is not None:
            x = augment_mel(x, seed=self._key(i), config=self.augment, db_floor=self.store.settings.db_floor,
                            band_hz=self._band_hz).numpy()
        if self._weights is not None:
            return x, self._served[pos], self._weights[pos]
        return x, self._served[pos]

    def dataset(self):
        """The batches as a ``tf.data.Dataset`` that prefetches while the model trains.

        A Python generator only gathers the float16 rows from the store (the cheap part);
        the conversion to float32 and the augmentation run inside TensorFlow, in parallel
        with the training step, and ``prefetch`` keeps batches ready. Each pass over the
        dataset is one epoch: it serves the current epoch's order, then moves to the next
        epoch (as :meth:`on_epoch_end` does for Keras' ``PyDataset`` feed). The batches
        equal ``self[i]`` of the same epoch.

        Returns
        -------
        tf.data.Dataset
            Elements ``(x, y)`` or ``(x, y, sample_weight)``; ``x`` float32 of shape
            ``(batch, n_mels, n_frames, 1)``.
        """
        import tensorflow as tf

        n_mels, n_frames = self.store.feature_shape
        weighted = self._weights is not None

        def batches():
            # each pass serves the current epoch and moves the sequence on at its start: Keras
            # stops after len(self) steps, so code after the last yield might never run
            epoch, order = self.epoch, self._order
            self.on_epoch_end()
            for i in range(len(self)):
                pos = order[i * self.batch_size:(i + 1) * self.batch_size]
                w = self._weights[pos] if weighted else np.ones(len(pos), np.float32)
                yield self.store.load(self._rows[pos], dtype=np.float16), self._served[pos], w, self._key(i, epoch)

        n_classes = self._labels.shape[1]
        signature = (tf.TensorSpec((None, n_mels, n_frames), tf.float16),
                     tf.TensorSpec((None, n_classes), tf.float32),
                     tf.TensorSpec((None,), tf.float32), tf.TensorSpec((2,), tf.int64))
        config, floor, band_hz = self.augment, self.store.settings.db_floor, self._band_hz

        def to_model(x, y, w, key):
            x = tf.cast(x, tf.float32)[..., tf.newaxis]
            if config is not None:
                x = augment_mel(x, seed=key, config=config, db_floor=floor, band_hz=band_hz)
            return (x, y, w) if weighted else (x, y)

        data = tf.data.Dataset.from_generator(batches, output_signature=signature)
        data = data.apply(tf.data.experimental.assert_cardinality(len(self)))  # Keras then knows the steps
        return data.map(to_model, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).prefetch(tf.data.AUTOTUNE)

    def on_epoch_end(self):
        self.epoch += 1
        self._order = self._epoch_order(self.epoch)

    @property
    def labels(self) -> np.ndarray:
        """All one-hot labels in index order, shape ``(n, n_classes)``."""
        return self._labels
