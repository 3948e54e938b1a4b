"""How to dream: one frozen :class:`DreamOptions`, validated once, saved beside what it made.

Every dreaming function (:func:`~auditory_deepdream.dreamer.dream`, the recipes,
:func:`~auditory_deepdream.dreamer.dream_channels`, :func:`~auditory_deepdream.dreamer.dream_file`),
every preset, the CLI and the auditioner take the same options object. *What* to amplify
is the objective, a separate argument (Lucid's split between objective and parameterisation).
This module imports no TensorFlow, so the CLI can check options before loading a model.
"""

from __future__ import annotations

import dataclasses
import json
import math
import numbers
import os
from dataclasses import dataclass
from pathlib import Path

from .atomic import write_json_atomic
from .errors import AudioInputError, DreamError

__all__ = ["DreamOptions", "DOMAINS", "SONIFICATIONS", "SOUND_PATHS", "LOUDNESS_RANGE", "parse_loudness",
           "resolve_options"]

DOMAINS = ("mel", "waveform")
SONIFICATIONS = ("original", "griffin-lim")
# the three ways to get sound, by the names the CLI and the auditioner show
SOUND_PATHS = {
    "original": {"domain": "mel", "sonify": "original"},
    "griffin-lim": {"domain": "mel", "sonify": "griffin-lim"},
    "waveform": {"domain": "waveform", "sonify": None},
}
LOUDNESS_RANGE = (-70.0, 0.0)  # LUFS targets parse_loudness accepts
GAIN_CLAMP_DB = 24.0  # a consistent mel dream boosts or cuts no STFT bin by more than this
FREE_GAIN_CLAMP_DB = 60.0  # nor a free mel dream by more than this


@dataclass(frozen=True)
class DreamOptions:
    """How a dream is made: the ascent, its transforms, the sonification and the file's finish.

    The defaults are the dissertation's free ascent (ten 1 dB steps on the log-mel values);
    the CLI's presets (:data:`auditory_deepdream.presets.PRESETS`) hold the options it
    dreams with.

    Attributes
    ----------
    steps : int
        Ascent steps (per octave) when no ``strength`` is set.
    step_size : float
        ``'mel'``: dB (RMS over the spectrogram) per step; ``'waveform'``: a tenth of the
        clip's RMS per step.
    strength : float or None
        Target spectral change of what is heard, in dB: the ascent runs until it reaches it
        (at most ``max_steps`` steps) instead of ``steps``. Waveform and consistent mel dreams.
    max_steps : int
        Most steps a ``strength`` dream takes.
    domain : {'mel', 'waveform'}
        Ascend on the log-mel spectrogram, or on the samples themselves.
    sonify : {'original', 'griffin-lim'} or None
        Mel dreams only (None means ``'original'``): rebuild sound as a gain on the input's
        own STFT, or with Griffin-Lim. Must be None for a waveform dream.
    consistent : bool
        Mel dreams: ascend on a mel-band gain through the sonification, so the spectrogram
        climbed is the one heard, instead of on free log-mel values.
    seed : int
        Seeds jitter, band shifts and Griffin-Lim: a dream is deterministic for a seed.
    octaves : int
        Time scales of a free mel dream, coarse to fine.
    octave_scale : float
        Time stretch between octaves.
    jitter : int
        Largest random time roll per step, frames.
    band_shift : int
        Mel dreams: largest random shift along the bands per step.
    smooth : int
        Consistent mel dreams: frames the gain is smoothed over after every step.
    contrast : float
        Consistent mel dreams: climb the dream's objective minus this times the objective
        of its expected phase control (the input plus the dream's change with a random
        phase, :func:`~auditory_deepdream.dreamer.control_for`), so the dream must score
        above noise of its own spectrum; 0 (the default) climbs the dream's alone.
    max_jump : float or None
        Consistent mel dreams: scale the gain back until no sample step of the output
        exceeds this many times the input's largest (None: no guard).
    n_iter : int
        Griffin-Lim iterations.
    max_gain_db : float or None
        Clamp on the STFT gain of a mel dream (None: 60 dB, or 24 dB for a consistent one).
    max_boost_db : float or None
        Consistent mel dreams: the most a band and frame may be boosted, in dB (None: up to
        the clamp). 0 makes a dream that only cuts: a moving subtractive EQ, whose change a
        phase-randomised copy cannot imitate (its control adds energy where the dream took
        some away).
    hold_floor : float
        Consistent mel dreams: the quietest share of the input's cells (0 to 1) that may
        not come up. Holding the clip's level gives back, to every cell, what the gain took
        from its power; these cells are cut by as much, in the ascent's mel cells and in the
        recording's own STFT cells (:func:`~auditory_deepdream.dreamer.rates.hold_quiet_cells`),
        so a dream does not lift the gaps, tails and hiss
        (:func:`~auditory_deepdream.dreamer.noise_lift`). 0 (the default): none.
    block_frames : int or None
        Free mel dreams of long audio: ascend in blocks of this many frames.
    overlap_frames : int
        Overlap of those blocks.
    envelope : bool
        Waveform dreams: keep each update inside the clip's own spectrum.
    loudness : 'match', 'keep' or float
        Whole recordings: the input's integrated loudness (BS.1770), the dream's own, or a
        target in LUFS.
    ceiling_db : float
        Whole recordings: true-peak ceiling, dBTP.
    crossover : (float, float)
        Start and end of the fade from the dream to the untouched input above the model's
        band, as fractions of the model's band edge.
    """

    steps: int = 10
    step_size: float = 1.0
    strength: float | None = None
    max_steps: int = 40
    domain: str = "mel"
    sonify: str | None = None
    consistent: bool = False
    seed: int = 0
    octaves: int = 1
    octave_scale: float = 1.3
    jitter: int = 0
    band_shift: int = 0
    smooth: int = 0
    contrast: float = 0.0
    max_jump: float | None = None
    n_iter: int = 32
    max_gain_db: float | None = None
    max_boost_db: float | None = None
    hold_floor: float = 0.0
    block_frames: int | None = None
    overlap_frames: int = 64
    envelope: bool = True
    loudness: str | float = "match"
    ceiling_db: float = -1.0
    crossover: tuple = (0.85, 0.95)

    def __post_init__(self):
        object.__setattr__(self, "crossover", tuple(self.crossover))
        problems = [p for p in self._problems() if p]
        if problems:
            raise DreamError("Invalid dream options: " + "; ".join(problems) + ".")

    def _problems(self):
        if self.domain not in DOMAINS:
            yield f"Unknown domain {self.domain!r}, choose one of {list(DOMAINS)}"
            return
        if self.domain == "waveform":
            if self.sonify is not None:
                yield (f"sonify={self.sonify!r} applies to mel-domain dreams only: a waveform dream is already "
                       "sound; leave sonify out, or use domain='mel'")
            if self.octaves != 1:
                yield "waveform dreaming works at one time scale; use octaves=1"
            if self.band_shift:
                yield "band_shift moves a log-mel spectrogram along its bands; use it with domain='mel'"
        elif self.sonify is not None and self.sonify not in SONIFICATIONS:
            yield f"Unknown sonification {self.sonify!r}, choose one of {list(SONIFICATIONS)}"
        if self.consistent and self.domain == "mel" and self.octaves != 1:
            yield ("octaves rescale the spectrogram in time, which a consistent mel dream (a gain on the clip's "
                   "own STFT) cannot do; use octaves=1, or consistent=False for the free mel ascent "
                   "(--free --steps N in the CLI)")
        if self.strength is not None:
            if not (self.domain == "waveform" or self.consistent):
                yield ("strength needs a dream that measures what is heard: domain='waveform', or a consistent "
                       "mel dream (consistent=True)")
            if not (math.isfinite(self.strength) and self.strength > 0):
                yield f"strength is the spectral change to reach in dB and must be above 0, got {self.strength}"
        for name in ("steps", "jitter", "band_shift", "smooth", "overlap_frames"):
            value = getattr(self, name)
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 0:
                yield f"{name} must be a whole number of at least 0, got {value!r}"
        for name in ("max_steps", "octaves", "n_iter"):
            value = getattr(self, name)
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
                yield f"{name} must be a whole number of at least 1, got {value!r}"
        gain_dream = self.consistent and self.domain == "mel"  # contrast and max_boost_db act on its gain
        if isinstance(self.contrast, bool) or not isinstance(self.contrast, numbers.Real) \
                or not (math.isfinite(self.contrast) and self.contrast >= 0):
            yield f"contrast weighs the phase control's objective and must be at least 0, got {self.contrast!r}"
        elif self.contrast and not gain_dream:
            yield ("contrast is climbed through the gain of a consistent mel dream; use consistent=True with "
                   "domain='mel', or contrast=0")
        if not (math.isfinite(self.step_size) and self.step_size > 0):
            yield f"step_size must be above 0, got {self.step_size}"
        if not self.octave_scale > 0:
            yield f"octave_scale must be above 0, got {self.octave_scale}"
        if self.max_gain_db is not None and not self.max_gain_db > 0:
            yield f"max_gain_db must be above 0 dB (or None), got {self.max_gain_db}"
        if self.max_boost_db is not None and not (math.isfinite(self.max_boost_db) and self.max_boost_db >= 0):
            yield f"max_boost_db must be at least 0 dB (or None), got {self.max_boost_db}"
        elif self.max_boost_db is not None and not gain_dream:
            yield ("max_boost_db bounds the gain of a consistent mel dream; use consistent=True with "
                   "domain='mel', or max_boost_db=None")
        if not (isinstance(self.hold_floor, numbers.Real) and 0 <= self.hold_floor <= 1):
            yield f"hold_floor is a share of the input's cells, from 0 to 1, got {self.hold_floor!r}"
        elif self.hold_floor and not gain_dream:
            yield ("hold_floor holds the gain of a consistent mel dream; use consistent=True with "
                   "domain='mel', or hold_floor=0")
        if self.max_jump is not None and not self.max_jump > 0:
            yield f"max_jump must be above 0 (or None), got {self.max_jump}"
        if self.block_frames is not None and not self.block_frames > 0:
            yield f"block_frames must be above 0 (or None), got {self.block_frames}"
        if isinstance(self.loudness, str) and self.loudness not in ("match", "keep"):
            yield f"loudness must be 'match', 'keep' or a number of LUFS, got {self.loudness!r}"
        elif not isinstance(self.loudness, str) and not LOUDNESS_RANGE[0] <= self.loudness <= LOUDNESS_RANGE[1]:
            yield (f"loudness must be a target between {LOUDNESS_RANGE[0]:g} and {LOUDNESS_RANGE[1]:g} LUFS, "
                   f"got {self.loudness}")
        if len(self.crossover) != 2 or not 0 < self.crossover[0] < self.crossover[1] <= 1:
            yield f"crossover must be two fractions 0 < start < end <= 1 of the model's band, got {self.crossover}"

    @property
    def gain_clamp_db(self) -> float:
        """The clamp on a mel dream's STFT gain: ``max_gain_db``, or its default for a consistent or free dream."""
        if self.max_gain_db is not None:
            return float(self.max_gain_db)
        return GAIN_CLAMP_DB if self.consistent else FREE_GAIN_CLAMP_DB

    @property
    def sonification(self) -> str | None:
        """The sonification this dream uses: ``sonify`` resolved (None for a waveform dream)."""
        if self.domain == "waveform":
            return None
        return "original" if self.sonify is None else self.sonify

    def replace(self, **changes) -> DreamOptions:
        """A copy with some fields changed (validated); unknown names are a :class:`DreamError`."""
        unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise DreamError(f"Unknown dream option(s) {unknown}; the options are "
                             f"{[f.name for f in dataclasses.fields(self)]}.")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> DreamOptions:
        return cls().replace(**data)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the options as JSON (atomically) and return the path."""
        return write_json_atomic(path, self.to_dict())

    @classmethod
    def load(cls, path: str | os.PathLike) -> DreamOptions:
        path = Path(path)
        if not path.is_file():
            raise DreamError(f"No dream options at {path}; save some with DreamOptions.save.")
        return cls.from_dict(json.loads(path.read_text()))


def resolve_options(options: DreamOptions | None, overrides: dict, *,
                    default: DreamOptions | None = None) -> DreamOptions:
    """``options`` (or ``default``, or :class:`DreamOptions`) with ``overrides`` applied, validated once.

    Parameters
    ----------
    options : DreamOptions or None
    overrides : dict
        Field names of :class:`DreamOptions` and their values, as a dreaming function's
        keyword arguments gave them.
    default : DreamOptions, optional
        What ``options=None`` means for the caller.

    Returns
    -------
    DreamOptions
    """
    if options is not None and not isinstance(options, DreamOptions):
        raise DreamError(f"options must be a DreamOptions, got {type(options).__name__}.")
    base = options if options is not None else (default if default is not None else DreamOptions())
    return base.replace(**overrides) if overrides else base


def parse_loudness(value) -> str | float:
    """Read a ``--loudness`` option: ``match``, ``keep`` or a target in LUFS.

    Parameters
    ----------
    value : str or float
        ``"match"`` (the dream gets the input's loudness), ``"keep"`` (left as it
        comes out) or a number of LUFS between -70 and 0, such as ``-14``.

    Returns
    -------
    loudness : "match", "keep" or float

    Raises
    ------
    AudioInputError
        Anything else. It is a ValueError, so as an argparse ``type=`` its message is
        replaced by argparse's own; call this on the parsed string to show it.
    """
    if isinstance(value, str) and value.strip().lower() in ("match", "keep"):
        return value.strip().lower()
    low, high = LOUDNESS_RANGE
    try:
        lufs = float(value)
    except (TypeError, ValueError):
        lufs = None
    if lufs is None or not low <= lufs <= high:
        raise AudioInputError(
            f"--loudness must be 'match', 'keep' or a target in LUFS between {low:g} and {high:g} "
            f"(such as -14); got {value!r}.")
    return lufs
