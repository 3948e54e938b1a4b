"""Full-rate dreaming and files: 48 kHz in, 48 kHz out with the high band kept; the CLI ``dream``."""

import numpy as np
import pytest
import soundfile as sf
from dreamer_fixtures import CLASSES, band_snr_db

from auditory_deepdream import audio, cli, models
from auditory_deepdream.dataset import FeatureStore, break_beat
from auditory_deepdream.dreamer import (
    SOUND_PATHS,
    Dreamer,
    audition_objective,
    crossover_weights,
    dream,
    dream_file,
    dream_full_rate,
    layer_objective,
)
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
