"""True loudness: ITU-R BS.1770 integrated loudness, true peak, a look-ahead limiter.

A dream comes out of Griffin-Lim at whatever level the ascent left it. These functions
bring it back to the loudness of the clip that went in (or to a LUFS target) without
clipping: :func:`match_loudness` scales to the target's integrated loudness
(:func:`integrated_loudness`, via pyloudnorm) and then runs :func:`limit_true_peak`, a
click-free look-ahead limiter that keeps the true (inter-sample) peak
(:func:`true_peak_db`) under a ceiling.

:func:`rms_db`, :func:`match_rms` and :func:`soft_limit` are the plain RMS level the dreamer
holds clips at while it climbs, and the soft clip it keeps them under 1 with.

Arrays are mono ``(n_samples,)`` or channels first ``(channels, n_samples)``, with any
number of channels, as everywhere in the package; the same gain goes on every channel, so
the stereo image stays. Loudness weights the channels as BS.1770-4 does for L, R, C, Ls, Rs
and gives every channel beyond the fifth weight 1.0 (see :func:`integrated_loudness`).
"""

from __future__ import annotations


import numpy as np
import pyloudnorm
from scipy.ndimage import minimum_filter1d
from scipy.signal import resample_poly

from ..errors import AudioInputError
from ..options import parse_loudness  # noqa: F401  (re-exported: the option is parsed with the others)
from .io import check_channels

__all__ = ["integrated_loudness", "limit_true_peak", "match_loudness", "parse_loudness", "true_peak_db",
           "rms_db", "match_rms", "soft_limit"]

BLOCK_SECONDS = 0.400  # BS.1770 gating block
_BLOCK_STEP = 0.25  # blocks overlap by 75 %
_ABSOLUTE_GATE = -70.0  # LUFS
_SURROUND_WEIGHT = 1.41  # BS.1770-4's weight of Ls and Rs, the 4th and 5th channels
_TOLERANCE_LU = 0.1  # match_loudness stops within this of the target
_ROUNDS = 4  # most gain-then-limit rounds in match_loudness
_MAX_STEP_DB = 12.0  # largest extra gain one round of match_loudness adds
_AIM_HIGH = 1.25  # match_loudness's later rounds step this much past the estimated gain


def _channels(y, *, name: str = "audio") -> np.ndarray:
    """``y`` as a float64 ``(channels, n_samples)`` array; AudioInputError if unusable."""
    return check_channels(y, name=name).astype(np.float64)


def _like(out: np.ndarray, y) -> np.ndarray:
    """``out`` (channels, n) back in the shape of ``y`` (1-D stays 1-D), as float32."""
    out = out.astype(np.float32)
    return out[0] if np.ndim(y) == 1 else out


def _channel_weights(n_channels: int) -> np.ndarray:
    """BS.1770 channel weights for ``n_channels`` channels in file order.

    The first five get BS.1770-4's weights for L, R, C, Ls, Rs (1.0, 1.0, 1.0, 1.41, 1.41);
    every channel beyond the fifth gets 1.0, the weight BS.1770-4 gives every channel outside
    the ±60-120° surround zone (a file's channel order does not say which channel is where,
    and no channel is treated as LFE).

    Parameters
    ----------
    n_channels : int

    Returns
    -------
    weights : np.ndarray [shape=(n_channels,), dtype=float64]
    """
    weights = np.ones(n_channels)
    weights[3:5] = _SURROUND_WEIGHT
    return weights


def integrated_loudness(y, *, sample_rate: int) -> float:
    """ITU-R BS.1770-4 integrated (gated) loudness, for any number of channels.

    Each channel is K-weighted (the two-stage pre-filter, designed for the sample rate as
    :mod:`pyloudnorm` designs it), its mean square taken over 400 ms blocks that overlap by
    75 %, and the blocks' weighted sum over channels gated at -70 LUFS and then at 10 LU
    under the mean of the blocks that pass; this is :class:`pyloudnorm.Meter`'s measurement,
    to rounding, for up to five channels. Channel weights: the first five channels get
    BS.1770-4's weights for L, R, C, Ls, Rs (1.0, 1.0, 1.0, 1.41, 1.41); every channel beyond
    the fifth gets 1.0, the weight BS.1770-4 gives every channel outside the ±60-120° surround
    zone (a file's channel order does not say which channel is where, and no channel is
    treated as LFE).

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,) or (channels, n_samples)]
        Channels in BS.1770 order (L, R, C, Ls, Rs, then any others).
    sample_rate : int
        Hz.

    Returns
    -------
    lufs : float
        Loudness in LUFS; ``-inf`` for silence or a clip whose every block is gated
        out (quieter than -70 LUFS).

    Notes
    -----
    A clip shorter than the standard 400 ms gating block is measured as one block the
    length of the clip, instead of failing; such a value is an estimate, not a
    standard-conforming measurement.

    Raises
    ------
    AudioInputError
        Wrong shape, no samples or non-finite samples.
    """
    y2 = _channels(y)
    n_channels, n = y2.shape
    if not np.any(y2):
        return float("-inf")
    block = BLOCK_SECONDS
    if n < block * sample_rate:
        block = n / sample_rate
        if block * sample_rate > n:  # rounding must not make the block longer than the clip
            block = np.nextafter(block, 0.0)
    for stage in _k_weighting(sample_rate):
        y2 = stage.apply_filter(y2)  # along the last axis: each channel on its own
    # the block bounds exactly as pyloudnorm.Meter computes them
    n_blocks = int(np.round((n / sample_rate - block) / (block * _BLOCK_STEP))) + 1
    starts = np.arange(n_blocks) * _BLOCK_STEP
    lower = (block * starts * sample_rate).astype(int)
    upper = (block * (starts + 1) * sample_rate).astype(int)
    squares = np.square(y2)
    mean_squares = (np.stack([squares[:, a:b].sum(axis=1) for a, b in zip(lower, upper)], axis=1)
                    / (block * sample_rate))  # (channels, n_blocks)
    power = _channel_weights(n_channels) @ mean_squares  # (n_blocks,): the weighted sum over channels
    with np.errstate(divide="ignore"):
        levels = -0.691 + 10.0 * np.log10(power)
    loud = levels >= _ABSOLUTE_GATE
    if not loud.any():
        return float("-inf")
    relative_gate = -0.691 + 10.0 * np.log10(power[loud].mean()) - 10.0
    kept = (levels > relative_gate) & (levels > _ABSOLUTE_GATE)
    if not kept.any():
        return float("-inf")
    return float(-0.691 + 10.0 * np.log10(power[kept].mean()))


def _k_weighting(sample_rate: int) -> tuple:
    """BS.1770's K-weighting at ``sample_rate``: a high shelf, then a high pass (pyloudnorm's design)."""
    return (pyloudnorm.IIRfilter(4.0, 1 / np.sqrt(2), 1500.0, sample_rate, "high_shelf"),
            pyloudnorm.IIRfilter(0.0, 0.5, 38.0, sample_rate, "high_pass"))


def true_peak_db(y, *, sample_rate: int | None = None, oversample: int = 4) -> float:
    """True peak in dBTP: the largest magnitude of the oversampled signal (BS.1770 Annex 2).

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,) or (channels, n_samples)]
        Any number of channels; the peak is over all of them.
    sample_rate : int, optional
        Not needed: the oversampling is relative to the rate. Accepted so callers can
        pass the same keywords as to the other functions here.
    oversample : int
        Oversampling factor (4 per BS.1770 for 48 kHz material).

    Returns
    -------
    dbtp : float
        ``20 log10`` of the peak over all channels; ``-inf`` for silence. Never below
        the sample peak.
    """
    del sample_rate  # documented above: the measurement does not depend on it
    y2 = _channels(y)
    loud = np.abs(y2).max(axis=0)
    top = float(loud.max()) if loud.size else 0.0
    if top <= 0:
        return float("-inf")
    hot = np.flatnonzero(loud >= 0.3 * top)
    if oversample < 1:
        raise AudioInputError(f"oversample must be a positive integer; got {oversample}.")
    if hot.size > 20_000:
        peak = max(top, float(np.abs(resample_poly(y2, oversample, 1, axis=-1)).max()))
    else:  # only next to samples within 10.5 dB of the peak can the oversampled signal rise above it:
        # oversample a short window around each of them, all windows in one call
        reach = 16
        padded = np.pad(y2, [(0, 0), (reach, reach)])  # silence beyond the ends, as the full path assumes
        rows = padded[:, hot[:, None] + np.arange(2 * reach + 1)].reshape(-1, 2 * reach + 1)
        fine = np.abs(resample_poly(rows, oversample, 1, axis=-1))
        centre = slice((reach - 1) * oversample, (reach + 2) * oversample)  # from sample i - 1 to i + 1
        peak = max(top, float(fine[:, centre].max()))
    return 20.0 * np.log10(peak)


def _peak_envelope(y2: np.ndarray, oversample: int) -> np.ndarray:
    """Per-sample true-peak envelope, linked over channels.

    Parameters
    ----------
    y2 : np.ndarray [shape=(channels, n_samples)]
    oversample : int

    Returns
    -------
    peak : np.ndarray [shape=(n_samples,)]
        Largest oversampled magnitude, over all channels, between sample ``i - 1`` and
        ``i + 1``, and at least the sample's own magnitude.
    """
    if oversample < 1:
        raise AudioInputError(f"oversample must be a positive integer; got {oversample}.")
    n = y2.shape[1]
    fine = np.abs(resample_poly(y2, oversample, 1, axis=-1)).max(axis=0)[: n * oversample]
    fine = np.pad(fine, (0, n * oversample - fine.size))
    after = fine.reshape(n, oversample).max(axis=1)  # between sample i and i + 1
    before = np.concatenate([after[:1], after[:-1]])  # between sample i - 1 and i
    return np.maximum(np.maximum(after, before), np.abs(y2).max(axis=0))


def limit_true_peak(y, *, sample_rate: int, ceiling_db: float = -1.0, lookahead_ms: float = 5.0,
                    release_ms: float = 80.0) -> np.ndarray:
    """A click-free look-ahead limiter that keeps the true peak under ``ceiling_db``.

    The gain each sample needs comes from the 4× oversampled peak, linked across
    channels (one gain for all, so the stereo image stays). A running minimum over the
    look-ahead window makes the gain reach its value by the time the peak arrives; an
    exponential release lets it recover; a moving average over the look-ahead window
    turns the drop into a ramp (the attack), so the gain never jumps. If the result
    still overshoots (the gain's own modulation can move inter-sample peaks a little),
    the whole clip is scaled down by that small amount.

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,) or (channels, n_samples)]
        Any number of channels, all turned down by the same gain.
    sample_rate : int
        Hz.
    ceiling_db : float
        Highest true peak allowed, dBTP.
    lookahead_ms : float
        Look-ahead (and attack) time in milliseconds.
    release_ms : float
        Time constant of the exponential release, milliseconds.

    Returns
    -------
    y_out : np.ndarray [shape=y.shape, dtype=float32]
        ``y`` unchanged (as float32) when its true peak is already under the ceiling.

    Raises
    ------
    AudioInputError
        Wrong shape, no samples or non-finite samples; a non-positive sample rate or
        negative times.
    """
    y2 = _channels(y)
    if sample_rate <= 0 or lookahead_ms < 0 or release_ms < 0:
        raise AudioInputError(
            f"limit_true_peak needs sample_rate > 0 and non-negative times; got sample_rate="
            f"{sample_rate}, lookahead_ms={lookahead_ms}, release_ms={release_ms}.")
    ceiling = 10.0 ** (ceiling_db / 20.0)
    peak = _peak_envelope(y2, 4)
    if peak.max() <= ceiling:
        return _like(y2, y)
    needed = np.minimum(1.0, ceiling / np.maximum(peak, 1e-30))
    look = max(round(lookahead_ms * 1e-3 * sample_rate), 0)
    # gain[i] <= needed[j] for every j in [i, i + look]: the gain is down before the peak
    gain = minimum_filter1d(needed, size=look + 1, origin=-((look + 1) // 2), mode="constant", cval=1.0)
    gain = _release(gain, release_ms * 1e-3 * sample_rate)
    # attack ramp: mean of the gain over [i - look, i]; each term is <= needed[i]
    padded = np.concatenate([np.full(look, gain[0]), gain])
    sums = np.concatenate([[0.0], np.cumsum(padded)])
    gain = (sums[look + 1:] - sums[: gain.size]) / (look + 1)
    out = y2 * np.minimum(gain, 1.0)
    over = np.max(_peak_envelope(out, 4))
    if over > ceiling:  # a last, tiny, uniform correction
        out *= ceiling / over
    return _like(out, y)


def _release(gain: np.ndarray, tau: float) -> np.ndarray:
    """Let a gain recover exponentially: attenuation decays with time constant ``tau`` samples.

    Instant attack, exponential release in the log domain: ``att[i] = max(a[i],
    att[i-1] * exp(-1/tau))`` with ``a = -log(gain)``, computed without a Python loop as
    a running maximum of ``log a[j] + j / tau``.

    Parameters
    ----------
    gain : np.ndarray [shape=(n_samples,)]
        Values in (0, 1].
    tau : float
        Release time constant in samples (0: no release smoothing).

    Returns
    -------
    gain : np.ndarray [shape=(n_samples,)]
        Never above the input.
    """
    if tau <= 0:
        return gain
    attenuation = -np.log(gain)
    t = np.arange(gain.size) / tau
    with np.errstate(divide="ignore"):
        log_att = np.log(attenuation)  # -inf where no attenuation is needed
    held = np.maximum.accumulate(log_att + t) - t
    return np.minimum(gain, np.exp(-np.exp(held)))


def match_loudness(y, *, sample_rate: int, reference=None, target_lufs: float | None = None,
                   ceiling_db: float = -1.0) -> np.ndarray:
    """Scale ``y`` to a reference's integrated loudness (or a LUFS target), then limit.

    Limiting lowers loudness, so when the limiter had to work the gain is raised and the
    original signal limited again, up to 4 rounds, until the loudness is within 0.1 LU
    of the target or another round would not bring it closer. Each new gain is a secant
    step from the last two rounds, aimed slightly past the target; a round that comes
    out too loud is simply turned down (exact, and it only lowers the peaks).

    Loudness is :func:`integrated_loudness`'s, for any number of channels: the first five
    channels get BS.1770-4's weights for L, R, C, Ls, Rs (1.0, 1.0, 1.0, 1.41, 1.41); every
    channel beyond the fifth gets 1.0, the weight BS.1770-4 gives every channel outside the
    ±60-120° surround zone (a file's channel order does not say which channel is where, and
    no channel is treated as LFE). The limiter links all channels (one gain for all).

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,) or (channels, n_samples)]
        Any number of channels.
    sample_rate : int
        Hz, of ``y`` and of ``reference``.
    reference : np.ndarray [shape=(m_samples,) or (channels, m_samples)], optional
        Audio whose integrated loudness to match.
    target_lufs : float, optional
        Loudness to reach instead. Give exactly one of ``reference`` and ``target_lufs``.
    ceiling_db : float
        Highest true peak of the result, dBTP.

    Returns
    -------
    y_out : np.ndarray [shape=y.shape, dtype=float32]

    Raises
    ------
    AudioInputError
        Both or neither of ``reference``/``target_lufs``; a silent (or entirely gated
        out) ``y`` or reference; bad shapes or non-finite samples.
    """
    if (reference is None) == (target_lufs is None):
        raise AudioInputError("match_loudness needs exactly one of reference= and target_lufs=.")
    if reference is not None:
        target = integrated_loudness(reference, sample_rate=sample_rate)
        if not np.isfinite(target):
            raise AudioInputError(
                "The reference audio is silent (or quieter than -70 LUFS), so there is no loudness "
                "to match. Pass target_lufs= instead, or a reference with sound in it.")
    else:
        target = float(target_lufs)
        if not np.isfinite(target):
            raise AudioInputError(f"target_lufs must be a finite number of LUFS; got {target_lufs}.")
    y2 = _channels(y)
    start = integrated_loudness(y2, sample_rate=sample_rate)
    if not np.isfinite(start):
        raise AudioInputError(
            "The audio to match is silent (or quieter than -70 LUFS), so no gain can bring it "
            f"to {target:.1f} LUFS. Use audio with sound in it, or keep its loudness as it is.")
    gain_db, previous = target - start, None
    best, best_error = None, np.inf
    for round_ in range(_ROUNDS):
        out = limit_true_peak(y2 * 10.0 ** (gain_db / 20.0), sample_rate=sample_rate, ceiling_db=ceiling_db)
        level = integrated_loudness(out, sample_rate=sample_rate)
        if level > target + _TOLERANCE_LU:  # too loud: turning down is exact and lowers the peaks
            out *= 10.0 ** ((target - level) / 20.0)
            level = target
        error = abs(target - level)
        if round_ and error >= best_error - 0.01:  # the limiter makes no more progress
            break
        best, best_error = out, error
        if error <= _TOLERANCE_LU:
            break
        # secant step: under limiting, 1 dB more gain buys less than 1 LU. Aim a little
        # high while the limiter works, since overshooting is fixed exactly above.
        slope = 1.0
        if previous is not None and gain_db != previous[0]:
            slope = float(np.clip((level - previous[1]) / (gain_db - previous[0]), 0.1, 1.0))
        previous = (gain_db, level)
        step = (target - level) / slope * (_AIM_HIGH if round_ else 1.0)
        gain_db += min(step, _MAX_STEP_DB)
    return _like(best, y)


# Plain RMS level, for batches of clips inside the ascent (not BS.1770 loudness).


def rms_db(y) -> np.ndarray:
    """RMS level in dBFS of each waveform, ``(..., n_samples) -> (...)``."""
    return (10 * np.log10(np.mean(np.square(y, dtype=np.float64), axis=-1) + 1e-20)).astype(np.float32)


def soft_limit(y, *, knee: float = 0.9, ceiling: float = 0.999) -> np.ndarray:
    """Compress samples beyond ``knee`` smoothly (tanh) to stay within ``ceiling`` (< 1).

    Parameters
    ----------
    y : np.ndarray [shape=(..., n_samples)]
    knee, ceiling : float

    Returns
    -------
    y_limited : np.ndarray [shape=(..., n_samples)]; samples within ``knee`` are untouched
    """
    y = np.asarray(y, dtype=np.float32)
    a = np.abs(y)
    over = a > knee
    if not over.any():
        return y
    out = y.copy()
    room = ceiling - knee
    out[over] = np.sign(y[over]) * (knee + room * np.tanh((a[over] - knee) / room))
    return out


def match_rms(y, reference) -> np.ndarray:
    """Scale each waveform to the RMS (not the BS.1770 loudness) of its reference, then soft-limit.

    What the ascent holds a clip at while it climbs: cheap, per item of a batch, and blind
    to frequency weighting, unlike :func:`match_loudness`, which a finished recording gets.

    Parameters
    ----------
    y, reference : np.ndarray [shape=(..., n_samples)]

    Returns
    -------
    y_matched : np.ndarray [shape=(..., n_samples)], peak below 1
    """
    y = np.asarray(y, dtype=np.float32)
    ref_rms = np.sqrt(np.mean(np.square(reference, dtype=np.float64), axis=-1, keepdims=True))
    rms = np.sqrt(np.mean(np.square(y, dtype=np.float64), axis=-1, keepdims=True))
    scale = np.divide(ref_rms, rms, out=np.ones_like(rms), where=rms > 1e-12)
    return soft_limit((y * scale).astype(np.float32))
