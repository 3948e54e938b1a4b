"""Classifying clips with the bundled model: the families it names, the vote, and bad input; musicnn's taggers: tags."""

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from auditory_deepdream import audio
from auditory_deepdream.audio import example_clip, load_audio
from auditory_deepdream.classify import Classification, Tagging, classify, tag_clip
from auditory_deepdream.errors import AudioInputError, ModelError, SettingsMismatchError
from auditory_deepdream.models import load_model


@pytest.fixture(scope="module")
def loaded():
    return load_model("default")


@pytest.fixture(scope="module")
def cello(loaded):
    return load_audio(example_clip("cello_C3"), settings=loaded[1])


# The bundled model (card: flute 0.914, piano 0.992 on test notes) misnames two of the
# bundled FluidR3 clips: flute_A4 as synth_lead (flute when played 6 dB quieter) and
# piano_E4 as reed. strict: once a retrained model gets them right, drop the marks.
MISNAMED = pytest.mark.xfail(strict=True, reason="the bundled model misnames this bundled clip")


@pytest.mark.parametrize("clip, family", [
    ("cello_C3", "string"),
    pytest.param("flute_A4", "flute", marks=MISNAMED),
    pytest.param("piano_E4", "piano", marks=MISNAMED),
])
def test_the_bundled_model_names_the_family_of_each_bundled_clip(clip, family, loaded):
    c = classify(example_clip(clip), model=loaded)
    assert c.family == family and c.top(1)[0][0] == family


# The bundled classifier `augmented` (classify's default; recording and fit-time augmentation, three
# seeds averaged, trained on three SoundFonts at every semitone) names all three bundled FluidR3 clips.
@pytest.mark.parametrize("clip, family", [("cello_C3", "string"), ("flute_A4", "flute"), ("piano_E4", "piano")])
def test_the_default_classifier_names_the_family_of_each_bundled_clip(clip, family):
    c = classify(example_clip(clip))  # the default model: augmented
    assert c.family == family and c.top(1)[0][0] == family


def test_the_bundled_classifier_is_three_seeds_averaged_under_5_mb_with_dreamable_layers():
    from auditory_deepdream.dreamer import Dreamer, Ensemble
    from auditory_deepdream.models.ensembles import is_ensemble, member_folders
    from auditory_deepdream.models import bundled_model_dir

    folder = bundled_model_dir("augmented")
    assert is_ensemble("augmented") and len(member_folders("augmented")) == 3
    assert sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) < 5 * 2**20
    card = json.loads((folder / "card.json").read_text())
    assert [m["seed"] for m in card["ensemble"]["members"]] == [0, 1, 2]
    assert card["heldout"]["n_notes"] > 3000 and set(card["heldout"]["per_class_note_accuracy"]) == set(card["classes"])
    dreamer = Dreamer.load("augmented")
    assert isinstance(dreamer, Ensemble) and "stage2_conv1" in dreamer.info.layer_filters


def test_the_vote_is_the_normalised_sum_of_the_voting_segments_log_probabilities(cello, loaded):
    s = loaded[1]
    c = classify(cello, model=loaded)
    n_classes = len(loaded[2]["classes"])
    assert c.segment_probabilities.shape == (len(c.segment_times), n_classes)
    np.testing.assert_allclose(c.segment_probabilities.sum(axis=1), 1.0, atol=1e-5)
    # the tail segment that is mostly zero padding scores but does not vote
    trimmed = len(audio.trim(cello, settings=s))
    share = np.clip((trimmed - c.segment_times * s.sample_rate) / s.segment_samples, 0, 1)
    np.testing.assert_array_equal(c.voting, share >= 0.5)
    assert c.voting[0] and not c.voting.all()
    log_p = np.log(np.clip(c.segment_probabilities[c.voting].astype(np.float64), 1e-7, 1)).sum(axis=0)
    expected = np.exp(log_p - log_p.max()) / np.exp(log_p - log_p.max()).sum()
    np.testing.assert_allclose(c.vote_probabilities, expected, rtol=1e-5, atol=1e-9)
    # the probabilities reported: the mean log-probability renormalised (normalised geometric mean)
    mean = log_p / c.voting.sum()
    np.testing.assert_allclose(c.probabilities, np.exp(mean) / np.exp(mean).sum(), rtol=1e-5, atol=1e-9)
    assert c.probabilities.sum() == pytest.approx(1.0)
    assert c.family == c.classes[int(np.argmax(expected))] == c.classes[int(np.argmax(c.probabilities))]
    everything = classify(cello, model=loaded, min_audio_fraction=0.0)
    assert everything.voting.all()
    np.testing.assert_allclose(everything.note_log_probabilities,
                               np.log(np.clip(c.segment_probabilities, 1e-7, 1)).sum(axis=0), rtol=1e-5)


def test_top_and_to_dict(cello, loaded):
    c = classify(cello, model=loaded)
    top = c.top(3)
    assert len(top) == 3 and [p for _, p in top] == sorted((p for _, p in top), reverse=True)
    assert top[0] == (c.family, pytest.approx(c.probabilities.max()))
    d = json.loads(json.dumps(c.to_dict()))
    assert d["family"] == c.family and [t["family"] for t in d["top"]] == [f for f, _ in top]
    assert sum(d["probabilities"].values()) == pytest.approx(1.0)
    assert len(d["segments"]) == len(c.segment_times)
    assert [seg["votes"] for seg in d["segments"]] == c.voting.tolist()


def test_a_longer_clip_or_a_shorter_hop_gives_more_segments(cello, loaded):
    one = classify(cello, model=loaded)
    twice = classify(np.concatenate([cello, cello]), model=loaded)
    assert len(twice.segment_times) > len(one.segment_times)
    half = classify(cello, model=loaded, hop_seconds=0.5)
    assert len(half.segment_times) > len(one.segment_times)
    np.testing.assert_allclose(np.diff(half.segment_times), 0.5)
    np.testing.assert_allclose(half.segment_probabilities[::2], one.segment_probabilities[: len(half.segment_times[::2])],
                               atol=1e-5)  # the same segments, scored the same


def test_a_path_gives_what_its_waveform_gives(cello, loaded):
    from_path = classify(example_clip("cello_C3"), model=loaded)
    from_array = classify(cello, model=loaded)
    np.testing.assert_allclose(from_path.segment_probabilities, from_array.segment_probabilities, atol=1e-6)
    np.testing.assert_allclose(from_path.note_log_probabilities, from_array.note_log_probabilities, rtol=1e-6)


def test_a_model_may_be_named_loaded_or_a_dreamer(cello, loaded):
    from auditory_deepdream.dreamer import Dreamer

    expected = classify(cello, model=loaded).note_log_probabilities
    dreamer = Dreamer(loaded[0], settings=loaded[1], card=loaded[2])
    for model in ("default", dreamer):
        np.testing.assert_allclose(classify(cello, model=model).note_log_probabilities, expected, rtol=1e-6)


def bad_files(tmp_path):
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "notes.wav").write_text("not audio")
    sf.write(tmp_path / "silent.wav", np.zeros(22050, dtype=np.float32), 22050)
    return {"missing.wav": "not found", "empty.wav": "empty", "notes.wav": "Could not read",
            "silent.wav": "silent"}


def test_bad_files_raise_audio_input_errors_that_say_what_to_do(tmp_path, loaded):
    for name, says in bad_files(tmp_path).items():
        with pytest.raises(AudioInputError, match=says) as err:
            classify(tmp_path / name, model=loaded)
        assert name in str(err.value)


@pytest.mark.parametrize("y, says", [
    (np.zeros(22050, dtype=np.float32), "silent"),
    (np.full(22050, np.nan, dtype=np.float32), "NaN"),
    (0.5 * np.sin(np.arange(400) / 5.0).astype(np.float32), "too short|at least 1025 samples"),
    (np.ones((2, 22050), dtype=np.float32), "mono"),
])
def test_bad_arrays_raise_audio_input_errors_that_say_what_to_do(y, says, loaded):
    with pytest.raises(AudioInputError, match=says):
        classify(y, model=loaded)


def test_a_model_that_does_not_exist_or_does_not_fit_is_a_model_error(tmp_path, cello, loaded):
    with pytest.raises(ModelError, match="No model at"):
        classify(cello, model=tmp_path / "no-such-model")
    with pytest.raises(ModelError, match="classes"):
        classify(cello, model=(loaded[0], loaded[1], {}))
    with pytest.raises(ModelError, match="Cannot classify with"):
        classify(cello, model=loaded[0])
    with pytest.raises(SettingsMismatchError):
        classify(cello, model=loaded, settings=loaded[1].replace(n_mels=64))


def test_classification_is_frozen(cello, loaded):
    c = classify(cello, model=loaded)
    assert isinstance(c, Classification)
    with pytest.raises(AttributeError):
        c.classes = ()


def test_a_clip_repeated_30_times_reads_as_sure_as_once(cello, loaded):
    s = loaded[1]
    trimmed = audio.trim(cello, settings=s)
    loud = trimmed[: 2 * s.segment_samples]  # whole segments, so the copies cut into the same segments
    assert len(loud) == 2 * s.segment_samples
    once, thirty = classify(loud, model=loaded), classify(np.tile(loud, 30), model=loaded)
    assert len(thirty.segment_times) == 30 * len(once.segment_times)
    np.testing.assert_allclose(thirty.probabilities, once.probabilities, rtol=1e-4, atol=1e-6)
    assert thirty.family == once.family and [f for f, _ in thirty.top(3)] == [f for f, _ in once.top(3)]
    assert once.probabilities.max() < 0.999  # so the sum over 60 segments would read 1.00
    assert thirty.vote_probabilities.max() > once.probabilities.max()
    np.testing.assert_allclose(thirty.note_log_probabilities, 30 * once.note_log_probabilities, rtol=1e-4)


@pytest.fixture(scope="module")
def not_notes(loaded):
    """A drum loop and a piece (piano and strings) from the General MIDI SoundFont."""
    from auditory_deepdream.dataset.pieces import bach_prelude, break_beat

    sr = loaded[1].sample_rate
    return {"drum loop": break_beat(seconds=6.0, kit=None, sample_rate=sr),
            "piece": bach_prelude(seconds=20.0, strings=True, sample_rate=sr)}


@pytest.mark.parametrize("clip", ["cello_C3", "flute_A4", "piano_E4"])
def test_the_bundled_single_notes_are_single_notes(clip, loaded):
    c = classify(example_clip(clip), model=loaded)
    assert c.single_note and c.verdict == "single pitched note" and c.note_check.reason == ""
    assert c.to_dict()["single_note"] is True


@pytest.fixture(scope="module")
def flute_notes():
    """C4, E4 and F4 of the flute of FluidR3_GM, the SoundFont the bundled clips come from, 2 s held, peak 1."""
    from auditory_deepdream.dataset.synths import cached_soundfont, play_note, select_program

    font = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
    if not Path(font).is_file():
        pytest.skip("FluidR3_GM is not installed (apt-get install fluid-soundfont-gm)")
    synth, sfid = cached_soundfont(font, 22_050, "tinysoundfont")
    select_program(synth, sfid, 73, "tinysoundfont")
    notes = {name: play_note(synth, renderer="tinysoundfont", pitch=pitch, velocity=90, held=44_100, release=11_025)
             for name, pitch in (("C4", 60), ("E4", 64), ("F4", 65))}
    return {name: y / np.abs(y).max() for name, y in notes.items()}


@pytest.mark.parametrize("chord", ["C4+E4", "C4+F4", "C3+A4"])
def test_two_notes_at_once_are_not_a_single_note(chord, flute_notes, settings):
    """A major third and a fourth of the flute, and the bundled cello's C3 with the flute's A4, are stopped;
    each note alone passes. (The bundled E4+A4, C3+E4 and C3+E3, where the piano's decay leaves one note
    far louder, still pass: benchmarks/results/chords.json gives the rates at every interval.)"""
    from auditory_deepdream.single_note import check_single_note

    bundled = {"C3": load_audio(example_clip("cello_C3"), settings=settings),
               "A4": load_audio(example_clip("flute_A4"), settings=settings)}
    notes = {**flute_notes, **{name: y / np.abs(y).max() for name, y in bundled.items()}}
    low, high = (notes[n] for n in chord.split("+"))
    n = min(len(low), len(high))
    y = audio.trim((low[:n] + high[:n]) / 2, settings=settings)
    check = check_single_note(y, sample_rate=settings.sample_rate)
    assert not check.single_note and check.reason.startswith("several pitches at once"), check
    for name in chord.split("+"):
        alone = check_single_note(audio.trim(notes[name], settings=settings), sample_rate=settings.sample_rate)
        assert alone.single_note, (name, alone)


@pytest.mark.parametrize("name, kind", [("drum loop", "percussive"), ("piece", "several notes in turn")])
def test_drums_and_a_piece_are_not_single_notes(name, kind, not_notes, loaded):
    c = classify(not_notes[name], model=loaded)
    assert not c.single_note
    assert c.verdict.startswith("not a single pitched note (") and kind in c.verdict
    assert c.family in c.classes  # still the closest family
    d = json.loads(json.dumps(c.to_dict()))
    assert d["single_note"] is False and d["verdict"] == c.verdict and d["note_check"]["reason"]


def test_the_rule_uses_the_measured_thresholds():
    from pathlib import Path

    from auditory_deepdream import single_note

    measured = json.loads((Path(__file__).resolve().parents[1] / "benchmarks" / "results"
                           / "classify_depth.json").read_text())
    assert single_note.MIN_HARMONIC_SHARE == pytest.approx(measured["thresholds"]["harmonic_share"], abs=0.005)
    assert single_note.MIN_PITCH_STABILITY == pytest.approx(measured["thresholds"]["pitch_stability"], abs=0.005)
    assert measured["heldout_single_notes"]["share_rejected_by_rule"] <= 0.05
    chords = json.loads((Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "chords.json").read_text())
    assert single_note.MIN_SERIES_SHARE == pytest.approx(chords["thresholds"]["series_share"], abs=0.0005)
    assert single_note.MIN_SECOND_PITCH_DB == pytest.approx(chords["thresholds"]["second_pitch_db"], abs=0.05)
    assert chords["heldout_single_notes"]["share_passed"] >= 0.95


def test_classifying_clips_of_different_lengths_in_a_loop_never_retraces(cello):
    import logging

    class Records(logging.Handler):
        def __init__(self):
            super().__init__(logging.WARNING)
            self.messages = []

        def emit(self, record):
            self.messages.append(record.getMessage())

    records, tf_logger = Records(), logging.getLogger("tensorflow")  # TensorFlow's logger does not propagate
    tf_logger.addHandler(records)
    try:
        for k in range(1, 8):  # the default model loaded afresh each time, as classify(path) in a loop does
            classify(np.tile(cello, k)[: len(cello) * k - 1000 * k])
    finally:
        tf_logger.removeHandler(records)
    assert not [m for m in records.messages if "retracing" in m]


# ---------------------------------------------------------------- musicnn's taggers: tags, not families
MUSICNN = np.load(Path(__file__).parent / "fixtures" / "musicnn_taggrams.npz")  # musicnn's own TF1 graphs


@pytest.fixture(scope="module")
def loud():
    """The three bundled notes back to back at 16 kHz, peak 1: the fixture's two-patch clip ``loud``."""
    from auditory_deepdream.settings import AudioSettings

    s = AudioSettings.preset("musicnn")
    y = np.concatenate([load_audio(example_clip(n), settings=s) for n in audio.EXAMPLE_CLIPS])
    return (y / np.abs(y).max()).astype(np.float32)


def test_a_tagger_gives_musicnns_top_tags_not_a_family_vote(loud):
    from auditory_deepdream.models import tag

    t = classify(loud, model="musicnn-mtt")
    assert isinstance(t, Tagging) and t.model == "musicnn-mtt" and len(t.tags) == 50
    assert t.taggram.shape == (2, 50)  # two 3-s patches, back to back, untrimmed
    # what musicnn's original graph gives for the same patches, averaged as its top_tags does
    original = MUSICNN["taggram/MTT_musicnn/loud"].mean(axis=0)
    np.testing.assert_allclose(t.probabilities, original, atol=1e-4, rtol=0)
    np.testing.assert_array_equal(t.probabilities, tag(loud, model="musicnn-mtt").to_numpy())
    top = t.top()
    assert len(top) == 5 and [p for _, p in top] == sorted((p for _, p in top), reverse=True)
    assert [name for name, _ in top] == [t.tags[i] for i in np.argsort(-original)[:5]]
    assert t.probabilities.sum() != pytest.approx(1.0)  # independent sigmoids, not a softmax
    assert not hasattr(t, "single_note")  # the taggers learnt from songs: no single-note check


def test_tag_clip_and_classify_agree_for_every_way_of_naming_a_tagger(loud):
    expected = classify(loud, model="musicnn-mtt").probabilities
    for model in ("musicnn-mtt", load_model("musicnn-mtt")):
        np.testing.assert_array_equal(tag_clip(loud, model=model).probabilities, expected)
    vgg = tag_clip(loud, model="vgg-msd")
    np.testing.assert_allclose(vgg.probabilities, MUSICNN["taggram/MSD_vgg/loud"].mean(axis=0), atol=1e-4, rtol=0)


def test_a_stereo_44k_file_is_tagged_as_its_16k_mono_mix(loud, tmp_path):
    import librosa

    from auditory_deepdream.models import tag

    y44 = librosa.resample(loud, orig_sr=16000, target_sr=44100)
    path = tmp_path / "stereo.wav"
    sf.write(path, np.stack([y44, y44], axis=1), 44100, subtype="FLOAT")
    t = classify(path, model="musicnn-mtt")
    np.testing.assert_array_equal(t.probabilities, tag(path, model="musicnn-mtt").to_numpy())
    original = MUSICNN["taggram/MTT_musicnn/loud"].mean(axis=0)
    np.testing.assert_allclose(t.probabilities, original, atol=0.01, rtol=0)  # measured 0.0024: resampling twice
    assert [name for name, _ in t.top()] == [t.tags[i] for i in np.argsort(-original)[:5]]


def test_tagging_to_dict_holds_every_tag(loud):
    t = classify(loud, model="musicnn-mtt")
    d = json.loads(json.dumps(t.to_dict(k=3)))
    assert d["model"] == "musicnn-mtt" and d["patches"] == 2
    assert list(d["probabilities"]) == list(t.tags) and len(d["probabilities"]) == 50
    assert [(e["tag"], e["probability"]) for e in d["top"]] == [(n, pytest.approx(p)) for n, p in t.top(3)]
    with pytest.raises(AttributeError):
        t.tags = ()


def test_tag_clip_refuses_a_classifier_and_bad_audio(loaded, loud):
    with pytest.raises(ModelError, match="not a tagger"):
        tag_clip(loud, model=loaded)
    with pytest.raises(AudioInputError, match="mono"):
        tag_clip(np.stack([loud, loud]), model="musicnn-mtt")
    with pytest.raises(AudioInputError, match="silent"):
        classify(np.zeros(16000, dtype=np.float32), model="musicnn-mtt")
