"""Named dream settings for people who would rather choose an effect than a step count.

A :class:`DreamPreset` says what to amplify (a layer, or a class), how strongly (a
spectral change in dB that the ascent runs until it reaches, the same amount of change on
any material) and which robustness transforms to use. :data:`PRESETS` holds the ones the
CLI shows in ``auditory-deepdream dream --help``; every field can still be overridden.
This module imports no TensorFlow, so the CLI can list the presets quickly.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .errors import DreamError

__all__ = ["DreamPreset", "PRESETS", "get_preset"]


@dataclass(frozen=True)
class DreamPreset:
    """A named way to dream.

    Attributes
    ----------
    name : str
    description : str
        One line for ``--help``.
    objective : {'layer', 'class'}
    depth : float
        Which convolution layer a layer dream amplifies, as a fraction of the model's
        depth (0: the first, 1: the last), so a preset means the same on any model.
    strength : float
        Target spectral change of what is heard, in dB.
    jitter : int
        Largest random time roll per step, frames.
    band_shift : int
        Largest random band shift per step, mel bands.
    step_size : float
        dB (RMS) per ascent step.
    smooth : int
        Frames the gain is smoothed over after every step (a smoothness prior).
    max_jump : float or None
        Largest sample-to-sample step of the output, as a multiple of the input's: the
        gain is scaled back until it holds at the model's rate (1.9: a margin under the
        2x that the full-rate output is checked against; None: no guard).
    """

    name: str
    description: str
    objective: str
    depth: float
    strength: float
    jitter: int = 2
    band_shift: int = 1
    step_size: float = 3.0
    smooth: int = 9
    max_jump: float | None = 1.9

    def layer(self, conv_layers) -> str:
        """The convolution layer at this preset's ``depth`` of ``conv_layers`` (input to output)."""
        if not conv_layers:
            raise DreamError("This model has no convolution layers to dream with.")
        return conv_layers[min(len(conv_layers) - 1, round(self.depth * (len(conv_layers) - 1)))]

    def build_objective(self, conv_layers, *, classes=None, target=None):
        """The preset's objective on a model with convolution layers ``conv_layers``.

        Parameters
        ----------
        conv_layers : sequence of str
            The model's convolution layer names, input to output.
        classes : sequence of str, optional
            The model's classes (class presets).
        target : str or int, optional
            The class to dream toward (class presets; required there).

        Returns
        -------
        auditory_deepdream.dreamer.Objective
        """
        from .dreamer.objectives import class_objective, layer_objective

        if self.objective == "class":
            if target is None:
                raise DreamError(f"The {self.name!r} preset dreams toward a class; name one with --class "
                                 f"(one of {list(classes or [])}).")
            return class_objective(target, classes=classes)
        return layer_objective(self.layer(conv_layers))

    def to_dict(self) -> dict:
        return asdict(self)


PRESETS = {
    p.name: p for p in (
        DreamPreset("subtle", "a mid layer's patterns, lightly (2 dB of spectral change)", "layer", 0.34, 2.0),
        DreamPreset("strong", "a deep layer's patterns, clearly (8 dB of spectral change)", "layer", 0.67, 8.0),
        # no smoothing or click guard: the guard takes back part of what carries a class to other models
        # (at 6 dB, transfer against dreams toward other classes 0.83 without it, 0.72 with; see the README)
        DreamPreset("morph", "toward a class given with --class (10 dB of spectral change)", "class", 1.0, 10.0,
                    jitter=3, band_shift=2, smooth=0, max_jump=None),
    )
}


def get_preset(name: str) -> DreamPreset:
    """The preset called ``name``; :class:`DreamError` naming the choices otherwise."""
    try:
        return PRESETS[name]
    except KeyError:
        raise DreamError(f"No dream preset {name!r}; choose one of {list(PRESETS)}.") from None
