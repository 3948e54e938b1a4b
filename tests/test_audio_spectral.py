"""The NumPy/librosa spectral front end: window, STFT round trip, dB, log-mel encode."""

import librosa
import numpy as np
import pytest
import scipy.signal

from auditory_deepdream import AudioInputError
from auditory_deepdream.audio import db_to_power, encode, hann_window, istft, power_to_db, segment, stft


def test_encode_is_librosas_log_mel(cello, settings):
    """The encoder is librosa's mel spectrogram in dB with our floor and reference."""
    segs = segment(cello, settings=settings)
    mel = encode(segs, settings=settings)
    power = librosa.feature.melspectrogram(
        y=segs, sr=settings.sample_rate, n_fft=settings.n_fft, hop_length=settings.hop_length,
        win_length=settings.win_length, window="hann", center=True, pad_mode="constant", power=2.0,
        n_mels=settings.n_mels, fmin=settings.fmin, fmax=settings.mel_fmax)
    reference = 10 * np.log10(np.maximum(power, settings.amin) / settings.db_ref)
    assert mel.shape == (len(segs), settings.n_mels, settings.n_frames) and mel.dtype == np.float32
    np.testing.assert_allclose(mel, reference, atol=1e-3)
    assert mel.min() == pytest.approx(settings.db_floor)  # the silent tail sits at the floor


def test_encode_takes_any_leading_shape(cello, settings):
    segs = segment(cello, settings=settings, hop_seconds=0.25)[:4]
    grid = encode(segs.reshape(2, 2, -1), settings=settings)
    for i in range(2):
        for j in range(2):
            np.testing.assert_allclose(grid[i, j], encode(segs[2 * i + j], settings=settings), atol=1e-4)


def test_too_short_to_encode(settings):
    with pytest.raises(AudioInputError, match="too short"):
        encode(np.ones(100, dtype=np.float32), settings=settings)


def test_stft_round_trip_is_exact(cello, settings):
    y = istft(stft(cello, settings=settings), settings=settings, length=len(cello))
    snr = 10 * np.log10(np.sum(cello ** 2) / np.sum((cello - y) ** 2))
    assert snr > 60


def test_hann_window_is_periodic_and_centred(settings):
    np.testing.assert_allclose(hann_window(settings), scipy.signal.get_window("hann", settings.n_fft), atol=1e-7)
    short = settings.replace(win_length=settings.n_fft // 2)
    window = hann_window(short)
    quarter = settings.n_fft // 4
    assert not window[:quarter].any() and not window[-quarter:].any()
    np.testing.assert_allclose(window[quarter:-quarter], scipy.signal.get_window("hann", settings.n_fft // 2),
                               atol=1e-7)


def test_db_round_trip_above_the_floor(settings):
    power = np.array([1e-12, 1e-6, 0.5, 3.0], np.float32)
    db = power_to_db(power, settings=settings)
    assert db[0] == pytest.approx(settings.db_floor)
    np.testing.assert_allclose(db_to_power(db, settings=settings)[1:], power[1:], rtol=1e-5)
