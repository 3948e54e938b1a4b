"""Reading, checking and writing audio files, and the bundled example clips."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf

from ..atomic import atomic_path
from ..errors import AudioInputError
from ..settings import AudioSettings

__all__ = ["load_audio", "check_audio", "save_audio", "example_clip", "AUDIO_SUFFIXES", "EXAMPLE_CLIPS"]

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif", ".m4a")
EXAMPLE_CLIPS = ("cello_C3", "flute_A4", "piano_E4")
SILENCE = 1e-7  # peak amplitude below which a clip counts as silent


def example_clip(name: str = "cello_C3") -> Path:
    """Path of a bundled real instrument note (rendered from the FluidR3 GM SoundFont).

    Parameters
    ----------
    name : str
        One of :data:`EXAMPLE_CLIPS`.

    Returns
    -------
    path : pathlib.Path
    """
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
    settings = settings or AudioSettings()
    path = Path(path)
    if not path.exists():
        raise AudioInputError(f"Audio file not found: {path}. Check the path and try again.")
    if path.is_dir():
        raise AudioInputError(f"{path} is a folder, not an audio file. Pass a file such as a .wav.")
    if path.stat().st_size == 0:
        raise AudioInputError(f"Audio file {path} is empty (0 bytes). Re-export or re-download it.")
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
    if not allow_silent and np.max(np.abs(y)) < SILENCE:
        raise AudioInputError(f"{name} is silent (all samples are zero). Use a clip with sound in it.")
    return y.astype(np.float32, copy=False)


def save_audio(path: str | os.PathLike, y: np.ndarray, *, sample_rate: int) -> Path:
    """Write a mono waveform to ``path`` atomically (format from the suffix).

    Parameters
    ----------
    path : str or path-like
    y : np.ndarray [shape=(n_samples,)]
    sample_rate : int

    Returns
    -------
    path : pathlib.Path
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        sf.write(tmp, np.asarray(y, dtype=np.float32), sample_rate,
                 subtype="FLOAT" if path.suffix.lower() == ".wav" else None)
    return path
