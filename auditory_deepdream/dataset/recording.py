"""Recording-level augmentation: the same note as another room, microphone and desk would give it.

A classifier trained on a few sample sets learns the sample sets: their rooms, their
equalisation, their level. :class:`RecordingAugmentation` makes ``copies`` augmented copies
of every training note with `pedalboard <https://github.com/spotify/pedalboard>`_ effects
that change the *recording* and leave the *instrument* alone: a filter chain (high-pass,
low-pass, a peaking band, shelves), reverb, compression, light chorus and saturation, a
pitch shift of a few cents and a gain change. The build stores each copy as its own
segments (``augmentation = 'recording<k>'``, with the drawn effects in the index column
``effects``) in the training split only; validation and test notes are never augmented.

Every draw is seeded by ``(seed, note_id, copy)``, so a build is reproducible and a
resumed build draws the same effects.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import numpy as np

from ..errors import DatasetError
from ..extras import require

__all__ = ["RecordingAugmentation", "augment_recording", "draw_effects", "effects_board"]


@dataclass(frozen=True)
class RecordingAugmentation:
    """How many augmented copies of each training note, and how strong.

    Parameters
    ----------
    copies : int
        Augmented copies per training note (0 turns the augmentation off).
    strength : float
        Scales every effect's range (1 = the ranges below; 0.5 = half the dB, half the
        wet level...). The probabilities of using each effect do not change.
    seed : int
        Seeds the draws together with each note's id and the copy number.

    Notes
    -----
    At ``strength = 1`` a copy draws (each effect independently, with its probability):

    ========== ===== ===================================================================
    effect     p     range
    ========== ===== ===================================================================
    high-pass  0.5   cutoff 20-400 Hz
    low-pass   0.5   cutoff 2.5-10 kHz
    peak EQ    0.8   centre 150 Hz-6 kHz, gain +-10 dB, Q 0.5-2.5
    shelves    0.6   low shelf at 200 Hz and high shelf at 4 kHz, +-8 dB each
    reverb     0.6   room 0.1-0.9, wet 0-0.4, dry 0.6-1
    compressor 0.4   threshold -35 to -10 dB, ratio 2-8
    chorus     0.2   rate 0.3-2 Hz, depth 0.05-0.3, mix 0-0.35
    saturation 0.2   drive 0-12 dB
    pitch      0.5   +-30 cents
    gain       1.0   -12 to +6 dB (peaks kept below full scale)
    ========== ===== ===================================================================
    """

    copies: int = 2
    strength: float = 1.0
    seed: int = 0

    def __post_init__(self):
        if self.copies < 0:
            raise DatasetError("RecordingAugmentation.copies must be 0 or more.")
        if not 0.0 <= self.strength <= 2.0:
            raise DatasetError("RecordingAugmentation.strength must be in [0, 2].")


def _rng(config: RecordingAugmentation, note_id: str, copy: int) -> np.random.Generator:
    digest = hashlib.sha1(f"{config.seed}:{note_id}:{copy}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "big"))


def draw_effects(config: RecordingAugmentation, *, note_id: str, copy: int) -> list[tuple[str, dict]]:
    """The effects of one copy: ``[(pedalboard class name, keyword arguments), ...]`` in chain order.

    Parameters
    ----------
    config : RecordingAugmentation
    note_id : str
        The note's id in the store (part of the seed).
    copy : int
        Copy number, from 1.

    Returns
    -------
    list of (str, dict)
        JSON-friendly, so the store's index can record it.
    """
    rng = _rng(config, note_id, copy)
    s = config.strength

    def u(low, high):
        return float(rng.uniform(low, high))

    def r(x):
        return round(float(x), 3)

    chain: list[tuple[str, dict]] = []
    # each effect draws its on/off and its values whether or not it is used, so turning the
    # strength down changes values but never which random number feeds which effect
    draws = {name: (rng.random() < p) for name, p in (
        ("high", 0.5), ("low", 0.5), ("peak", 0.8), ("shelf", 0.6), ("reverb", 0.6),
        ("comp", 0.4), ("chorus", 0.2), ("drive", 0.2), ("pitch", 0.5))}
    high = 20.0 * (400.0 / 20.0) ** (u(0, 1) * s)
    low = 10_000.0 * (2_500.0 / 10_000.0) ** (u(0, 1) * s)
    peak = (150.0 * (6_000.0 / 150.0) ** u(0, 1), u(-10, 10) * s, u(0.5, 2.5))
    shelves = (u(-8, 8) * s, u(-8, 8) * s)
    reverb = (u(0.1, 0.9), min(u(0, 0.4) * s, 1.0), 1.0 - u(0, 0.4) * min(s, 1.0))
    comp = (u(-35, -10) * s, 1.0 + u(1, 7) * s)
    chorus = (u(0.3, 2.0), u(0.05, 0.3) * s, min(u(0, 0.35) * s, 1.0))
    drive = u(0, 12) * s
    cents = u(-30, 30) * s
    gain = u(-12, 6) * s
    if draws["high"]:
        chain.append(("HighpassFilter", {"cutoff_frequency_hz": r(high)}))
    if draws["low"]:
        chain.append(("LowpassFilter", {"cutoff_frequency_hz": r(low)}))
    if draws["peak"]:
        chain.append(("PeakFilter", {"cutoff_frequency_hz": r(peak[0]), "gain_db": r(peak[1]), "q": r(peak[2])}))
    if draws["shelf"]:
        chain.append(("LowShelfFilter", {"cutoff_frequency_hz": 200.0, "gain_db": r(shelves[0])}))
        chain.append(("HighShelfFilter", {"cutoff_frequency_hz": 4_000.0, "gain_db": r(shelves[1])}))
    if draws["comp"]:
        chain.append(("Compressor", {"threshold_db": r(comp[0]), "ratio": r(comp[1])}))
    if draws["drive"]:
        chain.append(("Distortion", {"drive_db": r(drive)}))
    if draws["chorus"]:
        chain.append(("Chorus", {"rate_hz": r(chorus[0]), "depth": r(chorus[1]), "mix": r(chorus[2])}))
    if draws["pitch"]:
        chain.append(("PitchShift", {"semitones": r(cents / 100.0)}))
    if draws["reverb"]:
        chain.append(("Reverb", {"room_size": r(reverb[0]), "wet_level": r(reverb[1]), "dry_level": r(reverb[2])}))
    chain.append(("Gain", {"gain_db": r(gain)}))
    return chain


def effects_board(effects: list[tuple[str, dict]]):
    """A :class:`pedalboard.Pedalboard` running ``effects`` (from :func:`draw_effects`) in order."""
    pedalboard = require("pedalboard", extra="train", needed_for="Recording augmentation of training notes")
    return pedalboard.Pedalboard([getattr(pedalboard, name)(**kwargs) for name, kwargs in effects])


def augment_recording(y: np.ndarray, *, sample_rate: int, config: RecordingAugmentation, note_id: str,
                      copy: int) -> tuple[np.ndarray, str]:
    """One augmented copy of a note.

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,), dtype=float32]
        The note (mono).
    sample_rate : int
    config : RecordingAugmentation
    note_id : str
    copy : int
        Copy number, from 1.

    Returns
    -------
    y_aug : np.ndarray [shape=(n_samples,), dtype=float32]
        Same length as ``y`` (the reverb tail is cut where the note's recording ends); if the
        effects push the peak over 0.99 the copy is scaled down to 0.99.
    effects : str
        The effect chain as JSON (for the store's index): :func:`draw_effects`'s, with filter
        cutoffs capped at 0.475 x ``sample_rate`` (below Nyquist; only rates under about
        21 kHz are affected).
    """
    # filters are unstable (NaN) at or above Nyquist: at low sample rates, cap the drawn cutoffs
    top = round(0.475 * float(sample_rate), 3)
    effects = [(name, {**kwargs, "cutoff_frequency_hz": min(kwargs["cutoff_frequency_hz"], top)}
                if "cutoff_frequency_hz" in kwargs else kwargs)
               for name, kwargs in draw_effects(config, note_id=note_id, copy=copy)]
    out = effects_board(effects)(np.asarray(y, dtype=np.float32), float(sample_rate), reset=True)
    out = np.asarray(out, dtype=np.float32).reshape(-1)[: len(y)]
    if len(out) < len(y):
        out = np.pad(out, (0, len(y) - len(out)))
    if not np.all(np.isfinite(out)):
        raise DatasetError(f"Recording augmentation of {note_id} (copy {copy}) produced non-finite audio.")
    peak = float(np.max(np.abs(out))) if len(out) else 0.0
    if peak > 0.99:
        out = out * (0.99 / peak)
    return out, json.dumps(effects, separators=(",", ":"))
