"""The NumPy/librosa spectral front end: window, mel bank, STFT and inverse, dB, log-mel encode.

These define what a spectrogram means everywhere in the library; the TensorFlow twin
(:mod:`auditory_deepdream.audio.tf_spectral`) reproduces them and is tested against them.

The STFT pair (:func:`hann_stft`, :func:`hann_istft`) is written here with SciPy's FFT
rather than called from librosa: it computes exactly what ``librosa.stft`` and
``librosa.istft`` compute (the same window, frames, FFT blocks and overlap-add order;
``tests/test_audio_spectral.py`` checks they are bit-identical), without loading
``librosa.core``, whose first use costs a process about 1.5 s (numba's cached functions
and librosa's lazy imports) on every ``auditory-deepdream dream``.
"""

from __future__ import annotations

import functools

import librosa
import numpy as np
import scipy.fft
import scipy.signal
from numpy.lib.stride_tricks import as_strided

from ..errors import AudioInputError
from ..settings import AudioSettings

__all__ = ["mel_basis", "mel_centres", "hann_window", "hann_stft", "hann_istft", "stft", "istft", "power_to_db",
           "db_to_power", "encode"]


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


def mel_centres(settings: AudioSettings) -> np.ndarray:
    """Centre frequencies of the mel bands of :func:`mel_basis`, in Hz, lowest first.

    Returns
    -------
    hz : np.ndarray [shape=(n_mels,), dtype=float64]
    """
    return librosa.mel_frequencies(settings.n_mels + 2, fmin=settings.fmin, fmax=settings.mel_fmax)[1:-1]


def hann_window(settings: AudioSettings) -> np.ndarray:
    """Periodic Hann window of ``win_length`` zero-padded (centred) to ``n_fft``, as librosa does.

    Returns
    -------
    window : np.ndarray [shape=(n_fft,), dtype=float32]
    """
    return _hann(settings.n_fft, settings.win_length).astype(np.float32)


_BLOCK_BYTES = 2 ** 18  # FFT this many bytes of frames at a time, as librosa does (its MAX_MEM_BLOCK)


@functools.lru_cache(maxsize=32)
def _hann(n_fft: int, win_length: int) -> np.ndarray:
    """Periodic Hann window of ``win_length`` centred in ``n_fft`` (float64, as librosa builds it)."""
    win = scipy.signal.get_window("hann", win_length, fftbins=True)  # what librosa.filters.get_window returns
    left = (n_fft - win_length) // 2
    out = np.pad(win, (left, n_fft - win_length - left))
    out.flags.writeable = False
    return out


def hann_stft(y: np.ndarray, *, n_fft: int, hop_length: int, win_length: int | None = None) -> np.ndarray:
    """Complex STFT with a periodic Hann window, centred frames and zero padding.

    Bit for bit ``librosa.stft(y, n_fft=, hop_length=, win_length=, window='hann',
    center=True, pad_mode='constant')`` for float32 input.

    Parameters
    ----------
    y : np.ndarray [shape=(..., n_samples)]
    n_fft, hop_length : int
    win_length : int, optional
        Default ``n_fft``.

    Returns
    -------
    stft_matrix : np.ndarray [shape=(..., 1 + n_fft // 2, 1 + n_samples // hop_length), dtype=complex64]
    """
    y = np.asarray(y, dtype=np.float32)
    window = _hann(n_fft, win_length or n_fft)[:, None]
    pad = n_fft // 2
    padded = np.pad(y, [(0, 0)] * (y.ndim - 1) + [(pad, pad)])
    n_frames = 1 + (padded.shape[-1] - n_fft) // hop_length
    step = padded.strides[-1]
    frames = as_strided(padded, shape=padded.shape[:-1] + (n_fft, n_frames),
                        strides=padded.strides[:-1] + (step, hop_length * step), writeable=False)
    out = np.empty(padded.shape[:-1] + (1 + n_fft // 2, n_frames), np.complex64)
    block = max(1, _BLOCK_BYTES // (n_fft * 4))
    for start in range(0, n_frames, block):
        out[..., start:start + block] = scipy.fft.rfft(window * frames[..., start:start + block], axis=-2)
    return out


def hann_istft(stft_matrix: np.ndarray, *, n_fft: int, hop_length: int, win_length: int | None = None,
               length: int | None = None) -> np.ndarray:
    """Inverse of :func:`hann_stft`: windowed overlap-add divided by the window's squares.

    Bit for bit ``librosa.istft(stft_matrix, n_fft=, hop_length=, win_length=,
    window='hann', center=True, length=)`` for complex64 input: frames are added in
    order, in float32, as librosa's overlap-add does.

    Parameters
    ----------
    stft_matrix : np.ndarray [shape=(..., 1 + n_fft // 2, n_frames), dtype=complex]
    n_fft, hop_length : int
    win_length : int, optional
    length : int, optional
        Trim or zero-pad the output to this many samples.

    Returns
    -------
    y : np.ndarray [shape=(..., length), dtype=float32]
    """
    spec = np.asarray(stft_matrix)
    window = _hann(n_fft, win_length or n_fft)
    n_frames = spec.shape[-1]
    if length:
        n_frames = min(n_frames, int(np.ceil((length + 2 * (n_fft // 2)) / hop_length)))
    full = n_fft + hop_length * (n_frames - 1)
    y = np.zeros(spec.shape[:-2] + (full,), np.float32)
    envelope = np.zeros(full, np.float32)
    block = max(1, 16 * _BLOCK_BYTES // (int(np.prod(spec.shape[:-1])) * spec.itemsize))
    for start in range(0, n_frames, block):
        part = np.swapaxes(spec[..., start:min(start + block, n_frames)], -1, -2)  # (..., frames, n_freq)
        _overlap_add(y, scipy.fft.irfft(part, n=n_fft, axis=-1) * window, start=start, hop=hop_length)
    _overlap_add(envelope, np.broadcast_to(window ** 2, (n_frames, n_fft)), start=0, hop=hop_length)
    pad = n_fft // 2
    n_out = length if length else full - 2 * pad
    y, envelope = y[..., pad:pad + n_out], envelope[pad:pad + n_out]
    if y.shape[-1] < n_out:
        y = np.pad(y, [(0, 0)] * (y.ndim - 1) + [(0, n_out - y.shape[-1])])
        envelope = np.pad(envelope, (0, n_out - envelope.shape[-1]))
    nonzero = envelope > np.finfo(np.float32).tiny
    if nonzero.all():
        y /= envelope
    else:
        y[..., nonzero] /= envelope[nonzero]
    return y


def _overlap_add(y: np.ndarray, frames: np.ndarray, *, start: int, hop: int) -> None:
    """Add ``frames`` (..., n, n_fft) into ``y`` (..., samples) from frame ``start`` on, in place.

    Each sample receives its frames in frame order, each sum rounded to ``y``'s float32 as
    librosa's overlap-add does, so the result is the same to the bit. When ``hop`` divides
    ``n_fft`` the frames go in as ``n_fft / hop`` shifted block copies (last block first,
    which keeps that order), else one frame at a time.
    """
    n, n_fft = frames.shape[-2], frames.shape[-1]
    if n_fft % hop:
        for j in range(n):
            at = (start + j) * hop
            y[..., at:at + n_fft] += frames[..., j, :]
        return
    per = n_fft // hop
    parts = frames.reshape(frames.shape[:-1] + (per, hop))  # (..., n, per, hop)
    blocks = y[..., start * hop:(start + n + per - 1) * hop].reshape(y.shape[:-1] + (n + per - 1, hop))
    for k in reversed(range(per)):  # block b gets frame b - k: k falling is frames in rising order
        blocks[..., k:k + n, :] += parts[..., k, :]


def stft(y: np.ndarray, *, settings: AudioSettings) -> np.ndarray:
    """Complex STFT, centred frames with zero padding (:func:`hann_stft` of the settings).

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
    return hann_stft(y, n_fft=settings.n_fft, hop_length=settings.hop_length, win_length=settings.win_length)


def istft(stft_matrix: np.ndarray, *, settings: AudioSettings, length: int | None = None) -> np.ndarray:
    """Inverse of :func:`stft` (:func:`hann_istft` of the settings).

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
    return hann_istft(stft_matrix, n_fft=settings.n_fft, hop_length=settings.hop_length,
                      win_length=settings.win_length, length=length)


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
