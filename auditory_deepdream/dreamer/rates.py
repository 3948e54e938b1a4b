"""Between a file's rate and the model's: the mid signal down, the dream's change back up.

A recording is dreamed as its mid signal (the mean of its channels) at the model's rate.
The change comes back to the file's rate in one of two ways (:func:`back_to_rate`): a
consistent dream's mel-band gain is applied to every channel's own STFT at the file's
rate (:func:`gain_at_rate`), so each channel keeps its phase and the stereo image stays;
any other dream's change to the mid signal is resampled, low-passed with a raised-cosine
crossover (:func:`in_model_band`) and added to every channel. Either way everything above
the model's band (e.g. the 11-24 kHz of a 48 kHz file under a 22.05 kHz model) stays as
it was.
"""

from __future__ import annotations

import numpy as np

from .. import audio
from ..audio.loudness import match_rms, rms_db
from ..audio.resampling import resample
from ..audio.spectral import hann_istft, hann_stft
from ..errors import AudioInputError
from ..options import GAIN_CLAMP_DB, DreamOptions
from ..settings import AudioSettings
from .result import Rendered
from .sonification import mel_gain_to_stft_db

__all__ = ["CROSSOVER_N_FFT", "hold_quiet_cells", "crossover_weights", "band_weights", "in_model_band", "above_model_band", "stft_size",
           "gain_at_rate", "to_model_rate", "change_at_rate", "back_to_rate"]

CROSSOVER_N_FFT = 4096  # FFT size of the crossover STFT at the file's rate


def crossover_weights(freqs, *, start_hz: float, stop_hz: float) -> np.ndarray:
    """Raised-cosine low-pass weights: 1 below ``start_hz``, 0 above ``stop_hz``.

    Parameters
    ----------
    freqs : np.ndarray [shape=(n_freq,)]
        Frequencies in Hz.
    start_hz, stop_hz : float

    Returns
    -------
    weights : np.ndarray [shape=(n_freq,)], in [0, 1]
    """
    freqs = np.asarray(freqs, dtype=np.float64)
    pos = np.clip((freqs - start_hz) / max(stop_hz - start_hz, 1e-9), 0.0, 1.0)
    return (0.5 + 0.5 * np.cos(np.pi * pos)).astype(np.float32)


def band_weights(settings: AudioSettings, *, sample_rate: int, n_fft: int, crossover: tuple):
    """Crossover weights over the STFT bins at ``sample_rate`` (1 inside the model's band, 0 above).

    None when the model hears the whole band at ``sample_rate`` (no crossover needed).
    """
    edge = min(float(settings.fmax or settings.sample_rate / 2), settings.sample_rate / 2)
    if edge >= sample_rate / 2:
        return None
    return crossover_weights(np.fft.rfftfreq(n_fft, d=1.0 / sample_rate),
                             start_hz=crossover[0] * edge, stop_hz=crossover[1] * edge)


def in_model_band(change: np.ndarray, *, settings: AudioSettings, sample_rate: int, crossover: tuple,
                   n_fft: int) -> np.ndarray:
    """``change`` low-passed to the model's band with the crossover (unchanged when it covers all)."""
    weights = band_weights(settings, sample_rate=sample_rate, n_fft=n_fft, crossover=crossover)
    if weights is None:
        return change
    spec = hann_stft(change, n_fft=n_fft, hop_length=n_fft // 4) * weights[:, None]
    return hann_istft(spec, n_fft=n_fft, hop_length=n_fft // 4, length=change.shape[-1])


def above_model_band(y: np.ndarray, *, settings: AudioSettings, sample_rate: int, crossover: tuple) -> np.ndarray:
    """What of ``y`` lies above the model's band: ``y`` less its crossover-low-passed part (zeros when none)."""
    return y - in_model_band(y, settings=settings, sample_rate=sample_rate, crossover=crossover, n_fft=CROSSOVER_N_FFT)


def stft_size(settings: AudioSettings, sample_rate: int) -> tuple[int, int]:
    """``(n_fft, hop)`` at ``sample_rate`` spanning about the model's window (the model's own at its rate)."""
    if sample_rate == settings.sample_rate:
        return settings.n_fft, settings.hop_length
    n_fft = int(2 ** round(np.log2(settings.n_fft * sample_rate / settings.sample_rate)))
    return n_fft, n_fft // 4


def _interp_axis(a: np.ndarray, src: np.ndarray, dst: np.ndarray, axis: int) -> np.ndarray:
    """Linear interpolation of ``a`` along ``axis`` from positions ``src`` to ``dst`` (held at the ends)."""
    pos = np.clip(np.interp(dst, src, np.arange(len(src))), 0, len(src) - 1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, len(src) - 1)
    frac = (pos - lo).astype(np.float32)
    shape = [1] * a.ndim
    shape[axis] = -1
    return np.take(a, lo, axis=axis) * (1 - frac.reshape(shape)) + np.take(a, hi, axis=axis) * frac.reshape(shape)


def gain_at_rate(gain_mel, *, settings: AudioSettings, sample_rate: int, n_frames: int,
                 crossover: tuple = (0.85, 0.95), max_gain_db: float = GAIN_CLAMP_DB,
                 level_db: float = 0.0) -> np.ndarray:
    """A consistent dream's mel-band gain as a dB gain on the STFT of audio at ``sample_rate``.

    The gain per model STFT bin (:func:`~.sonification.mel_gain_to_stft_db`, clamped) is
    interpolated in frequency and time onto the STFT of :func:`stft_size` at
    ``sample_rate`` and faded out above the model's band (``crossover`` as in
    :class:`~auditory_deepdream.options.DreamOptions`), so the band the model never heard is left as it was.

    Parameters
    ----------
    gain_mel : np.ndarray [shape=(n_mels, n_model_frames)]
    settings : AudioSettings
        The model's.
    sample_rate : int
    n_frames : int
        Frames of the target STFT.
    crossover : (float, float)
    max_gain_db : float
    level_db : float
        Added inside the model's band (after the clamp): the level correction that
        brought the dream to the clip's RMS while it was climbed.

    Returns
    -------
    gain_db : np.ndarray [shape=(1 + n_fft // 2, n_frames)]
    """
    n_fft, hop = stft_size(settings, sample_rate)
    per_bin = np.clip(mel_gain_to_stft_db(gain_mel, settings=settings), -max_gain_db, max_gain_db) + level_db
    if sample_rate == settings.sample_rate and per_bin.shape[-1] == n_frames:
        return per_bin.astype(np.float32)
    f_model = np.fft.rfftfreq(settings.n_fft, d=1.0 / settings.sample_rate)
    f_out = np.fft.rfftfreq(n_fft, d=1.0 / sample_rate)
    t_model = np.arange(per_bin.shape[-1]) * settings.hop_length / settings.sample_rate
    t_out = np.arange(n_frames) * hop / sample_rate
    out = _interp_axis(_interp_axis(per_bin, f_model, f_out, 0), t_model, t_out, 1)
    weights = band_weights(settings, sample_rate=sample_rate, n_fft=n_fft, crossover=crossover)
    if weights is not None:
        out = out * weights[:, None]
    return out.astype(np.float32)


def hold_quiet_cells(gain_db, power, *, share: float, weights=None, rounds: int = 3) -> np.ndarray:
    """A gain whose quietest ``share`` of the input's cells stay where they were once the level is matched.

    Matching the dream's loudness to the input's gives every cell of the band back what the
    gain took from its power, ``10 log10(sum P / sum P 10^(g/10))`` dB: a dream that cuts the
    loud cells lifts the gaps, the tails and the hiss (:func:`~.quality.noise_lift`). Here
    the quietest cells (by the input's power, within the model's band) are cut by that much,
    or more where the dream had already cut them; ``rounds`` times, since holding them
    changes what the match gives back a little.

    Parameters
    ----------
    gain_db : np.ndarray [shape=(n_bins, n_frames)]
        The dream's STFT gain at the recording's rate, with the level the ascent heard it at.
    power : np.ndarray [shape=(n_bins, n_frames)]
        The input's STFT power (its mid signal) on the same grid.
    share : float
        Of the cells within the band, the quietest share to hold, 0 to 1.
    weights : np.ndarray [shape=(n_bins,)], optional
        The model's band (:func:`band_weights`); None: every bin.
    rounds : int

    Returns
    -------
    gain_db : np.ndarray, same shape, float32
    """
    g = np.asarray(gain_db, np.float32)
    if not share:
        return g
    w = np.ones(len(power), np.float32) if weights is None else np.asarray(weights, np.float32)
    band = w > 0.5
    p = np.asarray(power, np.float64) * w[:, None]
    floor = p.max() * 1e-10  # digital silence is not infinitely quiet
    quiet = np.zeros(p.shape, bool)
    quiet[band] = p[band] <= np.quantile(np.maximum(p[band], floor), share)
    for _ in range(rounds):
        given_back = 10 * np.log10(p.sum() / max(float((p * 10.0 ** (g / 10.0)).sum()), 1e-30))
        g = np.where(quiet, np.minimum(g, -given_back), g).astype(np.float32)
    return g


def to_model_rate(audio_in, *, sample_rate: int, settings: AudioSettings):
    """A recording's channels, its mid signal, and that mid signal at the model's rate.

    Parameters
    ----------
    audio_in : np.ndarray [shape=(channels, n_samples) or (n_samples,)]
    sample_rate : int
    settings : AudioSettings
        The model's.

    Returns
    -------
    y : np.ndarray [shape=(channels, n_samples)], float32
    mid : np.ndarray [shape=(n_samples,)]
        The mean of the channels.
    low : np.ndarray [shape=(1, n_model_samples)]
        ``mid`` at the model's rate.

    Raises
    ------
    AudioInputError
        Bad audio or sample rate.
    """
    y = audio.check_channels(audio_in, name="Audio").astype(np.float32, copy=False)
    if int(sample_rate) <= 0:
        raise AudioInputError(f"sample_rate must be a positive number of Hz, got {sample_rate}.")
    mid = audio.check_audio(y.mean(axis=0), name="the mid (mean of the channels) signal")
    return y, mid, resample(mid[None], orig_sr=int(sample_rate), target_sr=settings.sample_rate)


def change_at_rate(rendered: Rendered, *, sample_rate: int, settings: AudioSettings, crossover: tuple,
                   length: int) -> np.ndarray:
    """What the dream changed, at the clips' level, resampled to ``sample_rate`` within the model's band.

    Returns
    -------
    change : np.ndarray [shape=(batch, length)]
    """
    low = rendered.y
    change = resample(match_rms(rendered.sound, low) - low, orig_sr=settings.sample_rate, target_sr=sample_rate,
                      length=length)
    return in_model_band(change, settings=settings, sample_rate=sample_rate, crossover=crossover,
                         n_fft=CROSSOVER_N_FFT)


def back_to_rate(y: np.ndarray, rendered: Rendered, *, sample_rate: int, settings: AudioSettings,
                 options: DreamOptions):
    """The dreamed recording at its own rate, before its loudness is set.

    Parameters
    ----------
    y : np.ndarray [shape=(channels, n_samples)]
        The recording.
    rendered : Rendered
        The dream of its mid signal at the model's rate.
    sample_rate : int
    settings : AudioSettings
        The model's.
    options : DreamOptions

    Returns
    -------
    out : np.ndarray [shape=(channels, n_samples)]
    high : np.ndarray [shape=(channels, n_samples)] or None
        The band above the model's, exactly as the dream left it (zeros when the model
        hears the whole band), when the dream was a gain; None otherwise.
    """
    n, s = y.shape[-1], settings
    if rendered.gain is None or options.sonification != "original":
        change = change_at_rate(rendered, sample_rate=sample_rate, settings=s, crossover=options.crossover, length=n)
        return y + change, None
    n_fft, hop = stft_size(s, sample_rate)
    spec = hann_stft(y, n_fft=n_fft, hop_length=hop)
    level_db = float((rms_db(rendered.y) - rms_db(rendered.sound))[0])  # the level the ascent heard it at
    g = gain_at_rate(rendered.gain[0], settings=s, sample_rate=sample_rate, n_frames=spec.shape[-1],
                     crossover=options.crossover,
                     max_gain_db=options.gain_clamp_db,
                     level_db=level_db)
    weights = band_weights(s, sample_rate=sample_rate, n_fft=n_fft, crossover=options.crossover)
    if options.hold_floor:
        mid = np.abs(spec.mean(axis=0)) ** 2
        g = hold_quiet_cells(g, mid, share=options.hold_floor, weights=weights)
    out = hann_istft(spec * np.power(10.0, g / 20.0, dtype=np.float32), n_fft=n_fft, hop_length=hop, length=n)
    high = np.zeros_like(out)
    if weights is not None:  # the band the model never heard, exactly as the dream left it
        high = hann_istft(spec * (1.0 - weights)[:, None], n_fft=n_fft, hop_length=hop, length=n)
    return out, high
