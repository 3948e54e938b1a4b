"""Scoring a model on a store: segments, note votes, every segment, per family, confusion."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pandas as pd

from ..atomic import atomic_path
from ..classify import note_log_probabilities
from ..dataset import FeatureStore
from ..errors import ModelError
from ..generator import InstrumentSequence, build_index
from ..settings import AudioSettings

__all__ = ["evaluate", "note_votes", "plot_confusion", "predict_rows"]


def note_votes(probs: np.ndarray, note_ids: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Classify whole notes: a note's segments vote by summed log-probability.

    The vote is :func:`auditory_deepdream.classify.note_log_probabilities`, the one
    :func:`auditory_deepdream.classify.classify` casts for a single clip.

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
    votes = note_log_probabilities(probs, note_ids)
    note_truth = pd.Series(truth).groupby(note_ids).first().loc[votes.index]
    return votes.to_numpy().argmax(axis=1), note_truth.to_numpy()


def predict_rows(model: keras.Model, store: FeatureStore, index: pd.DataFrame, *, batch_size: int = 128) -> np.ndarray:
    """The model's class probabilities for every row of ``index``, in order, in batches.

    Parameters
    ----------
    model : keras.Model
        Output ``(batch, n_classes)`` probabilities.
    store : FeatureStore
        The store ``index`` was built from.
    index : pd.DataFrame
        Rows to score, as :func:`~auditory_deepdream.generator.build_index` returns them.

    Returns
    -------
    probs : np.ndarray [shape=(len(index), n_classes)]
    """
    seq = InstrumentSequence(store, index, batch_size=batch_size, shuffle=False)
    return np.concatenate([model.predict_on_batch(seq[i][0]) for i in range(len(seq))])


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
        note), ``n_notes``, ``per_class_note_accuracy`` (family -> note-vote accuracy),
        ``min_audio_fraction`` and ``all_segments`` (``accuracy`` and ``n`` over every
        segment, padding-dominated tails included).
    """
    settings.check_compatible(store.settings, mine="model", theirs="dataset")
    whole = store.index if split is None else store.index[store.index["split"] == split]
    index = build_index(store, split=split, classes=classes)
    probs_all = predict_rows(model, store, index, batch_size=batch_size)
    truth_all = index["family_code"].to_numpy()
    all_segments = {"accuracy": float(np.mean(probs_all.argmax(axis=1) == truth_all)), "n": int(len(truth_all))}
    keep = index["audio_fraction"].to_numpy() >= min_audio_fraction
    if not keep.any():
        raise ModelError(f"No segments hold at least {min_audio_fraction:.0%} real audio; lower min_audio_fraction.")
    index, probs, truth = index[keep], probs_all[keep], truth_all[keep]
    pred = probs.argmax(axis=1)
    note_pred, note_truth = note_votes(probs, index["note_id"].to_numpy(), truth)
    n = len(classes)
    confusion = np.zeros((n, n), dtype=np.int64)
    np.add.at(confusion, (truth, pred), 1)
    present = confusion.sum(axis=1) > 0
    return {
        "loss": float(-np.mean(np.log(np.clip(probs[np.arange(len(truth)), truth], 1e-7, 1.0)))),
        "accuracy": float(np.mean(pred == truth)),
        "n": int(len(truth)),
        "skipped": int(len(whole) - len(truth_all)),
        "confusion": confusion.tolist(),
        "per_class_accuracy": {classes[i]: float(confusion[i, i] / confusion[i].sum())
                               for i in range(n) if present[i]},
        "note_accuracy": float(np.mean(note_pred == note_truth)),
        "n_notes": int(len(note_truth)),
        "per_class_note_accuracy": {classes[i]: float(np.mean(note_pred[note_truth == i] == i))
                                    for i in range(n) if np.any(note_truth == i)},
        "min_audio_fraction": float(min_audio_fraction),
        "all_segments": all_segments,
    }


def plot_confusion(confusion, classes: list[str], path, *, title: str = "") -> Path:
    """Save a row-normalised confusion matrix (rows = true family) as a PNG, atomically.

    Parameters
    ----------
    confusion : array-like [shape=(n_classes, n_classes)]
        Counts, rows = true family, columns = predicted.
    classes : list of str
    path : path-like
        The PNG to write.
    """
    from matplotlib.figure import Figure

    counts = np.asarray(confusion, dtype=np.float64)
    norm = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    fig = Figure(figsize=(1.0 + 0.6 * len(classes), 0.8 + 0.55 * len(classes)), dpi=100)
    ax = fig.subplots()
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
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp)
    return Path(path)
