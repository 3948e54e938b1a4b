"""Named dream settings for people who would rather choose an effect than a step count.

A :class:`DreamPreset` says what to amplify (a layer at a depth of the model, or a class)
and how: its :class:`~auditory_deepdream.options.DreamOptions`, which set how strongly (a
spectral change in dB that the ascent runs until it reaches, the same amount of change on
any material) and which robustness transforms to use. :data:`PRESETS` holds the ones the
CLI shows in ``auditory-deepdream dream --help``; every option can still be overridden.
The dreamer turns a preset into an objective
(:func:`auditory_deepdream.dreamer.preset_objective`). This module imports no TensorFlow,
so the CLI can list the presets quickly.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import DreamError
from .options import DreamOptions

__all__ = ["DreamPreset", "PRESETS", "get_preset"]


@dataclass(frozen=True)
class DreamPreset:
    """A named way to dream: what to amplify, and the options to dream it with.

    Attributes
    ----------
    name : str
    description : str
        One line for ``--help``.
    objective : {'layer', 'class'}
    depth : float
        Which convolution layer a layer dream amplifies, as a fraction of the model's
        depth (0: the first, 1: the last), so a preset means the same on any model.
    options : DreamOptions
        How to dream: a consistent mel dream run to a ``strength`` in dB (``tag``: for 12 steps), with its
        jitter, band shifts, step size, gain smoothing and click guard (``max_jump``).
    """

    name: str
    description: str
    objective: str
    depth: float
    options: DreamOptions

    def layer(self, conv_layers) -> str:
        """The convolution layer at this preset's ``depth`` of ``conv_layers`` (input to output)."""
        if not conv_layers:
            raise DreamError("This model has no convolution layers to dream with.")
        return conv_layers[min(len(conv_layers) - 1, round(self.depth * (len(conv_layers) - 1)))]

    def to_dict(self) -> dict:
        return {"name": self.name, "description": self.description, "objective": self.objective,
                "depth": self.depth, "options": self.options.to_dict()}

    @classmethod
    def from_dict(cls, data: dict) -> DreamPreset:
        return cls(**{**data, "options": DreamOptions.from_dict(data["options"])})


def _preset_options(strength: float, **changes) -> DreamOptions:
    """A consistent mel dream run to ``strength`` dB, with the presets' shared transforms and guards.

    Every preset holds the quietest 30 % of the input's cells (``hold_floor``) and smooths its gain
    over 9 frames: without them a dream lifts the gaps, tails and hiss by several dB once it is
    brought back to the input's loudness (benchmarks/results/tag_sources.json, docs/dreaming.md).
    """
    shared = dict(consistent=True, steps=0, strength=strength, step_size=3.0, jitter=2, band_shift=1, smooth=9,
                  max_jump=1.9, hold_floor=0.3)
    return DreamOptions(**{**shared, **changes})


# no click guard: it takes back part of what carries a class to other models
# (at 6 dB, transfer against dreams toward other classes 0.83 without it, 0.72 with; see the README)
_MORPH = _preset_options(10.0, jitter=3, band_shift=2, max_jump=None)

PRESETS = {
    p.name: p for p in (
        DreamPreset("subtle", "a mid layer's patterns, lightly (2 dB of spectral change)", "layer", 0.34,
                    _preset_options(2.0)),
        DreamPreset("strong", "a deep layer's patterns, clearly (8 dB of spectral change)", "layer", 0.67,
                    _preset_options(8.0)),
        DreamPreset("morph", "toward a class given with --class (10 dB of spectral change)", "class", 1.0, _MORPH),
        # morph's ascent, but the gain only cuts, for 12 steps: chosen on musicnn's taggers by the judges that
        # took no part (benchmarks/results/tag_sources.json, docs/dreaming.md)
        DreamPreset("tag", "toward a tagger's tag given with --tag, by cutting bands only, smoothly (12 steps, "
                           "about 2 dB of spectral change)", "class", 1.0,
                    _MORPH.replace(strength=None, steps=12, max_boost_db=0.0)),
    )
}


def get_preset(name: str) -> DreamPreset:
    """The preset called ``name``; :class:`DreamError` naming the choices otherwise."""
    try:
        return PRESETS[name]
    except KeyError:
        raise DreamError(f"No dream preset {name!r}; choose one of {list(PRESETS)}.") from None
