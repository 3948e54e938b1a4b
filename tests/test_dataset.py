"""Readers on real-layout trees, ontology, processing, augmentation and store builds.

The NSynth and Philharmonia trees are written by the fixtures in the real release
layouts (real file names and JSON fields) with real instrument notes rendered from
pip's TimGM6mb.sf2: NSynth as 16 kHz 16-bit wav, Philharmonia as mp3.
"""

import json
import logging
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import tinysoundfont

from auditory_deepdream import cli
from auditory_deepdream.audio import load_audio, n_segments, trim
from auditory_deepdream.dataset import (
    DatasetConfig,
    apply_ontology,
    assign_splits,
    build_dataset,
    distribution,
    encode_segments,
    kept_programs,
    load_ontology,
    parse_philharmonia_name,
    plan_augmentation,
    plot_distribution,
    plot_summary,
    process_note,
    read_nsynth,
    read_philharmonia,
    summarize,
)
from auditory_deepdream.errors import DatasetError
from auditory_deepdream.soundfont import pip_soundfont
from auditory_deepdream.store import FeatureStore, StoreWriter

CONFIG = DatasetConfig(notes_per_chunk=4, jobs=1)


def _render(program, pitch, velocity, sr, held=0.8, release=0.4):
    synth = tinysoundfont.Synth(samplerate=sr)
    sfid = synth.sfload(str(pip_soundfont()))
    synth.program_select(0, sfid, 0, program)
    synth.noteon(0, pitch, velocity)
    on = np.frombuffer(synth.generate(int(held * sr)), dtype=np.float32)
    synth.noteoff(0, pitch)
    off = np.frombuffer(synth.generate(int(release * sr)), dtype=np.float32)
    return np.concatenate([on, off]).reshape(-1, 2).mean(axis=1)


# (family, source, instrument, GM program) as in the NSynth release
NSYNTH_INSTRUMENTS = [("keyboard", "acoustic", 1, 0), ("keyboard", "electronic", 2, 4),
                      ("string", "acoustic", 3, 40), ("mallet", "acoustic", 4, 12),
                      ("guitar", "synthetic", 5, 27), ("guitar", "acoustic", 6, 24),
                      ("flute", "acoustic", 7, 73)]
QUALITIES = ["bright", "dark", "distortion", "fast_decay", "long_release", "multiphonic",
             "nonlinear_env", "percussive", "reverb", "tempo-synced"]


def write_nsynth(root):
    """An NSynth release tree: nsynth-{train,valid,test}/examples.json + audio/<note_str>.wav."""
    note = 0
    for split, pitches in (("train", (48, 55, 60, 67)), ("valid", (52,)), ("test", (64,))):
        folder = root / f"nsynth-{split}"
        (folder / "audio").mkdir(parents=True)
        examples = {}
        for fam, src, inst, program in NSYNTH_INSTRUMENTS:
            for pitch in pitches:
                for velocity in (75, 127):
                    name = f"{fam}_{src}_{inst:03d}-{pitch:03d}-{velocity:03d}"
                    sf.write(folder / "audio" / f"{name}.wav", _render(program, pitch, velocity, 16000),
                             16000, subtype="PCM_16")
                    examples[name] = {
                        "note": note, "note_str": name, "instrument": inst,
                        "instrument_str": f"{fam}_{src}_{inst:03d}", "pitch": pitch,
                        "velocity": velocity, "sample_rate": 16000,
                        "qualities": [0] * 10, "qualities_str": [],
                        "instrument_family": ["bass", "brass", "flute", "guitar", "keyboard", "mallet",
                                              "organ", "reed", "string", "synth_lead", "vocal"].index(fam),
                        "instrument_family_str": fam,
                        "instrument_source": ["acoustic", "electronic", "synthetic"].index(src),
                        "instrument_source_str": src,
                    }
                    note += 1
        (folder / "examples.json").write_text(json.dumps(examples))
    return root


# folder, file prefix, GM program, notes (Philharmonia spelling: 's' for sharp)
PHIL = [("cello", "cello", 42, ("C3", "As2", "G3")), ("flute", "flute", 73, ("C5", "Fs4")),
        ("bass clarinet", "bass-clarinet", 71, ("D3", "A3")), ("banjo", "banjo", 105, ("C4",))]


def write_philharmonia(root):
    """A Philharmonia tree: one folder per instrument, mp3 files named like the library's."""
    import librosa

    for folder, prefix, program, notes in PHIL:
        (root / folder).mkdir(parents=True)
        for i, name in enumerate(notes):
            pitch = int(librosa.note_to_midi(name.replace("s", "#")))
            dynamic = ("forte", "piano", "mezzo-forte")[i % 3]
            y = _render(program, pitch, 100, 44100, held=1.0, release=0.5)
            sf.write(root / folder / f"{prefix}_{name}_1_{dynamic}_normal.mp3", y, 44100, format="MP3")
    return root


@pytest.fixture(scope="module")
def trees(tmp_path_factory):
    base = tmp_path_factory.mktemp("sources")
    return write_nsynth(base / "nsynth"), write_philharmonia(base / "philharmonia")


@pytest.fixture(scope="module")
def store(trees, tmp_path_factory):
    nsynth, phil = trees
    return build_dataset(tmp_path_factory.mktemp("store") / "s", nsynth=[nsynth], philharmonia=[phil],
                         config=CONFIG, progress=False)


# ----------------------------------------------------------------------------- readers
def test_read_nsynth_release_layout(trees):
    notes = read_nsynth(trees[0])
    assert len(notes) == len(NSYNTH_INSTRUMENTS) * 6 * 2
    assert set(notes.nsynth_split) == {"train", "valid", "test"}
    row = notes[notes.note_id == "nsynth/string_acoustic_003-060-127"].iloc[0]
    assert (row.label, row.instrument_source, row.pitch, row.velocity) == ("string", "acoustic", 60, 127)
    assert row.source_file == "nsynth-train/audio/string_acoustic_003-060-127.wav"
    one_split = read_nsynth(trees[0] / "nsynth-valid")
    assert len(one_split) == len(NSYNTH_INSTRUMENTS) * 2


def test_read_nsynth_bad_inputs(tmp_path):
    with pytest.raises(DatasetError, match="examples.json"):
        read_nsynth(tmp_path)
    (tmp_path / "nsynth-train" / "audio").mkdir(parents=True)
    (tmp_path / "nsynth-train" / "examples.json").write_text('{"a": {"note_str": "a"}}')
    with pytest.raises(DatasetError, match="lacks NSynth fields"):
        read_nsynth(tmp_path)
    (tmp_path / "nsynth-train" / "examples.json").write_text("{not json")
    with pytest.raises(DatasetError, match="JSON"):
        read_nsynth(tmp_path)


def test_parse_philharmonia_name():
    f = parse_philharmonia_name("cello_As2_1_forte_arco-normal.mp3")
    assert f == {"instrument": "cello", "note": "As2", "pitch": 46, "duration": "1",
                 "dynamic": "forte", "articulation": "arco-normal", "velocity": 100}
    assert parse_philharmonia_name("double-bass_A1_05_pianissimo_arco-normal.mp3")["pitch"] == 33
    assert parse_philharmonia_name("flute_C6_very-long_cresc-decresc_normal.mp3")["duration"] == "very-long"
    with pytest.raises(DatasetError, match="Philharmonia"):
        parse_philharmonia_name("IMG_0001.mp3")


def test_read_philharmonia_tree(trees, tmp_path, caplog):
    notes = read_philharmonia(trees[1])
    assert len(notes) == sum(len(n) for *_, n in PHIL)
    assert set(notes.label) == {"cello", "flute", "bass-clarinet", "banjo"}
    cello = notes[notes.label == "cello"].set_index("note_id")
    assert cello.loc["philharmonia/cello_As2_1_piano_normal", "pitch"] == 46
    assert (notes.source_file.str.endswith(".mp3")).all()
    # an empty instrument folder and a stray file are logged skips, an empty tree an error
    (tmp_path / "viola").mkdir()
    (tmp_path / "oboe").mkdir()
    y = load_audio(trees[1] / "cello" / "cello_C3_1_forte_normal.mp3")
    sf.write(tmp_path / "oboe" / "oboe_A4_1_forte_normal.wav", y, 22050)
    (tmp_path / "oboe" / "notes.wav").write_bytes(b"")
    with caplog.at_level(logging.WARNING):
        small = read_philharmonia(tmp_path)
    assert len(small) == 1 and "viola" in caplog.text and "notes.wav" in caplog.text
    with pytest.raises(DatasetError, match="No Philharmonia samples"):
        read_philharmonia(tmp_path / "viola")


# ----------------------------------------------------------------------------- ontology
def test_ontology_follows_the_dissertation():
    table = load_ontology()
    fam = {(r.source, r.label, r.instrument_source): r.family for r in table.itertuples()}
    assert fam["nsynth", "keyboard", "acoustic"] == "piano"
    assert fam["nsynth", "keyboard", "electronic"] == "" and fam["nsynth", "keyboard", "synthetic"] == ""
    assert all(fam["nsynth", "mallet", s] == "" for s in ("acoustic", "electronic", "synthetic"))
    assert fam["nsynth", "guitar", "synthetic"] == "" and fam["nsynth", "guitar", "electronic"] == "guitar"
    assert fam["philharmonia", "banjo", "acoustic"] == "" and fam["philharmonia", "mandolin", "acoustic"] == ""
    for label in ("violin", "viola", "cello", "double-bass"):
        assert fam["philharmonia", label, "acoustic"] == "string"
    for label in ("bass-clarinet", "bassoon", "clarinet", "contrabassoon", "cor-anglais", "oboe", "saxophone"):
        assert fam["philharmonia", label, "acoustic"] == "reed"
    merged = {f for f in table.family if f}
    assert merged == {"bass", "brass", "flute", "guitar", "organ", "piano", "reed", "string",
                      "synth_lead", "vocal"}


def test_apply_ontology_maps_and_omits(trees):
    notes = pd.concat([read_nsynth(trees[0]), read_philharmonia(trees[1])], ignore_index=True)
    kept = apply_ontology(notes)
    by_label = kept.groupby(["source", "label", "instrument_source"]).family.first().to_dict()
    assert by_label == {("nsynth", "flute", "acoustic"): "flute",
                        ("nsynth", "guitar", "acoustic"): "guitar",
                        ("nsynth", "keyboard", "acoustic"): "piano",
                        ("nsynth", "string", "acoustic"): "string",
                        ("philharmonia", "bass-clarinet", "acoustic"): "reed",
                        ("philharmonia", "cello", "acoustic"): "string",
                        ("philharmonia", "flute", "acoustic"): "flute"}


def test_unknown_label_is_an_error_or_a_skip(trees, caplog):
    notes = read_philharmonia(trees[1])
    notes.loc[0, "label"] = "theremin"
    with pytest.raises(DatasetError, match="theremin"):
        apply_ontology(notes)
    with caplog.at_level(logging.WARNING):
        kept = apply_ontology(notes, on_unknown="skip")
    assert "theremin" in caplog.text and "theremin" not in set(kept.label)


def test_kept_programs_match_the_ontology():
    programs = set(kept_programs())
    assert {0, 1, 40, 73, 56, 80, 52, 33} <= programs
    assert not programs & {4, 5, 12, 38, 39, 105}  # electric piano, mallet, synth bass, banjo


# ----------------------------------------------------------------------------- splits / processing
def test_splits_are_by_note_and_deterministic():
    notes = pd.DataFrame({"note_id": [f"n{i}" for i in range(4000)]})
    split = assign_splits(notes, fractions=(0.8, 0.1, 0.1), seed=3)
    shuffled = notes.sample(frac=1, random_state=0)
    assert assign_splits(shuffled, fractions=(0.8, 0.1, 0.1), seed=3).equals(split.loc[shuffled.index])
    share = split.value_counts(normalize=True)
    assert abs(share["train"] - 0.8) < 0.03 and abs(share["test"] - 0.1) < 0.03
    assert not split.equals(assign_splits(notes, fractions=(0.8, 0.1, 0.1), seed=4))


def test_process_note_segment_counts_and_padding(cello, settings):
    y = trim(cello, settings=settings)
    for hop in (1.0, 0.5):
        parts, n_trim = process_note(cello, settings=settings, hop_seconds=hop)
        h = int(round(hop * settings.sample_rate))
        seg = settings.segment_samples
        assert n_trim == len(y)
        assert len(parts["none"]) == 1 + int(np.ceil(max(len(y) - seg, 0) / h))
        last_start = (len(parts["none"]) - 1) * h
        np.testing.assert_array_equal(parts["none"][-1][: len(y) - last_start], y[last_start:])
        assert not parts["none"][-1][len(y) - last_start:].any()  # zero-padded tail
    parts, _ = process_note(cello, settings=settings, hop_seconds=1.0, stretch_rate=0.5)
    assert len(parts["stretch"]) == n_segments(2 * len(y), segment_samples=seg, hop_samples=seg)


def test_encode_segments_matches_the_front_end(cello, settings):
    from auditory_deepdream.audio import encode, segment

    segs = segment(cello, settings=settings, hop_seconds=0.5)
    np.testing.assert_allclose(encode_segments(segs, settings=settings), encode(segs, settings=settings),
                               atol=1e-3)


def test_plan_augmentation_stretches_small_families_and_clusters_hops(settings):
    sizes = {"a": 400, "b": 380, "c": 190, "d": 60, "e": 20}
    notes = pd.DataFrame([{"family": f, "split": "train", "duration_samples": 2 * 22050}
                          for f, n in sizes.items() for _ in range(n)])
    plan = plan_augmentation(notes, settings=settings, config=DatasetConfig())
    assert list(plan.stretch) == [False, False, True, True, True]
    assert list(plan.est_segments) == [2 * n for n in sizes.values()]
    assert list(plan.est_after_stretch) == [800, 760, 3 * 380, 3 * 120, 3 * 40]  # + a 2x-long copy
    by_size = plan.sort_values("est_after_stretch", ascending=False)
    assert by_size.hop_seconds.is_monotonic_decreasing  # smaller families get smaller hops
    assert plan.loc["c", "hop_seconds"] == 1.0 and plan.loc["e", "hop_seconds"] == 0.5
    assert plan.cluster.nunique() == 4


# ----------------------------------------------------------------------------- builds
def test_build_index_and_features(store, settings):
    idx = store.index
    assert store.classes == ["flute", "guitar", "piano", "reed", "string"]
    assert store.settings == settings
    for col in ("segment_id", "source", "source_file", "note_id", "family", "label", "pitch",
                "pitch_class", "velocity", "split", "augmentation", "segment_index", "onehot_piano"):
        assert col in idx.columns
    assert idx.segment_id.is_unique
    assert set(idx.source) == {"nsynth", "philharmonia"}
    assert not set(idx.label) & {"mallet", "banjo", "keyboard_electronic"}
    assert (idx.pitch_class == [("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")[p % 12]
                                for p in idx.pitch]).all()
    onehot = idx[[f"onehot_{c}" for c in store.classes]].to_numpy()
    assert (onehot.sum(1) == 1).all() and (onehot.argmax(1) == idx.family_index).all()
    feats = store.load(np.arange(len(store)))
    assert feats.shape == (len(store), settings.n_mels, settings.n_frames)
    assert np.isfinite(feats).all() and feats.max() > -30


def test_no_note_in_two_splits_and_augmentation_counts(store, settings):
    idx = store.index
    assert (idx.groupby("note_id").split.nunique() == 1).all()
    plan = pd.DataFrame(store.meta["augmentation_plan"]).set_index("family")
    seg = settings.segment_samples
    for note_id, rows in idx.groupby("note_id"):
        fam, split = rows.family.iloc[0], rows.split.iloc[0]
        hop = plan.loc[fam, "hop_seconds"] if split == "train" else 1.0
        n_trim = rows.trimmed_samples.iloc[0]
        plain = rows[rows.augmentation == "none"]
        assert len(plain) == n_segments(n_trim, segment_samples=seg,
                                        hop_samples=int(round(hop * settings.sample_rate)))
        stretched = rows[rows.augmentation == "stretch"]
        assert len(stretched) == 0 or (split == "train" and plan.loc[fam, "stretch"])
    stretched_fams = set(plan.index[plan.stretch])
    assert stretched_fams and set(idx[idx.augmentation == "stretch"].family) == stretched_fams & set(
        idx[idx.split == "train"].family)
    dist = distribution(idx, settings=settings)
    assert (dist["after"] >= dist["before"]).all() and (dist.loc[list(stretched_fams), "after"] >
                                                        dist.loc[list(stretched_fams), "before"]).all()


def test_summary_and_plots(store, settings):
    import matplotlib

    matplotlib.use("Agg")
    table = summarize(store.index)
    assert table.loc["string", "philharmonia"] > 0 and table.loc["string", "nsynth"] > 0
    assert (table["total"] == store.index.groupby("family").size()).all()
    assert plot_summary(table).patches
    assert plot_distribution(distribution(store.index, settings=settings)).patches


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
    resumed = build_dataset(tmp_path / "s", nsynth=[trees[0]], philharmonia=[trees[1]], config=CONFIG,
                            progress=False)
    pd.testing.assert_frame_equal(resumed.index, store.index)
    np.testing.assert_array_equal(resumed.load(np.arange(len(resumed))), store.load(np.arange(len(store))))
    # a finished store is reused, a different request is refused
    assert len(build_dataset(tmp_path / "s", nsynth=[trees[0]], philharmonia=[trees[1]], config=CONFIG,
                             progress=False)) == len(store)
    with pytest.raises(DatasetError, match="overwrite"):
        build_dataset(tmp_path / "s", nsynth=[trees[0]], config=CONFIG, progress=False)


def test_parallel_build_equals_serial(trees, store, tmp_path):
    parallel = build_dataset(tmp_path / "p", nsynth=[trees[0]], philharmonia=[trees[1]],
                             config=replace(CONFIG, jobs=2), progress=False)
    pd.testing.assert_frame_equal(parallel.index, store.index)


def test_corrupt_file_is_skipped_not_fatal(trees, tmp_path, caplog):
    import shutil

    phil = tmp_path / "phil"
    shutil.copytree(trees[1], phil)
    (phil / "cello" / "cello_D3_1_forte_normal.mp3").write_bytes(b"ID3\x03garbage" * 50)
    (phil / "cello" / "cello_E3_1_forte_normal.mp3").write_bytes(b"")
    with caplog.at_level(logging.WARNING):
        built = build_dataset(tmp_path / "s", philharmonia=[phil], config=CONFIG, progress=False)
    assert built.meta["skipped"] == ["philharmonia/cello_D3_1_forte_normal",
                                     "philharmonia/cello_E3_1_forte_normal"]
    assert "cello_D3" in caplog.text
    assert built.index.note_id.nunique() == built.meta["n_notes"] == 7  # banjo omitted


def test_build_refuses_bad_requests(trees, tmp_path):
    with pytest.raises(DatasetError, match="No sources"):
        build_dataset(tmp_path / "a", config=CONFIG)
    with pytest.raises(DatasetError, match="classes lacks"):
        build_dataset(tmp_path / "b", philharmonia=[trees[1]], config=replace(CONFIG, classes=("string",)))
    with pytest.raises(DatasetError):
        DatasetConfig(split_fractions=(0.5, 0.2, 0.2))


def test_cli_build_dataset_and_help(trees, tmp_path, capsys):
    with pytest.raises(SystemExit):
        cli.main(["build-dataset", "--help"])
    assert "--philharmonia" in capsys.readouterr().out
    assert cli.main(["build-dataset", "--out", str(tmp_path / "c"), "--philharmonia", str(trees[1]),
                     "--jobs", "1"]) == 0
    out = capsys.readouterr().out
    assert "string" in out and "segments" in out
    assert len(FeatureStore(tmp_path / "c")) > 0
    assert cli.main(["build-dataset", "--out", str(tmp_path / "d"), "--philharmonia",
                     str(tmp_path / "missing")]) == 2


def test_small_default_preset_with_heldout_programs(tmp_path, capsys):
    """The one-command default build (pip SoundFont only): training and held-out stores."""
    from auditory_deepdream.soundfont import gm_programs

    assert cli.main(["build-dataset", "--out", str(tmp_path / "train"), "--preset", "small",
                     "--heldout-out", str(tmp_path / "held")]) == 0
    train, held = FeatureStore(tmp_path / "train"), FeatureStore(tmp_path / "held")
    assert len(train.classes) == 10 and held.classes == train.classes
    assert set(held.index.split) == {"test"} and set(held.index.augmentation) == {"none"}
    assert train.meta["heldout"]["kind"] == "programs"
    # held-out GM programs are instruments the training store never saw
    table = gm_programs().set_index("program")
    train_instruments, held_instruments = set(train.index.instrument), set(held.index.instrument)
    assert not train_instruments & held_instruments
    held_programs = {int(i.rsplit("_", 1)[1]) % 128 for i in held_instruments}
    assert held_programs == set(table.index[table.heldout_program == 1])
    assert set(held.index.family) == set(train.index.family)
    assert {"train", "valid", "test"} <= set(train.index.split)
