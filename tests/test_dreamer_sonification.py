"""From a mel change to sound: the gain map, both sonifications, loudness and the limiter."""

import numpy as np
import pytest
from dreamer_fixtures import snr_db

from auditory_deepdream import audio
from auditory_deepdream.audio.loudness import match_rms, soft_limit
from auditory_deepdream.dreamer import mel_gain_to_stft_db, sonify
from auditory_deepdream.errors import DreamError


@pytest.fixture(scope="module")
def clips(notes):
    return np.stack([y[:11025] for y in notes[:2]])


def test_mel_gain_maps_to_covered_bins(settings):
    gain = mel_gain_to_stft_db(np.full((settings.n_mels, 3), 6.0, np.float32), settings=settings)
    covered = audio.mel_basis(settings).sum(axis=0) > 0
    np.testing.assert_allclose(gain[covered], 6.0, rtol=1e-4)
    np.testing.assert_allclose(gain[~covered], 0.0)


def test_no_change_with_the_original_phase_gives_back_the_input(clips, settings):
    delta = np.zeros((len(clips), settings.n_mels, 1 + clips.shape[1] // settings.hop_length), np.float32)
    out = sonify(clips, delta, settings=settings, method="original")
    assert min(snr_db(o, c) for o, c in zip(out, clips)) > 60


def test_a_gain_becomes_that_much_louder(clips, settings):
    delta = np.full((len(clips), settings.n_mels, 1 + clips.shape[1] // settings.hop_length), 6.0, np.float32)
    out = sonify(clips, delta, settings=settings, method="original")
    ratio_db = 20 * np.log10(np.sqrt(np.mean(out ** 2, axis=-1) / np.mean(clips ** 2, axis=-1)))
    np.testing.assert_allclose(ratio_db, 6.0, atol=0.5)  # all energy sits inside the mel bank's range


def test_griffin_lim_sonification_is_the_front_ends_griffin_lim(clips, settings):
    delta = np.zeros((len(clips), settings.n_mels, 1 + clips.shape[1] // settings.hop_length), np.float32)
    out = sonify(clips, delta, settings=settings, method="griffin-lim", n_iter=4, seed=7)
    magnitude = np.abs(audio.stft(clips, settings=settings))
    expected = audio.griffin_lim(magnitude, settings=settings, n_iter=4, seed=7, length=clips.shape[1])
    np.testing.assert_allclose(out, expected, atol=1e-5)


def test_unknown_sonification(clips, settings):
    with pytest.raises(DreamError, match="Unknown sonification 'vocoder'"):
        sonify(clips, np.zeros((2, settings.n_mels, 44), np.float32), settings=settings, method="vocoder")


def test_soft_limit_and_match_rms():
    y = np.linspace(-3, 3, 1001, dtype=np.float32)
    limited = soft_limit(y)
    assert np.max(np.abs(limited)) < 1.0 and np.all(np.diff(limited) >= 0)
    np.testing.assert_array_equal(limited[np.abs(y) <= 0.9], y[np.abs(y) <= 0.9])
    quiet = np.sin(np.linspace(0, 60, 4000)).astype(np.float32) * 0.1
    matched = match_rms(quiet * 5, quiet)
    np.testing.assert_allclose(matched, quiet, atol=1e-6)
    np.testing.assert_array_equal(match_rms(np.zeros(10, np.float32), quiet[:10]), np.zeros(10))
