"""What one training run is told (:class:`TrainConfig`) and what it gives back (:class:`TrainResult`)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import keras
import pandas as pd

from ..mel_augment import MelAugment
from ..settings import AudioSettings

__all__ = ["TrainConfig", "TrainResult"]


@dataclass(frozen=True)
class TrainConfig:
    """How one model is trained.

    Parameters
    ----------
    epochs : int
        Most epochs to train.
    batch_size : int
        Global batch size (split across replicas under a distribution strategy).
    patience : int
        Epochs without improvement of ``monitor`` before early stopping.
    monitor : str
        Validation metric for early stopping and the best-epoch checkpoint.
    reduce_lr_patience : int
        Epochs without improvement before the learning rate is halved (0 disables).
    seed : int
        Seeds weights, dropout and the epoch shuffles.
    samples_per_family : int, optional
        Make each training epoch a fresh balanced draw of this many segments per family
        (oversampling families that have fewer); sample weights are then not needed.
    balance_weights : bool
        Weight training samples so every family carries equal total weight.
    augment : bool or MelAugment
        Augment training batches with :func:`~auditory_deepdream.mel_augment.augment_mel`
        (level, spectral tilt, background noise, SpecAugment masks): ``True`` uses
        ``MelAugment(strength=augment_strength)``, a :class:`~auditory_deepdream.mel_augment.MelAugment`
        is used as given.
    augment_strength : float
        :class:`~auditory_deepdream.mel_augment.MelAugment`'s ``strength`` (scales every range)
        when ``augment`` is ``True``.
    warp_semitones : float
        :class:`~auditory_deepdream.mel_augment.MelAugment`'s frequency warp (largest shift
        either way, in semitones; 0 = off) when ``augment`` is ``True``.
    label_smoothing : float
        Train on ``(1 - label_smoothing) * one_hot + label_smoothing / n_classes`` (0: off);
        validation and test scores use the one-hot labels.
    store_augmentations : tuple of str, optional
        Train only on these of the store's augmented segments (``'none'``, ``'stretch'``,
        ``'recording'``; see :func:`~auditory_deepdream.generator.build_index`); default all.
    workers, use_multiprocessing : int, bool
        Data-loading workers of the training :class:`~auditory_deepdream.generator.InstrumentSequence`.
    op_determinism : bool
        Call ``tf.config.experimental.enable_op_determinism`` (process-wide, irreversible).
    verbose : int
        Keras ``fit`` verbosity (1 shows a progress bar).
    min_audio_fraction : float
        Train, validate and score only segments holding at least this share of real note
        (see :func:`~auditory_deepdream.generator.audio_fraction`): 0.5 drops final
        segments that are mostly zero padding. The test scores also report every segment.
    max_seconds : float, optional
        Stop training after the epoch during which this many seconds have passed (a
        time budget, e.g. to compare builders fairly); the best epoch is still reloaded.
    """

    epochs: int = 30
    batch_size: int = 64
    patience: int = 5
    monitor: str = "val_loss"
    reduce_lr_patience: int = 2
    seed: int = 0
    samples_per_family: int | None = None
    balance_weights: bool = True
    augment: bool | MelAugment = True
    augment_strength: float = 1.0
    warp_semitones: float = 0.0
    label_smoothing: float = 0.0
    store_augmentations: tuple[str, ...] | None = None
    workers: int = 1
    use_multiprocessing: bool = False
    op_determinism: bool = True
    verbose: int = 1
    min_audio_fraction: float = 0.5
    max_seconds: float | None = None

    def mel_augment(self) -> MelAugment | None:
        """The fit-time augmentation this config asks for (``None``: off)."""
        if isinstance(self.augment, MelAugment):
            return self.augment
        return (MelAugment(strength=self.augment_strength, warp_semitones=self.warp_semitones)
                if self.augment else None)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass
class TrainResult:
    """What :func:`~auditory_deepdream.training.train` returns.

    Attributes
    ----------
    model : keras.Model
        The best epoch, reloaded from its checkpoint.
    history : pd.DataFrame
        One row per epoch run: the ``fit`` metrics and the learning rate.
    test_eval : dict
        :func:`~auditory_deepdream.training.evaluate` on the ``test`` split.
    """

    model: keras.Model
    model_id: int
    builder: str
    hp: dict
    classes: list[str]
    settings: AudioSettings
    history: pd.DataFrame
    best_epoch: int
    test_loss: float
    test_accuracy: float
    val_accuracy: float
    seconds: float
    test_eval: dict = field(default_factory=dict)
