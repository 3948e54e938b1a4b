"""One-call dreams at the model's rate: :func:`dream` (*encode → ascend → sonify → measure*) and its recipes.

How a dream is made is a :class:`~auditory_deepdream.options.DreamOptions`; two of its
fields pick the path:

* ``domain``: what gradient ascent changes, the log-mel spectrogram (``'mel'``) or the
  samples themselves (``'waveform'``);
* ``sonify``: for a mel dream only, how it becomes sound again, as a gain on the input's
  own STFT (``'original'`` phase) or with Griffin-Lim (``'griffin-lim'``).

:data:`~auditory_deepdream.options.SOUND_PATHS` names the three valid combinations, as the
CLI and the auditioner offer them. :func:`amplify_filter`, :func:`dream_layer` and
:func:`audition_layer` are :func:`dream` with the objective built for you. Every function
takes ``options=`` and, for convenience, any of its fields as keywords
(``steps=3``), which replace those of ``options``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .. import audio
from ..audio.loudness import match_rms
from ..errors import AudioInputError
from ..options import DreamOptions, resolve_options
from ..settings import AudioSettings
from .activations import as_dreamer
from .objectives import Batched, Objective, audition_objective, filter_objective, layers_objective
from .render import render
from .result import DreamResult, build_result

__all__ = ["dream", "amplify_filter", "dream_layer", "audition_layer"]


def as_clips(audio_in) -> tuple[np.ndarray, bool]:
    """``(clips (batch, n_samples) float32, whether the input was one clip)``, every clip checked."""
    y = np.asarray(audio_in)
    single = y.ndim == 1
    y = np.atleast_2d(y).astype(np.float32)
    if y.ndim != 2:
        raise AudioInputError(f"Audio has shape {y.shape}; expected (n_samples,) or (batch, n_samples).")
    for row in y:
        audio.check_audio(row)
    return y, single


def dream(audio_in, *, model, objective: Objective, options: DreamOptions | None = None,
          settings: AudioSettings | None = None, progress: bool | None = None, measure: bool = True,
          **overrides) -> DreamResult:
    """Dream a clip: encode, ascend the objective, sonify, loudness-match, measure.

    Parameters
    ----------
    audio_in : np.ndarray [shape=(n_samples,) or (batch, n_samples)] or path
        Audio at the model's sample rate (a path is loaded at that rate). A single clip
        is copied to every item of a :class:`Batched` objective.
    model : Dreamer, keras.Model, or str / path
        A :class:`Dreamer`, a Keras model (with ``settings``), or a model directory /
        bundled model name for :meth:`Dreamer.load`.
    objective : Objective
    options : DreamOptions, optional
        How to dream (default ``DreamOptions()``: the dissertation's free mel ascent, ten
        1 dB steps). ``options.loudness``, ``ceiling_db`` and ``crossover`` are for whole
        recordings and are not used here: the output is brought to the input's RMS level.
    settings : AudioSettings, optional
        The clip's settings; must equal the model's (:class:`SettingsMismatchError`).
        Required with a bare Keras model.
    progress : bool, optional
        Show a bar (default: for long jobs).
    measure : bool
        Re-encode the output and evaluate the objective on the input, the dream and the
        output (survival, spectral change). ``False`` returns the sound only: ``mel_after``
        is None and the measures are NaN.
    **overrides
        Fields of :class:`DreamOptions` (``steps=3``, ``consistent=True`` ...) that replace
        those of ``options``; an unknown name is a :class:`DreamError`.

    Returns
    -------
    DreamResult

    See Also
    --------
    auditory_deepdream.options.SOUND_PATHS : the valid ``domain`` / ``sonify`` pairs by name.
    """
    o = resolve_options(options, overrides)
    dreamer = as_dreamer(model, settings)
    dreamer.check(objective)
    s = dreamer.settings
    if isinstance(audio_in, (str, os.PathLike)):
        audio_in = audio.load_audio(Path(audio_in), settings=s)
    y, single = as_clips(audio_in)
    rendered = render(dreamer, y, objective, options=o, progress=progress)
    out = match_rms(rendered.sound, rendered.y)
    return build_result(dreamer, objective, rendered, audio_in=rendered.y, audio_out=out, sample_rate=s.sample_rate,
                        heard=out, options=o, single=single and not isinstance(objective, Batched), measure=measure)


def amplify_filter(audio_in, *, model, layer: str, index: int, crop: int = 0, options: DreamOptions | None = None,
                   settings: AudioSettings | None = None, progress: bool | None = None, measure: bool = True,
                   **overrides) -> DreamResult:
    """Amplify one filter of a layer (section 3.7's first algorithm).

    Parameters
    ----------
    layer : str
    index : int
        The filter.
    crop : int
        Bands and frames ignored at each border (see :class:`FilterObjective`).
    audio_in, model, options, settings, progress, measure, **overrides
        As :func:`dream`.

    Returns
    -------
    DreamResult
    """
    return dream(audio_in, model=model, objective=filter_objective(layer, index, crop=crop), options=options,
                 settings=settings, progress=progress, measure=measure, **overrides)


def dream_layer(audio_in, *, model, layers, crop: int = 0, options: DreamOptions | None = None,
                settings: AudioSettings | None = None, progress: bool | None = None, measure: bool = True,
                **overrides) -> DreamResult:
    """DeepDream on one layer name, a list of names, or a ``{name: weight}`` dict.

    Parameters
    ----------
    layers : str, list of str, or dict
    crop : int
        Bands and frames ignored at each border.
    audio_in, model, options, settings, progress, measure, **overrides
        As :func:`dream`.

    Returns
    -------
    DreamResult
    """
    if isinstance(layers, str):
        layers = {layers: 1.0}
    elif not isinstance(layers, dict):
        layers = {name: 1.0 for name in layers}
    return dream(audio_in, model=model, objective=layers_objective(layers, crop=crop), options=options,
                 settings=settings, progress=progress, measure=measure, **overrides)


def audition_layer(audio_in, *, model, layer: str, filters=None, crop: int = 0, options: DreamOptions | None = None,
                   settings: AudioSettings | None = None, progress: bool | None = None, measure: bool = True,
                   **overrides) -> DreamResult:
    """Amplify every filter of ``layer`` (or those listed) on one clip in one batched run.

    Parameters
    ----------
    layer : str
    filters : sequence of int, optional
        Default: every filter of the layer.
    crop : int
        Bands and frames ignored at each border.
    audio_in, model, options, settings, progress, measure, **overrides
        As :func:`dream`.

    Returns
    -------
    DreamResult
        Batched: ``result.audio[i]`` is the clip with filter ``filters[i]`` amplified.
    """
    dreamer = as_dreamer(model, settings)
    filters = range(dreamer.info.filters(layer)) if filters is None else filters
    return dream(audio_in, model=dreamer, objective=audition_objective(layer, filters, crop=crop), options=options,
                 progress=progress, measure=measure, **overrides)
