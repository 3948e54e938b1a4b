"""Train one model on a feature store, with the run logs of the dissertation's section 3.7.

:func:`train` builds a model by builder name, fits it on the store's ``train`` split with
early stopping on ``valid``, keeps the best epoch in a ``.keras`` checkpoint, reloads it
and evaluates it on ``test``. With a ``log_dir`` it leaves, per model id::

    hyperparameters.csv          one row per model id
    evaluation.csv               model_id, loss, accuracy (+ val accuracy, best epoch, seconds)
    architecture/model_<id>.json Keras architecture JSON
    architecture/model_<id>.txt  printed model summary
    checkpoints/model_<id>.keras best epoch
    history/model_<id>.csv       per-epoch metrics and learning rate
    aim/                         Aim repository (``aim up --repo <log_dir>/aim``)
    aim_runs.csv                 model_id -> Aim run hash

Every file is written atomically (temporary file, then rename). :func:`evaluate` scores a
model on any store with the same audio settings, e.g. notes from a held-out SoundFont, and
:func:`export_model` writes a model directory with its model card.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from .atomic import write_csv_atomic, write_text_atomic
from .errors import ModelError
from .generator import InstrumentSequence, build_index
from .models import build_model, save_model_dir
from .atomic import write_json_atomic
from .settings import AudioSettings
from .store import FeatureStore

__all__ = ["TrainConfig", "TrainResult", "train", "evaluate", "note_votes", "export_model", "plot_confusion",
           "write_csv_atomic", "upsert_csv", "seed_everything"]


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
    samples_per_instrument : int, optional
        Make each training epoch a fresh balanced draw of this many segments per family
        (oversampling families that have fewer); sample weights are then not needed.
    balance_weights : bool
        Weight training samples so every family carries equal total weight.
    augment : bool
        Random level changes and band/frame masking of training batches (see
        :class:`~auditory_deepdream.generator.InstrumentSequence`).
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
    samples_per_instrument: int | None = None
    balance_weights: bool = True
    augment: bool = True
    workers: int = 1
    use_multiprocessing: bool = False
    op_determinism: bool = True
    verbose: int = 1
    min_audio_fraction: float = 0.5
    max_seconds: float | None = None

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass
class TrainResult:
    """What :func:`train` returns."""

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


# ----------------------------------------------------------------------- file helpers
def upsert_csv(path, row: dict, *, key: str = "model_id") -> pd.DataFrame:
    """Replace (or add) the row with ``row[key]`` in a CSV, sorted by ``key``, atomically."""
    path = Path(path)
    old = pd.read_csv(path) if path.is_file() else pd.DataFrame()
    if len(old) and key in old:
        old = old[old[key] != row[key]]
    frame = pd.concat([old, pd.DataFrame([row])], ignore_index=True).sort_values(key)
    write_csv_atomic(path, frame)
    return frame


def _save_keras_atomic(model: keras.Model, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name("." + path.stem + ".tmp.keras")
    model.save(tmp)
    os.replace(tmp, path)


def seed_everything(seed: int, *, op_determinism: bool = True) -> None:
    """Seed Python, NumPy and TensorFlow; optionally make TF ops deterministic."""
    keras.utils.set_random_seed(int(seed))
    if op_determinism:
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


# -------------------------------------------------------------------------- callbacks
class _EpochLogger(keras.callbacks.Callback):
    """Per epoch: history CSV (atomic) and Aim metrics, including the learning rate."""

    def __init__(self, history_path: Path | None, aim_run):
        super().__init__()
        self.history_path = history_path
        self.aim_run = aim_run
        self.rows: list[dict] = []

    def on_epoch_end(self, epoch, logs=None):
        lr = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        row = {"epoch": epoch, **{k: float(v) for k, v in (logs or {}).items() if k != "learning_rate"},
               "learning_rate": lr}
        self.rows.append(row)
        if self.history_path is not None:
            write_csv_atomic(self.history_path, pd.DataFrame(self.rows))
        if self.aim_run is not None:
            for name, value in row.items():
                if name == "epoch":
                    continue
                subset = "val" if name.startswith("val_") else "train"
                self.aim_run.track(value, name=name.removeprefix("val_"), step=epoch, epoch=epoch,
                                   context={"subset": subset})


class _BestCheckpoint(keras.callbacks.Callback):
    """Save the model atomically whenever the monitored validation metric improves."""

    def __init__(self, path: Path, monitor: str):
        super().__init__()
        self.path, self.monitor = path, monitor
        self.sign = 1.0 if "acc" in monitor else -1.0
        self.best = -np.inf
        self.best_epoch = -1

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None:
            raise ModelError(f"Checkpoint monitor {self.monitor!r} is not among the metrics {sorted(logs or {})}.")
        if self.sign * float(value) > self.best:
            self.best, self.best_epoch = self.sign * float(value), epoch
            _save_keras_atomic(self.model, self.path)


class _TimeBudget(keras.callbacks.Callback):
    """Stop training at the end of the epoch during which ``seconds`` have passed."""

    def __init__(self, seconds: float, started: float):
        super().__init__()
        self.seconds, self.started = float(seconds), started
        self.stopped_epoch: int | None = None

    def on_epoch_end(self, epoch, logs=None):
        if time.perf_counter() - self.started >= self.seconds:
            self.stopped_epoch = epoch
            self.model.stop_training = True


# ------------------------------------------------------------------------- evaluation
def note_votes(probs: np.ndarray, note_ids: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Classify whole notes: a note's segments vote by summed log-probability.

    Parameters
    ----------
    probs : np.ndarray [shape=(n_segments, n_classes)]
        Class probabilities of each segment.
    note_ids : np.ndarray [shape=(n_segments,)]
        The note each segment was cut from.
    truth : np.ndarray [shape=(n_segments,)]
        True class codes (the same for every segment of a note).

    Returns
    -------
    predicted, true : np.ndarray [shape=(n_notes,)]
        Class codes per note, notes in sorted id order.
    """
    votes = pd.DataFrame(np.log(np.clip(probs, 1e-7, 1.0))).groupby(note_ids).sum()
    note_truth = pd.Series(truth).groupby(note_ids).first().loc[votes.index]
    return votes.to_numpy().argmax(axis=1), note_truth.to_numpy()


def evaluate(model: keras.Model, store: FeatureStore, *, settings: AudioSettings, classes: list[str],
             split: str | None = "test", batch_size: int = 128, min_audio_fraction: float = 0.0) -> dict:
    """Score a model on (a split of) a store.

    Parameters
    ----------
    model : keras.Model
        Output ``(batch, len(classes))`` probabilities.
    store : FeatureStore
        Must have the model's audio settings (:class:`SettingsMismatchError` otherwise).
    settings : AudioSettings
        The model's audio settings.
    classes : list of str
        The model's families in output order; store rows of other families are skipped.
    split : str, optional
        Split to score (``None``: every row, e.g. a held-out SoundFont store).
    min_audio_fraction : float
        Score only segments holding at least this share of real note (the headline
        numbers); ``all_segments`` always reports every segment of the known families.

    Returns
    -------
    dict
        ``loss``, ``accuracy``, ``n`` (scored rows), ``skipped`` (rows of unknown
        families), ``confusion`` (``len(classes)`` x ``len(classes)`` counts, rows = true),
        ``per_class_accuracy`` (family -> accuracy, families present only),
        ``note_accuracy`` (a note's segments vote by summed log-probability; one vote per
        note), ``n_notes``, ``min_audio_fraction`` and ``all_segments`` (``accuracy`` and
        ``n`` over every segment, padding-dominated tails included).
    """
    settings.check_compatible(store.settings, mine="model", theirs="dataset")
    whole = store.index if split is None else store.index[store.index["split"] == split]
    index = build_index(store, split=split, classes=classes)
    seq = InstrumentSequence(store, index, batch_size=batch_size, shuffle=False)
    probs_all = np.concatenate([model.predict_on_batch(seq[i][0]) for i in range(len(seq))])
    truth_all = index["instrument_code"].to_numpy()
    all_segments = {"accuracy": float(np.mean(probs_all.argmax(axis=1) == truth_all)), "n": int(len(truth_all))}
    keep = index["audio_fraction"].to_numpy() >= min_audio_fraction
    if not keep.any():
        raise ModelError(f"No segments hold at least {min_audio_fraction:.0%} real audio; lower min_audio_fraction.")
    index, probs, truth = index[keep], probs_all[keep], truth_all[keep]
    pred = probs.argmax(axis=1)
    note_pred, note_truth = note_votes(probs, index["note_id"].to_numpy(), truth)
    note_accuracy = float(np.mean(note_pred == note_truth))
    n = len(classes)
    confusion = np.zeros((n, n), dtype=np.int64)
    np.add.at(confusion, (truth, pred), 1)
    loss = float(-np.mean(np.log(np.clip(probs[np.arange(len(truth)), truth], 1e-7, 1.0))))
    present = confusion.sum(axis=1) > 0
    return {
        "loss": loss,
        "accuracy": float(np.mean(pred == truth)),
        "n": int(len(truth)),
        "skipped": int(len(whole) - len(truth_all)),
        "confusion": confusion.tolist(),
        "per_class_accuracy": {classes[i]: float(confusion[i, i] / confusion[i].sum())
                               for i in range(n) if present[i]},
        "note_accuracy": note_accuracy,
        "n_notes": int(len(note_truth)),
        "min_audio_fraction": float(min_audio_fraction),
        "all_segments": all_segments,
    }


def plot_confusion(confusion, classes: list[str], path, *, title: str = "") -> Path:
    """Save a row-normalised confusion matrix (rows = true family) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    counts = np.asarray(confusion, dtype=np.float64)
    norm = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(1.0 + 0.6 * len(classes), 0.8 + 0.55 * len(classes)), dpi=100)
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(classes)):
        for j in range(len(classes)):
            if counts[i, j]:
                ax.text(j, i, f"{norm[i, j]:.2f}", ha="center", va="center", fontsize=7,
                        color="white" if norm[i, j] > 0.5 else "black")
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    ax.set_xlabel("predicted family")
    ax.set_ylabel("true family")
    ax.set_title(title)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name("." + path.stem + ".tmp.png")
    fig.savefig(tmp)
    plt.close(fig)
    os.replace(tmp, path)
    return path


# ---------------------------------------------------------------------------- training
def _aim_run(log_dir: Path, model_id: int, experiment: str):
    """Open the Aim run of ``model_id``, deleting a stale one left by an interrupted attempt."""
    import aim

    repo_path = log_dir / "aim"
    runs_csv = log_dir / "aim_runs.csv"
    if runs_csv.is_file():
        old = pd.read_csv(runs_csv)
        for run_hash in old.loc[old["model_id"] == model_id, "run_hash"]:
            with contextlib.suppress(Exception):  # an unreadable stale run is simply left behind
                aim.Repo.from_path(str(repo_path)).delete_run(str(run_hash))
    run = aim.Run(repo=str(repo_path), experiment=experiment, system_tracking_interval=None,
                  capture_terminal_logs=False)
    upsert_csv(runs_csv, {"model_id": model_id, "run_hash": run.hash})
    return run


def _summary_text(model: keras.Model) -> str:
    lines: list[str] = []
    model.summary(print_fn=lambda line, *a, **k: lines.append(line), line_length=110)
    return "\n".join(lines) + "\n"


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
        Write the run logs (see module docstring) for ``model_id`` here.
    model_id : int
        Row key of this model in the logs.
    experiment : str
        Aim experiment name.
    strategy : tf.distribute.Strategy, optional
        Build and train under this strategy (e.g. ``MirroredStrategy`` over GPUs,
        ``MultiWorkerMirroredStrategy`` over machines); ``batch_size`` is global.
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
    train_index = build_index(store, split="train", classes=classes,
                              min_audio_fraction=config.min_audio_fraction)
    train_seq = InstrumentSequence(store, train_index, batch_size=config.batch_size, shuffle=True,
                                   per_instrument=config.samples_per_instrument, seed=config.seed,
                                   sample_weight=config.balance_weights and not config.samples_per_instrument,
                                   augment=config.augment,
                                   workers=config.workers, use_multiprocessing=config.use_multiprocessing)
    valid_seq = InstrumentSequence(store, build_index(store, split="valid", classes=classes,
                                                      min_audio_fraction=config.min_audio_fraction),
                                   batch_size=max(config.batch_size, 128), shuffle=False)
    def scope():
        return strategy.scope() if strategy is not None else contextlib.nullcontext()

    with scope():
        model = build_model(builder, hp, settings=settings, n_classes=len(classes), seed=config.seed)
    full_hp = model_hp(builder, hp, len(classes))

    log_dir = Path(log_dir) if log_dir is not None else None
    tmp_dir = None
    aim_run = None
    if log_dir is None:
        tmp_dir = tempfile.TemporaryDirectory(prefix="add-train-")
        checkpoint = Path(tmp_dir.name) / "best.keras"
        history_path = None
    else:
        checkpoint = log_dir / "checkpoints" / f"model_{model_id}.keras"
        history_path = log_dir / "history" / f"model_{model_id}.csv"
        upsert_csv(log_dir / "hyperparameters.csv", {"model_id": model_id, "builder": builder, **full_hp})
        write_text_atomic(log_dir / "architecture" / f"model_{model_id}.json",
                           json.dumps(json.loads(model.to_json()), indent=1))
        write_text_atomic(log_dir / "architecture" / f"model_{model_id}.txt", _summary_text(model))
        aim_run = _aim_run(log_dir, model_id, experiment)
        aim_run["hparams"] = {"builder": builder, "model_id": model_id, **full_hp}
        aim_run["train_config"] = config.to_dict()
        aim_run["audio_settings"] = settings.to_dict()
    try:
        best = _BestCheckpoint(checkpoint, config.monitor)
        logger = _EpochLogger(history_path, aim_run)
        fit_callbacks = [best, logger,
                         keras.callbacks.EarlyStopping(monitor=config.monitor, patience=config.patience,
                                                       mode="max" if "acc" in config.monitor else "min")]
        if config.reduce_lr_patience > 0:
            fit_callbacks.append(keras.callbacks.ReduceLROnPlateau(
                monitor=config.monitor, factor=0.5, patience=config.reduce_lr_patience, min_lr=1e-5,
                mode="max" if "acc" in config.monitor else "min"))
        if config.max_seconds is not None:
            fit_callbacks.append(_TimeBudget(config.max_seconds, started))
        model.fit(train_seq, validation_data=valid_seq, epochs=config.epochs,
                  callbacks=fit_callbacks + list(callbacks), verbose=config.verbose)
        # the best epoch is reloaded outside the strategy: evaluation and export run on one device
        model = keras.models.load_model(checkpoint)
        test = evaluate(model, store, settings=settings, classes=classes, split="test",
                        min_audio_fraction=config.min_audio_fraction)
        history = pd.DataFrame(logger.rows)
        val_acc = float(history.loc[history["epoch"] == best.best_epoch, "val_accuracy"].iloc[0])
        seconds = time.perf_counter() - started
        if log_dir is not None:
            upsert_csv(log_dir / "evaluation.csv", {
                "model_id": model_id, "loss": test["loss"], "accuracy": test["accuracy"],
                "val_accuracy": val_acc, "best_epoch": best.best_epoch,
                "epochs_run": len(history), "seconds": round(seconds, 1)})
            aim_run["test"] = {"loss": test["loss"], "accuracy": test["accuracy"],
                               "best_epoch": best.best_epoch}
        return TrainResult(model=model, model_id=model_id, builder=builder, hp=full_hp, classes=classes,
                           settings=settings, history=history, best_epoch=best.best_epoch,
                           test_loss=test["loss"], test_accuracy=test["accuracy"], val_accuracy=val_acc,
                           seconds=seconds, test_eval=test)
    finally:
        if aim_run is not None:
            aim_run.close()
        if tmp_dir is not None:
            tmp_dir.cleanup()


def model_hp(builder: str, hp: dict | None, n_classes: int) -> dict:
    """The complete hyper-parameter dict a builder sees (defaults, overrides, ``n_classes``)."""
    from .models import DEFAULT_HYPERPARAMETERS

    if builder not in DEFAULT_HYPERPARAMETERS:
        raise ModelError(f"Unknown model builder {builder!r}; choose one of {sorted(DEFAULT_HYPERPARAMETERS)}.")
    return {**DEFAULT_HYPERPARAMETERS[builder], **(hp or {}), "n_classes": n_classes}


# --------------------------------------------------------------------------- export
def _strip_optimizer(model: keras.Model) -> keras.Model:
    """A copy without optimizer state (a third of the file size) for shipping."""
    bare = keras.models.clone_model(model)
    bare.set_weights(model.get_weights())
    return bare


def _extra_scores(scores: dict) -> str:
    """The note-vote and every-segment accuracies of an :func:`evaluate` result, in words."""
    if "all_segments" not in scores:
        return ""
    frac = scores.get("min_audio_fraction", 0.0)
    scope = f"segments with at least {frac:.0%} real note" if frac > 0 else "every segment"
    return (f"scored on {scope}. Note-level vote: {scores['note_accuracy']:.3f} over {scores['n_notes']} notes; "
            f"every segment, padding-dominated tails included: {scores['all_segments']['accuracy']:.3f} "
            f"({scores['all_segments']['n']} segments)")


def _card_markdown(card: dict) -> str:
    hp = "\n".join(f"| {k} | {v} |" for k, v in sorted(card["hyperparameters"].items()))
    per_class = "\n".join(f"| {k} | {v:.3f} |" for k, v in card["test"]["per_class_accuracy"].items())
    held = card.get("heldout")
    held_text = "not measured (no held-out store given)" if not held else (
        f"**{held['accuracy']:.3f}** on {held['n']} segments from `{held['store']}` "
        f"({held['skipped']} segments of families the model does not know were skipped); "
        f"{_extra_scores(held)}")
    test = card["test"]
    return f"""# Model card: {card['name']}

Instrument-family classifier ({card['builder']} builder) for Auditory DeepDreamer.

- **Classes** ({len(card['classes'])}): {', '.join(card['classes'])}
- **Data**: `{card['data']['store']}`: {card['data']['n_train']} train / {card['data']['n_valid']} valid / {card['data']['n_test']} test segments ({card['data']['description']}); splits by source note.
- **Test accuracy** (held-out notes of the training SoundFonts): **{test['accuracy']:.3f}** (loss {test['loss']:.3f}, {test['n']} segments); {_extra_scores(test)}
- **Held-out SoundFont accuracy**: {held_text}
- **Best epoch**: {card['best_epoch']} of {card['epochs_run']}; training time {card['train_seconds']:.0f} s
- **Seed**: {card['seed']}
- **Parameters**: {card['n_parameters']}

Reproduce:

```
{card['command']}
```

## Per-family test accuracy

| family | accuracy |
|---|---|
{per_class}

## Hyper-parameters

| name | value |
|---|---|
{hp}

## Audio settings

```
{json.dumps(card['audio_settings'], indent=1)}
```

![confusion matrix](confusion.png)
"""


def export_model(result: TrainResult, path, *, store: FeatureStore, command: str, name: str = "model",
                 config: TrainConfig | None = None, heldout: FeatureStore | None = None) -> dict:
    """Write a model directory: ``model.keras``, ``settings.json``, ``card.json``, ``card.md``
    and ``confusion.png``.

    Parameters
    ----------
    result : TrainResult
    path : path-like
        Model directory (created).
    store : FeatureStore
        The training store (described in the card).
    command : str
        The exact command that reproduces the model.
    heldout : FeatureStore, optional
        A store rendered from a SoundFont left out of training; its accuracy goes in the card.

    Returns
    -------
    dict
        The model card.
    """
    path = Path(path)
    splits = store.index["split"].value_counts().to_dict()
    card = {
        "name": name,
        "builder": result.builder,
        "classes": result.classes,
        "hyperparameters": result.hp,
        "seed": config.seed if config else None,
        "train_config": config.to_dict() if config else None,
        "command": command,
        "audio_settings": result.settings.to_dict(),
        "data": {"store": str(store.path), "n_train": int(splits.get("train", 0)),
                 "n_valid": int(splits.get("valid", 0)), "n_test": int(splits.get("test", 0)),
                 "description": store.meta.get("description", ", ".join(
                     f"{k}={v}" for k, v in sorted(store.meta.items())
                     if k in ("preset", "sources", "soundfonts") and isinstance(v, (str, int, list))))},
        "test": {k: result.test_eval[k] for k in ("loss", "accuracy", "n", "per_class_accuracy", "confusion",
                                                   "note_accuracy", "n_notes", "min_audio_fraction",
                                                   "all_segments")},
        "best_epoch": result.best_epoch,
        "epochs_run": int(len(result.history)),
        "train_seconds": round(result.seconds, 1),
        "n_parameters": int(result.model.count_params()),
        "input": "log-mel dB, shape (batch, n_mels, frames, 1); any number of frames",
    }
    if heldout is not None:
        held = evaluate(result.model, heldout, settings=result.settings, classes=result.classes, split=None,
                        min_audio_fraction=config.min_audio_fraction if config else 0.0)
        card["heldout"] = {"store": str(heldout.path), **held}
    save_model_dir(_strip_optimizer(result.model), path, settings=result.settings, card=card)
    plot_confusion(card["test"]["confusion"], result.classes, path / "confusion.png",
                   title=f"{name}: test accuracy {card['test']['accuracy']:.3f}")
    write_text_atomic(path / "card.md", _card_markdown(card))
    write_json_atomic(path / "card.json", card)
    return card
