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

``series_share``
    the largest share of the clip's power, at and above one of its strong spectral peaks, that
    lies on that peak's harmonic series, over the clip's long-term spectrum. A single note's
    fundamental explains nearly all of it. A chord's notes share a lower common fundamental
    that pyin may report (C and G: the C below), so ``harmonic_share`` passes it; but that
    fundamental is no peak of the spectrum, and each real note's series leaves the other
    notes' partials off it (a fifth's upper note: its odd partials).

``second_pitch_db``
    how loud, below the loudest peak, a strong peak off that series is that has partials off it
    too: a chord's other note, however much quieter, as :func:`series_statistics` finds it.

A clip is a single note when every statistic passes its threshold (:data:`MIN_HARMONIC_SHARE`,
:data:`MIN_PITCH_STABILITY`, :data:`MIN_SERIES_SHARE`, :data:`MIN_SECOND_PITCH_DB`). The
thresholds were measured, not chosen by hand: the first two are the 1st percentile of single
notes rendered from the training SoundFonts (``benchmarks/results/classify_depth.json``); the last
two stop the most chords of training-SoundFont notes while stopping at most 3 % of those
SoundFonts' single notes (``benchmarks/chords.py``), which reports, on a SoundFont nothing was
tuned on (MuseScore_General), the share of its single notes that pass and of its chords that are
stopped at every interval (``benchmarks/results/chords.json``). Octaves still pass as one note:
every partial of the upper note is a partial of the lower; and so, often, does a chord whose other
notes are more than 6 dB quieter than its loudest, and a third of two-note fifths, whose partials all
lie on the series of the note an octave below the lower. A check for fifths also stopped organ notes
with a quint stop, and single notes fell under 95 % (``benchmarks/results/chords_fifth_db.json``).
"""

from __future__ import annotations

from dataclasses import dataclass

import librosa
import numpy as np

__all__ = ["MIN_HARMONIC_SHARE", "MIN_PITCH_STABILITY", "MIN_SERIES_SHARE", "MIN_SECOND_PITCH_DB", "NoteCheck",
           "check_single_note", "pitch_statistics", "series_statistics"]

# The 1st percentile of 413 single training-SoundFont notes (benchmarks/results/classify_depth.json).
# Held-out MuseScore_General notes: 2.9 % rejected (extreme registers: C8 piano, A0 piano, E1 contrabass).
# Caught: all drum loops and pieces, 3 of 4 noise floors (not mains hum), but only 35 % of the chords and
# 1 of 12 two-instrument clips: two notes whose partials coincide pass as one.
MIN_HARMONIC_SHARE = 0.564
MIN_PITCH_STABILITY = 0.630
# Calibrated on the training SoundFonts' notes and chords (benchmarks/results/chords.json).
MIN_SERIES_SHARE = 0.016
MIN_SECOND_PITCH_DB = -6.1

_FMIN, _FMAX = 25.0, 4400.0  # Hz: around the piano's range (A0 27.5 Hz to C8 4186 Hz), the widest a family has
_FRAME, _HOP, _N_FFT = 2048, 512, 4096  # pyin's frame; the STFT is longer to resolve low harmonics
_SERIES_FFT = 16384  # the long-term spectrum's frame: 1.3 Hz bins resolve a low note's partials
_PEAK_DB = 30.0  # a spectral peak is strong within this many dB of the loudest
_CANDIDATES = 20  # the lowest strong peaks tried as a fundamental
_BLOCK_DB = 10.0  # a strong peak below a candidate, within this many dB of it, makes it a chord's upper note
_BELOW_PITCH = 0.3  # a fundamental lies above this share of pyin's pitch (its pitch may be a chord's root's)
_PARTIAL_DB = 40.0  # a second note's partials count within this many dB of the loudest peak
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
    series_share : float
        Largest share of the power at and above one of the clip's strong spectral peaks that
        lies on that peak's harmonic series (0 to 1): low for two or more pitches at once.
    second_pitch_db : float
        Level of a second harmonic series' fundamental, in dB below the loudest peak (-100:
        none): high for a chord whose other notes are quieter than the first.
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
    series_share: float
    second_pitch_db: float
    voiced_share: float
    percussive_share: float
    reason: str

    def to_dict(self) -> dict:
        """A JSON-ready copy of the attributes."""
        return {"single_note": self.single_note, "reason": self.reason,
                "harmonic_share": self.harmonic_share, "pitch_stability": self.pitch_stability,
                "series_share": self.series_share, "second_pitch_db": self.second_pitch_db,
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


def _long_term_spectrum(y: np.ndarray) -> np.ndarray:
    """The clip's mean power spectrum over frames of :data:`_SERIES_FFT` samples [shape=(_SERIES_FFT // 2 + 1,)]."""
    y = np.pad(y, (0, max(0, _SERIES_FFT - len(y))))
    return (np.abs(librosa.stft(y, n_fft=_SERIES_FFT, hop_length=_SERIES_FFT // 4)) ** 2).mean(axis=1)


def series_statistics(spectrum: np.ndarray, *, sample_rate: int, lowest: float = _FMIN) -> tuple[float, float]:
    """How well one harmonic series explains a spectrum, and how loud a second one is.

    Parameters
    ----------
    spectrum : np.ndarray [shape=(n_fft // 2 + 1,)]
        A long-term power spectrum (mean over frames).
    sample_rate : int
    lowest : float
        Hz: no fundamental below this (:func:`pitch_statistics` gives :data:`_BELOW_PITCH` times
        the clip's median pitch, so a piano's low thump is not taken for a note).

    Returns
    -------
    series_share : float
        0 to 1: the largest share of power, at and above a candidate fundamental, on its
        harmonic series. Each of the lowest :data:`_CANDIDATES` peaks within :data:`_PEAK_DB` of
        the loudest (between the pitch range's ends) is a candidate, unless a strong peak below
        it is within :data:`_BLOCK_DB` of its level (it is then a chord's upper note). Its
        frequency is refined by a parabola through the peak's log power; a bin is on its series
        within a tenth of it, two bins, or 3 % of the harmonic's frequency (a piano's partials
        stretch sharp) of a harmonic. Power below 0.9 times the candidate is left out: a note
        has none there, so a low rumble does not count against it.
    second_pitch_db : float
        The level, in dB below the loudest peak, of the loudest strong peak off that series
        that has peaks off it too (within :data:`_PARTIAL_DB` of the loudest) at two of 2 to 6
        times its frequency: a second note's fundamental, however much quieter than the first
        it is. -100 when there is none.
    """
    n_fft = 2 * (len(spectrum) - 1)
    freqs = np.arange(len(spectrum)) * sample_rate / n_fft
    band = (freqs >= lowest) & (freqs <= _FMAX)
    if not band.any() or spectrum[band].max() <= 0:
        return 0.0, -100.0
    top = spectrum[band].max()
    k = np.arange(1, len(spectrum) - 1)
    peaks = k[(spectrum[k] > spectrum[k - 1]) & (spectrum[k] >= spectrum[k + 1])]
    strong = peaks[band[peaks] & (spectrum[peaks] >= top * 10.0 ** (-_PEAK_DB / 10.0))]
    log_power = np.log(spectrum + 1e-30)
    best, main = 0.0, None
    for i in strong[:_CANDIDATES]:
        if np.any(spectrum[strong[freqs[strong] < 0.9 * freqs[i]]] >= spectrum[i] * 10.0 ** (-_BLOCK_DB / 10.0)):
            continue
        a, b, c = log_power[i - 1:i + 2]
        f0 = freqs[i] + 0.5 * (a - c) / min(a - 2 * b + c, -1e-12) * sample_rate / n_fft
        above = freqs >= 0.9 * f0
        share = float(spectrum[above & _on_series(freqs, f0, sample_rate / n_fft)].sum() / spectrum[above].sum())
        if share > best:
            best, main = share, f0
    if main is None:
        return 0.0, -100.0
    audible = freqs[peaks[spectrum[peaks] >= top * 10.0 ** (-_PARTIAL_DB / 10.0)]]
    audible = audible[~_on_series(audible, main, sample_rate / n_fft)]  # what the first series leaves
    second = -100.0
    for i in strong[~_on_series(freqs[strong], main, sample_rate / n_fft)]:
        r = freqs[i]
        partials = sum(bool(np.any(np.abs(audible - h * r) <= max(0.03 * h * r, 2.0 * sample_rate / n_fft)))
                       for h in (2, 3, 4, 5, 6))
        if partials >= 2:
            second = max(second, float(10.0 * np.log10(spectrum[i] / top)))
    return best, second


def _on_series(freqs: np.ndarray, f0: float, bin_hz: float) -> np.ndarray:
    """Which of ``freqs`` lie on the harmonic series of ``f0`` (see :func:`series_statistics`)."""
    harmonic = np.maximum(np.round(freqs / f0), 1.0)
    return np.abs(freqs - harmonic * f0) <= np.maximum(max(0.1 * f0, 2.0 * bin_hz), 0.03 * harmonic * f0)


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
        ``harmonic_share``, ``pitch_stability``, ``series_share``, ``voiced_share`` and
        ``percussive_share``, each between 0 and 1 (see :class:`NoteCheck`).
    """
    y = np.asarray(y, dtype=np.float32)
    parts = [_frame_statistics(w, sample_rate) for w in _windows(y, sample_rate)]
    power, on_series, midi = (np.concatenate(p) for p in zip(*parts))
    total = float(power.sum()) or 1.0
    voiced = ~np.isnan(midi)
    stable, median = 0.0, None
    if voiced.any():
        # the power-weighted median pitch: quiet release tails, where pyin wanders, count little
        order = np.argsort(midi[voiced])
        weights = np.cumsum(power[voiced][order])
        median = midi[voiced][order][np.searchsorted(weights, weights[-1] / 2)]
        stable = float(power[voiced][np.abs(midi[voiced] - median) <= 1.0].sum() / total)
    spectrum = np.abs(librosa.stft(np.pad(y, (0, max(0, _FRAME - len(y)))), n_fft=_FRAME, hop_length=_HOP))
    h, p = librosa.decompose.hpss(spectrum)
    long_term = sum(_long_term_spectrum(w) for w in _windows(y, sample_rate))
    return {"harmonic_share": float(on_series.sum() / total), "pitch_stability": stable,
            **dict(zip(("series_share", "second_pitch_db"), series_statistics(
                long_term, sample_rate=sample_rate,
                lowest=_FMIN if median is None else max(_FMIN, _BELOW_PITCH * float(librosa.midi_to_hz(median)))))),
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
    single = (stats["harmonic_share"] >= MIN_HARMONIC_SHARE and stats["pitch_stability"] >= MIN_PITCH_STABILITY
              and stats["series_share"] >= MIN_SERIES_SHARE and stats["second_pitch_db"] < MIN_SECOND_PITCH_DB)
    reason = "" if single else (
        f"{_kind(stats)}: {stats['harmonic_share']:.0%} of its power on one pitch's harmonics "
        f"(a note: at least {MIN_HARMONIC_SHARE:.0%}), {stats['series_share']:.0%} on the harmonics of its "
        f"best-fitting partial (a note: at least {MIN_SERIES_SHARE:.0%}), a second pitch "
        f"{-stats['second_pitch_db']:.0f} dB below the loudest (a note: none within {-MIN_SECOND_PITCH_DB:.0f} dB), "
        f"{stats['pitch_stability']:.0%} within "
        f"a semitone of one pitch (a note: at least {MIN_PITCH_STABILITY:.0%})")
    return NoteCheck(single_note=single, reason=reason, **stats)
