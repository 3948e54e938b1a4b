"""Readers on real-layout NSynth, Philharmonia and pitch-named sample trees (see dataset_fixtures)."""

import logging

import pytest
import soundfile as sf
from dataset_fixtures import (
    NSYNTH_INSTRUMENTS,
    NSYNTH_SPLITS,
    NSYNTH_VELOCITIES,
    PHIL,
    render_note,
    source_trees,
    write_sample_folder,
)

from auditory_deepdream.audio import load_audio
from auditory_deepdream.dataset import (
    NOTE_COLUMNS,
    apply_ontology,
    parse_philharmonia_name,
    parse_sample_name,
    read_durations,
    read_nsynth,
    read_philharmonia,
    read_samples,
    read_sources,
    sample_folders,
    sample_instruments,
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


@pytest.mark.parametrize("name,note,pitch,layer", [("A0v10.ogg", "A0", 21, 10), ("C#4.wav", "C#4", 61, None),
                                                    ("Ds4.mp3", "D#4", 63, None), ("Bb3v2.flac", "Bb3", 58, 2),
                                                    ("c8v16.ogg", "C8", 108, 16)])
def test_parse_sample_name(name, note, pitch, layer):
    assert parse_sample_name(name) == {"note": note, "pitch": pitch, "layer": layer}


@pytest.mark.parametrize("name", ["harmS1.ogg", "rel3.ogg", "H4.wav", "A4v.wav", "piano_A4.wav"])
def test_names_that_are_not_pitches_are_refused(name):
    with pytest.raises(DatasetError, match="named by its pitch"):
        parse_sample_name(name)


def test_read_samples_in_salamanders_layout(tmp_path, caplog):
    folder = write_sample_folder(tmp_path / "salamander")
    with caplog.at_level(logging.WARNING):
        notes = read_samples(folder, label="piano")
    assert "harmS1.ogg" in caplog.text
    assert list(notes.pitch) == [57, 60, 63] and list(notes.layer) == [10, 10, 10]
    assert set(NOTE_COLUMNS) <= set(notes.columns)
    assert (notes.source == "samples").all() and (notes.label == "piano").all()
    assert (notes.instrument == "samples_audio").all() and notes.note_id.is_unique
    assert notes.note_id.iloc[0] == "samples/samples_audio/A3v10"
    kept = apply_ontology(notes)
    assert (kept.family == "piano").all() and len(kept) == 3
    # read_sources takes the family from the kind, as build_dataset passes it
    assert (read_sources([("samples:string", folder)]).label == "string").all()
    with pytest.raises(DatasetError, match="samples:<family>"):
        read_sources([("salamander", folder)])


def test_sample_folders_named_by_instrument_find_their_family(tmp_path, caplog):
    """tonejs-instruments' layout: one folder per instrument (``cello/C3.mp3``), families from the table."""
    root = tmp_path / "tonejs"
    for name in ("violin", "guitar-nylon", "French_Horn", "xylophone"):
        (root / name).mkdir(parents=True)
    with caplog.at_level(logging.WARNING):
        pairs = sample_folders(root)
    assert pairs == [("brass", root / "French_Horn"), ("guitar", root / "guitar-nylon"), ("string", root / "violin")]
    assert "xylophone" in caplog.text  # a mallet: left out, as the ontology leaves mallets out
    assert sample_folders(root / "violin") == [("string", root / "violin")]
    table = sample_instruments()
    assert set(table.family) - {""} <= {"bass", "brass", "flute", "guitar", "organ", "piano", "reed", "string"}
    assert table.instrument.is_unique
    (root / "theremin").mkdir()
    with pytest.raises(DatasetError, match="FAMILY=DIR.*unknown: theremin"):
        sample_folders(root)
    with pytest.raises(DatasetError, match="left out of every family"):
        sample_folders(root / "xylophone")
    (tmp_path / "mallets" / "marimba").mkdir(parents=True)
    with pytest.raises(DatasetError, match="only instruments left out"):
        sample_folders(tmp_path / "mallets")
    with pytest.raises(DatasetError, match="does not exist"):
        sample_folders(tmp_path / "missing")
    with pytest.raises(DatasetError, match="FAMILY=DIR"):
        sample_folders(write_sample_folder(tmp_path / "salamander"))  # 'audio' names no instrument


def test_read_samples_bad_folders(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        read_samples(tmp_path / "missing", label="piano")
    (tmp_path / "noise").mkdir()
    sf.write(tmp_path / "noise" / "rel1.ogg", render_note(0, 60, 30, 22050), 22050)
    with pytest.raises(DatasetError, match="No samples named by pitch"):
        read_samples(tmp_path / "noise", label="piano")
