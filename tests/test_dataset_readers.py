"""Readers on real-layout NSynth and Philharmonia trees (see dataset_fixtures)."""

import logging

import pytest
import soundfile as sf
from dataset_fixtures import (
    NSYNTH_INSTRUMENTS,
    NSYNTH_SPLITS,
    NSYNTH_VELOCITIES,
    PHIL,
    source_trees,
)

from auditory_deepdream.audio import load_audio
from auditory_deepdream.dataset import (
    NOTE_COLUMNS,
    parse_philharmonia_name,
    read_durations,
    read_nsynth,
    read_philharmonia,
    read_sources,
)
from auditory_deepdream.errors import DatasetError

N_NSYNTH = len(NSYNTH_INSTRUMENTS) * sum(len(p) for _, p in NSYNTH_SPLITS) * len(NSYNTH_VELOCITIES)
N_PHIL = sum(len(n) for *_, n in PHIL)


@pytest.fixture(scope="module")
def trees(tmp_path_factory):
    return source_trees(tmp_path_factory.getbasetemp() / "dataset-trees" / "sources")


def test_read_nsynth_release_layout(trees):
    notes = read_nsynth(trees[0])
    assert len(notes) == N_NSYNTH
    assert list(notes.columns) == [*NOTE_COLUMNS, "nsynth_split"]
    assert notes.nsynth_split.value_counts().to_dict() == {"train": 4 * 14, "valid": 14, "test": 14}
    row = notes[notes.note_id == "nsynth/string_acoustic_003-060-127"].iloc[0]
    assert (row.label, row.instrument_source, row.instrument, row.pitch, row.velocity) == (
        "string", "acoustic", "string_acoustic_003", 60, 127)
    assert row.source_file == "nsynth-train/audio/string_acoustic_003-060-127.wav"
    one_split = read_nsynth(trees[0] / "nsynth-valid")
    assert len(one_split) == len(NSYNTH_INSTRUMENTS) * 2
    assert set(one_split.nsynth_split) == {""}  # the folder given is the split itself


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


def test_read_nsynth_skips_notes_without_audio(trees, tmp_path, caplog):
    import shutil

    shutil.copytree(trees[0] / "nsynth-test", tmp_path / "nsynth-test")
    (tmp_path / "nsynth-test" / "audio" / "flute_acoustic_007-064-075.wav").unlink()
    with caplog.at_level(logging.WARNING):
        notes = read_nsynth(tmp_path)
    assert len(notes) == len(NSYNTH_INSTRUMENTS) * 2 - 1
    assert "nsynth/flute_acoustic_007-064-075" not in set(notes.note_id)
    assert "1 notes have no wav" in caplog.text


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
    assert len(notes) == N_PHIL
    assert set(notes.label) == {"cello", "flute", "bass-clarinet", "banjo"}
    cello = notes[notes.label == "cello"].set_index("note_id")
    assert cello.loc["philharmonia/cello_As2_1_piano_normal", "pitch"] == 46
    assert cello.loc["philharmonia/cello_As2_1_piano_normal", "velocity"] == 40  # piano
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


def test_read_sources_concatenates_in_order_and_refuses_duplicates(trees):
    notes = read_sources([("philharmonia", trees[1]), ("nsynth", trees[0])])
    assert len(notes) == N_PHIL + N_NSYNTH
    assert list(notes.source[:N_PHIL].unique()) == ["philharmonia"]
    assert set(read_sources([("soundfont", trees[0] / "nsynth-test")]).source) == {"soundfont"}
    with pytest.raises(DatasetError, match="two sources"):
        read_sources([("nsynth", trees[0]), ("nsynth", trees[0])])
    with pytest.raises(DatasetError, match="Unknown source kind"):
        read_sources([("maestro", trees[0])])
    with pytest.raises(DatasetError, match="No sources"):
        read_sources([])


def test_read_durations_from_headers(trees, tmp_path):
    notes = read_nsynth(trees[0] / "nsynth-valid").head(2)
    # 1.2 s rendered at 16 kHz, counted at 22.05 kHz
    assert read_durations(notes, sample_rate=22050).tolist() == [int(1.2 * 16000) * 22050 // 16000] * 2
    assert read_durations(notes, sample_rate=16000).tolist() == [int(1.2 * 16000)] * 2
    (tmp_path / "bad.wav").write_bytes(b"RIFF")
    broken = notes.assign(source_root=str(tmp_path), source_file=["bad.wav", "missing.wav"])
    assert read_durations(broken, sample_rate=16000).tolist() == [-1, -1]
