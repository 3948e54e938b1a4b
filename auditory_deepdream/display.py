"""Pictures of dreams: before/after log-mel spectrograms with matplotlib.

Functions return a :class:`matplotlib.figure.Figure` built without pyplot's global
state, so they work headless (Agg) in scripts, tests and notebooks alike.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from .atomic import atomic_path
from .settings import AudioSettings

__all__ = ["plot_before_after", "save_before_after", "figure_png"]


def plot_before_after(mel_before, mel_after, *, settings: AudioSettings, title: str | None = None,
                      labels=("before", "after")):
    """Two log-mel spectrograms side by side, on one colour scale, plus their difference.

    Parameters
    ----------
    mel_before, mel_after : np.ndarray [shape=(n_mels, n_frames)]
        Log-mel dB (a leading batch axis of one is dropped).
    settings : AudioSettings
        Gives the time axis in seconds.
    title : str, optional
    labels : tuple of str

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    before = np.asarray(mel_before, dtype=np.float32).reshape(-1, *np.shape(mel_before)[-2:])[0]
    after = np.asarray(mel_after, dtype=np.float32).reshape(-1, *np.shape(mel_after)[-2:])[0]
    seconds = before.shape[-1] * settings.hop_length / settings.sample_rate
    extent = (0.0, seconds, 0, before.shape[0])
    top = float(max(before.max(), after.max()))
    fig = Figure(figsize=(12, 3.6), layout="constrained")
    axes = fig.subplots(1, 3, sharey=True)
    for ax, mel, label in zip(axes, (before, after), labels):
        im = ax.imshow(mel, origin="lower", aspect="auto", extent=extent, cmap="magma",
                       vmin=top - 80.0, vmax=top)
        ax.set_title(label)
        ax.set_xlabel("time (s)")
    fig.colorbar(im, ax=axes[:2], label="dB", shrink=0.9)
    diff = after - before
    lim = float(max(np.max(np.abs(diff)), 1e-3))
    im = axes[2].imshow(diff, origin="lower", aspect="auto", extent=extent, cmap="coolwarm", vmin=-lim, vmax=lim)
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
                      title: str | None = None, dpi: int = 100) -> Path:
    """Write :func:`plot_before_after` as a PNG atomically and return the path."""
    with atomic_path(path, suffix=".png") as tmp:
        plot_before_after(mel_before, mel_after, settings=settings, title=title).savefig(tmp, dpi=dpi)
    return Path(path)
