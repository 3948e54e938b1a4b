"""The encoding job: trimming, segmenting, stretching, log-mel features and index rows."""

import pickle

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from auditory_deepdream.audio import encode, example_clip, load_audio, n_segments, trim
from auditory_deepdream.dataset import (
    PITCH_CLASSES,
    ChunkJob,
    chunk_jobs,
    encode_chunk,
    process_note,
)
from auditory_deepdream.dataset.encode import NOTE_FIELDS

CLASSES = ("flute", "piano", "string")


def _note(clip, family, pitch, *, hop=1.0, stretch=None, **changes):
    path = example_clip(clip)
    return {"note_id": f"clips/{clip}", "source": "clips", "source_root": str(path.parent),
            "source_file": path.name, "family": family, "label": family, "instrument_source": "acoustic",
            "instrument": clip, "pitch": pitch, "velocity": 100, "split": "train", "hop_seconds": hop,
            "stretch_rate": stretch, **changes}


def test_process_note_segment_counts_and_padding(cello, settings):
    y = trim(cello, settings=settings)
    for hop in (1.0, 0.5):
        parts, n_trim = process_note(cello, settings=settings, hop_seconds=hop)
        h = round(hop * settings.sample_rate)
        seg = settings.segment_samples
        assert n_trim == len(y)
        assert len(parts["none"]) == 1 + int(np.ceil(max(len(y) - seg, 0) / h))
        last_start = (len(parts["none"]) - 1) * h
        np.testing.assert_array_equal(parts["none"][-1][: len(y) - last_start], y[last_start:])
        assert not parts["none"][-1][len(y) - last_start:].any()  # zero-padded tail
    parts, _ = process_note(cello, settings=settings, hop_seconds=1.0, stretch_rate=0.5)
    assert len(parts["stretch"]) == n_segments(2 * len(y), segment_samples=seg, hop_samples=seg)


def test_encode_chunk_encodes_every_segment_and_describes_it(settings):
    notes = (_note("cello_C3", "string", 48, hop=0.5, stretch=0.5), _note("flute_A4", "flute", 69))
    chunk = encode_chunk(ChunkJob(chunk_id=7, notes=notes, settings=settings, classes=CLASSES))
    expected, rows = [], []
    for note in notes:
        y = load_audio(example_clip(note["instrument"]), settings=settings)
        parts, n_trim = process_note(y, settings=settings, hop_seconds=note["hop_seconds"],
                                     stretch_rate=note["stretch_rate"])
        for aug, segs in parts.items():
            with threadpool_limits(limits=1, user_api="blas"):  # as the job encodes: bit-exact anywhere
                expected.append(encode(segs, settings=settings))
            rows += [(note["note_id"], aug, i, n_trim) for i in range(len(segs))]
    assert chunk.chunk_id == 7 and chunk.skipped == ()
    np.testing.assert_array_equal(chunk.features, np.concatenate(expected))
    idx = chunk.index
    assert list(zip(idx.note_id, idx.augmentation, idx.segment_index, idx.trimmed_samples)) == rows
    assert idx.segment_id.tolist() == [f"{n}#{a}#{i}" for n, a, i, _ in rows]
    cello = idx[idx.note_id == "clips/cello_C3"]
    assert set(cello.augmentation) == {"none", "stretch"} and set(cello.hop_seconds) == {0.5}
    assert set(cello.family_index) == {2} and set(cello.pitch_class) == {"C"}
    assert cello[[f"onehot_{c}" for c in CLASSES]].drop_duplicates().values.tolist() == [[0, 0, 1]]
    flute = idx[idx.note_id == "clips/flute_A4"]
    assert set(flute.augmentation) == {"none"} and set(flute.pitch_class) == {PITCH_CLASSES[69 % 12]} == {"A"}


def test_unreadable_notes_are_reported_not_raised(settings, tmp_path):
    (tmp_path / "broken.wav").write_bytes(b"RIFF0000WAVEjunk")
    bad = _note("cello_C3", "string", 48, note_id="clips/broken", source_root=str(tmp_path),
                source_file="broken.wav")
    chunk = encode_chunk(ChunkJob(chunk_id=0, notes=(bad, _note("flute_A4", "flute", 69)), settings=settings,
                                  classes=CLASSES))
    assert [s["note_id"] for s in chunk.skipped] == ["clips/broken"] and chunk.skipped[0]["reason"]
    assert set(chunk.index.note_id) == {"clips/flute_A4"} and len(chunk.features) == len(chunk.index)
    empty = encode_chunk(ChunkJob(chunk_id=1, notes=(bad,), settings=settings, classes=CLASSES))
    assert empty.features.shape == (0, settings.n_mels, settings.n_frames) and empty.index.empty


def test_chunk_jobs_cut_notes_in_order_and_skip_done_chunks(settings):
    notes = pd.DataFrame([_note("cello_C3", "string", 48 + i, note_id=f"n{i}", stretch=0.5 if i % 2 else np.nan)
                          for i in range(10)])
    jobs = chunk_jobs(notes, settings=settings, classes=CLASSES, notes_per_chunk=4, done={1})
    assert [j.chunk_id for j in jobs] == [0, 2]
    assert [n["note_id"] for n in jobs[0].notes] == ["n0", "n1", "n2", "n3"]
    assert [n["note_id"] for n in jobs[1].notes] == ["n8", "n9"]
    assert [n["stretch_rate"] for n in jobs[0].notes] == [None, 0.5, None, 0.5]  # NaN means no stretch
    assert set(jobs[0].notes[0]) == set(NOTE_FIELDS) and jobs[0].classes == CLASSES
    assert pickle.loads(pickle.dumps(jobs[1])) == jobs[1]  # jobs travel to worker processes


@pytest.mark.parametrize("rate", [0.5, 2.0])
def test_stretched_copy_has_the_rates_length(cello, settings, rate):
    parts, n_trim = process_note(cello, settings=settings, hop_seconds=1.0, stretch_rate=rate)
    seg = settings.segment_samples
    assert len(parts["stretch"]) == n_segments(round(n_trim / rate), segment_samples=seg, hop_samples=seg)
