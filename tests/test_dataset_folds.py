"""Leave-one-SoundFont-out folds: a derived store whose test split is a source training never hears."""

import shutil

import numpy as np
import pandas as pd
import pytest

from auditory_deepdream.dataset import (
    DatasetConfig,
    RecordingAugmentation,
    build_dataset,
    leave_out,
    pip_soundfont,
    render_soundfont,
    sample_folder_rows,
    soundfont_fold,
    soundfont_position,
    without_rows,
)
from auditory_deepdream.dataset.soundfont import RenderConfig
from auditory_deepdream.errors import DatasetError
from auditory_deepdream.settings import AudioSettings

SMALL = AudioSettings(sample_rate=22_050, segment_seconds=0.5, n_fft=1024, hop_length=256, win_length=1024,
                      n_mels=32, fmin=30.0)
RENDER = RenderConfig(sample_rate=22_050, held_seconds=0.5, release_seconds=0.25, velocities=(100,),
                      programs=(40, 73), max_pitches=2, jobs=1)
# recording copies give the left-out SoundFont training rows that are not plain segments
BUILD = DatasetConfig(split_fractions=(0.5, 0.25, 0.25), hop_seconds=(0.5, 0.4, 0.3, 0.25), notes_per_chunk=4,
                      jobs=1, recording=RecordingAugmentation(copies=1))


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """Two positions of TimGM6mb (instruments 0-127 and 128-255): 2 programs x 2 pitches each."""
    base = tmp_path_factory.mktemp("folds")
    render_soundfont(base / "render", soundfonts=[pip_soundfont(), pip_soundfont()], config=RENDER, progress=False)
    return build_dataset(base / "store", soundfont=[base / "render"], settings=SMALL, config=BUILD, progress=False)


@pytest.fixture(scope="module")
def fold(store, tmp_path_factory):
    held = (soundfont_position(store.index) == 1).to_numpy()
    return leave_out(store, tmp_path_factory.mktemp("fold") / "sf1", held_out=held, description="TimGM6mb #1")


def test_positions_come_from_the_instrument_numbers(store):
    position = soundfont_position(store.index)
    assert set(position) == {0, 1}
    number = store.index["instrument"].str.rsplit("_", n=1).str[-1].astype(int)
    assert (position == (number >= 128)).all()
    with pytest.raises(DatasetError, match="do not end in a number"):
        soundfont_position(pd.DataFrame({"instrument": ["string_acoustic_040", "cello"]}))
    # rows from other sources (a sample folder) have no position and are never left out
    mixed = pd.DataFrame({"source": ["soundfont", "samples", "soundfont"],
                          "instrument": ["string_acoustic_169", "samples_audio", "piano_acoustic_000"]})
    assert soundfont_position(mixed).tolist() == [1, -1, 0]


def test_the_left_out_soundfont_is_the_test_split_and_nothing_else(store, fold):
    orig = store.index.assign(position=soundfont_position(store.index))
    new = fold.index.assign(position=soundfont_position(fold.index))
    # the fixture's split draw gives both positions several splits and position 1 non-plain rows
    assert (orig["position"] == 1).any() and ((orig["position"] == 0) & (orig["split"] == "test")).any()
    assert ((orig["position"] == 1) & (orig["augmentation"] != "none")).any()
    held_plain = orig[(orig["position"] == 1) & (orig["augmentation"] == "none")]
    assert set(new.loc[new["split"] == "test", "segment_id"]) == set(held_plain["segment_id"])
    assert set(new.loc[new["position"] == 1, "split"]) == {"test"}
    assert set(new["segment_id"]) == set(orig.loc[(orig["position"] == 0) | (orig["augmentation"] == "none"),
                                                 "segment_id"])
    kept = orig[orig["position"] == 0].set_index("segment_id")["split"]
    moved = new[new["position"] == 0].set_index("segment_id")["split"].loc[kept.index]
    assert (moved[kept == "test"] == "valid").all()
    assert (moved[kept != "test"] == kept[kept != "test"]).all()
    assert set(new["split"]) == {"train", "valid", "test"}
    assert list(new["row"]) == list(range(len(fold)))
    assert fold.meta["left_out"] == "TimGM6mb #1" and fold.meta["derived_from"] == str(store.path)
    assert fold.meta["classes"] == store.meta["classes"] and fold.settings == store.settings


def test_derived_rows_load_the_original_features_from_linked_shards(store, fold):
    assert (fold.path / "shards").is_symlink()
    assert (fold.path / "shards").resolve() == (store.path / "shards").resolve()
    assert not any(p.suffix == ".npy" for p in fold.path.iterdir())
    original_row = store.index.set_index("segment_id")["row"].loc[fold.index["segment_id"]].to_numpy()
    np.testing.assert_array_equal(fold.load(fold.index["row"]), store.load(original_row))


def test_existing_folders_and_bad_masks_are_dataset_errors(store, fold):
    held = (soundfont_position(store.index) == 1).to_numpy()
    with pytest.raises(DatasetError, match="exists"):
        leave_out(store, fold.path, held_out=held, description="again")
    again = leave_out(store, fold.path, held_out=lambda index: soundfont_position(index) == 1,
                      description="again", overwrite=True)
    assert again.meta["left_out"] == "again" and again.index.equals(fold.index)
    out = fold.path.parent / "bad"
    for mask in (held[:-1], np.zeros(len(store), bool), np.ones(len(store), bool)):
        with pytest.raises(DatasetError, match="held_out"):
            leave_out(store, out, held_out=mask, description="bad")
    assert not out.exists()
    assert [p.name for p in fold.path.parent.iterdir()] == ["sf1"]  # no temporary folder left behind


def test_soundfont_fold_derives_the_fold_once_beside_the_store(store):
    first = soundfont_fold(store, 1)
    assert first.path == store.path.with_name(f"{store.path.name}-without-{first.meta['left_out'].rsplit('.', 1)[0]}")
    held = (soundfont_position(store.index) == 1) & (store.index["augmentation"] == "none")
    assert (first.index["split"] == "test").sum() == held.sum()
    (first.path / "marker").write_text("kept")
    again = soundfont_fold(store, 1)  # opened, not rebuilt
    assert again.path == first.path and (again.path / "marker").is_file()


def test_without_rows_drops_a_source_from_every_split_of_a_fold(fold, tmp_path):
    program = fold.index["instrument"].str.rsplit("_", n=1).str[-1].astype(int) % 128
    drop = (program == 73).to_numpy() & (fold.index["split"] != "test").to_numpy()
    smaller = without_rows(fold, tmp_path / "no-flute", drop=drop, description="flute of position 0")
    kept = fold.index[~drop]
    assert list(smaller.index["segment_id"]) == list(kept["segment_id"])
    assert list(smaller.index["split"]) == list(kept["split"])  # splits untouched, test rows the same
    assert list(smaller.index["row"]) == list(range(len(kept)))
    assert smaller.meta["without"] == "flute of position 0" and smaller.meta["left_out"] == fold.meta["left_out"]
    # a store derived from a derived store links the real shards, not the fold's link
    assert (smaller.path / "shards").readlink() == (fold.path / "shards").resolve()
    np.testing.assert_array_equal(smaller.load(smaller.index["row"]), fold.load(kept["row"]))
    with pytest.raises(DatasetError, match="exists"):
        without_rows(fold, smaller.path, drop=drop, description="again")
    with pytest.raises(DatasetError, match="drop"):
        without_rows(fold, tmp_path / "bad", drop=np.zeros(len(fold), bool), description="nothing")
    assert not (tmp_path / "bad").exists()


def test_soundfont_fold_opens_the_fold_another_process_derived_first(store, monkeypatch):
    from auditory_deepdream.dataset import folds

    real = folds.leave_out

    def racing(store, fold_dir, **kwargs):  # the other process's os.replace lands first
        real(store, fold_dir, **kwargs)
        raise OSError(39, "Directory not empty")

    first = soundfont_fold(store, 0)
    shutil.rmtree(first.path)
    monkeypatch.setattr(folds, "leave_out", racing)
    again = soundfont_fold(store, 0)
    assert again.path == first.path and again.index.equals(first.index)
    shutil.rmtree(first.path)
    monkeypatch.setattr(folds, "leave_out", lambda *a, **k: (_ for _ in ()).throw(OSError(28, "No space left")))
    with pytest.raises(OSError, match="No space"):
        soundfont_fold(store, 0)


def test_sample_folder_rows_finds_a_folders_rows_by_its_name_wherever_it_lies():
    index = pd.DataFrame({"instrument": ["samples_cello", "samples_flute", "string_acoustic_040", "samples_cello"]})
    assert sample_folder_rows(index, ["/data/tonejs/cello"]).tolist() == [True, False, False, True]
    assert sample_folder_rows(index, ["cello", "other/flute"]).tolist() == [True, True, False, True]
    assert not sample_folder_rows(index, ["viola"]).any()
