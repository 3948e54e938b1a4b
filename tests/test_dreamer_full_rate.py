"""Full-rate dreaming and files: 48 kHz in, 48 kHz out with the high band kept; the CLI ``dream``."""

import numpy as np
import pytest
import soundfile as sf
from dreamer_fixtures import CLASSES, band_snr_db

from auditory_deepdream import audio, cli, models
from auditory_deepdream.dataset import (
    FeatureStore,
    bach_prelude,
    break_beat,
    sustained_note,
)
from auditory_deepdream.dataset.soundfont import pip_soundfont
from auditory_deepdream.dreamer import (
    SOUND_PATHS,
    Dreamer,
    audition_objective,
    crossover_weights,
    dream,
    dream_channels,
    dream_file,
    dream_full_rate,
    layer_objective,
    log_spectral_distance,
)
from auditory_deepdream.errors import AudioInputError, ModelError
from auditory_deepdream.options import DreamOptions
from auditory_deepdream.settings import AudioSettings


@pytest.fixture(scope="module")
def beat48k():
    """Two seconds of a real drum break (hats and cymbals reach above 11 kHz) at 48 kHz."""
    return break_beat(seconds=2.0, settings=AudioSettings.preset("full_rate_48k"))


def test_crossover_weights():
    w = crossover_weights(np.array([0.0, 100.0, 150.0, 200.0, 5000.0]), start_hz=100.0, stop_hz=200.0)
    np.testing.assert_allclose(w, [1.0, 1.0, 0.5, 0.0, 0.0], atol=1e-7)


@pytest.mark.parametrize("path", list(SOUND_PATHS))
def test_48k_file_comes_back_at_48k_with_its_high_band(dreamer, beat48k, settings, tmp_path, path):
    edge = settings.sample_rate / 2
    spectrum = np.abs(np.fft.rfft(beat48k)) ** 2
    freqs = np.fft.rfftfreq(len(beat48k), 1 / 48_000)
    assert spectrum[freqs > edge].sum() / spectrum.sum() > 1e-3  # real content above the model's band
    src = audio.save_audio(tmp_path / "in48.wav", beat48k, sample_rate=48_000)
    out, result = dream_file(src, tmp_path / "out.wav", model=dreamer, objective=layer_objective("stage2_conv1"),
                             steps=4, step_size=2.0, n_iter=16, **SOUND_PATHS[path])
    y, sr = sf.read(out, dtype="float32")
    assert sr == 48_000 and result.sample_rate == 48_000 and len(y) == len(beat48k)
    assert band_snr_db(y, beat48k, sample_rate=48_000, low_hz=edge) > 30
    assert band_snr_db(y, beat48k, sample_rate=48_000, high_hz=0.8 * edge) < 25  # the model's band was dreamed
    assert result.objective_dreamed > result.objective_before and np.isfinite(result.survival[0])


def test_full_rate_zero_steps_give_back_the_input(dreamer, beat48k):
    result = dream_full_rate(beat48k, sample_rate=48_000, model=dreamer,
                             objective=layer_objective("stage1_conv1"), steps=0)
    assert result.audio.shape == beat48k.shape
    assert band_snr_db(result.audio, beat48k, sample_rate=48_000) > 40


def test_full_rate_at_the_models_rate_is_dream(dreamer, cello, settings):
    kwargs = dict(model=dreamer, objective=layer_objective("stage2_conv1"), steps=2, seed=1)
    np.testing.assert_array_equal(dream_full_rate(cello, sample_rate=settings.sample_rate, **kwargs).audio,
                                  dream(cello, **kwargs).audio)


def test_full_rate_copies_one_clip_to_a_batched_objective(dreamer, beat48k):
    result = dream_full_rate(beat48k[:24_000], sample_rate=48_000, model=dreamer, steps=1, measure=False,
                             objective=audition_objective("stage1_conv1", [0, 5]))
    assert result.audio.shape == result.input_audio.shape == (2, 24_000)
    np.testing.assert_array_equal(result.input_audio[1], beat48k[:24_000])


# ----------------------------------------------------------------- CLI (dream, layers)
def test_cli_dream_and_layers(dreamer, cello, settings, tmp_path, capsys):
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
    assert "class string" in capsys.readouterr().out
    assert cli.main(["layers", "--model", str(folder)]) == 0
    listing = capsys.readouterr().out
    assert "stage1_conv1" in listing and "string" in listing
    assert cli.main(["dream", str(src), str(out), "--model", str(folder), "--layer", "stage1_conv1",
                     "--filter", "99"]) == 2
    assert "error:" in capsys.readouterr().err


def test_dataset_train_and_dream_at_48k_end_to_end(tmp_path, beat48k, capsys):
    """A 48 kHz model: render notes, build a store, train and dream with the project's own commands."""
    render, store, model = tmp_path / "render", tmp_path / "store", tmp_path / "model"
    assert cli.main(["render-soundfont", "--out", str(render), "--programs", "0", "40", "73",
                     "--velocities", "100", "--sample-rate", "48000", "--jobs", "1"]) == 0
    assert cli.main(["build-dataset", "--out", str(store), "--soundfont-dir", str(render),
                     "--settings", "full_rate_48k", "--jobs", "1"]) == 0
    assert FeatureStore(store).settings.sample_rate == 48_000
    assert cli.main(["train", "--store", str(store), "--out", str(model), "--builder", "timbre",
                     "--hp", "timbre_filters=8", "dense_units=16", "--epochs", "1",
                     "--log-dir", str(tmp_path / "logs")]) == 0
    dreamer48 = Dreamer.load(model)
    assert dreamer48.settings.sample_rate == 48_000
    src = audio.save_audio(tmp_path / "in.wav", beat48k, sample_rate=48_000)
    assert cli.main(["dream", str(src), str(tmp_path / "out.wav"), "--model", str(model), "--steps", "3",
                     "--phase", "waveform"]) == 0
    y, sr = sf.read(tmp_path / "out.wav", dtype="float32")
    assert sr == 48_000 and len(y) == len(beat48k)
    assert "48000 Hz" in capsys.readouterr().out
    result = dream(beat48k, model=dreamer48, objective=layer_objective(
        models.conv_layer_names(dreamer48.model)[0]), domain="waveform", steps=3)
    # backtracking: the objective never falls, even where a 1-epoch model's landscape is rough
    assert result.sample_rate == 48_000 and result.objective_dreamed[0] >= result.objective_before[0]


# ----------------------------------------------------------------- channels: stereo in, stereo out
def _stereo_mix(sample_rate, seconds=1.5):
    """A cello panned left over the stereo prelude: two channels that really differ."""
    sf2 = pip_soundfont()
    cello = sustained_note(program=42, pitch=48, seconds=seconds, pan=30, sample_rate=sample_rate, soundfont=sf2)
    prelude = bach_prelude(channels=2, sample_rate=sample_rate, seconds=seconds, soundfont=sf2)
    return (0.5 * cello + 0.5 * prelude).astype(np.float32)


@pytest.fixture(scope="module")
def stereo44k():
    return _stereo_mix(44_100)


def _balance_db(y) -> float:
    """Left over right RMS, dB."""
    return float(10 * np.log10(np.mean(np.square(y[0], dtype=np.float64)) / np.mean(np.square(y[1], dtype=np.float64))))


def _lufs(y, sample_rate=44_100) -> float:
    return audio.integrated_loudness(y, sample_rate=sample_rate)


def test_dream_channels_keeps_shape_image_loudness_and_peak(dreamer, stereo44k):
    y = stereo44k
    assert abs(_balance_db(y)) > 2  # a real stereo image to keep
    result = dream_channels(y, sample_rate=44_100, model=dreamer, objective=layer_objective("stage2_conv1"),
                            strength=3.0)
    out = result.audio
    assert out.shape == y.shape and result.input_audio.shape == y.shape and result.sample_rate == 44_100
    assert not np.allclose(out[0], out[1], atol=1e-3)
    assert abs(_balance_db(out) - _balance_db(y)) < 1.0
    assert abs(_lufs(out) - _lufs(y)) < 0.5
    assert audio.true_peak_db(out) <= -1.0 + 0.1
    assert log_spectral_distance(y, out, sample_rate=44_100) > 0.2  # it did dream
    assert result.spectral_change_db[0] > 1.0 and result.objective_dreamed[0] > result.objective_before[0]


def test_hold_quiet_cells_keeps_the_quietest_cells_where_they_were_after_the_level_match():
    from auditory_deepdream.dreamer.rates import hold_quiet_cells

    rng = np.random.default_rng(0)
    power = 10 ** rng.uniform(-6, 0, (64, 40))
    gain = np.where(power > 0.1, -6.0, 0.0).astype(np.float32)  # cut the loud cells only
    weights = np.r_[np.ones(48), np.zeros(16)].astype(np.float32)  # the model hears the lower 48 bins
    held = hold_quiet_cells(gain, power, share=0.3, weights=weights)
    band = power[:48]
    quiet = band <= np.quantile(band, 0.3)
    given_back = 10 * np.log10(band.sum() / (band * 10 ** (held[:48] / 10)).sum())
    assert given_back > 3.0 and np.all(held[:48][quiet] <= -given_back + 1e-3)  # they stay where they were
    np.testing.assert_array_equal(held[:48][~quiet], gain[:48][~quiet])  # the rest is the dream's
    np.testing.assert_array_equal(held[48:], gain[48:])  # above the band, nothing is held
    np.testing.assert_array_equal(hold_quiet_cells(gain, power, share=0.0), gain)


def test_hold_floor_keeps_a_stereo_dreams_noise_lift_down(dreamer, stereo44k):
    from auditory_deepdream.dreamer import class_objective, noise_lift

    options = DreamOptions(consistent=True, steps=6, step_size=3.0, max_boost_db=0.0, smooth=9)
    objective = class_objective(2, classes=CLASSES)
    lifted = dream_channels(stereo44k, sample_rate=44_100, model=dreamer, objective=objective, options=options)
    held = dream_channels(stereo44k, sample_rate=44_100, model=dreamer, objective=objective,
                          options=options.replace(hold_floor=0.3))
    assert held.summary()["noise_lift_db"] == pytest.approx(noise_lift(stereo44k, held.audio, sample_rate=44_100),
                                                            abs=0.2)
    assert held.summary()["noise_lift_db"] < lifted.summary()["noise_lift_db"]


def test_dream_channels_reaches_a_lufs_target(dreamer, stereo44k):
    result = dream_channels(stereo44k, sample_rate=44_100, model=dreamer, objective=layer_objective("stage2_conv1"),
                            steps=4, step_size=2.0, loudness=-20.0)
    assert abs(_lufs(result.audio) + 20.0) < 0.5
    assert abs(_lufs(stereo44k) + 20.0) > 2  # the input was elsewhere
    assert audio.true_peak_db(result.audio) <= -1.0 + 0.1


def test_keep_leaves_the_dream_at_its_own_level_and_match_only_scales_it(dreamer, settings):
    """At the model's rate nothing lies above the band: the matched dream is the kept one times a constant."""
    y = _stereo_mix(settings.sample_rate)
    kwargs = {"sample_rate": settings.sample_rate, "model": dreamer, "objective": layer_objective("stage2_conv1"),
              "steps": 4, "step_size": 2.0, "ceiling_db": 6.0}  # a ceiling so high that the limiter never acts
    keep = dream_channels(y, loudness="keep", **kwargs).audio
    match = dream_channels(y, loudness="match", **kwargs).audio
    sr = settings.sample_rate
    assert abs(_lufs(match, sr) - _lufs(y, sr)) < 0.5
    assert abs(_lufs(keep, sr) - _lufs(y, sr)) > 0.5  # keep did not bring the dream to the input's loudness
    assert audio.true_peak_db(keep) < 5.5 and audio.true_peak_db(match) < 5.5
    scale = 10 ** ((_lufs(match, sr) - _lufs(keep, sr)) / 20)
    np.testing.assert_allclose(match, scale * keep, atol=2e-4)


def test_the_waveform_path_adds_one_change_to_both_channels(dreamer, stereo44k):
    assert SOUND_PATHS["waveform"] == {"domain": "waveform", "sonify": None}
    y = stereo44k
    result = dream_channels(y, sample_rate=44_100, model=dreamer, objective=layer_objective("stage2_conv1"),
                            steps=4, step_size=0.2, consistent=False, **SOUND_PATHS["waveform"])
    out = result.audio
    side_in, side_out = y[0] - y[1], out[0] - out[1]
    scale = float(np.dot(side_out, side_in) / np.dot(side_in, side_in))  # the loudness scale factor
    assert 0.8 < scale < 1.25
    np.testing.assert_allclose(side_out, scale * side_in, atol=1e-4 * np.max(np.abs(side_in)))
    change = out - scale * y
    np.testing.assert_allclose(change[0], change[1], atol=1e-4)  # the same change on both channels
    assert np.sqrt(np.mean(change[0] ** 2)) > 0.01 * np.sqrt(np.mean(y ** 2))  # and there is one
    assert abs(_lufs(out) - _lufs(y)) < 0.5


def test_dream_channels_refuses_a_batch_and_keeps_mono_mono(dreamer, stereo44k):
    with pytest.raises(AudioInputError, match="one recording"):
        dream_channels(stereo44k, sample_rate=44_100, model=dreamer, steps=1,
                       objective=audition_objective("stage1_conv1", [0, 1]))
    mono = stereo44k.mean(axis=0)
    result = dream_channels(mono, sample_rate=44_100, model=dreamer, objective=layer_objective("stage2_conv1"),
                            steps=2, step_size=2.0)
    assert result.audio.shape == mono.shape and result.input_audio.shape == mono.shape
    assert abs(_lufs(result.audio) - _lufs(mono)) < 0.5
    assert log_spectral_distance(mono, result.audio, sample_rate=44_100) > 0.1


# ----------------------------------------------------------------- files keep their format
@pytest.fixture(scope="module")
def stereo48k():
    return _stereo_mix(48_000, seconds=1.0)


@pytest.mark.parametrize("suffix, subtype", [(".wav", "PCM_16"), (".flac", "PCM_24")])
def test_dream_file_keeps_format_channels_and_rate(dreamer, stereo48k, tmp_path, suffix, subtype):
    src = tmp_path / f"in{suffix}"
    sf.write(src, stereo48k.T, 48_000, subtype=subtype)
    path, result = dream_file(src, tmp_path / f"out{suffix}", model=dreamer, objective=layer_objective("stage2_conv1"),
                              steps=2, step_size=2.0)
    info, info_in = sf.info(path), sf.info(src)
    assert (info.format, info.subtype) == (info_in.format, subtype)
    assert (info.channels, info.samplerate, info.frames) == (2, 48_000, stereo48k.shape[1])
    y, _ = sf.read(path, dtype="float32", always_2d=True)
    assert not np.allclose(y.T, stereo48k, atol=1e-2)  # dreamed
    assert abs(_lufs(y.T, 48_000) - _lufs(stereo48k, 48_000)) < 0.5
    assert result.audio.shape == (2, stereo48k.shape[1])


def test_dream_file_writes_nothing_when_it_fails(dreamer, stereo48k, tmp_path):
    src = tmp_path / "in.wav"
    sf.write(src, stereo48k.T, 48_000, subtype="PCM_16")
    out = tmp_path / "out.wav"
    with pytest.raises(ModelError, match="no_such_layer"):
        dream_file(src, out, model=dreamer, objective=layer_objective("no_such_layer"), steps=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.wav"]
    with pytest.raises(AudioInputError, match="suffix"):  # fails after dreaming, when writing
        dream_file(src, tmp_path / "out.xyz", model=dreamer, objective=layer_objective("stage1_conv1"), steps=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.wav"]
    out.write_bytes(b"an older result")  # a failed run leaves an existing file as it was
    with pytest.raises(ModelError):
        dream_file(src, out, model=dreamer, objective=layer_objective("no_such_layer"), steps=1)
    assert out.read_bytes() == b"an older result"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.wav", "out.wav"]


def test_dreaming_a_file_leaves_librosa_core_unloaded(stereo44k, tmp_path):
    """`auditory-deepdream dream` on a 44.1 kHz file runs without librosa.core, whose first use
    costs a process about 1.5 s (see audio/spectral.py); a fresh interpreter checks it."""
    import subprocess
    import sys

    src = tmp_path / "mix.wav"
    sf.write(src, stereo44k.T, 44_100, subtype="PCM_16")
    code = ("import sys; from auditory_deepdream import cli; "
            f"rc = cli.main(['dream', {str(src)!r}, {str(tmp_path / 'out.wav')!r}, '--max-steps', '4']); "
            "print('LOADED' if 'librosa.core.audio' in sys.modules else 'UNLOADED', rc)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert run.stdout.strip().splitlines()[-1] == "UNLOADED 0", run.stdout + run.stderr
    assert sf.info(tmp_path / "out.wav").channels == 2
