"""Pictures of dreams and of what made them, with matplotlib.

``plot_before_after``  log-mel spectrograms before and after a dream, and their difference
``plot_objective``     the objective a dream climbed, step by step
``plot_waveform_trim`` a waveform with the span that trimming keeps shaded
``plot_history``       validation curves of training runs (Keras per-epoch history)
``plot_survival``      how much of the activation gain survives, per model and sound path
``plot_speeds``        throughput of several ways of doing one job, on a log scale

Functions return a :class:`matplotlib.figure.Figure` built without pyplot's global
state, so they work headless (Agg) in scripts, tests and notebooks alike (a notebook
shows a returned figure; ``display(fig)`` shows one inside a loop).
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from .atomic import atomic_path
from .errors import AudioInputError, AuditoryDeepDreamError, DreamError, ModelError
from .settings import AudioSettings

__all__ = [
    "figure_png",
    "plot_before_after",
    "plot_family_accuracy",
    "plot_history",
    "plot_objective",
    "plot_speeds",
    "plot_survival",
    "plot_waveform_trim",
    "save_before_after",
]


def plot_before_after(mel_before, mel_after, *, settings: AudioSettings, title: str | None = None,
                      labels=("before", "after"), time_range: tuple[float, float] | None = None):
    """Two log-mel spectrograms side by side, on one colour scale, plus their difference.

    The difference's colour scale fits the change: symmetric about 0 dB, out to the 99th
    percentile of its size (a few bins of silence turned into sound would otherwise set it).

    Parameters
    ----------
    mel_before, mel_after : np.ndarray [shape=(n_mels, n_frames)]
        Log-mel dB (a leading batch axis of one is dropped).
    settings : AudioSettings
        Gives the time axis in seconds.
    title : str, optional
    labels : tuple of str
    time_range : (float, float), optional
        The seconds the frames span, e.g. an excerpt's or a pooled long file's
        (default: from 0, one hop a frame).

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    before = np.asarray(mel_before, dtype=np.float32).reshape(-1, *np.shape(mel_before)[-2:])[0]
    after = np.asarray(mel_after, dtype=np.float32).reshape(-1, *np.shape(mel_after)[-2:])[0]
    seconds = before.shape[-1] * settings.hop_length / settings.sample_rate
    extent = (*(time_range or (0.0, seconds)), 0, before.shape[0])
    top = float(max(before.max(), after.max()))
    fig = Figure(figsize=(12, 3.6), layout="constrained")
    axes = fig.subplots(1, 3, sharey=True)
    for ax, mel, label in zip(axes, (before, after), labels):
        # nearest: one flat block per bin reads as well and makes a PNG under half the size
        im = ax.imshow(mel, origin="lower", aspect="auto", extent=extent, cmap="magma", interpolation="nearest",
                       vmin=top - 80.0, vmax=top)
        ax.set_title(label)
        ax.set_xlabel("time (s)")
    fig.colorbar(im, ax=axes[:2], label="dB", shrink=0.9)
    diff = after - before
    lim = float(max(np.percentile(np.abs(diff), 99), 0.1))
    im = axes[2].imshow(diff, origin="lower", aspect="auto", extent=extent, cmap="coolwarm", vmin=-lim, vmax=lim,
                        interpolation="nearest")
    axes[2].set_title(f"{labels[1]} − {labels[0]}")
    axes[2].set_xlabel("time (s)")
    fig.colorbar(im, ax=axes[2], label="dB change", shrink=0.9)
    axes[0].set_ylabel("mel band")
    if title:
        fig.suptitle(title)
    return fig


def figure_png(fig, *, dpi: int = 100) -> bytes:
    """PNG bytes of a figure (for ipywidgets.Image)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def save_before_after(path: str | os.PathLike, mel_before, mel_after, *, settings: AudioSettings,
                      title: str | None = None, dpi: int = 100, time_range: tuple[float, float] | None = None) -> Path:
    """Write :func:`plot_before_after` as a PNG atomically and return the path."""
    with atomic_path(path, suffix=".png") as tmp:
        plot_before_after(mel_before, mel_after, settings=settings, title=title,
                          time_range=time_range).savefig(tmp, dpi=dpi)
    return Path(path)


# ============================================================================ training
_METRIC_TITLES = {"loss": "training loss", "accuracy": "training accuracy", "val_loss": "validation loss",
                  "val_accuracy": "validation accuracy"}


def plot_history(histories, *, metrics=("val_loss", "val_accuracy"), title: str | None = None):
    """Per-epoch curves of training runs: one panel per metric, one line per run.

    Parameters
    ----------
    histories : dict of str to (pd.DataFrame or path), or iterable of paths
        Run name → its Keras history (as written by the ``CSVLogger``: columns
        ``epoch``, ``loss``, ``accuracy``, ``val_loss``, ``val_accuracy``, …, one row per
        epoch), given as a DataFrame or the path of its CSV. A plain list of CSV paths
        names each run by its file stem.
    metrics : sequence of str
        The columns to draw, one panel each. The x axis is the ``epoch`` column (the
        row number where there is none).
    title : str, optional

    Returns
    -------
    fig : matplotlib.figure.Figure
        ``len(metrics)`` axes, each with one line per run and a legend.

    Raises
    ------
    ModelError
        No runs, no metrics, or a run without one of the metric columns.
    """
    import pandas as pd

    if isinstance(histories, (str, os.PathLike)):
        histories = [histories]
    runs = dict(histories) if isinstance(histories, Mapping) else {Path(p).stem: p for p in histories}
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    if not runs or not metrics:
        raise ModelError("plot_history needs at least one run and one metric; pass {name: history_csv} "
                         "and metrics=('val_loss', 'val_accuracy').")
    frames = {name: (h if isinstance(h, pd.DataFrame) else pd.read_csv(h)) for name, h in runs.items()}
    for name, frame in frames.items():
        missing = [m for m in metrics if m not in frame.columns]
        if missing:
            raise ModelError(f"Run {name!r} has no {', '.join(map(repr, missing))} column; it has "
                             f"{list(frame.columns)}. Pick metrics= from those (validation metrics exist "
                             "only for runs trained with validation data).")
    fig = Figure(figsize=(5.5 * len(metrics), 3.5), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(metrics)))
    for ax, metric in zip(axes, metrics):
        for name, frame in frames.items():
            epochs = frame["epoch"] if "epoch" in frame.columns else np.arange(len(frame))
            ax.plot(epochs, frame[metric], marker="o", label=name)
        ax.set_title(_METRIC_TITLES.get(metric, metric))
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    return fig


# ============================================================================ dreams
def plot_survival(table, *, threshold: float | None = 0.9, order=None, title: str | None = None):
    """Grouped bars of the activation gain that survives sonification, per model and path.

    Parameters
    ----------
    table : pd.DataFrame or pd.Series
        Either long: a (model, path) MultiIndex and a ``survival`` column (or a Series
        of survival values with that index); or wide: one row per model, one column
        per sound path.
    threshold : float or None
        Draw a dashed horizontal line here (``None``: no line).
    order : sequence of str, optional
        Paths to draw, in this order (default: all, in table order).
    title : str, optional

    Returns
    -------
    fig : matplotlib.figure.Figure
        One axes; one bar group (container, legend entry) per path, one bar per model.

    Raises
    ------
    DreamError
        No ``survival`` column in a long table, a path in ``order`` that the table
        lacks, or nothing to draw.
    """
    import pandas as pd

    if isinstance(table, pd.Series):
        table = table.to_frame("survival")
    if isinstance(table.index, pd.MultiIndex):
        if "survival" not in table.columns:
            raise DreamError(f"The table has no 'survival' column (it has {list(table.columns)}); pass the "
                             "per-(model, path) results with their survival values.")
        level = "path" if "path" in table.index.names else table.index.nlevels - 1
        wide = table["survival"].unstack(level)
    else:
        wide = table.drop(columns=["layer"], errors="ignore")
    if order is not None:
        missing = [p for p in order if p not in wide.columns]
        if missing:
            raise DreamError(f"No survival values for path(s) {missing}; the table has {list(wide.columns)}.")
        wide = wide[list(order)]
    wide = wide.apply(pd.to_numeric, errors="coerce")
    if wide.empty or wide.shape[1] == 0:
        raise DreamError("The survival table is empty; nothing to plot.")
    fig = Figure(figsize=(max(5.0, 1.4 * len(wide) + 2.5), 3.4), layout="constrained")
    ax = fig.subplots()
    x = np.arange(len(wide))
    width = 0.8 / wide.shape[1]
    for j, path in enumerate(wide.columns):
        ax.bar(x + (j - (wide.shape[1] - 1) / 2) * width, wide[path].to_numpy(dtype=float), width, label=str(path))
    ax.set_xticks(x, [str(m) for m in wide.index])
    if threshold is not None:
        ax.axhline(float(threshold), color="k", lw=0.8, ls="--")
    top = np.nanmax([1.0, float(threshold or 0.0), *wide.to_numpy(dtype=float).ravel()])
    ax.set_ylim(top=1.05 * top)
    ax.set_ylabel("activation gain that survives")
    ax.legend(title="path", fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    if title:
        ax.set_title(title)
    return fig


def plot_objective(history, *, ylabel: str = "objective", title: str | None = None):
    """The objective a dream climbed, one point per gradient step.

    Parameters
    ----------
    history : np.ndarray [shape=(steps,) or (steps, batch)]
        ``DreamResult.history``; a batch is averaged.
    ylabel : str
    title : str, optional

    Returns
    -------
    fig : matplotlib.figure.Figure
        One axes with one line (x: step 0 … steps − 1, the value before each step).

    Raises
    ------
    DreamError
        No steps, or not 1-D / 2-D.
    """
    h = np.asarray(history, dtype=float)
    if h.ndim not in (1, 2) or h.shape[0] == 0 or h.size == 0:
        raise DreamError(f"history has shape {h.shape}; expected (steps,) or (steps, batch) with at least "
                         "one step (a dream with steps=0 has nothing to plot).")
    values = h.mean(axis=1) if h.ndim == 2 else h
    fig = Figure(figsize=(6, 3), layout="constrained")
    ax = fig.subplots()
    ax.plot(np.arange(len(values)), values, marker=".")
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    return fig


# ============================================================================ audio
def plot_waveform_trim(y, kept, *, sample_rate: int, title: str | None = None):
    """A waveform with the span that trimming keeps shaded.

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,)]
        The untrimmed mono waveform.
    kept : tuple of float
        ``(start_s, end_s)``, the kept span in seconds from the start of ``y``.
    sample_rate : int
    title : str, optional

    Returns
    -------
    fig : matplotlib.figure.Figure
        One axes: the waveform line, a shaded span from ``start_s`` to ``end_s``, a legend.

    Raises
    ------
    AudioInputError
        ``y`` is not a non-empty finite mono waveform, ``sample_rate`` is not positive,
        or ``kept`` is not an increasing span inside the clip.
    """
    from .audio import check_audio

    y = check_audio(y, name="y", allow_silent=True)
    if not sample_rate or sample_rate <= 0:
        raise AudioInputError(f"sample_rate must be positive, not {sample_rate!r}.")
    duration = len(y) / sample_rate
    try:
        start, end = (float(v) for v in kept)
    except (TypeError, ValueError):
        raise AudioInputError(f"kept must be (start_s, end_s), not {kept!r}.") from None
    if not (0.0 <= start < end <= duration + 1.0 / sample_rate):
        raise AudioInputError(f"kept={kept!r} is not a span inside the {duration:.3f} s clip; pass "
                              "(start_s, end_s) with 0 <= start_s < end_s <= the clip's length.")
    fig = Figure(figsize=(10, 2.5), layout="constrained")
    ax = fig.subplots()
    ax.plot(np.arange(len(y)) / sample_rate, y, lw=0.5, label="waveform")
    ax.axvspan(start, end, color="orange", alpha=0.25, label=f"kept by trim ({end - start:.2f} s)")
    ax.set_xlim(0.0, duration)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("amplitude")
    ax.legend(loc="upper right", fontsize="small")
    if title:
        ax.set_title(title)
    return fig


# ============================================================================ benchmarks
def plot_speeds(speeds, *, unit: str = "samples / s", title: str | None = None):
    """Horizontal bars of throughputs on a log scale, first entry on top.

    Parameters
    ----------
    speeds : dict of str to float
        Name → speed (positive), e.g. ``{"librosa": 2.1e6, "soundfile": 3.4e7}``.
    unit : str
        The x axis label (with "(log scale)" added).
    title : str, optional

    Returns
    -------
    fig : matplotlib.figure.Figure
        One axes, one bar per entry, each labelled with its value.

    Raises
    ------
    AuditoryDeepDreamError
        No entries, or a speed that is not a positive finite number (a log scale
        cannot show it).
    """
    if not isinstance(speeds, Mapping) or not speeds:
        raise AuditoryDeepDreamError("plot_speeds takes a non-empty dict {name: speed}.")
    names = [str(k) for k in speeds]
    try:
        values = np.array([float(v) for v in speeds.values()])
    except (TypeError, ValueError):
        raise AuditoryDeepDreamError(f"Speeds must be numbers; got {dict(speeds)!r}.") from None
    bad = [n for n, v in zip(names, values) if not (np.isfinite(v) and v > 0)]
    if bad:
        raise AuditoryDeepDreamError(f"Speeds of {bad} are not positive finite numbers; a log scale cannot "
                                     "show them. Drop those entries or fix their measurement.")
    fig = Figure(figsize=(7, 0.9 + 0.4 * len(names)), layout="constrained")
    ax = fig.subplots()
    bars = ax.barh(names, values)
    ax.bar_label(bars, labels=[_si(v) for v in values], padding=3, fontsize="small")
    ax.set_xscale("log")
    ax.set_xlim(values.min() / 2, values.max() * 4)  # room for the labels
    ax.invert_yaxis()
    ax.set_xlabel(f"{unit} (log scale)")
    if title:
        ax.set_title(title)
    return fig


def plot_family_accuracy(scores, *, threshold: float | None = 0.8, title: str | None = None):
    """Grouped bars of per-family accuracy, one group per family and one bar per score set.

    Parameters
    ----------
    scores : dict of str to dict of str to float
        Score-set name → ``{family: accuracy}`` (e.g. a card's test and held-out
        ``per_class_note_accuracy``). Families missing from a set get no bar.
    threshold : float, optional
        Draw a dashed line at this accuracy (e.g. a target).
    title : str, optional

    Returns
    -------
    fig : matplotlib.figure.Figure

    Raises
    ------
    AuditoryDeepDreamError
        No score sets, or an accuracy outside [0, 1].
    """
    if not isinstance(scores, Mapping) or not scores or not all(isinstance(v, Mapping) for v in scores.values()):
        raise AuditoryDeepDreamError("plot_family_accuracy takes {set name: {family: accuracy}}.")
    families = list(dict.fromkeys(f for per in scores.values() for f in per))
    bad = {name: f for name, per in scores.items() for f, v in per.items() if not 0.0 <= float(v) <= 1.0}
    if bad or not families:
        raise AuditoryDeepDreamError(f"Accuracies must lie in [0, 1]; check {bad or 'the empty sets'}.")
    fig = Figure(figsize=(max(6.0, 0.7 * len(families) + 2), 3.4), layout="constrained")
    ax = fig.subplots()
    width = 0.8 / len(scores)
    x = np.arange(len(families))
    for k, (name, per) in enumerate(scores.items()):
        values = [float(per.get(f, np.nan)) for f in families]
        ax.bar(x + (k - (len(scores) - 1) / 2) * width, values, width, label=str(name))
    if threshold is not None:
        ax.axhline(threshold, color="0.3", linestyle="--", linewidth=1, label=f"{threshold:g}")
    ax.set_xticks(x, families, rotation=30, ha="right")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("accuracy")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")  # beside the bars, never on them
    if title:
        ax.set_title(title)
    return fig


def _si(value: float) -> str:
    """``2.1e6`` → ``"2.1 M"``: a short label for a bar."""
    for scale, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= scale:
            return f"{value / scale:.3g} {prefix}"
    return f"{value:.3g}"
