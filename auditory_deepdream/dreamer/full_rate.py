"""Dreaming whole recordings at their own rate, channels and loudness.

:func:`dream_channels` reads top to bottom, one stage per function:

1. to the model's rate, as the mid signal (:func:`~.rates.to_model_rate`);
2. ascend, with the objective, transforms and sonification the options give (:func:`~.render.render`);
3. back to the recording's rate, on every channel (:func:`~.rates.back_to_rate`);
4. loudness: the input's integrated loudness under a true-peak ceiling (:func:`~.levels.set_loudness`).

:func:`~.files.dream_file` reads a file before and writes it after.
:func:`dream_full_rate` dreams a clip or a batch at its own rate without the loudness
stage (the output keeps the input's RMS).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .. import audio
from ..audio.loudness import soft_limit
from ..audio.resampling import resample
from ..errors import AudioInputError
from ..options import DreamOptions, resolve_options
from ..settings import AudioSettings
from .activations import as_dreamer
from .objectives import Batched, Objective, match_batch
from .levels import set_loudness
from .rates import back_to_rate, change_at_rate, to_model_rate
from .recipes import as_clips, dream
from .render import render
from .result import DreamResult, build_result

__all__ = ["dream_full_rate", "dream_channels", "mid_result", "FILE_DEFAULTS"]

FILE_DEFAULTS = DreamOptions(consistent=True)  # what options=None means for a whole recording


def dream_full_rate(audio_in, *, sample_rate: int, model, objective: Objective, options: DreamOptions | None = None,
                    settings: AudioSettings | None = None, progress: bool | None = None, measure: bool = True,
                    **overrides) -> DreamResult:
    """Dream audio at its own sample rate, whatever rate the model runs at.

    At the model's own rate this is :func:`~.recipes.dream`.

    Parameters
    ----------
    audio_in : np.ndarray [shape=(n_samples,) or (batch, n_samples)]
        Audio at ``sample_rate``.
    sample_rate : int
        Rate of ``audio_in`` (and of the output).
    model : Dreamer, keras.Model (with ``settings``), or str / path
    objective : Objective
    options, settings, progress, measure, **overrides
        As :func:`~.recipes.dream`; ``options.crossover`` sets the fade from the dream to
        the untouched input above the model's band.

    Returns
    -------
    DreamResult
        ``audio`` and ``input_audio`` at ``sample_rate``; ``mel_after``,
        ``objective_after``, ``survival`` and ``spectral_change_db`` are measured on the
        full-rate output resampled to the model's rate.
    """
    o = resolve_options(options, overrides)
    dreamer = as_dreamer(model, settings)
    s = dreamer.settings
    sample_rate = int(sample_rate)
    if sample_rate <= 0:
        raise AudioInputError(f"sample_rate must be a positive number of Hz, got {sample_rate}.")
    if sample_rate == s.sample_rate:
        return dream(audio_in, model=dreamer, objective=objective, options=o, progress=progress, measure=measure)
    dreamer.check(objective)
    y, single = as_clips(audio_in)
    n = y.shape[-1]
    rendered = render(dreamer, resample(y, orig_sr=sample_rate, target_sr=s.sample_rate), objective, options=o,
                      progress=progress)
    y = match_batch(y, objective)
    out = soft_limit(y + change_at_rate(rendered, sample_rate=sample_rate, settings=s, crossover=o.crossover,
                                        length=n))
    heard = resample(out, orig_sr=sample_rate, target_sr=s.sample_rate, length=rendered.y.shape[-1])
    return build_result(dreamer, objective, rendered, audio_in=y, audio_out=out, sample_rate=sample_rate,
                        heard=heard, options=o, single=single and not isinstance(objective, Batched), measure=measure)


def dream_channels(audio_in, *, sample_rate: int, model, objective: Objective, options: DreamOptions | None = None,
                   settings: AudioSettings | None = None, progress: bool | None = None, measure: bool = True,
                   **overrides) -> DreamResult:
    """Dream one recording with any number of channels, at its own rate and loudness.

    The mid signal (the mean of the channels) is dreamed at the model's rate. A
    consistent mel dream's gain is then applied to every channel's own STFT at
    ``sample_rate`` (:func:`~.rates.gain_at_rate`), so each channel keeps its phase and
    the stereo image stays; any other dream's change to the mid signal is added to every
    channel (the side signal is kept as it was). The result is brought to the input's
    integrated loudness (or ``options.loudness``) under a true-peak ceiling (:func:`set_loudness`).

    Parameters
    ----------
    audio_in : np.ndarray [shape=(channels, n_samples) or (n_samples,)]
    sample_rate : int
    model, objective, settings, progress, measure, **overrides
        As :func:`~.recipes.dream`.
    options : DreamOptions, optional
        Default ``DreamOptions(consistent=True)``; ``loudness``, ``ceiling_db`` and
        ``crossover`` apply here.

    Returns
    -------
    DreamResult
        ``audio`` and ``input_audio`` of shape ``(channels, n_samples)`` (as given for
        mono input) at ``sample_rate``; the measures are of the mid signal at the model's rate.

    Raises
    ------
    AudioInputError
        Bad audio, or a batched objective (one recording makes one dream).
    DreamError
        Invalid options.
    """
    o = resolve_options(options, overrides, default=FILE_DEFAULTS)
    dreamer = as_dreamer(model, settings)
    s = dreamer.settings
    if isinstance(objective, Batched):
        raise AudioInputError("dream_channels dreams one recording; use dream() or audition_layer() for batches.")
    dreamer.check(objective)
    sample_rate = int(sample_rate)
    y, mid, low = to_model_rate(audio_in, sample_rate=sample_rate, settings=s)
    rendered = render(dreamer, low, objective, options=o, progress=progress)
    out, high = back_to_rate(y, rendered, sample_rate=sample_rate, settings=s, options=o)
    out, lufs_in, lufs_out = set_loudness(out, y, high=high, sample_rate=sample_rate, settings=s, options=o)
    result = mid_result(dreamer, objective, rendered, mid=mid, out=out, sample_rate=sample_rate, options=o,
                        measure=measure)
    mono = np.ndim(audio_in) == 1
    return replace(result, audio=out[0] if mono else out, input_audio=y[0] if mono else y, lufs_in=lufs_in,
                   lufs_out=lufs_out, true_peak_dbtp=audio.true_peak_db(out))


def mid_result(dreamer, objective: Objective, rendered, *, mid, out, sample_rate: int, options: DreamOptions,
               measure: bool) -> DreamResult:
    """The measures of a recording's dream, taken on its mid signal at the model's rate.

    Parameters
    ----------
    rendered : Rendered
        The dream of ``mid`` at the model's rate.
    mid : np.ndarray [shape=(n_samples,)]
        The recording's mid signal at ``sample_rate``.
    out : np.ndarray [shape=(channels, n_samples)]
        The dreamed recording at ``sample_rate``.
    """
    heard = resample(out.mean(axis=0)[None], orig_sr=sample_rate, target_sr=dreamer.settings.sample_rate,
                     length=rendered.y.shape[-1])
    return build_result(dreamer, objective, rendered, audio_in=mid[None], audio_out=out.mean(axis=0)[None],
                        sample_rate=sample_rate, heard=heard, options=options, single=True, measure=measure)
