"""Recording augmentation: seeded pedalboard chains that change the room and microphone, not the note."""

import json
from pathlib import Path

import librosa
import numpy as np
import pytest
from dataset_fixtures import render_note
from threadpoolctl import threadpool_limits

from auditory_deepdream.audio import encode, load_audio, n_segments
from auditory_deepdream.dataset import (
    STORE_DTYPE,
    DatasetConfig,
    RecordingAugmentation,
    augment_recording,
    build_dataset,
    draw_effects,
    pip_soundfont,
    process_note,
    render_soundfont,
)
from auditory_deepdream.dataset.recording import effects_board
from auditory_deepdream.dataset.soundfont import RenderConfig
from auditory_deepdream.errors import DatasetError
from auditory_deepdream.settings import AudioSettings

SR = 22_050
CONFIG = RecordingAugmentation(copies=2, strength=1.0, seed=0)
# small and fast, at a rate whose Nyquist frequency is above every drawn filter cutoff
SMALL = AudioSettings(sample_rate=SR, segment_seconds=0.5, n_fft=1024, hop_length=256, win_length=1024,
                      n_mels=32, fmin=30.0)
RENDER = RenderConfig(sample_rate=SR, held_seconds=0.5, release_seconds=0.25, velocities=(100,),
                      programs=(40, 73), max_pitches=2, jobs=1)
BUILD = DatasetConfig(split_fractions=(0.5, 0.25, 0.25), hop_seconds=(0.5, 0.4, 0.3, 0.25), notes_per_chunk=3,
                      jobs=1, recording=RecordingAugmentation(copies=2))


@pytest.fixture(scope="module")
def flute():
    """A real A4 flute note (TimGM6mb, program 73): 0.8 s held, 0.4 s release."""
    return render_note(73, 69, 100, SR)


def _names(effects):
    return [name for name, _ in effects]


def _gain(effects, name="Gain"):
    return dict(effects)[name]["gain_db"]


def _first_copy(predicate, config=CONFIG, note_id="n/flute"):
    """The first copy number whose drawn chain satisfies ``predicate`` (draws are seeded: always the same one)."""
    return next(c for c in range(1, 200) if predicate(draw_effects(config, note_id=note_id, copy=c)))


def test_draws_are_seeded_by_seed_note_and_copy(flute):
    a, fx_a = augment_recording(flute, sample_rate=SR, config=CONFIG, note_id="n/flute", copy=1)
    b, fx_b = augment_recording(flute, sample_rate=SR, config=CONFIG, note_id="n/flute", copy=1)
    np.testing.assert_array_equal(a, b)
    assert fx_a == fx_b
    assert json.loads(fx_a) == [[name, kwargs] for name, kwargs in draw_effects(CONFIG, note_id="n/flute", copy=1)]
    drawn = draw_effects(CONFIG, note_id="n/flute", copy=1)
    assert draw_effects(CONFIG, note_id="n/flute", copy=2) != drawn
    assert draw_effects(CONFIG, note_id="n/other", copy=1) != drawn
    assert draw_effects(RecordingAugmentation(seed=1), note_id="n/flute", copy=1) != drawn
    c, _ = augment_recording(flute, sample_rate=SR, config=CONFIG, note_id="n/flute", copy=2)
    assert not np.allclose(a, c)


def test_strength_scales_the_drawn_values_but_not_which_effects():
    for copy in range(1, 11):
        full = draw_effects(RecordingAugmentation(strength=1.0), note_id="n/x", copy=copy)
        half = draw_effects(RecordingAugmentation(strength=0.5), note_id="n/x", copy=copy)
        none = draw_effects(RecordingAugmentation(strength=0.0), note_id="n/x", copy=copy)
        assert _names(full) == _names(half) == _names(none)
        assert _names(full)[-1] == "Gain"
        assert _gain(half) == pytest.approx(_gain(full) / 2, abs=1e-3)
        for name in ("PeakFilter", "LowShelfFilter", "HighShelfFilter"):
            if name in _names(full):
                assert _gain(half, name) == pytest.approx(_gain(full, name) / 2, abs=1e-3)
        # strength 0: every level change, shift and wet signal is nothing
        params = dict(none)
        assert all(params[n]["gain_db"] == 0 for n in ("Gain", "PeakFilter", "LowShelfFilter", "HighShelfFilter")
                   if n in params)
        assert params.get("PitchShift", {"semitones": 0})["semitones"] == 0
        assert params.get("Distortion", {"drive_db": 0})["drive_db"] == 0
        assert params.get("Reverb", {"wet_level": 0})["wet_level"] == 0
        assert params.get("Chorus", {"mix": 0})["mix"] == 0
        assert params.get("Compressor", {"ratio": 1})["ratio"] == 1


def test_copies_keep_the_length_stay_finite_and_below_full_scale(flute):
    loud = RecordingAugmentation(strength=2.0)
    copy = _first_copy(lambda fx: _gain(fx) > 8, config=loud)
    sine = 0.999 * np.sin(2 * np.pi * 220 * np.arange(SR) / SR).astype(np.float32)
    for y, config in ((sine, loud), (flute, CONFIG)):
        out, _ = augment_recording(y, sample_rate=SR, config=config, note_id="n/flute", copy=copy)
        assert out.shape == y.shape and out.dtype == np.float32
        assert np.all(np.isfinite(out))
        assert np.max(np.abs(out)) <= 0.99 + 1e-6
    # the full-scale sine with +8 dB and more really was scaled down to the ceiling
    out, _ = augment_recording(sine, sample_rate=SR, config=loud, note_id="n/flute", copy=copy)
    assert np.max(np.abs(out)) == pytest.approx(0.99, abs=1e-4)


def test_effects_change_the_spectrum_but_keep_the_pitch(flute):
    """A copy with an EQ band and a pitch shift: its level-free log-mel shape moves by
    decibels while its pitch moves by the drawn cents only (a few tens at most)."""
    copy = _first_copy(lambda fx: {"PeakFilter", "PitchShift"} <= set(_names(fx))
                       and abs(_gain(fx, "PeakFilter")) >= 3)
    out, effects = augment_recording(flute, sample_rate=SR, config=CONFIG, note_id="n/flute", copy=copy)
    settings = AudioSettings()
    before = encode(flute[: settings.segment_samples], settings=settings)
    after = encode(out[: settings.segment_samples], settings=settings)
    shape_change = np.mean(np.abs((after - after.mean()) - (before - before.mean())))
    assert shape_change > 1.5  # dB, with the overall level change removed

    def f0(y):
        return float(np.median(librosa.yin(y[2000:16000], fmin=200, fmax=900, sr=SR)))

    cents = 1200 * np.log2(f0(out) / f0(flute))
    drawn = 100 * dict(json.loads(effects))["PitchShift"]["semitones"]
    assert abs(cents) < 50
    assert cents == pytest.approx(drawn, abs=5)


def test_invalid_settings_are_dataset_errors():
    with pytest.raises(DatasetError, match="copies"):
        RecordingAugmentation(copies=-1)
    for strength in (-0.1, 2.5):
        with pytest.raises(DatasetError, match="strength"):
            RecordingAugmentation(strength=strength)
    assert effects_board([]) is not None  # an empty chain is a valid (pass-through) board


def test_copies_at_a_16k_sample_rate_are_finite_with_cutoffs_below_nyquist():
    y = render_note(73, 60, 100, 16_000)
    # this note/copy draws LowpassFilter(cutoff_frequency_hz=9631.78) > 8000 Hz, above Nyquist at 16 kHz
    assert dict(draw_effects(CONFIG, note_id="soundfont/flute_acoustic_073-060-100", copy=1))[
        "LowpassFilter"]["cutoff_frequency_hz"] > 8000
    out, effects = augment_recording(y, sample_rate=16_000, config=CONFIG,
                                     note_id="soundfont/flute_acoustic_073-060-100", copy=1)
    assert np.all(np.isfinite(out))
    capped = dict(json.loads(effects))["LowpassFilter"]["cutoff_frequency_hz"]
    assert capped == pytest.approx(0.475 * 16_000)  # the recorded chain is the one that ran


def _build(base, name):
    render = base / "render"
    if not (render / "examples.json").is_file():
        render_soundfont(render, soundfonts=[pip_soundfont(), pip_soundfont()], config=RENDER, progress=False)
    return build_dataset(base / name, soundfont=[render], settings=SMALL, config=BUILD, progress=False)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return _build(tmp_path_factory.mktemp("recording-build"), "store")


def test_build_stores_recording_copies_of_training_notes_only(store):
    idx = store.index
    kinds = idx.groupby("note_id")["augmentation"].agg(lambda a: set(a) - {"none", "stretch"})
    split = idx.groupby("note_id")["split"].first()
    assert set(split) == {"train", "valid", "test"}
    assert kinds[split == "train"].tolist() == [{"recording1", "recording2"}] * int((split == "train").sum()) != []
    assert kinds[split != "train"].tolist() == [set()] * int((split != "train").sum())
    assert not idx[idx["split"] != "train"]["augmentation"].str.startswith("recording").any()
    seg = SMALL.segment_samples
    for note_id, rows in idx[idx["split"] == "train"].groupby("note_id"):
        hop = rows["hop_seconds"].iloc[0]
        assert set(rows["hop_seconds"]) == {hop}  # copies are cut like the note itself
        for kind in ("none", "recording1", "recording2"):
            part = rows[rows["augmentation"] == kind]
            assert list(part["segment_index"]) == list(range(len(part)))
            assert len(part) == n_segments(int(part["trimmed_samples"].iloc[0]), segment_samples=seg,
                                           hop_samples=int(hop * SR + 0.5))
    recorded = idx[idx["augmentation"].str.startswith("recording")]
    for _, row in recorded.iterrows():
        copy = int(row["augmentation"].removeprefix("recording"))
        assert json.loads(row["effects"]) == [
            [n, kw] for n, kw in draw_effects(BUILD.recording, note_id=row["note_id"], copy=copy)]
    plain = idx[~idx["augmentation"].str.startswith("recording")]
    assert (plain["effects"].fillna("") == "").all()  # '' in the chunk; NaN after the CSV round trip


def test_stored_copy_is_the_encoded_augmented_note(store):
    idx = store.index
    rows = idx[idx["augmentation"] == "recording2"]
    note = rows[rows["note_id"] == rows["note_id"].iloc[0]]
    y = load_audio(Path(store.meta["sources"][0]["path"]) / note["source_file"].iloc[0], settings=SMALL)
    y_aug, _ = augment_recording(y, sample_rate=SR, config=BUILD.recording, note_id=note["note_id"].iloc[0], copy=2)
    parts, n_trim = process_note(y_aug, settings=SMALL, hop_seconds=float(note["hop_seconds"].iloc[0]))
    with threadpool_limits(limits=1, user_api="blas"):  # as the build encodes
        expected = encode(parts["none"], settings=SMALL)
    assert (note["trimmed_samples"] == n_trim).all()
    np.testing.assert_array_equal(store.load(note["row"]), expected.astype(STORE_DTYPE).astype(np.float32))


def test_rebuilding_gives_identical_features(store, tmp_path_factory):
    again = _build(store.path.parent, "again")
    assert again.index.drop(columns=["shard", "shard_row"]).equals(store.index.drop(columns=["shard", "shard_row"]))
    np.testing.assert_array_equal(again.load(np.arange(len(again))), store.load(np.arange(len(store))))
