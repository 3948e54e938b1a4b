"""The loudness stage of a recording's dream: its integrated loudness (BS.1770) under a true-peak ceiling.

Only the model's band is scaled to reach the target (:func:`loudness_in_band`, with the
gain found by :func:`band_gain`), so the band above it stays the input's; then
:func:`finish_loudness` makes sure of the target and the ceiling.
"""

from __future__ import annotations

import numpy as np

from .. import audio
from ..options import DreamOptions
from ..settings import AudioSettings
from .rates import above_model_band

__all__ = ["set_loudness", "loudness_in_band", "band_gain", "finish_loudness"]


def set_loudness(out, y, *, high, sample_rate: int, settings: AudioSettings, options: DreamOptions):
    """The loudness stage of a recording's dream: ``options.loudness`` under ``options.ceiling_db``.

    The model's band is scaled to the target (:func:`loudness_in_band`), so the band
    above it stays the input's; then :func:`finish_loudness` makes sure of the target and
    the true-peak ceiling.

    Parameters
    ----------
    out, y : np.ndarray [shape=(channels, n_samples)]
        The dream and the recording, at ``sample_rate``.
    high : np.ndarray [shape=(channels, n_samples)] or None
        The band above the model's (:func:`~.rates.back_to_rate`).
    sample_rate : int
    settings : AudioSettings
        The model's.
    options : DreamOptions

    Returns
    -------
    out : np.ndarray [shape=(channels, n_samples)], float32
    lufs_in, lufs_out : float
    """
    mode = audio.parse_loudness(options.loudness)
    lufs_in, lufs_out = audio.integrated_loudness(y, sample_rate=sample_rate), None
    if mode != "keep":
        out, lufs_out = loudness_in_band(out.astype(np.float32), y, sample_rate=sample_rate, settings=settings,
                                         crossover=options.crossover, target_lufs=lufs_in if mode == "match" else mode,
                                         high=high)
    banded = out.astype(np.float32)
    out = finish_loudness(banded, y, sample_rate=sample_rate, loudness=options.loudness,
                          ceiling_db=options.ceiling_db, reference_lufs=lufs_in, out_lufs=lufs_out)
    if out is not banded or lufs_out is None:
        lufs_out = audio.integrated_loudness(out, sample_rate=sample_rate)
    return out, lufs_in, lufs_out


def loudness_in_band(out, y, *, sample_rate: int, settings: AudioSettings, crossover: tuple,
                      target_lufs: float, high=None, rounds: int = 4) -> tuple:
    """Reach ``target_lufs`` by scaling only the model's band of ``out``; above it stays ``y``'s.

    ``out`` splits into the input's band above the model's (its STFT weighted by one minus
    the crossover, exactly as the dream left it; ``high`` when the caller has it) and the
    rest; the rest is scaled by a factor found by the secant method on integrated loudness.
    Returns ``(out, its integrated loudness)``.
    """
    if high is None:
        high = above_model_band(y, settings=settings, sample_rate=sample_rate, crossover=crossover)
    band = out - high

    def loudness(log_gain):
        return audio.integrated_loudness(high + np.exp(log_gain) * band, sample_rate=sample_rate)

    log_gain, lufs = band_gain(loudness, target_lufs, rounds=rounds)
    return (out, lufs) if log_gain is None else ((high + np.exp(log_gain) * band).astype(np.float32), lufs)


def band_gain(loudness, target_lufs: float, *, rounds: int = 4) -> tuple:
    """The log gain on the model's band that brings a dream to ``target_lufs`` (secant method).

    Parameters
    ----------
    loudness : callable
        ``loudness(log_gain)``: integrated LUFS of the dream with its band scaled by ``exp(log_gain)``.
    target_lufs : float
    rounds : int

    Returns
    -------
    log_gain : float or None
        None when the dream is already within 0.05 LU (or either loudness is not finite).
    lufs : float
        The loudness reached.
    """
    a, la = 0.0, loudness(0.0)
    if not np.isfinite(target_lufs) or not np.isfinite(la):
        return None, la
    if abs(la - target_lufs) < 0.05:
        return None, la
    b = a + (target_lufs - la) * np.log(10) / 20  # as if the band were all of the loudness
    for _ in range(rounds):
        lb = loudness(b)
        if abs(lb - target_lufs) < 0.05 or lb == la:
            break
        a, la, b = b, lb, b + (target_lufs - lb) * (b - a) / (lb - la)
        b = float(np.clip(b, -6.0, 6.0))
    else:
        lb = loudness(b)
    return b, lb


def finish_loudness(out, reference, *, sample_rate: int, loudness="match", ceiling_db: float = -1.0,
                    reference_lufs: float | None = None, out_lufs: float | None = None) -> np.ndarray:
    """Bring a dream to its loudness (BS.1770 integrated LUFS) under a true-peak ceiling.

    Parameters
    ----------
    out, reference : np.ndarray [shape=(channels, n_samples) or (n_samples,)]
    sample_rate : int
    loudness : 'match', 'keep' or float
        ``'match'`` the reference's integrated loudness, ``'keep'`` the dream's own, or a
        target in LUFS (see :func:`~auditory_deepdream.audio.parse_loudness`).
    ceiling_db : float
        True-peak ceiling in dBTP.
    reference_lufs, out_lufs : float, optional
        The reference's and ``out``'s integrated loudness, when the caller has measured them.

    Returns
    -------
    out : np.ndarray, same shape
    """
    mode = audio.parse_loudness(loudness)
    out = np.asarray(out, dtype=np.float32)
    if mode != "keep":
        target = mode
        if mode == "match":
            target = (audio.integrated_loudness(reference, sample_rate=sample_rate) if reference_lufs is None
                      else reference_lufs)
        now = audio.integrated_loudness(out, sample_rate=sample_rate) if out_lufs is None else out_lufs
        if abs(now - target) > 0.05:
            return audio.match_loudness(out, sample_rate=sample_rate, target_lufs=target, ceiling_db=ceiling_db)
    # 4x oversampling finds inter-sample peaks at most ~3 dB over the sample peak: skip it when far below
    sample_peak_db = 20 * np.log10(max(float(np.max(np.abs(out))), 1e-12))
    if sample_peak_db <= ceiling_db - 3.5 or audio.true_peak_db(out) <= ceiling_db:
        return out
    return audio.limit_true_peak(out, sample_rate=sample_rate, ceiling_db=ceiling_db)
