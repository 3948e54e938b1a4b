"""Build options, splits by note, and the augmentation plan."""

import pandas as pd
import pytest

from auditory_deepdream.dataset import (
    DatasetConfig,
    apply_plan,
    assign_splits,
    plan_augmentation,
)
from auditory_deepdream.errors import DatasetError

# train notes per family, each two segments long
SIZES = {"a": 400, "b": 380, "c": 190, "d": 60, "e": 20}


@pytest.fixture(scope="module")
def sized_notes(settings):
    return pd.DataFrame([{"family": f, "split": "train", "duration_samples": 2 * settings.segment_samples}
                         for f, n in SIZES.items() for _ in range(n)])


def test_config_refuses_bad_options():
    with pytest.raises(DatasetError, match="split_fractions"):
        DatasetConfig(split_fractions=(0.5, 0.2, 0.2))
    with pytest.raises(DatasetError, match="hop_seconds"):
        DatasetConfig(hop_clusters=5)
    with pytest.raises(DatasetError, match="on_unknown"):
        DatasetConfig(on_unknown="ignore")
    with pytest.raises(DatasetError, match="stretch_rate"):
        DatasetConfig(stretch_rate=0)
    with pytest.raises(DatasetError, match="at least 1"):
        DatasetConfig(jobs=0)


def test_splits_are_by_note_and_deterministic():
    notes = pd.DataFrame({"note_id": [f"n{i}" for i in range(4000)]})
    split = assign_splits(notes, fractions=(0.8, 0.1, 0.1), seed=3)
    shuffled = notes.sample(frac=1, random_state=0)
    assert assign_splits(shuffled, fractions=(0.8, 0.1, 0.1), seed=3).equals(split.loc[shuffled.index])
    # adding notes never moves existing ones
    more = pd.concat([notes, pd.DataFrame({"note_id": ["extra1", "extra2"]})], ignore_index=True)
    assert assign_splits(more, fractions=(0.8, 0.1, 0.1), seed=3)[:4000].equals(split)
    share = split.value_counts(normalize=True)
    assert abs(share["train"] - 0.8) < 0.03 and abs(share["test"] - 0.1) < 0.03
    assert not split.equals(assign_splits(notes, fractions=(0.8, 0.1, 0.1), seed=4))
    assert set(assign_splits(notes, fractions=(0.0, 0.0, 1.0))) == {"test"}


def test_plan_augmentation_stretches_small_families_and_clusters_hops(sized_notes, settings):
    plan = plan_augmentation(sized_notes, settings=settings, config=DatasetConfig())
    assert list(plan.notes) == list(SIZES.values())
    assert list(plan.stretch) == [False, False, True, True, True]  # under half of the largest
    assert list(plan.est_segments) == [2 * n for n in SIZES.values()]
    assert list(plan.est_after_stretch) == [800, 760, 3 * 380, 3 * 120, 3 * 40]  # + a 2x-long copy
    # clusters {c}, {a, b}, {d}, {e} from most to least populated get hops 1.0 ... 0.5 s
    assert plan.cluster.to_dict() == {"a": 1, "b": 1, "c": 0, "d": 2, "e": 3}
    assert plan.hop_seconds.to_dict() == {"a": 0.8, "b": 0.8, "c": 1.0, "d": 0.6, "e": 0.5}


def test_plan_counts_only_augmented_splits(sized_notes, settings):
    notes = pd.concat([sized_notes, sized_notes.assign(split="test")], ignore_index=True)
    plan = plan_augmentation(notes, settings=settings, config=DatasetConfig())
    assert list(plan.est_segments) == [2 * n for n in SIZES.values()]
    one_family = sized_notes[sized_notes.family == "a"]
    assert plan_augmentation(one_family, settings=settings).loc["a", "hop_seconds"] == 1.0  # one cluster


def test_apply_plan_gives_train_notes_their_family_hop_and_stretch(sized_notes, settings):
    config = DatasetConfig()
    plan = plan_augmentation(sized_notes, settings=settings, config=config)
    notes = pd.DataFrame({"family": ["a", "e", "e", "a"], "split": ["train", "train", "test", "valid"]})
    planned = apply_plan(notes, plan, settings=settings, config=config)
    assert planned.hop_seconds.tolist() == [0.8, 0.5, settings.segment_seconds, settings.segment_seconds]
    assert planned.stretch_rate.tolist() == [None, 0.5, None, None]
    assert "hop_seconds" not in notes  # the input is left alone
