"""Sample-rate conversion: SoX's high-quality resampler, as ``librosa.resample`` calls it.

:func:`resample` gives exactly what ``librosa.resample(y, orig_sr=, target_sr=,
res_type='soxr_hq')`` gives (``python-soxr``, one channel at a time, then cut or padded
to ``ceil(n * target_sr / orig_sr)`` samples), without loading ``librosa.core`` (see
:mod:`.spectral`).
"""

from __future__ import annotations

import numpy as np
import soxr

__all__ = ["resample", "fit_length"]


def fit_length(y: np.ndarray, length: int) -> np.ndarray:
    """``y`` cut or zero-padded on its last axis to ``length`` samples (as ``librosa.util.fix_length``)."""
    n = y.shape[-1]
    if n > length:
        return y[..., :length]
    if n < length:
        return np.pad(y, [(0, 0)] * (y.ndim - 1) + [(0, length - n)])
    return y


def resample(y: np.ndarray, *, orig_sr: int, target_sr: int, length: int | None = None) -> np.ndarray:
    """Audio at ``orig_sr`` brought to ``target_sr`` (SoX "HQ" quality), float32.

    Parameters
    ----------
    y : np.ndarray [shape=(..., n_samples)]
    orig_sr, target_sr : int
    length : int, optional
        Samples of the result (default ``ceil(n_samples * target_sr / orig_sr)``).

    Returns
    -------
    y : np.ndarray [shape=(..., length), dtype=float32]
    """
    y = np.asarray(y, dtype=np.float32)
    if orig_sr != target_sr:
        n = int(np.ceil(y.shape[-1] * float(target_sr) / orig_sr))
        out = np.apply_along_axis(soxr.resample, -1, y, in_rate=orig_sr, out_rate=target_sr, quality="soxr_hq")
        y = fit_length(out, n).astype(np.float32, copy=False)
    if length is not None:
        y = fit_length(y, length)
    return y
