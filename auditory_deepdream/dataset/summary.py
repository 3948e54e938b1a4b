"""Summaries of notes tables and stores: counts per family, before and after augmentation."""

from __future__ import annotations

import pandas as pd

from ..audio import n_segments
from ..settings import AudioSettings

__all__ = ["distribution", "plot_distribution", "plot_summary", "summarize"]


def summarize(frame: pd.DataFrame) -> pd.DataFrame:
    """Counts per family (rows) per source (columns) plus a ``total`` column.

    Parameters
    ----------
    frame : pd.DataFrame
        A notes table or a store index (needs ``family`` and ``source``).

    Returns
    -------
    summary : pd.DataFrame
        Indexed by family; one column per source, then ``total``.
    """
    table = pd.crosstab(frame["family"], frame["source"])
    table["total"] = table.sum(axis=1)
    return table


def plot_summary(summary: pd.DataFrame, *, ax=None, title: str = "Samples per family"):
    """Stacked bar chart of :func:`summarize` output, one bar per family.

    Returns
    -------
    ax : matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt  # imported here: pyplot takes a second to load, and only plots need it

    ax = ax or plt.subplots(figsize=(8, 4))[1]
    summary.drop(columns="total", errors="ignore").plot.bar(stacked=True, ax=ax)
    ax.set_title(title)
    ax.set_ylabel("count")
    return ax


def distribution(index: pd.DataFrame, *, settings: AudioSettings) -> pd.DataFrame:
    """Segments per family before and after augmentation (from a store index).

    Parameters
    ----------
    index : pd.DataFrame
        A store index (``family``, ``augmentation``, ``segment_index``, ``trimmed_samples``).
    settings : AudioSettings
        The store's settings (segment length).

    Returns
    -------
    dist : pd.DataFrame
        Indexed by family: ``before`` counts what non-overlapping cuts of the trimmed,
        unstretched notes would give; ``after`` counts the segments actually stored.
    """
    seg = settings.segment_samples
    firsts = index[(index["augmentation"] == "none") & (index["segment_index"] == 0)]
    before = firsts.assign(n=[n_segments(int(t), segment_samples=seg, hop_samples=seg)
                              for t in firsts["trimmed_samples"]]).groupby("family")["n"].sum()
    after = index.groupby("family").size()
    return pd.DataFrame({"before": before, "after": after}).fillna(0).astype(int)


def plot_distribution(dist: pd.DataFrame, *, ax=None):
    """Bar chart of :func:`distribution`: two bars (before, after) per family.

    Returns
    -------
    ax : matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt  # imported here: pyplot takes a second to load, and only plots need it

    ax = ax or plt.subplots(figsize=(8, 4))[1]
    dist[["before", "after"]].plot.bar(ax=ax)
    ax.set_title("Segments per family before and after augmentation")
    ax.set_ylabel("segments")
    return ax
