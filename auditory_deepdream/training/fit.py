"""Fit one model: build it by builder name, train with early stopping, reload the best epoch, score it.

:func:`train` fits on the store's ``train`` split, stops early on ``valid``, keeps the best
epoch in a ``.keras`` checkpoint, reloads it and evaluates it on ``test``. With a
``log_dir`` it leaves the run logs of :mod:`~auditory_deepdream.training.runlog`.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from pathlib import Path

import keras
import pandas as pd

from ..dataset import FeatureStore
from ..errors import ModelError
from ..generator import InstrumentSequence, build_index
from ..models import DEFAULT_HYPERPARAMETERS, build_model
from ..settings import AudioSettings
from .callbacks import BestCheckpoint, EpochLogger, TimeBudget, monitor_mode
from .config import TrainConfig, TrainResult
from .evaluate import evaluate
from .multiworker import fit_multi_worker, is_chief, is_multi_worker
from .runlog import RunLog

__all__ = ["train", "model_hp", "seed_everything"]


def seed_everything(seed: int, *, op_determinism: bool = True) -> None:
    """Seed Python, NumPy and TensorFlow; optionally make TF ops deterministic."""
    keras.utils.set_random_seed(int(seed))
    if op_determinism:
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


def model_hp(builder: str, hp: dict | None, n_classes: int) -> dict:
    """The complete hyper-parameter dict a builder sees (defaults, overrides, ``n_classes``)."""
    if builder not in DEFAULT_HYPERPARAMETERS:
        raise ModelError(f"Unknown model builder {builder!r}; choose one of {sorted(DEFAULT_HYPERPARAMETERS)}.")
    return {**DEFAULT_HYPERPARAMETERS[builder], **(hp or {}), "n_classes": n_classes}


def _sequences(store: FeatureStore, classes: list[str], config: TrainConfig):
    """The shuffled (optionally balanced, augmented) training and the fixed validation sequences."""
    train_index = build_index(store, split="train", classes=classes, min_audio_fraction=config.min_audio_fraction,
                              augmentations=config.store_augmentations)
    valid_index = build_index(store, split="valid", classes=classes, min_audio_fraction=config.min_audio_fraction)
    train_seq = InstrumentSequence(store, train_index, batch_size=config.batch_size, shuffle=True,
                                   per_family=config.samples_per_family, seed=config.seed,
                                   sample_weight=config.balance_weights and not config.samples_per_family,
                                   augment=config.mel_augment(), label_smoothing=config.label_smoothing,
                                   workers=config.workers,
                                   use_multiprocessing=config.use_multiprocessing)
    valid_seq = InstrumentSequence(store, valid_index, batch_size=max(config.batch_size, 128), shuffle=False)
    return train_seq, valid_seq


def _callbacks(config: TrainConfig, *, checkpoint: Path, history_path: Path | None, runlog, started: float):
    best = BestCheckpoint(checkpoint, config.monitor)
    logger = EpochLogger(history_path, runlog)
    mode = monitor_mode(config.monitor)
    fit_callbacks = [best, logger, keras.callbacks.EarlyStopping(monitor=config.monitor,
                                                                 patience=config.patience, mode=mode)]
    if config.reduce_lr_patience > 0:
        fit_callbacks.append(keras.callbacks.ReduceLROnPlateau(
            monitor=config.monitor, factor=0.5, patience=config.reduce_lr_patience, min_lr=1e-5, mode=mode))
    if config.max_seconds is not None:
        fit_callbacks.append(TimeBudget(config.max_seconds, started))
    return best, logger, fit_callbacks


def train(store: FeatureStore, *, builder: str = "conv_blocks", hp: dict | None = None,
          settings: AudioSettings | None = None, config: TrainConfig = TrainConfig(),
          log_dir=None, model_id: int = 0, experiment: str = "train", strategy=None,
          callbacks=()) -> TrainResult:
    """Build, train, reload the best epoch and evaluate one model.

    Parameters
    ----------
    store : FeatureStore
        Needs ``train``, ``valid`` and ``test`` rows in its ``split`` column.
    builder : str
        A name in :data:`auditory_deepdream.models.BUILDERS`.
    hp : dict, optional
        Hyper-parameters (missing keys take the builder's defaults).
    settings : AudioSettings, optional
        The model's audio settings (default: the store's). A model and a dataset with
        different settings are refused with :class:`SettingsMismatchError`.
    config : TrainConfig
    log_dir : path-like, optional
        Write the run logs (see :mod:`~auditory_deepdream.training.runlog`) for ``model_id`` here.
    model_id : int
        Row key of this model in the logs.
    experiment : str
        Aim experiment name.
    strategy : tf.distribute.Strategy, optional
        Build and train under this strategy (e.g. ``MirroredStrategy`` over GPUs, or
        :func:`~auditory_deepdream.training.strategy_from_environment`'s
        ``MultiWorkerMirroredStrategy`` over machines); ``batch_size`` is global. On a
        cluster only the chief writes ``log_dir``.
    callbacks : sequence of keras.callbacks.Callback
        Extra callbacks for ``fit``.

    Returns
    -------
    TrainResult
        The best-epoch model, its history (one row per epoch) and its test scores.
    """
    started = time.perf_counter()
    settings = settings or store.settings
    settings.check_compatible(store.settings, mine="model", theirs="dataset")
    classes = store.classes
    seed_everything(config.seed, op_determinism=config.op_determinism)
    train_seq, valid_seq = _sequences(store, classes, config)
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        model = build_model(builder, hp, settings=settings, n_classes=len(classes), seed=config.seed)
    full_hp = model_hp(builder, hp, len(classes))

    # on a cluster only the chief keeps logs and checkpoints; the other workers train in step
    runlog = (RunLog(log_dir, model_id=model_id, experiment=experiment)
              if log_dir is not None and is_chief(strategy) else None)
    with contextlib.ExitStack() as stack:
        if runlog is None:
            checkpoint = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="add-train-"))) / "best.keras"
            history_path = None
        else:
            stack.callback(runlog.close)
            # the augmentation strength is logged with the hyper-parameters: a search may tune it
            runlog.start(model, builder=builder, hp={**full_hp, "augment_strength": config.augment_strength},
                         config=config.to_dict(), settings=settings.to_dict())
            checkpoint, history_path = runlog.checkpoint, runlog.history_path
        best, logger, fit_callbacks = _callbacks(config, checkpoint=checkpoint, history_path=history_path,
                                                 runlog=runlog, started=started)
        if is_multi_worker(strategy):
            fit_multi_worker(model, train_seq, valid_seq, strategy=strategy, epochs=config.epochs,
                             callbacks=fit_callbacks + list(callbacks))
        else:
            # tf.data feeds: float16 -> float32 and the augmentation run in TensorFlow, prefetched
            model.fit(train_seq.dataset(), validation_data=valid_seq.dataset(), epochs=config.epochs, shuffle=False,
                      callbacks=fit_callbacks + list(callbacks), verbose=config.verbose)
        # the best epoch is reloaded outside the strategy: evaluation and export run on one device
        model = keras.models.load_model(checkpoint)
        test = evaluate(model, store, settings=settings, classes=classes, split="test",
                        min_audio_fraction=config.min_audio_fraction)
        history = pd.DataFrame(logger.rows)
        val_acc = float(history.loc[history["epoch"] == best.best_epoch, "val_accuracy"].iloc[0])
        seconds = time.perf_counter() - started
        if runlog is not None:
            runlog.finish(test=test, val_accuracy=val_acc, best_epoch=best.best_epoch,
                          epochs_run=len(history), seconds=seconds)
    return TrainResult(model=model, model_id=model_id, builder=builder, hp=full_hp, classes=classes,
                       settings=settings, history=history, best_epoch=best.best_epoch,
                       test_loss=test["loss"], test_accuracy=test["accuracy"], val_accuracy=val_acc,
                       seconds=seconds, test_eval=test)
