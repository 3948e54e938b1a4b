"""The audio front end: load, trim, segment, log-mel encode and decode back to sound.

Every part of the library (dataset builds, training, dreaming) goes through these
functions, so a spectrogram means the same thing everywhere. A dream is
*encode → ascend → sonify*; this module holds the first and last steps.

All functions take the :class:`~auditory_deepdream.settings.AudioSettings` as a
keyword-only ``settings`` argument.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np

from .errors import AudioInputError
from .settings import AudioSettings

__all__ = [
    "load_audio",
    "check_audio",
    "trim",
    "segment",
    "n_segments",
    "mel_basis",
    "stft",
    "istft",
    "encode",
    "power_to_db",
    "db_to_power",
    "mel_to_magnitude",
    "decode",
    "save_audio",
    "AUDIO_SUFFIXES",
    "example_clip",
    "EXAMPLE_CLIPS",
]

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif", ".m4a")
_SILENCE = 1e-7  # peak amplitude below which a clip counts as silent
EXAMPLE_CLIPS = ("cello_C3", "flute_A4", "piano_E4")


def example_clip(name: str = "cello_C3") -> Path:
    """Path of a bundled real instrument note (rendered from the FluidR3 GM SoundFont).

    Parameters
    ----------
    name : str
        One of :data:`EXAMPLE_CLIPS`.
    """
    from importlib import resources

    if name not in EXAMPLE_CLIPS:
        raise AudioInputError(f"No bundled clip {name!r}; choose one of {list(EXAMPLE_CLIPS)}.")
    return Path(str(resources.files("auditory_deepdream") / "data" / "clips" / f"{name}.wav"))


def load_audio(path: str | os.PathLike, *, settings: AudioSettings | None = None,
               sample_rate: int | None = None) -> np.ndarray:
    """Read an audio file as mono float32 at the settings' sample rate.

    Parameters
    ----------
    path : str or path-like
        Any file soundfile or librosa can read (wav, flac, ogg, mp3, ...).
    settings : AudioSettings, optional
        Target sample rate is ``settings.sample_rate`` (default settings if omitted).
    sample_rate : int, optional
        Overrides the settings' sample rate; ``0`` keeps the file's own rate.

    Returns
    -------
    y : np.ndarray [shape=(n_samples,), dtype=float32]

    Raises
    ------
    AudioInputError
        Missing or empty file, a file that is not audio, no samples, non-finite
        samples, or a clip that is entirely silent.
    """
    import librosa

    settings = settings or AudioSettings()
    path = Path(path)
    if not path.exists():
        raise AudioInputError(f"Audio file not found: {path}. Check the path and try again.")
    if path.is_dir():
        raise AudioInputError(f"{path} is a folder, not an audio file. Pass a file such as a .wav.")
    if path.stat().st_size == 0:
        raise AudioInputError(f"Audio file {path} is empty (0 bytes). Re-export or re-download it.")
    import soundfile as sf

    sr = settings.sample_rate if sample_rate is None else (sample_rate or None)
    try:
        data, native_sr = sf.read(path, dtype="float32", always_2d=True)
        y = data.mean(axis=1)
    except Exception:  # formats libsndfile cannot read go through audioread
        try:
            y, native_sr = librosa.load(path, sr=None, mono=True)
        except Exception as exc:  # soundfile/audioread raise many unrelated types
            raise AudioInputError(
                f"Could not read {path} as audio ({type(exc).__name__}: {exc}). "
                f"Use a wav, flac, ogg or mp3 file; convert other formats first."
            ) from None
    y = check_audio(y, name=str(path))
    if sr is not None and native_sr != sr:
        y = librosa.resample(y, orig_sr=native_sr, target_sr=sr, res_type="soxr_hq")
    return y.astype(np.float32, copy=False)


def check_audio(y, *, name: str = "audio", allow_silent: bool = False) -> np.ndarray:
    """Validate a mono waveform and return it as float32.

    Parameters
    ----------
    y : array-like [shape=(n_samples,)]
    name : str
        What to call the audio in error messages.
    allow_silent : bool
        Accept an all-zero clip (the dreamer refuses them; padding may produce them).

    Returns
    -------
    y : np.ndarray [shape=(n_samples,), dtype=float32]

    Raises
    ------
    AudioInputError
        Wrong shape, no samples, NaN/inf samples, or silence.
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise AudioInputError(
            f"{name} has shape {y.shape}; expected a mono waveform of shape (n_samples,). "
            "Mix to mono first (e.g. y.mean(axis=0) for shape (channels, n_samples))."
        )
    if y.size == 0:
        raise AudioInputError(f"{name} has no samples (zero length). Use a clip with sound in it.")
    if not np.issubdtype(y.dtype, np.number):
        raise AudioInputError(f"{name} has dtype {y.dtype}; expected numeric samples.")
    if not np.all(np.isfinite(y)):
        bad = int(np.count_nonzero(~np.isfinite(y)))
        raise AudioInputError(
            f"{name} contains {bad} NaN or infinite samples. Repair the file or replace "
            "them (np.nan_to_num) before use."
        )
    if not allow_silent and np.max(np.abs(y)) < _SILENCE:
        raise AudioInputError(f"{name} is silent (all samples are zero). Use a clip with sound in it.")
    return y.astype(np.float32, copy=False)


def trim(y: np.ndarray, *, settings: AudioSettings, name: str = "audio") -> np.ndarray:
    """Remove leading and trailing audio quieter than ``settings.trim_db`` below the peak.

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,)]

    Returns
    -------
    y_trimmed : np.ndarray [shape=(n_trimmed,)]

    Raises
    ------
    AudioInputError
        If nothing is left after trimming (the clip is silent).
    """
    import librosa

    y = check_audio(y, name=name)
    out, _ = librosa.effects.trim(y, top_db=settings.trim_db, frame_length=settings.n_fft,
                                  hop_length=settings.hop_length)
    if out.size == 0 or np.max(np.abs(out)) < _SILENCE:
        raise AudioInputError(f"Nothing is left of {name} after trimming silence; it is silent.")
    return out


def n_segments(n_samples: int, *, segment_samples: int, hop_samples: int) -> int:
    """Number of segments :func:`segment` cuts from ``n_samples`` samples."""
    if n_samples <= 0:
        return 0
    return 1 + int(np.ceil(max(n_samples - segment_samples, 0) / hop_samples))


def segment(y: np.ndarray, *, settings: AudioSettings, hop_seconds: float | None = None,
            hop_samples: int | None = None) -> np.ndarray:
    """Cut a waveform into fixed-length segments, zero-padding the last.

    Segment ``i`` covers samples ``[i * hop, i * hop + segment_samples)``; there are
    just enough segments to cover every sample.

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,)]
    hop_seconds, hop_samples : float or int, optional
        Distance between segment starts (default: one segment, no overlap).

    Returns
    -------
    segments : np.ndarray [shape=(n_segments, segment_samples), dtype=float32]
    """
    y = check_audio(y, allow_silent=True)
    seg = settings.segment_samples
    if hop_samples is None:
        hop_samples = seg if hop_seconds is None else int(round(hop_seconds * settings.sample_rate))
    if hop_samples <= 0:
        raise AudioInputError(f"hop must be positive, got {hop_samples} samples.")
    n = n_segments(len(y), segment_samples=seg, hop_samples=hop_samples)
    padded = np.zeros((n - 1) * hop_samples + seg, dtype=np.float32)
    padded[: len(y)] = y
    idx = np.arange(n)[:, None] * hop_samples + np.arange(seg)[None, :]
    return padded[idx]


@functools.lru_cache(maxsize=16)
def mel_basis(settings: AudioSettings) -> np.ndarray:
    """Mel filter bank, shape ``(n_mels, 1 + n_fft // 2)``, float32 (librosa, Slaney norm)."""
    import librosa

    return librosa.filters.mel(sr=settings.sample_rate, n_fft=settings.n_fft,
                               n_mels=settings.n_mels, fmin=settings.fmin,
                               fmax=settings.mel_fmax).astype(np.float32)


def stft(y: np.ndarray, *, settings: AudioSettings) -> np.ndarray:
    """Complex STFT, centred frames with zero padding.

    Parameters
    ----------
    y : np.ndarray [shape=(..., n_samples)]

    Returns
    -------
    D : np.ndarray [shape=(..., 1 + n_fft // 2, 1 + n_samples // hop_length), dtype=complex64]
    """
    import librosa

    return librosa.stft(np.asarray(y, dtype=np.float32), n_fft=settings.n_fft,
                        hop_length=settings.hop_length, win_length=settings.win_length,
                        window="hann", center=True, pad_mode="constant")


def istft(D: np.ndarray, *, settings: AudioSettings, length: int | None = None) -> np.ndarray:
    """Inverse of :func:`stft`; ``length`` trims or pads the output to that many samples.

    Returns
    -------
    y : np.ndarray [shape=(..., length), dtype=float32]
    """
    import librosa

    return librosa.istft(D, hop_length=settings.hop_length, win_length=settings.win_length,
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

    Parameters
    ----------
    y : np.ndarray [shape=(..., n_samples)]
        One waveform or a batch (for example the output of :func:`segment`).

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
    D = stft(y, settings=settings)
    power = D.real ** 2 + D.imag ** 2
    mel = np.matmul(mel_basis(settings), power)
    return power_to_db(mel, settings=settings)


def mel_to_magnitude(mel_db: np.ndarray, *, settings: AudioSettings, n_iter: int = 20) -> np.ndarray:
    """Approximate STFT magnitude from a log-mel spectrogram (non-negative least squares).

    Solves ``min ||M S - P||`` over ``S >= 0`` (``M`` the mel bank, ``P`` the mel power)
    with Lee-Seung multiplicative updates, all frames of a batch at once. On real
    instrument notes 20 updates fit the mel more closely than
    :func:`librosa.util.nnls` (median 0.03 dB against 0.17 dB) in a fifth of the time.

    Parameters
    ----------
    mel_db : np.ndarray [shape=(..., n_mels, n_frames)]
    n_iter : int
        Multiplicative updates.

    Returns
    -------
    S : np.ndarray [shape=(..., 1 + n_fft // 2, n_frames), dtype=float32]
    """
    mel_db = np.asarray(mel_db, dtype=np.float32)
    lead, (n_mels, n_frames) = mel_db.shape[:-2], mel_db.shape[-2:]
    flat = np.moveaxis(mel_db.reshape(-1, n_mels, n_frames), 0, 1).reshape(n_mels, -1)
    M = mel_basis(settings)
    MtP = M.T @ db_to_power(flat, settings=settings)
    tiny = np.float32(1e-30)
    power = MtP / (M.T @ M.sum(axis=1, keepdims=True) + tiny)  # positive start: updates keep zeros at zero
    for _ in range(n_iter):
        power *= MtP / (M.T @ (M @ power) + tiny)
    S = np.sqrt(power)
    S = S.reshape(S.shape[0], -1, n_frames)
    return np.moveaxis(S, 1, 0).reshape(*lead, S.shape[0], n_frames).astype(np.float32)


def decode(mel_db: np.ndarray, *, settings: AudioSettings, n_iter: int = 32, seed: int = 0,
           length: int | None = None) -> np.ndarray:
    """Turn log-mel spectrograms back into audio with Griffin-Lim.

    Deterministic for a given ``seed`` (unlike :func:`librosa.feature.inverse.mel_to_audio`).

    Parameters
    ----------
    mel_db : np.ndarray [shape=(..., n_mels, n_frames)]
    n_iter : int
        Griffin-Lim iterations.
    seed : int
        Seed of the initial random phase.
    length : int, optional
        Output samples per spectrogram (default ``(n_frames - 1) * hop_length``).

    Returns
    -------
    y : np.ndarray [shape=(..., length), dtype=float32]
    """
    import librosa

    S = mel_to_magnitude(mel_db, settings=settings)
    if length is None:
        length = (S.shape[-1] - 1) * settings.hop_length
    y = librosa.griffinlim(S, n_iter=n_iter, hop_length=settings.hop_length,
                           win_length=settings.win_length, n_fft=settings.n_fft,
                           window="hann", center=True, pad_mode="constant", length=length,
                           random_state=np.random.RandomState(seed))
    return y.astype(np.float32)


def save_audio(path: str | os.PathLike, y: np.ndarray, *, sample_rate: int) -> Path:
    """Write a mono or batch-free waveform to ``path`` atomically (format from the suffix).

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,)]
    """
    import soundfile as sf

    from .atomic import atomic_path

    path = Path(path)
    with atomic_path(path) as tmp:
        sf.write(tmp, np.asarray(y, dtype=np.float32), sample_rate,
                 subtype="FLOAT" if path.suffix.lower() == ".wav" else None)
    return path
