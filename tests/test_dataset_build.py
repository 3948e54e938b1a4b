"""Store builds from real-layout trees: contents, augmentation, resumption, the CLI, the default preset."""

import logging
import re
import shutil
import threading
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from dataset_fixtures import CONFIG, built_store, source_trees, write_sample_folder

from auditory_deepdream import cli
from auditory_deepdream.atomic import atomic_path
from auditory_deepdream.audio import encode, load_audio, n_segments
from auditory_deepdream.dataset import (
    PITCH_CLASSES,
    RENDER_PRESETS,
    STORE_DTYPE,
    FeatureStore,
    StoreWriter,
    build_dataset,
    default_render_config,
    gm_programs,
    kept_programs,
    process_note,
)
from auditory_deepdream.errors import ClusterError, DatasetError

INDEX_COLUMNS = ["row", "segment_id", "source", "source_file", "note_id", "family", "family_index", "label",
                 "instrument_source", "instrument", "pitch", "pitch_class", "velocity", "split",
                 "augmentation", "segment_index", "hop_seconds", "trimmed_samples", "effects", "onehot_flute",
                 "onehot_guitar", "onehot_piano", "onehot_reed", "onehot_string", "shard", "shard_row"]


@pytest.fixture(scope="module")
def trees(tmp_path_factory):
    return source_trees(tmp_path_factory.getbasetemp() / "dataset-trees" / "sources")


@pytest.fixture(scope="module")
def store(trees, tmp_path_factory):
    return built_store(tmp_path_factory.getbasetemp() / "dataset-trees")


def test_store_index_and_features(store, trees, settings):
    idx = store.index
    assert store.classes == ["flute", "guitar", "piano", "reed", "string"]
    assert store.settings == settings
    assert list(idx.columns) == INDEX_COLUMNS
    assert idx.segment_id.is_unique and list(idx.row) == list(range(len(store)))
    assert set(idx.source) == {"nsynth", "philharmonia"}
    assert not set(idx.label) & {"mallet", "banjo"} and "keyboard_002" not in " ".join(idx.instrument)
    assert (idx.pitch_class == [PITCH_CLASSES[p % 12] for p in idx.pitch]).all()
    onehot = idx[[f"onehot_{c}" for c in store.classes]].to_numpy()
    assert (onehot.sum(1) == 1).all() and (onehot.argmax(1) == idx.family_index).all()
    assert (np.asarray(store.classes)[idx.family_index] == idx.family).all()
    # a note's stored rows are its segments' log-mels, in float16
    rows = idx[idx.note_id == "philharmonia/cello_C3_1_forte_normal"]
    stretch = 0.5 if (rows.augmentation == "stretch").any() else None
    y = load_audio(trees[1] / rows.source_file.iloc[0], settings=settings)
    parts, n_trim = process_note(y, settings=settings, hop_seconds=rows.hop_seconds.iloc[0], stretch_rate=stretch)
    expected = np.concatenate([encode(segs, settings=settings) for segs in parts.values()])
    assert (rows.trimmed_samples == n_trim).all()
    np.testing.assert_array_equal(store.load(rows.row), expected.astype(STORE_DTYPE).astype(np.float32))


def test_no_note_in_two_splits_and_augmentation_counts(store, settings):
    idx = store.index
    assert (idx.groupby("note_id").split.nunique() == 1).all()
    plan = pd.DataFrame(store.meta["augmentation_plan"]).set_index("family")
    seg = settings.segment_samples
    for _, rows in idx.groupby("note_id"):
        fam, split = rows.family.iloc[0], rows.split.iloc[0]
        hop = plan.loc[fam, "hop_seconds"] if split == "train" else 1.0
        assert set(rows.hop_seconds) == {hop}
        n_trim = rows.trimmed_samples.iloc[0]
        plain = rows[rows.augmentation == "none"]
        assert len(plain) == n_segments(n_trim, segment_samples=seg,
                                        hop_samples=int(hop * settings.sample_rate + 0.5))
        stretched = rows[rows.augmentation == "stretch"]
        assert len(stretched) == 0 or (split == "train" and plan.loc[fam, "stretch"])
    stretched_fams = set(plan.index[plan.stretch])
    assert stretched_fams and set(idx[idx.augmentation == "stretch"].family) == stretched_fams & set(
        idx[idx.split == "train"].family)
    # 4 of the 7 NSynth instruments (not e-piano, mallet, synthetic guitar) x 12 notes; Philharmonia but banjo
    assert store.meta["n_notes"] == idx.note_id.nunique() == 4 * 12 + 7
    assert store.meta["skipped"] == []


def test_resume_after_interruption_gives_identical_store(trees, store, tmp_path, monkeypatch):
    original = StoreWriter.write_chunk
    calls = []

    def crash_on_third(self, chunk_id, features, index):
        if len(calls) == 2:
            raise KeyboardInterrupt
        calls.append(chunk_id)
        original(self, chunk_id, features, index)

    monkeypatch.setattr(StoreWriter, "write_chunk", crash_on_third)
    with pytest.raises(KeyboardInterrupt):
        build_dataset(tmp_path / "s", nsynth=[trees[0]], philharmonia=[trees[1]], config=CONFIG,
                      progress=False)
    assert not (tmp_path / "s" / "index.csv").exists()
    monkeypatch.setattr(StoreWriter, "write_chunk", original)
    # a build killed outright (no exception to clean up on) leaves its writers' temporary files
    killed = [atomic_path(tmp_path / "s" / "shards" / "shard-00002.npy", suffix=".npy"),
              atomic_path(tmp_path / "s" / "shards" / "shard-00002.csv", suffix=".csv"),
              atomic_path(tmp_path / "s" / "index.csv")]
    orphans = [writer.__enter__() for writer in killed]
    (tmp_path / "s" / "shards" / "notes.txt").write_text("the user's")
    # a partial store is resumed only by the same request
    with pytest.raises(DatasetError, match="partial store"):
        build_dataset(tmp_path / "s", nsynth=[trees[0]], philharmonia=[trees[1]],
                      config=replace(CONFIG, seed=1), progress=False)
    resumed = build_dataset(tmp_path / "s", nsynth=[trees[0]], philharmonia=[trees[1]], config=CONFIG,
                            progress=False)
    assert not any(orphan.exists() for orphan in orphans)  # the resumed build cleared them ...
    assert (tmp_path / "s" / "shards" / "notes.txt").read_text() == "the user's"  # ... and nothing else
    pd.testing.assert_frame_equal(resumed.index, store.index)
    np.testing.assert_array_equal(resumed.load(np.arange(len(resumed))), store.load(np.arange(len(store))))
    assert resumed.meta == store.meta
    # a finished store is reused, a different request is refused
    assert len(build_dataset(tmp_path / "s", nsynth=[trees[0]], philharmonia=[trees[1]], config=CONFIG,
                             progress=False)) == len(store)
    with pytest.raises(DatasetError, match="overwrite"):
        build_dataset(tmp_path / "s", nsynth=[trees[0]], config=CONFIG, progress=False)


def test_a_second_build_into_a_folder_being_built_is_refused_at_once(trees, store, tmp_path, monkeypatch):
    out = tmp_path / "s"
    original = StoreWriter.write_chunk
    first_chunk_written, go_on = threading.Event(), threading.Event()

    def write_then_wait(self, chunk_id, features, index):
        original(self, chunk_id, features, index)
        first_chunk_written.set()
        assert go_on.wait(300)

    monkeypatch.setattr(StoreWriter, "write_chunk", write_then_wait)
    first = {}

    def build():
        try:
            first["store"] = build_dataset(out, nsynth=[trees[0]], philharmonia=[trees[1]], config=CONFIG,
                                           progress=False)
        except BaseException as exc:  # noqa: BLE001  reported below, in the test's own thread
            first["error"] = exc

    thread = threading.Thread(target=build)
    thread.start()
    try:
        assert first_chunk_written.wait(300)
        # other options, or the same ones: either would write chunks into the store being written
        for config in (replace(CONFIG, seed=1), CONFIG):
            with pytest.raises(DatasetError, match=re.escape(f"Cannot build into {out}: another build or render is "
                                                             f"writing there (it holds {out / '.lock'}). Wait for it")):
                build_dataset(out, nsynth=[trees[0]], philharmonia=[trees[1]], config=config, progress=False)
    finally:
        go_on.set()
        thread.join()
    assert "error" not in first, first.get("error")
    pd.testing.assert_frame_equal(first["store"].index, store.index)
    np.testing.assert_array_equal(first["store"].load(np.arange(len(store))), store.load(np.arange(len(store))))
    # once the first is done, the different options meet the finished store's refusal
    monkeypatch.setattr(StoreWriter, "write_chunk", original)
    with pytest.raises(DatasetError, match="finished store built from other inputs"):
        build_dataset(out, nsynth=[trees[0]], philharmonia=[trees[1]], config=replace(CONFIG, seed=1),
                      progress=False)


def test_parallel_build_equals_serial(trees, store, tmp_path):
    parallel = build_dataset(tmp_path / "p", nsynth=[trees[0]], philharmonia=[trees[1]],
                             config=replace(CONFIG, jobs=2), progress=False)
    pd.testing.assert_frame_equal(parallel.index, store.index)
    np.testing.assert_array_equal(parallel.load(np.arange(len(parallel))), store.load(np.arange(len(store))))


def test_build_on_a_two_process_cluster_equals_serial(trees, store, tmp_path, two_process_cluster):
    on_cluster = build_dataset(tmp_path / "c", nsynth=[trees[0]], philharmonia=[trees[1]], config=CONFIG,
                               progress=False, scheduler=two_process_cluster)
    pd.testing.assert_frame_equal(on_cluster.index, store.index)
    np.testing.assert_array_equal(on_cluster.load(np.arange(len(on_cluster))), store.load(np.arange(len(store))))


def test_an_unreachable_scheduler_fails_before_anything_is_written(trees, tmp_path):
    with pytest.raises(ClusterError, match="Cannot reach a Dask scheduler"):
        build_dataset(tmp_path / "s", philharmonia=[trees[1]], config=CONFIG, progress=False,
                      scheduler="tcp://127.0.0.1:9")
    assert not (tmp_path / "s").exists()


def test_corrupt_file_is_skipped_not_fatal(trees, tmp_path, caplog):
    phil = tmp_path / "phil"
    shutil.copytree(trees[1], phil)
    (phil / "cello" / "cello_D3_1_forte_normal.mp3").write_bytes(b"ID3\x03garbage" * 50)
    (phil / "cello" / "cello_E3_1_forte_normal.mp3").write_bytes(b"")
    with caplog.at_level(logging.WARNING):
        # one note per chunk, so the corrupt notes leave chunks with no rows at all
        built = build_dataset(tmp_path / "s", philharmonia=[phil], config=replace(CONFIG, notes_per_chunk=1),
                              progress=False)
    assert built.meta["skipped"] == ["philharmonia/cello_D3_1_forte_normal",
                                     "philharmonia/cello_E3_1_forte_normal"]
    assert "cello_D3" in caplog.text
    assert built.index.note_id.nunique() == built.meta["n_notes"] == 7  # banjo omitted


def test_build_refuses_bad_requests(trees, tmp_path):
    with pytest.raises(DatasetError, match="No sources"):
        build_dataset(tmp_path / "a", config=CONFIG)
    with pytest.raises(DatasetError, match="classes lacks"):
        build_dataset(tmp_path / "b", philharmonia=[trees[1]], config=replace(CONFIG, classes=("string",)))


def test_default_render_config_fills_in_the_kept_programs():
    small = default_render_config("small", sample_rate=16000, jobs=3)
    assert small == replace(RENDER_PRESETS["small"], sample_rate=16000, jobs=3)
    full = default_render_config("full", sample_rate=22050, jobs=1)
    assert full.programs == tuple(kept_programs()) and full.pitch_step == 1
    demo = default_render_config("demo", sample_rate=22050, jobs=1)  # notebooks 02 and 04
    assert demo.programs == tuple(kept_programs()) and demo.max_pitches == 5 and len(demo.velocities) == 2
    with pytest.raises(DatasetError, match="Unknown preset"):
        default_render_config("huge", sample_rate=22050, jobs=1)


def test_cli_build_dataset_and_help(trees, tmp_path, capsys):
    with pytest.raises(SystemExit):
        cli.main(["build-dataset", "--help"])
    assert "--philharmonia" in capsys.readouterr().out
    assert cli.main(["build-dataset", "--out", str(tmp_path / "c"), "--philharmonia", str(trees[1]),
                     "--jobs", "1"]) == 0
    out = capsys.readouterr().out
    built = FeatureStore(tmp_path / "c")
    assert f"store: {tmp_path / 'c'} ({len(built)} segments, classes ['flute', 'reed', 'string'])" in out
    assert cli.main(["build-dataset", "--out", str(tmp_path / "d"), "--philharmonia",
                     str(tmp_path / "missing")]) == 2


def test_sample_folders_join_the_build_with_the_family_they_are_given(trees, tmp_path, capsys):
    folder = write_sample_folder(tmp_path / "salamander")
    built = build_dataset(tmp_path / "s", philharmonia=[trees[1]], samples=[("piano", folder)], config=CONFIG,
                          progress=False)
    samples = built.index[built.index.source == "samples"]
    assert set(samples.family) == {"piano"} and samples.note_id.nunique() == 3  # harmS1 is no note
    assert "piano" in built.classes and {"string", "flute", "reed"} <= set(built.classes)
    assert {"kind": "samples:piano", "path": str(folder)} in built.meta["sources"]
    # the CLI's FAMILY=DIR form builds the same store; a folder without its family is refused
    assert cli.main(["build-dataset", "--out", str(tmp_path / "c"), "--philharmonia", str(trees[1]),
                     "--samples", f"piano={folder}", "--jobs", "1"]) == 0
    assert len(FeatureStore(tmp_path / "c")) == len(built)
    capsys.readouterr()
    assert cli.main(["build-dataset", "--out", str(tmp_path / "d"), "--philharmonia", str(trees[1]),
                     "--samples", str(folder)]) == 2
    assert "FAMILY=DIR" in capsys.readouterr().err and not (tmp_path / "d").exists()
    # a folder of folders named by instrument finds the family itself (tonejs-instruments' layout)
    shutil.copytree(folder, tmp_path / "tonejs" / "piano")
    assert cli.main(["build-dataset", "--out", str(tmp_path / "e"), "--philharmonia", str(trees[1]),
                     "--samples", str(tmp_path / "tonejs"), "--jobs", "1"]) == 0
    named = FeatureStore(tmp_path / "e")
    assert {"kind": "samples:piano", "path": str(tmp_path / "tonejs" / "piano")} in named.meta["sources"]
    assert set(named.index[named.index.source == "samples"].family) == {"piano"} and len(named) == len(built)


def test_small_default_preset_with_heldout_programs(tmp_path):
    """The one-command default build (pip SoundFont only): training and held-out stores."""
    assert cli.main(["build-dataset", "--out", str(tmp_path / "train"), "--preset", "small",
                     "--heldout-out", str(tmp_path / "held")]) == 0
    train, held = FeatureStore(tmp_path / "train"), FeatureStore(tmp_path / "held")
    assert len(train.classes) == 10 and held.classes == train.classes
    assert set(held.index.split) == {"test"} and set(held.index.augmentation) == {"none"}
    table = gm_programs().set_index("program")
    assert train.meta["heldout"] == {"kind": "programs", "soundfonts": ["TimGM6mb.sf2"],
                                     "programs": table[table.heldout_program == 1]["name"].tolist()}
    assert held.meta["role"] == "heldout" and held.meta["train_store"] == str(tmp_path / "train")
    # held-out GM programs are instruments the training store never saw
    train_instruments, held_instruments = set(train.index.instrument), set(held.index.instrument)
    assert not train_instruments & held_instruments
    held_programs = {int(i.rsplit("_", 1)[1]) % 128 for i in held_instruments}
    assert held_programs == set(table.index[table.heldout_program == 1])
    assert set(held.index.family) == set(train.index.family)
    assert {"train", "valid", "test"} <= set(train.index.split)


def test_render_soundfont_has_no_samples_option(capsys):
    """Sample folders are recordings, not renders: only build-dataset takes them."""
    with pytest.raises(SystemExit):
        cli.main(["render-soundfont", "--help"])
    assert "--samples" not in capsys.readouterr().out
