"""Dreaming whole recordings: any rate, any channels, their own loudness, and files.

:func:`dream_file` reads top to bottom, one stage per function:

1. read the file (:func:`auditory_deepdream.audio.read_audio`);
2. to the model's rate, as the mid signal (:func:`~.rates.to_model_rate`);
3. ascend, with the objective, transforms and sonification the options give (:func:`~.render.render`);
4. back to the file's rate, on every channel (:func:`~.rates.back_to_rate`);
5. loudness: the input's integrated loudness under a true-peak ceiling (:func:`set_loudness`);
6. write, atomically, in the input's format (:func:`auditory_deepdream.audio.write_audio`).

:func:`dream_channels` is stages 2-5 on an array; :func:`dream_full_rate` dreams a clip or
a batch at its own rate without the loudness stage (the output keeps the input's RMS).
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
from .rates import CROSSOVER_N_FFT, back_to_rate, change_at_rate, in_model_band, to_model_rate
from .recipes import as_clips, dream
from .render import render
from .result import DreamResult, build_result

__all__ = ["dream_full_rate", "dream_channels", "dream_file", "set_loudness", "finish_loudness", "loudness_in_band"]

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
    heard = resample(out.mean(axis=0)[None], orig_sr=sample_rate, target_sr=s.sample_rate, length=low.shape[-1])
    result = build_result(dreamer, objective, rendered, audio_in=mid[None], audio_out=out.mean(axis=0)[None],
                          sample_rate=sample_rate, heard=heard, options=o, single=True, measure=measure)
    mono = np.ndim(audio_in) == 1
    return replace(result, audio=out[0] if mono else out, input_audio=y[0] if mono else y, lufs_in=lufs_in,
                   lufs_out=lufs_out, true_peak_dbtp=audio.true_peak_db(out))


def dream_file(input_path, output_path, *, model, objective: Objective, options: DreamOptions | None = None,
               settings: AudioSettings | None = None, progress: bool | None = None, measure: bool = True,
               **overrides):
    """Dream an audio file and write the result in the file's own format.

    The output has the input's channels, sample rate and length; when ``output_path``
    has the input's container format (same suffix family), its sample format too (e.g.
    16-bit PCM WAV in, 16-bit PCM WAV out). Written atomically.

    Parameters
    ----------
    input_path, output_path : path-like
        Any file :func:`auditory_deepdream.audio.read_audio` reads; the output's format
        follows its suffix (:func:`auditory_deepdream.audio.write_audio`).
    model : Dreamer or str / path
    objective : Objective
    options, settings, progress, measure, **overrides
        As :func:`dream_channels`.

    Returns
    -------
    (path, DreamResult)
    """
    o = resolve_options(options, overrides, default=FILE_DEFAULTS)
    dreamer = as_dreamer(model, settings)
    y, fmt = audio.read_audio(input_path)
    result = dream_channels(y, sample_rate=fmt.sample_rate, model=dreamer, objective=objective, options=o,
                            progress=progress, measure=measure)
    path = audio.write_audio(output_path, result.audio, sample_rate=fmt.sample_rate, like=fmt)
    return path, result


def set_loudness(out, y, *, high, sample_rate: int, settings: AudioSettings, options: DreamOptions):
    """The loudness stage of a recording's dream: ``options.loudness`` under ``options.ceiling_db``.

    The model's band is scaled to the target (:func:`loudness_in_band`), so the band
    above it stays the input's; then :func:`finish_loudness` makes sure of the target and
    the true-peak ceiling.

    Parameters
    ----------
    out, y : np.ndarray [shape=(channels, n_samples)]
        The dream and the recording, at ``sample_rate``.
    high : np.ndarray [shape=(channels, n_samples)] or None
        The band above the model's (:func:`~.rates.back_to_rate`).
    sample_rate : int
    settings : AudioSettings
        The model's.
    options : DreamOptions

    Returns
    -------
    out : np.ndarray [shape=(channels, n_samples)], float32
    lufs_in, lufs_out : float
    """
    mode = audio.parse_loudness(options.loudness)
    lufs_in, lufs_out = audio.integrated_loudness(y, sample_rate=sample_rate), None
    if mode != "keep":
        out, lufs_out = loudness_in_band(out.astype(np.float32), y, sample_rate=sample_rate, settings=settings,
                                         crossover=options.crossover, target_lufs=lufs_in if mode == "match" else mode,
                                         high=high)
    banded = out.astype(np.float32)
    out = finish_loudness(banded, y, sample_rate=sample_rate, loudness=options.loudness,
                          ceiling_db=options.ceiling_db, reference_lufs=lufs_in, out_lufs=lufs_out)
    if out is not banded or lufs_out is None:
        lufs_out = audio.integrated_loudness(out, sample_rate=sample_rate)
    return out, lufs_in, lufs_out


def loudness_in_band(out, y, *, sample_rate: int, settings: AudioSettings, crossover: tuple,
                      target_lufs: float, high=None, rounds: int = 4) -> tuple:
    """Reach ``target_lufs`` by scaling only the model's band of ``out``; above it stays ``y``'s.

    ``out`` splits into the input's band above the model's (its STFT weighted by one minus
    the crossover, exactly as the dream left it; ``high`` when the caller has it) and the
    rest; the rest is scaled by a factor found by the secant method on integrated loudness.
    Returns ``(out, its integrated loudness)``.
    """
    if high is None:
        high = y - in_model_band(y, settings=settings, sample_rate=sample_rate, crossover=crossover, n_fft=CROSSOVER_N_FFT)
    band = out - high

    def loudness(log_gain):
        return audio.integrated_loudness(high + np.exp(log_gain) * band, sample_rate=sample_rate)

    a, la = 0.0, loudness(0.0)
    if not np.isfinite(target_lufs) or not np.isfinite(la):
        return out, la
    if abs(la - target_lufs) < 0.05:
        return out, la
    b = a + (target_lufs - la) * np.log(10) / 20  # as if the band were all of the loudness
    for _ in range(rounds):
        lb = loudness(b)
        if abs(lb - target_lufs) < 0.05 or lb == la:
            break
        a, la, b = b, lb, b + (target_lufs - lb) * (b - a) / (lb - la)
        b = float(np.clip(b, -6.0, 6.0))
    else:
        lb = loudness(b)
    return (high + np.exp(b) * band).astype(np.float32), lb


def finish_loudness(out, reference, *, sample_rate: int, loudness="match", ceiling_db: float = -1.0,
                    reference_lufs: float | None = None, out_lufs: float | None = None) -> np.ndarray:
    """Bring a dream to its loudness (BS.1770 integrated LUFS) under a true-peak ceiling.

    Parameters
    ----------
    out, reference : np.ndarray [shape=(channels, n_samples) or (n_samples,)]
    sample_rate : int
    loudness : 'match', 'keep' or float
        ``'match'`` the reference's integrated loudness, ``'keep'`` the dream's own, or a
        target in LUFS (see :func:`~auditory_deepdream.audio.parse_loudness`).
    ceiling_db : float
        True-peak ceiling in dBTP.
    reference_lufs, out_lufs : float, optional
        The reference's and ``out``'s integrated loudness, when the caller has measured them.

    Returns
    -------
    out : np.ndarray, same shape
    """
    mode = audio.parse_loudness(loudness)
    out = np.asarray(out, dtype=np.float32)
    if mode != "keep":
        target = mode
        if mode == "match":
            target = (audio.integrated_loudness(reference, sample_rate=sample_rate) if reference_lufs is None
                      else reference_lufs)
        now = audio.integrated_loudness(out, sample_rate=sample_rate) if out_lufs is None else out_lufs
        if abs(now - target) > 0.05:
            return audio.match_loudness(out, sample_rate=sample_rate, target_lufs=target, ceiling_db=ceiling_db)
    # 4x oversampling finds inter-sample peaks at most ~3 dB over the sample peak: skip it when far below
    sample_peak_db = 20 * np.log10(max(float(np.max(np.abs(out))), 1e-12))
    if sample_peak_db <= ceiling_db - 3.5 or audio.true_peak_db(out) <= ceiling_db:
        return out
    return audio.limit_true_peak(out, sample_rate=sample_rate, ceiling_db=ceiling_db)
