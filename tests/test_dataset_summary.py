"""Counts per family and source, before and after augmentation, and their bar charts."""

import matplotlib
import numpy as np
import pandas as pd
import pytest
from dataset_fixtures import built_store

from auditory_deepdream.dataset import (
    distribution,
    plot_distribution,
    plot_summary,
    summarize,
)

matplotlib.use("Agg")

NOTES = pd.DataFrame({"family": ["string", "string", "string", "flute", "reed"],
                      "source": ["nsynth", "philharmonia", "philharmonia", "nsynth", "philharmonia"]})


@pytest.fixture
def index(settings):
    """A store index: one string note of 2.5 segments cut at half-segment hops and stretched, one
    flute note of 1 segment."""
    seg = settings.segment_samples
    string = [("none", i, 2.5 * seg) for i in range(4)] + [("stretch", i, 2.5 * seg) for i in range(9)]
    flute = [("none", 0, seg)]
    rows = [("string", *r) for r in string] + [("flute", *r) for r in flute]
    return pd.DataFrame(rows, columns=["family", "augmentation", "segment_index", "trimmed_samples"])


def _bar_heights(ax) -> np.ndarray:
    return np.array([p.get_height() for p in ax.patches])


def test_summarize_counts_per_family_and_source():
    table = summarize(NOTES)
    assert table.to_dict(orient="index") == {"flute": {"nsynth": 1, "philharmonia": 0, "total": 1},
                                             "reed": {"nsynth": 0, "philharmonia": 1, "total": 1},
                                             "string": {"nsynth": 1, "philharmonia": 2, "total": 3}}


def test_plot_summary_stacks_sources_per_family():
    ax = plot_summary(summarize(NOTES), title="Notes")
    # one bar per family and source, stacked: nsynth bars first, then philharmonia
    np.testing.assert_array_equal(_bar_heights(ax), [1, 0, 1, 0, 1, 2])
    bottoms = [p.get_y() for p in ax.patches]
    assert bottoms == [0, 0, 0, 1, 0, 1]
    assert ax.get_title() == "Notes" and [t.get_text() for t in ax.get_xticklabels()] == ["flute", "reed", "string"]


def test_distribution_before_and_after_augmentation(index, settings):
    dist = distribution(index, settings=settings)
    # before: non-overlapping cuts of the trimmed note (3 for 2.5 segments); after: what is stored
    assert dist.to_dict(orient="index") == {"flute": {"before": 1, "after": 1},
                                            "string": {"before": 3, "after": 13}}
    ax = plot_distribution(dist)
    np.testing.assert_array_equal(_bar_heights(ax), [1, 3, 1, 13])  # befores, then afters


def test_distribution_of_a_built_store(tmp_path_factory):
    store = built_store(tmp_path_factory.getbasetemp() / "dataset-trees")
    dist = distribution(store.index, settings=store.settings)
    assert dist["after"].to_dict() == store.index.groupby("family").size().to_dict()
    table = summarize(store.index)
    assert table.loc["string", "philharmonia"] == (store.index.note_id.str.startswith("philharmonia/cello")).sum()
    assert (table["total"] == store.index.groupby("family").size()).all()
