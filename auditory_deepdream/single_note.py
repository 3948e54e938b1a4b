"""Whether a clip is one pitched note: the test that tells :func:`~auditory_deepdream.classify.classify`
when a clip is outside what its models were trained on.

The bundled classifiers learnt from single held notes of one instrument. Given a drum loop, a
chord or a piece they still name a family, with no sign that the question did not fit. Two
statistics of the clip's pitch, both from :func:`librosa.pyin`'s frame-by-frame pitch on the
trimmed clip, separate a single note from the rest:

``harmonic_share``
    the share of the clip's power that lies on the harmonic series (integer multiples) of the
    pitch found in each frame. A single note puts nearly all its power there; drums and noise
    have no pitch, and in a chord the other notes' partials fall between the harmonics.
``pitch_stability``
    the share of the clip's power in frames whose pitch lies within a semitone of the clip's
    (power-weighted) median pitch. A note keeps its pitch; a melody or a piece moves.

A clip is a single note when both reach their thresholds (:data:`MIN_HARMONIC_SHARE`,
:data:`MIN_PITCH_STABILITY`). The thresholds were measured, not chosen by hand:
``benchmarks/classify_depth.py`` sets each to the 1st percentile of single notes rendered from
the training SoundFonts, and reports how many held-out single notes (MuseScore_General) and how
many drum loops, chords, pieces and noise floors pass (``benchmarks/results/classify_depth.json``).
The test catches drums, pieces and noise; many chords and two-instrument unisons of consonant
intervals still pass as one note.
"""

from __future__ import annotations

from dataclasses import dataclass

import librosa
import numpy as np

__all__ = ["MIN_HARMONIC_SHARE", "MIN_PITCH_STABILITY", "NoteCheck", "check_single_note", "pitch_statistics"]

# The 1st percentile of 413 single training-SoundFont notes (benchmarks/results/classify_depth.json).
# Held-out MuseScore_General notes: 2.9 % rejected (extreme registers: C8 piano, A0 piano, E1 contrabass).
# Caught: all drum loops and pieces, 3 of 4 noise floors (not mains hum), but only 35 % of the chords and
# 1 of 12 two-instrument clips: two notes whose partials coincide pass as one.
MIN_HARMONIC_SHARE = 0.564
MIN_PITCH_STABILITY = 0.630

_FMIN, _FMAX = 25.0, 4400.0  # Hz: around the piano's range (A0 27.5 Hz to C8 4186 Hz), the widest a family has
_FRAME, _HOP, _N_FFT = 2048, 512, 4096  # pyin's frame; the STFT is longer to resolve low harmonics
_LONGEST = 12.0  # seconds analysed whole; a longer clip is judged on three windows (start, middle, end)
_WINDOW = 4.0


@dataclass(frozen=True)
class NoteCheck:
    """Whether a clip is one pitched note, and why not.

    Attributes
    ----------
    single_note : bool
        Both statistics reach their thresholds.
    harmonic_share : float
        Share of the clip's power on the harmonic series of each frame's pitch (0 to 1).
    pitch_stability : float
        Share of the clip's power in frames within a semitone of its median pitch (0 to 1).
    voiced_share : float
        Share of the clip's power in frames with a pitch at all (0 to 1).
    percussive_share : float
        Share of the clip's power in the percussive part of a harmonic/percussive split
        (:func:`librosa.decompose.hpss`): what kind of sound it is, when it is not a note.
    reason : str
        Empty for a single note; otherwise what the clip seems to be and the statistics that
        say so, e.g. ``"percussive: 4% of its power on one pitch's harmonics (a note: at least 80%)"``.
    """

    single_note: bool
    harmonic_share: float
    pitch_stability: float
    voiced_share: float
    percussive_share: float
    reason: str

    def to_dict(self) -> dict:
        """A JSON-ready copy of the attributes."""
        return {"single_note": self.single_note, "reason": self.reason,
                "harmonic_share": self.harmonic_share, "pitch_stability": self.pitch_stability,
                "voiced_share": self.voiced_share, "percussive_share": self.percussive_share}


def _windows(y: np.ndarray, sample_rate: int) -> list[np.ndarray]:
    """The clip whole, or three windows of it when it is long (pyin's cost grows with length)."""
    if len(y) <= _LONGEST * sample_rate:
        return [y]
    n = int(_WINDOW * sample_rate)
    return [y[:n], y[(len(y) - n) // 2:(len(y) + n) // 2], y[-n:]]


def _frame_statistics(y: np.ndarray, sample_rate: int):
    """Per frame of one window: power, power on the pitch's harmonics, pitch (MIDI, NaN if none)."""
    y = np.pad(y, (0, max(0, _N_FFT - len(y))))  # a clip shorter than one STFT frame: silence adds no power
    # quarter-semitone pitch bins: 8 times faster than pyin's default tenth, and within the series' tolerance
    f0, voiced, _ = librosa.pyin(y, fmin=_FMIN, fmax=_FMAX, sr=sample_rate, frame_length=_FRAME,
                                 hop_length=_HOP, resolution=0.25)
    power = np.abs(librosa.stft(y, n_fft=_N_FFT, hop_length=_HOP)) ** 2  # (n_bins, n_frames)
    n = min(power.shape[1], len(f0))
    power, f0, voiced = power[:, :n], f0[:n], voiced[:n]
    freqs = librosa.fft_frequencies(sr=sample_rate, n_fft=_N_FFT)
    pitch = np.where(voiced, f0, np.nan)
    # a bin is on the series when within a tenth of the pitch (or the window's main lobe) of a harmonic
    harmonic = np.maximum(np.round(freqs[:, None] / pitch[None, :]), 1.0)
    tolerance = np.maximum(0.1 * pitch, 2.0 * sample_rate / _N_FFT)[None, :]
    on_series = np.abs(freqs[:, None] - harmonic * pitch[None, :]) <= tolerance  # NaN pitch: False
    return power.sum(axis=0), (power * on_series).sum(axis=0), librosa.hz_to_midi(pitch)


def pitch_statistics(y: np.ndarray, *, sample_rate: int) -> dict[str, float]:
    """The statistics :func:`check_single_note` judges by.

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,)]
        A mono clip, silence trimmed (as :func:`auditory_deepdream.audio.trim` leaves it).
    sample_rate : int

    Returns
    -------
    stats : dict
        ``harmonic_share``, ``pitch_stability``, ``voiced_share`` and ``percussive_share``,
        each between 0 and 1 (see :class:`NoteCheck`).
    """
    y = np.asarray(y, dtype=np.float32)
    parts = [_frame_statistics(w, sample_rate) for w in _windows(y, sample_rate)]
    power, on_series, midi = (np.concatenate(p) for p in zip(*parts))
    total = float(power.sum()) or 1.0
    voiced = ~np.isnan(midi)
    stable = 0.0
    if voiced.any():
        # the power-weighted median pitch: quiet release tails, where pyin wanders, count little
        order = np.argsort(midi[voiced])
        weights = np.cumsum(power[voiced][order])
        median = midi[voiced][order][np.searchsorted(weights, weights[-1] / 2)]
        stable = float(power[voiced][np.abs(midi[voiced] - median) <= 1.0].sum() / total)
    spectrum = np.abs(librosa.stft(np.pad(y, (0, max(0, _FRAME - len(y)))), n_fft=_FRAME, hop_length=_HOP))
    h, p = librosa.decompose.hpss(spectrum)
    return {"harmonic_share": float(on_series.sum() / total), "pitch_stability": stable,
            "voiced_share": float(power[voiced].sum() / total),
            "percussive_share": float((p ** 2).sum() / max(float((h ** 2).sum() + (p ** 2).sum()), 1e-20))}


def _kind(stats: dict) -> str:
    """What a clip that is not a single note seems to be, in words."""
    if stats["percussive_share"] >= 0.5:
        return "percussive"
    if stats["voiced_share"] < 0.5:
        return "no steady pitch (noise-like)"
    if stats["pitch_stability"] < MIN_PITCH_STABILITY:
        return "several notes in turn"
    return "several pitches at once"


def check_single_note(y: np.ndarray, *, sample_rate: int) -> NoteCheck:
    """Whether a trimmed mono clip is one pitched note (see the module's description).

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,)]
        A mono clip, silence trimmed.
    sample_rate : int

    Returns
    -------
    NoteCheck
    """
    stats = pitch_statistics(y, sample_rate=sample_rate)
    single = stats["harmonic_share"] >= MIN_HARMONIC_SHARE and stats["pitch_stability"] >= MIN_PITCH_STABILITY
    reason = "" if single else (
        f"{_kind(stats)}: {stats['harmonic_share']:.0%} of its power on one pitch's harmonics "
        f"(a note: at least {MIN_HARMONIC_SHARE:.0%}), {stats['pitch_stability']:.0%} within a semitone "
        f"of one pitch (a note: at least {MIN_PITCH_STABILITY:.0%})")
    return NoteCheck(single_note=single, reason=reason, **stats)
