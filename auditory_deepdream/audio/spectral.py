"""The NumPy/librosa spectral front end: window, mel bank, STFT and inverse, dB, log-mel encode.

These define what a spectrogram means everywhere in the library; the TensorFlow twin
(:mod:`auditory_deepdream.audio.tf_spectral`) reproduces them and is tested against them.
"""

from __future__ import annotations

import functools

import librosa
import numpy as np

from ..errors import AudioInputError
from ..settings import AudioSettings

__all__ = ["mel_basis", "hann_window", "stft", "istft", "power_to_db", "db_to_power", "encode"]


@functools.lru_cache(maxsize=16)
def mel_basis(settings: AudioSettings) -> np.ndarray:
    """Mel filter bank (librosa, Slaney norm).

    Returns
    -------
    M : np.ndarray [shape=(n_mels, 1 + n_fft // 2), dtype=float32]
    """
    return librosa.filters.mel(sr=settings.sample_rate, n_fft=settings.n_fft,
                               n_mels=settings.n_mels, fmin=settings.fmin,
                               fmax=settings.mel_fmax).astype(np.float32)


def hann_window(settings: AudioSettings) -> np.ndarray:
    """Periodic Hann window of ``win_length`` zero-padded (centred) to ``n_fft``, as librosa does.

    Returns
    -------
    window : np.ndarray [shape=(n_fft,), dtype=float32]
    """
    win = librosa.filters.get_window("hann", settings.win_length, fftbins=True)
    return librosa.util.pad_center(win, size=settings.n_fft).astype(np.float32)


def stft(y: np.ndarray, *, settings: AudioSettings) -> np.ndarray:
    """Complex STFT, centred frames with zero padding.

    Parameters
    ----------
    y : np.ndarray [shape=(..., n_samples)]
    settings : AudioSettings

    Returns
    -------
    stft_matrix : np.ndarray [shape=(..., 1 + n_fft // 2, 1 + n_samples // hop_length), dtype=complex64]

    See Also
    --------
    auditory_deepdream.audio.tf_spectral.TFSpectral.stft : the TensorFlow twin.
    """
    return librosa.stft(np.asarray(y, dtype=np.float32), n_fft=settings.n_fft,
                        hop_length=settings.hop_length, win_length=settings.win_length,
                        window="hann", center=True, pad_mode="constant")


def istft(stft_matrix: np.ndarray, *, settings: AudioSettings, length: int | None = None) -> np.ndarray:
    """Inverse of :func:`stft`.

    Parameters
    ----------
    stft_matrix : np.ndarray [shape=(..., 1 + n_fft // 2, n_frames), dtype=complex]
    settings : AudioSettings
    length : int, optional
        Trim or zero-pad the output to this many samples.

    Returns
    -------
    y : np.ndarray [shape=(..., length), dtype=float32]
    """
    return librosa.istft(stft_matrix, hop_length=settings.hop_length, win_length=settings.win_length,
                         n_fft=settings.n_fft, window="hann", center=True,
                         length=length).astype(np.float32)


def power_to_db(power: np.ndarray, *, settings: AudioSettings) -> np.ndarray:
    """Power to dB relative to ``settings.db_ref``, floored at ``settings.db_floor``."""
    power = np.maximum(power, settings.amin)
    return (10.0 * np.log10(power / settings.db_ref)).astype(np.float32)


def db_to_power(db: np.ndarray, *, settings: AudioSettings) -> np.ndarray:
    """Inverse of :func:`power_to_db` (values at the floor come back as the floor power)."""
    return (settings.db_ref * np.power(10.0, np.asarray(db, dtype=np.float64) / 10.0)).astype(np.float32)


def encode(y: np.ndarray, *, settings: AudioSettings) -> np.ndarray:
    """Log-mel spectrogram in dB.

    A batch is projected onto the mel bank in one matrix product over all its frames,
    several times faster than a product per item, so dataset builds call this directly.

    Parameters
    ----------
    y : np.ndarray [shape=(..., n_samples)]
        One waveform or a batch (for example the output of :func:`segment`).
    settings : AudioSettings

    Returns
    -------
    mel_db : np.ndarray [shape=(..., n_mels, 1 + n_samples // hop_length), dtype=float32]

    See Also
    --------
    auditory_deepdream.layers.LogMelSpectrogram : the same transform as a Keras layer.
    decode : back to audio with Griffin-Lim.
    """
    y = np.asarray(y, dtype=np.float32)
    if y.shape[-1] < settings.n_fft // 2 + 1:
        raise AudioInputError(
            f"Audio of {y.shape[-1]} samples is too short to encode; it needs at least "
            f"{settings.n_fft // 2 + 1} samples (n_fft/2 + 1) at {settings.sample_rate} Hz."
        )
    spec = stft(y, settings=settings)
    power = spec.real ** 2 + spec.imag ** 2
    lead, (n_freq, n_frames) = power.shape[:-2], power.shape[-2:]
    batch = power.reshape(-1, n_freq, n_frames)
    mel = mel_basis(settings) @ batch.transpose(1, 0, 2).reshape(n_freq, -1)  # (n_mels, batch * frames)
    mel = mel.reshape(-1, len(batch), n_frames).transpose(1, 0, 2).reshape(*lead, -1, n_frames)
    return power_to_db(mel, settings=settings)
