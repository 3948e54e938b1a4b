"""The NumPy/librosa spectral front end: window, STFT round trip, dB, log-mel encode."""

import librosa
import numpy as np
import pytest
import scipy.signal

from auditory_deepdream import AudioInputError
from auditory_deepdream.audio import db_to_power, encode, hann_window, istft, power_to_db, segment, stft
from auditory_deepdream.audio.spectral import hann_istft, hann_stft


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


@pytest.mark.parametrize("n_fft, hop, win", [(2048, 512, 2048), (4096, 1024, 4096), (1024, 256, 800),
                                             (1000, 300, 1000)])
@pytest.mark.parametrize("shape", [(22050,), (2, 44100 + 17), (3000,), (100,)])
def test_hann_stft_pair_is_librosa_bit_for_bit(n_fft, hop, win, shape):
    """The STFT pair computes exactly librosa's numbers (so stores and dreams do not move)."""
    y = np.random.default_rng(sum(shape) + n_fft).normal(size=shape).astype(np.float32)
    with np.testing.suppress_warnings() as quiet:
        quiet.filter(UserWarning)  # librosa warns that n_fft is longer than the shortest signal
        ours = hann_stft(y, n_fft=n_fft, hop_length=hop, win_length=win)
        theirs = librosa.stft(y, n_fft=n_fft, hop_length=hop, win_length=win, window="hann", center=True,
                              pad_mode="constant")
    assert ours.dtype == theirs.dtype == np.complex64
    np.testing.assert_array_equal(ours, theirs)
    spec = theirs * np.complex64(np.exp(0.3j))
    for length in (None, shape[-1], shape[-1] + 5000, max(1, shape[-1] - 77)):
        back = hann_istft(spec, n_fft=n_fft, hop_length=hop, win_length=win, length=length)
        reference = librosa.istft(spec, n_fft=n_fft, hop_length=hop, win_length=win, window="hann", center=True,
                                  length=length)
        assert back.dtype == np.float32 and back.shape == reference.shape
        np.testing.assert_array_equal(back, reference)


def test_stft_wrappers_use_the_settings(cello, settings):
    np.testing.assert_array_equal(stft(cello, settings=settings),
                                  hann_stft(cello, n_fft=settings.n_fft, hop_length=settings.hop_length,
                                            win_length=settings.win_length))
