"""Dreamer: objectives rise (Lucid test), zero steps are transparent, long audio has no
seams, results are deterministic, and user mistakes raise clear errors."""

import dataclasses
import os

import numpy as np
import pytest

from auditory_deepdream import audio, models
from auditory_deepdream import dreamer as D
from auditory_deepdream.errors import AuditoryDeepDreamError, DreamError, ModelError, SettingsMismatchError

CLASSES = ["brass", "keyboard", "string"]


@pytest.fixture(scope="module")
def dreamer(settings):
    """A small untrained conv-blocks model: mechanics need no training."""
    model = models.build_model("conv_blocks", {"width": 0.25}, settings=settings, n_classes=3, seed=0)
    return D.Dreamer(model, settings=settings, card={"classes": CLASSES})


@pytest.fixture(scope="module")
def short(cello):
    return cello[: 11025]  # half a second: a tiny input


def render_piece(seconds: float, *, sample_rate: int) -> np.ndarray:
    """A melody of real instrument notes (TimGM6mb.sf2 via tinysoundfont), mono float32."""
    import pretty_midi
    import tinysoundfont

    synth = tinysoundfont.Synth(samplerate=sample_rate)
    sfid = synth.sfload(os.path.join(os.path.dirname(pretty_midi.__file__), "TimGM6mb.sf2"))
    rng = np.random.default_rng(1)
    out, note_len = [], int(0.5 * sample_rate)
    for i in range(int(seconds / 0.5)):
        chan = i % 2
        synth.program_select(chan, sfid, 0, [0, 42][chan])  # piano, cello
        key = int(rng.integers(45, 72))
        synth.noteon(chan, key, 90)
        first = np.frombuffer(synth.generate(note_len // 2), dtype=np.float32)
        synth.noteoff(chan, key)
        second = np.frombuffer(synth.generate(note_len - note_len // 2), dtype=np.float32)
        out.append(np.concatenate([first, second]))
    stereo = np.concatenate(out).reshape(-1, 2)
    return stereo.mean(axis=1).astype(np.float32)


# ----------------------------------------------------------------- objectives rise
def _objectives():
    return {
        "filter": D.filter_objective("stage1_conv1", 3),
        "filter_cropped": D.filter_objective("stage2_conv1", 1, crop=2),
        "layer": D.layer_objective("stage2_conv1"),
        "layers_weighted": D.layers_objective({"stage2_conv1": 1.0, "stage3_conv1": 0.5}),
        "class": D.class_objective("keyboard", classes=CLASSES),
        "negation": -D.filter_objective("stage1_conv1", 5),
        "combination": D.layer_objective("stage3_conv1") - 2 * D.filter_objective("stage1_conv1", 0),
    }


@pytest.mark.parametrize("name", list(_objectives()))
def test_every_objective_rises(dreamer, short, settings, name):
    objective = _objectives()[name]
    mel = audio.encode(short, settings=settings)[None]
    before = dreamer.evaluate(mel, objective)
    dreamed, history = dreamer.ascend(mel, objective, steps=5, step_size=1.0)
    after = dreamer.evaluate(dreamed, objective)
    assert history.shape == (5, 1)
    assert after[0] > before[0], name
    assert np.isclose(history[0, 0], before[0], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("envelope", [True, False])
def test_waveform_dreaming_raises_objectives_and_is_transparent_at_zero_steps(dreamer, short, envelope):
    for objective in (D.filter_objective("stage1_conv1", 3), D.layer_objective("stage2_conv1"),
                      D.class_objective(1) - D.filter_objective("stage2_conv1", 0)):
        result = D.dream(short, model=dreamer, objective=objective, phase="waveform", steps=4, step_size=0.1,
                         envelope=envelope)
        assert result.objective_dreamed[0] > result.objective_before[0], objective
        assert result.history.shape == (4, 1) and result.history[-1, 0] > result.history[0, 0]
    kwargs = dict(model=dreamer, objective=objective, phase="waveform", steps=3, jitter=2, envelope=envelope)
    np.testing.assert_array_equal(D.dream(short, seed=5, **kwargs).audio, D.dream(short, seed=5, **kwargs).audio)
    zero = D.dream(short, model=dreamer, objective=objective, phase="waveform", steps=0)
    np.testing.assert_allclose(zero.audio, short, atol=1e-6)


def test_batched_objective_raises_each_item_and_matches_single_runs(dreamer, short, settings):
    mel = audio.encode(short, settings=settings)[None]
    batched = D.audition_objective("stage1_conv1", [0, 3, 7])
    dreamed, _ = dreamer.ascend(mel, batched, steps=3, step_size=1.0)
    assert dreamed.shape == (3,) + mel.shape[1:]
    single, _ = dreamer.ascend(mel, D.filter_objective("stage1_conv1", 3), steps=3, step_size=1.0)
    np.testing.assert_allclose(dreamed[1], single[0], atol=1e-3)
    assert not np.allclose(dreamed[0], dreamed[1], atol=1e-3)
    values = dreamer.evaluate(dreamed, batched)
    assert np.all(values > dreamer.evaluate(np.repeat(mel, 3, 0), batched))


@pytest.mark.parametrize("layer,crop", [("stage1_conv1", 0), ("stage3_conv1", 2)])
def test_audition_shortcut_matches_the_full_network(dreamer, short, settings, layer, crop):
    """Auditioning filters of one conv layer computes only each item's filter; values and
    gradients must equal those of the whole layer read item by item."""
    mel = audio.encode(short, settings=settings)[None]
    filters = [0, 2, 5, 1]
    batched = D.audition_objective(layer, filters, crop=crop)
    assert dreamer._per_item_filters(batched) is not None
    general = D.Batched(batched.items + (D.layer_objective(layer),))  # not all filters: no shortcut
    assert dreamer._per_item_filters(general) is None
    values = dreamer.evaluate(np.repeat(mel, len(filters), 0), batched)
    expected = [dreamer.evaluate(mel, D.filter_objective(layer, k, crop=crop))[0] for k in filters]
    np.testing.assert_allclose(values, expected, rtol=1e-5, atol=1e-6)
    dreamed, _ = dreamer.ascend(mel, batched, steps=2, step_size=1.0)
    for i, k in enumerate(filters):
        single, _ = dreamer.ascend(mel, D.filter_objective(layer, k, crop=crop), steps=2, step_size=1.0)
        np.testing.assert_allclose(dreamed[i], single[0], atol=1e-3)


@pytest.mark.parametrize("hop", [None, 300])  # the preset's hop, and one that does not divide n_fft
def test_griffin_lim_follows_the_reference_algorithm(settings, short, hop):
    """The compiled batched Griffin-Lim equals librosa's fast Griffin-Lim update written out
    with the front end's STFT and inverse, from the same initial phase."""
    if hop is not None:
        settings = dataclasses.replace(settings, hop_length=hop)
    S = np.abs(audio.stft(np.stack([short, short[::-1]]), settings=settings))
    angles = np.exp(2j * np.pi * np.random.default_rng(5).random(S.shape)).astype(np.complex64)
    rebuilt = np.zeros_like(angles)
    for _ in range(6):
        previous = rebuilt
        rebuilt = audio.stft(audio.istft(S * angles, settings=settings, length=len(short)), settings=settings)
        angles = rebuilt - (0.99 / 1.99) * previous
        angles /= np.abs(angles) + 1e-16
    reference = audio.istft(S * angles, settings=settings, length=len(short))
    ours = D.griffin_lim(S, settings=settings, n_iter=6, seed=5, length=len(short))
    assert ours.shape == (2, len(short))
    np.testing.assert_allclose(ours, reference, atol=1e-4 * np.abs(reference).max())


def test_objectives_compose_and_are_hashable():
    a, b = D.filter_objective("l", 1), D.layer_objective("m")
    combo = 0.5 * a + b - a
    assert combo.layers() == {"l", "m"}
    assert combo == 0.5 * D.filter_objective("l", 1) + D.layer_objective("m") - D.filter_objective("l", 1)
    assert len({combo, combo}) == 1
    assert isinstance(-a, D.Objective)


def test_octaves_and_jitter_rise_and_keep_shape(dreamer, short, settings):
    objective = D.layer_objective("stage2_conv1")
    mel = audio.encode(short, settings=settings)[None]
    dreamed, history = dreamer.ascend(mel, objective, steps=3, step_size=1.0, octaves=3, jitter=4, seed=2)
    assert dreamed.shape == mel.shape and history.shape == (9, 1)
    assert dreamer.evaluate(dreamed, objective)[0] > dreamer.evaluate(mel, objective)[0]


# ----------------------------------------------------------------- sonification
def test_zero_steps_with_original_phase_give_back_the_input(dreamer, cello):
    result = D.amplify_filter(cello, model=dreamer, layer="stage1_conv1", index=2, steps=0)
    noise = result.audio - cello
    snr = 10 * np.log10(np.sum(cello.astype(np.float64) ** 2) / np.sum(noise.astype(np.float64) ** 2))
    assert snr >= 40


def test_dream_result_measures_and_loudness(dreamer, cello):
    loud = cello / np.max(np.abs(cello)) * 0.99
    result = D.dream(loud, model=dreamer, objective=D.layer_objective("stage2_conv1"), steps=8, step_size=3.0)
    assert result.audio.shape == loud.shape
    assert np.max(np.abs(result.audio)) < 1.0
    assert abs(result.loudness_out_db[0] - result.loudness_in_db[0]) < 1.5
    assert result.objective_dreamed[0] > result.objective_before[0]
    assert np.isfinite(result.survival[0]) and result.spectral_change_db[0] > 0
    assert result.survival_sonified[0] > 0.3  # the original-phase path keeps most of the gain
    assert result.mel_after.shape == result.mel_before.shape
    assert set(result.summary()) >= {"survival", "spectral_change_db", "loudness_out_db"}


def test_unmeasured_dream_gives_the_same_sound_without_measures(dreamer, cello):
    objective = D.layer_objective("stage2_conv1")
    measured = D.dream(cello, model=dreamer, objective=objective, steps=3, seed=1)
    sound_only = D.dream(cello, model=dreamer, objective=objective, steps=3, seed=1, measure=False)
    np.testing.assert_array_equal(sound_only.audio, measured.audio)
    assert sound_only.mel_after is None and np.isnan(sound_only.survival).all()
    assert np.isfinite(measured.survival).all()


def test_mel_gain_maps_to_covered_bins(settings):
    gain = D.mel_gain_to_stft_db(np.full((settings.n_mels, 3), 6.0, np.float32), settings=settings)
    covered = audio.mel_basis(settings).sum(axis=0) > 0
    np.testing.assert_allclose(gain[covered], 6.0, rtol=1e-4)
    np.testing.assert_allclose(gain[~covered], 0.0)


def test_soft_limit_and_match_loudness():
    y = np.linspace(-3, 3, 1001, dtype=np.float32)
    limited = D.soft_limit(y)
    assert np.max(np.abs(limited)) < 1.0 and np.all(np.diff(limited) >= 0)
    np.testing.assert_array_equal(limited[np.abs(y) <= 0.9], y[np.abs(y) <= 0.9])
    quiet = np.sin(np.linspace(0, 60, 4000)).astype(np.float32) * 0.1
    matched = D.match_loudness(quiet * 5, quiet)
    np.testing.assert_allclose(matched, quiet, atol=1e-6)


def test_griffin_lim_path_runs_batched_and_is_deterministic(dreamer, short):
    kwargs = dict(model=dreamer, layer="stage1_conv1", filters=[0, 1], steps=2, phase="griffin-lim", n_iter=8)
    a = D.audition_layer(short, seed=3, **kwargs)
    b = D.audition_layer(short, seed=3, **kwargs)
    c = D.audition_layer(short, seed=4, **kwargs)
    assert a.audio.shape == (2, len(short))
    np.testing.assert_array_equal(a.audio, b.audio)
    assert not np.allclose(a.audio, c.audio)
    assert np.max(np.abs(a.audio)) < 1.0


def test_deterministic_for_a_seed_with_jitter_and_octaves(dreamer, short):
    kwargs = dict(model=dreamer, objective=D.layer_objective("stage2_conv1"), steps=4, jitter=5, octaves=2)
    a = D.dream(short, seed=11, **kwargs)
    b = D.dream(short, seed=11, **kwargs)
    c = D.dream(short, seed=12, **kwargs)
    np.testing.assert_array_equal(a.audio, b.audio)
    assert not np.array_equal(a.mel_dreamed, c.mel_dreamed)


# ----------------------------------------------------------------- long audio
@pytest.fixture(scope="module")
def piece(settings):
    return render_piece(30.0, sample_rate=settings.sample_rate)


@pytest.mark.parametrize("block_frames", [None, 200])
def test_thirty_seconds_in_one_call_has_no_clicks(dreamer, piece, block_frames):
    result = D.amplify_filter(piece, model=dreamer, layer="stage1_conv1", index=3, steps=3, step_size=2.0,
                              block_frames=block_frames, overlap_frames=32)
    assert result.audio.shape == piece.shape
    assert result.spectral_change_db[0] > 0.1  # the dream did something
    own_jump = np.max(np.abs(np.diff(piece)))
    assert np.max(np.abs(np.diff(result.audio))) <= 2 * own_jump


def test_blocks_agree_with_one_pass_away_from_block_edges(dreamer, piece, settings):
    mel = audio.encode(piece[: 10 * settings.sample_rate], settings=settings)[None]
    objective = D.filter_objective("stage1_conv1", 3)
    whole, _ = dreamer.ascend(mel, objective, steps=1, step_size=1.0)
    blocks, _ = dreamer.ascend(mel, objective, steps=1, step_size=1.0, block_frames=200, overlap_frames=32)
    delta_whole, delta_blocks = whole - mel, blocks - mel
    corr = np.corrcoef(delta_whole.ravel(), delta_blocks.ravel())[0, 1]
    assert corr > 0.9


# ----------------------------------------------------------------- errors
def test_unknown_layer_and_filter_out_of_range(dreamer, short):
    with pytest.raises(ModelError, match="Unknown layer 'nope'.*stage1_conv1"):
        D.amplify_filter(short, model=dreamer, layer="nope", index=0)
    with pytest.raises(ModelError, match="out of range.*8 filters"):
        D.amplify_filter(short, model=dreamer, layer="stage1_conv1", index=8)
    with pytest.raises(ModelError, match="Unknown class"):
        D.class_objective("banjo", classes=CLASSES)
    with pytest.raises(ModelError, match="out of range"):
        D.dream(short, model=dreamer, objective=D.ClassLogit(7))


def test_settings_mismatch(dreamer, short, settings):
    other = settings.replace(sample_rate=16_000)
    with pytest.raises(SettingsMismatchError, match="sample_rate"):
        D.dream(short, model=dreamer, settings=other, objective=D.layer_objective("stage1_conv1"))
    with pytest.raises(SettingsMismatchError, match="mel bands"):
        D.Dreamer(dreamer.model, settings=settings.replace(n_mels=64))


def test_settings_mismatch_with_saved_model(dreamer, short, settings, tmp_path):
    folder = models.save_model_dir(dreamer.model, tmp_path / "m", settings=settings, card={"classes": CLASSES})
    with pytest.raises(SettingsMismatchError):
        D.dream(short, model=str(folder), settings=settings.replace(hop_length=256),
                objective=D.layer_objective("stage1_conv1"))


def test_non_finite_gradients_raise_dream_error(settings, short):
    model = models.build_model("conv_blocks", {"width": 0.25}, settings=settings, n_classes=3, seed=0)
    conv = model.get_layer("stage1_conv1")
    conv.kernel.assign(np.full(conv.kernel.shape, np.nan, np.float32))
    with pytest.raises(DreamError, match="non-finite") as info:
        D.dream(short, model=D.Dreamer(model, settings=settings),
                objective=D.layer_objective("stage2_conv1"), steps=2)
    assert info.value.__cause__ is None and info.value.__context__ is None


def test_bad_options(dreamer, short):
    with pytest.raises(DreamError, match="phase"):
        D.dream(short, model=dreamer, objective=D.layer_objective("stage1_conv1"), phase="vocoder")
    with pytest.raises(DreamError, match="octaves"):
        D.dream(short, model=dreamer, objective=D.layer_objective("stage1_conv1"), phase="waveform", octaves=2)
    with pytest.raises(DreamError, match="batch"):
        dreamer.ascend(np.zeros((2, 128, 10), np.float32) - 50, D.audition_objective("stage1_conv1", [0, 1, 2]))
    with pytest.raises(ModelError, match="objective kind"):
        D.make_objective("neuron", layer="stage1_conv1")
    assert issubclass(DreamError, AuditoryDeepDreamError)


# ----------------------------------------------------------------- CLI (dream, layers)
def test_cli_dream_and_layers(dreamer, cello, settings, tmp_path, capsys):
    import soundfile as sf

    from auditory_deepdream import cli

    folder = models.save_model_dir(dreamer.model, tmp_path / "m", settings=settings, card={"classes": CLASSES})
    src = audio.save_audio(tmp_path / "in.wav", cello, sample_rate=settings.sample_rate)
    out = tmp_path / "out.wav"
    rc = cli.main(["dream", str(src), str(out), "--model", str(folder), "--layer", "stage2_conv1",
                   "--filter", "3", "--steps", "2", "--step-size", "2", "--seed", "1"])
    assert rc == 0
    y, sr = sf.read(out)
    assert sr == settings.sample_rate and len(y) == len(cello) and np.max(np.abs(y)) < 1
    assert "survival" in capsys.readouterr().out
    rc = cli.main(["dream", str(src), str(out), "--model", str(folder), "--objective", "class",
                   "--class", "string", "--steps", "1", "--phase", "griffin-lim"])
    assert rc == 0
    assert cli.main(["layers", "--model", str(folder)]) == 0
    listing = capsys.readouterr().out
    assert "stage1_conv1" in listing and "string" in listing
    assert cli.main(["dream", str(src), str(out), "--model", str(folder), "--layer", "stage1_conv1",
                     "--filter", "99"]) == 2
    assert "error:" in capsys.readouterr().err


# ----------------------------------------------------------------- waveform survival and full rate
def test_waveform_dream_keeps_its_gain_in_the_audio_unlike_griffin_lim(dreamer, notes):
    """Issue 7: the default waveform path keeps >= 90 % of its activation gain in the heard audio."""
    clips = np.stack(notes)
    objective = D.layer_objective("stage2_conv1")
    wave = D.dream(clips, model=dreamer, objective=objective, phase="waveform", steps=6)
    assert np.all(wave.objective_dreamed > wave.objective_before)
    assert np.all(wave.survival >= 0.9), wave.survival
    np.testing.assert_allclose(wave.loudness_out_db, wave.loudness_in_db, atol=0.1)
    assert np.all(wave.spectral_change_db > 0.1)
    griffin = D.dream(clips, model=dreamer, objective=objective, phase="griffin-lim", steps=6, n_iter=16)
    assert np.nanmean(griffin.survival) < np.mean(wave.survival)


def _band_snr_db(out, ref, *, sample_rate, low_hz=None, high_hz=None, n_fft=4096):
    import librosa

    freqs = librosa.fft_frequencies(sr=sample_rate, n_fft=n_fft)
    keep = (freqs >= (low_hz or 0)) & (freqs < (high_hz or np.inf))
    A, B = (np.abs(librosa.stft(np.asarray(x, np.float32), n_fft=n_fft))[keep] for x in (out, ref))
    return 10 * np.log10(np.sum(B.astype(np.float64) ** 2) / max(np.sum((A - B).astype(np.float64) ** 2), 1e-30))


@pytest.fixture(scope="module")
def beat48k():
    """Two seconds of a real drum break (hats and cymbals reach above 11 kHz) at 48 kHz."""
    from auditory_deepdream import pieces
    from auditory_deepdream.settings import AudioSettings

    return pieces.break_beat(seconds=2.0, settings=AudioSettings.preset("full_rate_48k"))


@pytest.mark.parametrize("phase", ["original", "waveform", "griffin-lim"])
def test_48k_file_comes_back_at_48k_with_its_high_band(dreamer, beat48k, settings, tmp_path, phase):
    import soundfile as sf

    edge = settings.sample_rate / 2
    spectrum = np.abs(np.fft.rfft(beat48k)) ** 2
    freqs = np.fft.rfftfreq(len(beat48k), 1 / 48_000)
    assert spectrum[freqs > edge].sum() / spectrum.sum() > 1e-3  # real content above the model's band
    src = audio.save_audio(tmp_path / "in48.wav", beat48k, sample_rate=48_000)
    path, result = D.dream_file(src, tmp_path / "out.wav", model=dreamer, objective=D.layer_objective("stage2_conv1"),
                                steps=4, step_size=2.0, phase=phase, n_iter=16)
    y, sr = sf.read(path, dtype="float32")
    assert sr == 48_000 and result.sample_rate == 48_000 and len(y) == len(beat48k)
    assert _band_snr_db(y, beat48k, sample_rate=48_000, low_hz=edge) > 30
    assert _band_snr_db(y, beat48k, sample_rate=48_000, high_hz=0.8 * edge) < 25  # the model's band was dreamed
    assert result.objective_dreamed > result.objective_before and np.isfinite(result.survival[0])


def test_full_rate_zero_steps_give_back_the_input(dreamer, beat48k):
    result = D.dream_full_rate(beat48k, sample_rate=48_000, model=dreamer, objective=D.layer_objective("stage1_conv1"),
                               steps=0)
    assert result.audio.shape == beat48k.shape
    assert _band_snr_db(result.audio, beat48k, sample_rate=48_000) > 40


def test_dataset_train_and_dream_at_48k_end_to_end(tmp_path, beat48k, capsys):
    """A 48 kHz model: render notes, build a store, train and dream with the project's own commands."""
    import soundfile as sf

    from auditory_deepdream import cli
    from auditory_deepdream.store import FeatureStore

    render, store, model = tmp_path / "render", tmp_path / "store", tmp_path / "model"
    assert cli.main(["render-soundfont", "--out", str(render), "--programs", "0", "40", "73",
                     "--velocities", "100", "--sample-rate", "48000", "--jobs", "1"]) == 0
    assert cli.main(["build-dataset", "--out", str(store), "--soundfont-dir", str(render),
                     "--settings", "full_rate_48k", "--jobs", "1"]) == 0
    assert FeatureStore(store).settings.sample_rate == 48_000
    assert cli.main(["train", "--store", str(store), "--out", str(model), "--builder", "timbre",
                     "--hp", "timbre_filters=8", "dense_units=16", "--epochs", "1",
                     "--log-dir", str(tmp_path / "logs")]) == 0
    dreamer48 = D.Dreamer.load(model)
    assert dreamer48.settings.sample_rate == 48_000
    src = audio.save_audio(tmp_path / "in.wav", beat48k, sample_rate=48_000)
    assert cli.main(["dream", str(src), str(tmp_path / "out.wav"), "--model", str(model), "--steps", "3",
                     "--phase", "waveform"]) == 0
    y, sr = sf.read(tmp_path / "out.wav", dtype="float32")
    assert sr == 48_000 and len(y) == len(beat48k)
    assert "48000 Hz" in capsys.readouterr().out
    result = D.dream(beat48k, model=dreamer48, objective=D.layer_objective(
        models.conv_layer_names(dreamer48.model)[0]), phase="waveform", steps=3)
    # backtracking: the objective never falls, even where a 1-epoch model's landscape is rough
    assert result.sample_rate == 48_000 and result.objective_dreamed[0] >= result.objective_before[0]
