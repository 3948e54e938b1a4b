"""Cutting waveforms in time: trim silence, segment with a hop."""

from __future__ import annotations

import librosa
import numpy as np

from ..errors import AudioInputError
from ..settings import AudioSettings
from .io import SILENCE, check_audio

__all__ = ["trim", "segment", "n_segments"]


def trim(y: np.ndarray, *, settings: AudioSettings, name: str = "audio") -> np.ndarray:
    """Remove leading and trailing audio quieter than ``settings.trim_db`` below the peak.

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,)]
    settings : AudioSettings
    name : str
        What to call the audio in error messages.

    Returns
    -------
    y_trimmed : np.ndarray [shape=(n_trimmed,)]

    Raises
    ------
    AudioInputError
        If nothing is left after trimming (the clip is silent).
    """
    y = check_audio(y, name=name)
    out, _ = librosa.effects.trim(y, top_db=settings.trim_db, frame_length=settings.n_fft,
                                  hop_length=settings.hop_length)
    if out.size == 0 or np.max(np.abs(out)) < SILENCE:
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
    settings : AudioSettings
        Gives the segment length.
    hop_seconds, hop_samples : float or int, optional
        Distance between segment starts (default: one segment, no overlap).

    Returns
    -------
    segments : np.ndarray [shape=(n_segments, segment_samples), dtype=float32]
    """
    y = check_audio(y, allow_silent=True)
    seg = settings.segment_samples
    if hop_samples is None:
        hop_samples = seg if hop_seconds is None else round(hop_seconds * settings.sample_rate)
    if hop_samples <= 0:
        raise AudioInputError(f"hop must be positive, got {hop_samples} samples.")
    n = n_segments(len(y), segment_samples=seg, hop_samples=hop_samples)
    padded = np.zeros((n - 1) * hop_samples + seg, dtype=np.float32)
    padded[: len(y)] = y
    idx = np.arange(n)[:, None] * hop_samples + np.arange(seg)[None, :]
    return padded[idx]
