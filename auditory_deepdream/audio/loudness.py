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
from scipy.signal import lfilter

from ..errors import AudioInputError
from ..options import parse_loudness  # noqa: F401  (re-exported: the option is parsed with the others)
from .peaks import _channels, _like, limit_true_peak

__all__ = ["integrated_loudness", "LoudnessMeter", "match_loudness", "parse_loudness", "rms_db", "match_rms",
           "soft_limit"]

BLOCK_SECONDS = 0.400  # BS.1770 gating block
_BLOCK_STEP = 0.25  # blocks overlap by 75 %
_ABSOLUTE_GATE = -70.0  # LUFS
_SURROUND_WEIGHT = 1.41  # BS.1770-4's weight of Ls and Rs, the 4th and 5th channels
_TOLERANCE_LU = 0.1  # match_loudness stops within this of the target
_ROUNDS = 4  # most gain-then-limit rounds in match_loudness
_MAX_STEP_DB = 12.0  # largest extra gain one round of match_loudness adds
_AIM_HIGH = 1.25  # match_loudness's later rounds step this much past the estimated gain


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
    return _gated(_channel_weights(n_channels) @ mean_squares)  # the blocks' weighted sum over channels


def _gated(power: np.ndarray) -> float:
    """BS.1770's gating of the blocks' ``power`` [shape=(n_blocks,)]: LUFS of those above both gates."""
    with np.errstate(divide="ignore"):
        levels = -0.691 + 10.0 * np.log10(power)
    loud = levels >= _ABSOLUTE_GATE
    if not loud.any():
        return float("-inf")
    relative_gate = -0.691 + 10.0 * np.log10(power[loud].mean()) - 10.0
    kept = (levels > relative_gate) & (levels > _ABSOLUTE_GATE)
    return float(-0.691 + 10.0 * np.log10(power[kept].mean())) if kept.any() else float("-inf")


def _k_weighting(sample_rate: int) -> tuple:
    """BS.1770's K-weighting at ``sample_rate``: a high shelf, then a high pass (pyloudnorm's design)."""
    return (pyloudnorm.IIRfilter(4.0, 1 / np.sqrt(2), 1500.0, sample_rate, "high_shelf"),
            pyloudnorm.IIRfilter(0.0, 0.5, 38.0, sample_rate, "high_pass"))


class LoudnessMeter:
    """:func:`integrated_loudness` of audio that arrives chunk by chunk, in bounded memory.

    The K-weighting filters carry their state from chunk to chunk, and the running sum of
    squares is kept only at the gating blocks' bounds, so the result equals
    :func:`integrated_loudness` of the whole recording to rounding, whatever the chunks.

    Parameters
    ----------
    sample_rate : int
    channels : int

    Examples
    --------
    >>> meter = LoudnessMeter(sample_rate=44100, channels=2)
    >>> for chunk in chunks:            # each (2, n) float32
    ...     meter.add(chunk)
    >>> meter.integrated()              # LUFS
    """

    def __init__(self, *, sample_rate: int, channels: int):
        self.sample_rate, self.channels = int(sample_rate), int(channels)
        self._filters = [(stage.b, stage.a, stage.passband_gain) for stage in _k_weighting(self.sample_rate)]
        self._state = [np.zeros((self.channels, max(len(a), len(b)) - 1)) for b, a, _ in self._filters]
        self._n = 0
        self._total = np.zeros(self.channels)  # sum of squares of every filtered sample so far
        self._bounds: dict[int, np.ndarray] = {}  # block bound (sample) -> sum of squares before it
        self._silent = True

    def _bound(self, k: int) -> int:
        """Sample index of the ``k``-th multiple of a quarter block, as :func:`integrated_loudness` rounds it."""
        return int(BLOCK_SECONDS * (k * _BLOCK_STEP) * self.sample_rate)

    def add(self, chunk) -> None:
        """Measure the next ``chunk`` [shape=(channels, n_samples) or (n_samples,) for one channel]."""
        x = _channels(chunk).astype(np.float64)
        if x.shape[0] != self.channels:
            raise AudioInputError(f"LoudnessMeter measures {self.channels} channels; this chunk has {x.shape[0]}.")
        self._silent = self._silent and not np.any(x)
        for i, (b, a, gain) in enumerate(self._filters):
            x, self._state[i] = lfilter(b, a, x, axis=-1, zi=self._state[i])
            x = gain * x
        running = np.cumsum(np.square(x), axis=1)
        start, end = self._n, self._n + x.shape[1]
        k = 0 if not self._bounds else max(self._bounds) + 1
        while (b := self._bound(k)) <= end:
            if b >= start:
                self._bounds[k] = self._total + (running[:, b - start - 1] if b > start else 0.0)
            k += 1
        self._total = self._total + running[:, -1]
        self._n = end

    def integrated(self) -> float:
        """Integrated loudness in LUFS of everything added (``-inf`` for silence, as :func:`integrated_loudness`)."""
        if self._n == 0:
            raise AudioInputError("LoudnessMeter has measured no audio yet.")
        n, sr = self._n, self.sample_rate
        if self._silent:
            return float("-inf")
        if n < BLOCK_SECONDS * sr:
            raise AudioInputError("LoudnessMeter needs at least one 400 ms block; use integrated_loudness on "
                                  "a clip this short.")
        n_blocks = int(np.round((n / sr - BLOCK_SECONDS) / (BLOCK_SECONDS * _BLOCK_STEP))) + 1
        quarter = round(1 / _BLOCK_STEP)

        def at(k):
            return self._bounds[k] if self._bound(k) < n else self._total

        sums = np.stack([at(k + quarter) - at(k) for k in range(n_blocks)], axis=1)
        return _gated(_channel_weights(self.channels) @ (sums / (BLOCK_SECONDS * sr)))


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
