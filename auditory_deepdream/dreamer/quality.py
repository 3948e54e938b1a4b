"""Measures of a dream that no dreaming method passes by construction.

:func:`~auditory_deepdream.dreamer.survival` asks the dreaming model whether its own gain
reached the sound, which every path can be tuned to pass. The measures here ask other
questions, of the sound alone or of models that took no part in the dream:

* how much the sound changed (:func:`log_spectral_distance`), how far its quietest
  parts came up (:func:`noise_lift`), and whether the change is
  damage: clicks (:func:`max_jump_ratio`), a collapse of the energy into a few instants
  (:func:`energy_concentration`, :func:`transient_collapse`), a shifted pitch
  (:func:`pitch_shift_cents`), a loudness error (:func:`measure_dream` gathers them all
  in a :class:`DreamQuality`);
* *transfer*: whether models that took no part hear the target in the dream
  (:mod:`~auditory_deepdream.dreamer.judges`).

All audio is a NumPy array: ``(n_samples,)`` mono or, where a function says so,
``(channels, n_samples)``, which is mixed to mono by averaging the channels.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import librosa
import numpy as np

from ..audio.loudness import integrated_loudness
from ..audio.spectral import hann_stft
from ..audio.peaks import true_peak_db
from ..errors import AudioInputError

__all__ = [
    "DreamQuality",
    "concentration_increase",
    "energy_concentration",
    "log_spectral_distance",
    "max_jump_ratio",
    "measure_dream",
    "noise_lift",
    "pitch_shift_cents",
    "transient_collapse",
]

PITCH_SECONDS = 3.0  # pitch_shift_cents analyses at most this much of each clip
MIN_VOICED_FRAMES = 5


# ------------------------------------------------------------------------- helpers
def _mono(y, *, name: str = "audio") -> np.ndarray:
    """``(n,)`` or ``(channels, n)`` to a float64 mono waveform ``(n,)``."""
    y = np.asarray(y, dtype=np.float64)
    if y.ndim == 2:
        y = y.mean(axis=0)
    if y.ndim != 1 or y.size == 0:
        raise AudioInputError(f"{name} has shape {np.shape(y)}; expected (n_samples,) or (channels, n_samples).")
    if not np.all(np.isfinite(y)):
        raise AudioInputError(f"{name} holds NaN or infinite samples.")
    return y


def _same_length(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both trimmed (on the last axis) to the shorter of the two."""
    n = min(a.shape[-1], b.shape[-1])
    return a[..., :n], b[..., :n]


def _stft(y: np.ndarray, *, n_fft: int, hop_length: int) -> np.ndarray:
    """Complex STFT ``(..., 1 + n_fft // 2, n_frames)`` with centred, zero-padded Hann frames."""
    return librosa.stft(y, n_fft=n_fft, hop_length=hop_length, window="hann", center=True, pad_mode="constant")


def _power(y: np.ndarray, *, n_fft: int, hop_length: int) -> np.ndarray:
    """STFT power ``(1 + n_fft // 2, n_frames)`` of a mono waveform."""
    return np.abs(_stft(y, n_fft=n_fft, hop_length=hop_length)) ** 2


# ----------------------------------------------------------------- signal measures
def log_spectral_distance(reference, other, *, sample_rate: int, n_fft: int = 2048, hop_length: int = 512,
                          floor_db: float = -80.0) -> float:
    """How far ``other``'s spectrogram is from ``reference``'s, in natural-log power units.

    With :math:`P_r, P_o` the STFT powers of the two (both floored at
    ``max(P_r) * 10 ** (floor_db / 10)``, so that near-silent bins do not dominate),

    .. math:: \\mathrm{LSD} = \\frac{1}{T} \\sum_t \\sqrt{\\frac{1}{F} \\sum_f
              \\left(\\ln P_o(f, t) - \\ln P_r(f, t)\\right)^2}

    A gain of :math:`g` dB everywhere gives :math:`\\ln 10^{g/10}` (1.38 for 6 dB); an
    essentially unchanged output gives a few hundredths, a clearly audible change 0.5 or more.

    Parameters
    ----------
    reference, other : np.ndarray [shape=(n_samples,) or (channels, n_samples)]
        Mixed to mono; the longer is trimmed to the shorter.
    sample_rate : int
        Rate of both (the STFT sizes are in samples; accepted so every measure is called alike).
    n_fft, hop_length : int
        STFT size and hop in samples.
    floor_db : float
        Floor of both powers, in dB relative to the reference's loudest bin.

    Returns
    -------
    lsd : float
        0 for identical inputs.

    Raises
    ------
    AudioInputError
        A wrongly shaped, non-finite or silent reference.
    """
    ref, out = _same_length(_mono(reference, name="reference"), _mono(other, name="other"))
    p_ref = _power(ref, n_fft=n_fft, hop_length=hop_length)
    p_out = _power(out, n_fft=n_fft, hop_length=hop_length)
    floor = p_ref.max() * 10.0 ** (floor_db / 10.0)
    if not floor > 0:
        raise AudioInputError("The reference is silent; the log-spectral distance needs some sound in it.")
    diff = np.log(np.maximum(p_out, floor)) - np.log(np.maximum(p_ref, floor))
    return float(np.mean(np.sqrt(np.mean(diff ** 2, axis=0))))


NOISE_QUANTILE = 0.2  # noise_lift follows the quietest fifth of the input's cells
NOISE_MAX_HZ = 8000.0  # below this: the band every tagger hears (musicnn runs at 16 kHz)


def noise_lift(reference, other, *, sample_rate: int, quantile: float = NOISE_QUANTILE,
               max_hz: float = NOISE_MAX_HZ, n_fft: int = 2048, hop_length: int = 512,
               floor_db: float = -100.0, match: bool = True) -> float:
    """How far a dream raised the quietest parts of its input: the gaps, the decay tails, the hiss.

    ``other`` is first brought to ``reference``'s integrated loudness (BS.1770; RMS when
    either is too quiet to measure), as a dream is written. Of the reference's STFT cells
    below ``max_hz`` (both powers floored at ``floor_db`` under the reference's loudest
    cell), the quietest ``quantile`` are taken; the lift is their total power in ``other``
    over their total power in ``reference``, in dB. A dream that only cuts, once brought
    back to the input's loudness, raises everything it did not cut, so this is positive;
    a dream that reshapes the loud parts and leaves the quiet ones gives about 0.

    Parameters
    ----------
    reference, other : np.ndarray [shape=(n_samples,) or (channels, n_samples)]
        Input and dream at ``sample_rate``; mixed to mono after the loudness match; the
        longer is trimmed to the shorter.
    sample_rate : int
    quantile : float
        Share of the reference's cells counted as quiet, in (0, 1].
    max_hz : float
        Only cells below this frequency count.
    n_fft, hop_length : int
        STFT size and hop in samples.
    floor_db : float
        Floor of both powers, in dB relative to the reference's loudest cell (digital
        silence is not infinitely quiet).
    match : bool
        Bring ``other`` to ``reference``'s loudness first (False: compare as given).

    Returns
    -------
    lift_db : float
        0 for identical inputs; +6 when the quiet cells came up by 6 dB.

    Raises
    ------
    AudioInputError
        Wrongly shaped, non-finite or silent audio, or a ``quantile`` outside (0, 1].
    """
    if not 0 < quantile <= 1:
        raise AudioInputError(f"quantile must be in (0, 1], got {quantile}.")
    ref = np.asarray(reference, dtype=np.float64)
    out = np.asarray(other, dtype=np.float64)
    if match:
        gap = (integrated_loudness(ref, sample_rate=sample_rate)
               - integrated_loudness(out, sample_rate=sample_rate))
        if not np.isfinite(gap):
            gap = 10 * np.log10(max(np.mean(ref ** 2), 1e-30) / max(np.mean(out ** 2), 1e-30))
        out = out * 10.0 ** (gap / 20.0)
    ref, out = _same_length(_mono(ref, name="reference"), _mono(out, name="other"))
    band = np.fft.rfftfreq(n_fft, d=1.0 / sample_rate) < max_hz
    # the package's own STFT: a dream's result is measured without loading librosa's audio module
    p_ref, p_out = (np.abs(hann_stft(x, n_fft=n_fft, hop_length=hop_length)[band]).astype(np.float64) ** 2
                    for x in (ref, out))
    floor = p_ref.max() * 10.0 ** (floor_db / 10.0)
    if not floor > 0:
        raise AudioInputError("The reference is silent; the noise lift needs some sound in it.")
    p_ref, p_out = np.maximum(p_ref, floor), np.maximum(p_out, floor)
    quiet = p_ref <= np.quantile(p_ref, quantile)
    return float(10 * np.log10(p_out[quiet].sum() / p_ref[quiet].sum()))


def max_jump_ratio(reference, other) -> float:
    """Largest sample-to-sample step of ``other`` over that of ``reference``.

    Steps are absolute differences of neighbouring samples, over all channels. A
    click shows as a ratio above 2; a smooth change of level stays near the gain.

    Parameters
    ----------
    reference, other : np.ndarray [shape=(n_samples,) or (channels, n_samples)]

    Returns
    -------
    ratio : float

    Raises
    ------
    AudioInputError
        A reference with no step at all (constant or a single sample).
    """
    ref_jump = _largest_step(reference)
    if not ref_jump > 0:
        raise AudioInputError("The reference never changes from one sample to the next; there is "
                              "no step to compare with.")
    return float(_largest_step(other) / ref_jump)


def _largest_step(y) -> float:
    y = np.asarray(y, dtype=np.float64)
    return float(np.max(np.abs(np.diff(y, axis=-1)), initial=0.0))


def energy_concentration(y, *, sample_rate: int, frame_seconds: float = 0.01, top: float = 0.02) -> float:
    """Share of the total energy held by the loudest ``top`` fraction of short frames.

    The clip (mixed to mono) is cut into back-to-back frames of ``frame_seconds`` (the
    last zero-padded); the ``ceil(top * n_frames)`` frames of most energy are summed and
    divided by the total. A sustained note gives little more than ``top``; a clip that
    is a few clicks over a quiet remainder gives close to 1.

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,) or (channels, n_samples)]
    sample_rate : int
    frame_seconds : float
        Frame length (10 ms by default).
    top : float
        Fraction of frames counted as loudest, in (0, 1].

    Returns
    -------
    concentration : float
        In ``[top, 1]`` up to rounding of the frame count.

    Raises
    ------
    AudioInputError
        A silent clip (no energy to share).
    """
    frame_energy = _frame_energies(_mono(y), frame=max(1, round(frame_seconds * sample_rate)))
    total = frame_energy.sum()
    if not total > 0:
        raise AudioInputError("The clip is silent; energy concentration needs some sound.")
    k = max(1, math.ceil(top * len(frame_energy)))
    return float(np.sort(frame_energy)[::-1][:k].sum() / total)


def _frame_energies(y: np.ndarray, *, frame: int) -> np.ndarray:
    """Energy of back-to-back frames of ``frame`` samples ``(n_frames,)``, the last zero-padded."""
    padded = np.zeros(math.ceil(len(y) / frame) * frame)
    padded[: len(y)] = y
    return np.sum(padded.reshape(-1, frame) ** 2, axis=1)


def concentration_increase(reference, other, *, sample_rate: int, frame_seconds: float = 0.01,
                           top: float = 0.02) -> float:
    """How much of its remaining headroom ``other``'s energy concentration used up.

    With :math:`c_r, c_o` the :func:`energy_concentration` of reference and output, the
    increase is :math:`(c_o - c_r) / (1 - c_r)`: 0 when the output is as concentrated as
    the input, 1 when all its energy sits in the loudest frames, negative when it is
    spread more evenly. Dividing by the headroom :math:`1 - c_r` puts a sustained note
    (:math:`c_r \\approx` ``top``) and a drum break (already transient) on one scale.

    Parameters
    ----------
    reference, other : np.ndarray [shape=(n_samples,) or (channels, n_samples)]
    sample_rate : int
    frame_seconds, top
        As :func:`energy_concentration`.

    Returns
    -------
    increase : float
        At most 1.
    """
    c_ref = energy_concentration(reference, sample_rate=sample_rate, frame_seconds=frame_seconds, top=top)
    c_out = energy_concentration(other, sample_rate=sample_rate, frame_seconds=frame_seconds, top=top)
    return float((c_out - c_ref) / max(1.0 - c_ref, 1e-12))


def transient_collapse(reference, other, *, sample_rate: int, limit: float = 0.5) -> bool:
    """Whether the output collapsed into a few transients the input did not have.

    Flags an output whose :func:`concentration_increase` over its input exceeds
    ``limit``: with the default 0.5, the output's loudest 2 % of 10 ms frames took more
    than half of the energy the input's left to the rest. An unchanged or re-levelled
    input (a drum break included) scores 0 and passes; a sustained note that became
    two clicks over a −40 dB remainder scores about 0.9.

    Parameters
    ----------
    reference, other : np.ndarray [shape=(n_samples,) or (channels, n_samples)]
        Input and output of the dream.
    sample_rate : int
    limit : float
        Largest acceptable increase.

    Returns
    -------
    collapsed : bool
    """
    return concentration_increase(reference, other, sample_rate=sample_rate) > limit


def pitch_shift_cents(reference, other, *, sample_rate: int, fmin: float = librosa.note_to_hz("C2"),
                      fmax: float = librosa.note_to_hz("C7")) -> float:
    """How far the output's pitch moved from the input's, in cents (output − input).

    Both clips (mixed to mono, at most their first 3 s) are tracked with pYIN
    (:func:`librosa.pyin`); the median f0 of each over the frames voiced in both is
    compared: :math:`1200 \\log_2(\\tilde f_o / \\tilde f_r)`. Only meaningful for
    pitched, sustained input.

    Parameters
    ----------
    reference, other : np.ndarray [shape=(n_samples,) or (channels, n_samples)]
    sample_rate : int
    fmin, fmax : float
        pYIN's f0 search range in Hz (C2 to C7).

    Returns
    -------
    cents : float
        NaN when fewer than 5 frames are voiced in both.
    """
    n = round(PITCH_SECONDS * sample_rate)
    ref, out = _same_length(_mono(reference, name="reference")[:n], _mono(other, name="other")[:n])
    f_ref = _f0(ref, sample_rate=sample_rate, fmin=fmin, fmax=fmax)
    f_out = _f0(out, sample_rate=sample_rate, fmin=fmin, fmax=fmax)
    both = np.isfinite(f_ref) & np.isfinite(f_out)
    if both.sum() < MIN_VOICED_FRAMES:
        return float("nan")
    return float(1200.0 * np.log2(np.median(f_out[both]) / np.median(f_ref[both])))


def _f0(y: np.ndarray, *, sample_rate: int, fmin: float, fmax: float) -> np.ndarray:
    """pYIN f0 per frame ``(n_frames,)``, NaN where unvoiced; frames of ~93 ms at any rate."""
    frame_length = 2 ** math.ceil(math.log2(sample_rate * 2048 / 22_050))
    f0, _, _ = librosa.pyin(y, fmin=fmin, fmax=fmax, sr=sample_rate, frame_length=frame_length)
    return f0


# ---------------------------------------------------------------------- the control
@dataclass(frozen=True)
class DreamQuality:
    """The signal measures of one dream (:func:`measure_dream`).

    Attributes
    ----------
    log_spectral_distance : float
        :func:`log_spectral_distance` of output from input (how much changed).
    max_jump_ratio : float
        :func:`max_jump_ratio` (clicks above 2).
    concentration_in, concentration_out : float
        :func:`energy_concentration` of input and output.
    transient_collapse : bool
        :func:`transient_collapse` of the output.
    loudness_error_lu : float
        Integrated loudness (ITU-R BS.1770,
        :func:`~auditory_deepdream.audio.loudness.integrated_loudness`) of output minus
        input, in LU (infinite when one of them is silent, NaN when both are).
    true_peak_dbtp : float
        True peak of the output (:func:`~auditory_deepdream.audio.loudness.true_peak_db`),
        in dBTP.
    pitch_shift_cents : float
        :func:`pitch_shift_cents` (NaN unless measured with ``sustained=True``).
    """

    log_spectral_distance: float
    max_jump_ratio: float
    concentration_in: float
    concentration_out: float
    transient_collapse: bool
    loudness_error_lu: float
    true_peak_dbtp: float
    pitch_shift_cents: float

    def to_dict(self) -> dict:
        """The measures as a plain dict (JSON-ready, NaN kept as float)."""
        return asdict(self)


def measure_dream(input_audio, output_audio, *, sample_rate: int, sustained: bool = False) -> DreamQuality:
    """Every signal measure of a dream, the output against its input.

    Parameters
    ----------
    input_audio, output_audio : np.ndarray [shape=(n_samples,) or (channels, n_samples)]
    sample_rate : int
    sustained : bool
        The input is a sustained pitched note: also measure :func:`pitch_shift_cents`
        (a few seconds of pYIN; meaningless for drums or chords).

    Returns
    -------
    DreamQuality
    """
    c_in = energy_concentration(input_audio, sample_rate=sample_rate)
    c_out = energy_concentration(output_audio, sample_rate=sample_rate)
    return DreamQuality(
        log_spectral_distance=log_spectral_distance(input_audio, output_audio, sample_rate=sample_rate),
        max_jump_ratio=max_jump_ratio(input_audio, output_audio),
        concentration_in=c_in,
        concentration_out=c_out,
        transient_collapse=transient_collapse(input_audio, output_audio, sample_rate=sample_rate),
        loudness_error_lu=(integrated_loudness(output_audio, sample_rate=sample_rate)
                           - integrated_loudness(input_audio, sample_rate=sample_rate)),
        true_peak_dbtp=true_peak_db(output_audio, sample_rate=sample_rate),
        pitch_shift_cents=(pitch_shift_cents(input_audio, output_audio, sample_rate=sample_rate)
                           if sustained else float("nan")),
    )
