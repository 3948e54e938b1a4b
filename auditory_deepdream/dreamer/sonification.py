"""From a dreamed log-mel change back to sound, and to the input's loudness.

:func:`sonify` turns the change a mel-domain dream made into audio, either as a gain on
the input's own STFT (``'original'`` phase: zero change gives back the input) or with
Griffin-Lim (``'griffin-lim'``, the dissertation's path). :func:`match_loudness` then
brings the result to the input's level without clipping.
"""

from __future__ import annotations

import numpy as np

from .. import audio
from ..errors import DreamError
from ..options import SONIFICATIONS
from ..settings import AudioSettings
from .activations import run_compiled

__all__ = ["SONIFICATIONS", "sonify", "mel_gain_to_stft_db"]



def _bin_weights(settings: AudioSettings) -> np.ndarray:
    """``(n_freq, n_mels)`` interpolation weights from mel bands to STFT bins (rows sum to 1 or 0)."""
    W = audio.mel_basis(settings).astype(np.float64)
    peak = W.max(axis=1, keepdims=True)
    tri = np.divide(W, peak, out=np.zeros_like(W), where=peak > 0)  # unit-height triangles
    total = tri.sum(axis=0)
    return np.divide(tri, total, out=np.zeros_like(tri), where=total > 0).T.astype(np.float32)


def mel_gain_to_stft_db(delta_db, *, settings: AudioSettings) -> np.ndarray:
    """Map a change of log-mel dB to a dB gain per STFT bin through the mel filter bank.

    Each bin takes the triangle-weighted average of the changes of the mel bands that
    cover it; bins no band covers (below ``fmin`` or above ``fmax``) keep 0 dB.

    Parameters
    ----------
    delta_db : np.ndarray [shape=(..., n_mels, n_frames)]
    settings : AudioSettings

    Returns
    -------
    gain_db : np.ndarray [shape=(..., 1 + n_fft // 2, n_frames)]
    """
    return np.matmul(_bin_weights(settings), np.asarray(delta_db, dtype=np.float32))


def sonify(y, delta_db, *, settings: AudioSettings, method: str = "original", n_iter: int = 32,
           seed: int = 0, max_gain_db: float = 60.0) -> np.ndarray:
    """Turn a dreamed change of the log-mel spectrogram into audio.

    Parameters
    ----------
    y : np.ndarray [shape=(batch, n_samples)]
        The original audio.
    delta_db : np.ndarray [shape=(batch, n_mels, 1 + n_samples // hop_length)]
        Dreamed minus original log-mel dB.
    settings : AudioSettings
    method : {'original', 'griffin-lim'}
        ``'original'``: the change becomes a gain on the original STFT (clamped to
        ``±max_gain_db``) and the original phase is kept; zero change gives back the
        input. ``'griffin-lim'``: the same magnitude, phase re-estimated by
        :func:`~auditory_deepdream.audio.griffin_lim` from a random start.
    n_iter, seed : int
        Griffin-Lim iterations and initial-phase seed.
    max_gain_db : float

    Returns
    -------
    out : np.ndarray [shape=(batch, n_samples)], not yet loudness-matched

    Raises
    ------
    DreamError
        An unknown ``method``.
    """
    if method not in SONIFICATIONS:
        raise DreamError(f"Unknown sonification {method!r}; choose one of {list(SONIFICATIONS)}.")
    y = np.asarray(y, dtype=np.float32)
    # auditioning a layer sonifies many dreams of one clip: its STFT is computed once
    same = len(y) > 1 and bool(np.all(y == y[:1]))
    spec = audio.stft(y[:1] if same else y, settings=settings)
    gain_db = np.clip(mel_gain_to_stft_db(delta_db, settings=settings), -max_gain_db, max_gain_db)
    gain = np.power(np.float32(10.0), gain_db / np.float32(20.0))
    if method == "original":
        return audio.istft(spec * gain, settings=settings, length=y.shape[-1])
    return run_compiled(audio.griffin_lim, np.abs(spec) * gain, settings=settings, n_iter=n_iter, seed=seed,
                        length=y.shape[-1])
