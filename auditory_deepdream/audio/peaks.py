"""Peaks: the true (inter-sample) peak of audio, and a look-ahead limiter that keeps it under a ceiling.

Arrays are mono ``(n_samples,)`` or channels first ``(channels, n_samples)``, with any
number of channels; the limiter turns every channel down by the same gain, so the stereo
image stays.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import minimum_filter1d
from scipy.signal import resample_poly

from ..errors import AudioInputError
from .io import check_channels

__all__ = ["true_peak_db", "limit_true_peak"]


def _channels(y, *, name: str = "audio") -> np.ndarray:
    """``y`` as a float64 ``(channels, n_samples)`` array; AudioInputError if unusable."""
    return check_channels(y, name=name).astype(np.float64)


def _like(out: np.ndarray, y) -> np.ndarray:
    """``out`` (channels, n) back in the shape of ``y`` (1-D stays 1-D), as float32."""
    out = out.astype(np.float32)
    return out[0] if np.ndim(y) == 1 else out


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
