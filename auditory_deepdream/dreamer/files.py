"""Dreaming files: read, dream, write in the file's own format; long ones block by block in bounded memory.

:func:`dream_file` reads top to bottom: read the file, :func:`~.full_rate.dream_channels`
(to the model's rate, ascend, back to the file's rate, loudness), write it atomically.
A file longer than two blocks goes through :func:`dream_stream` instead, which reads the
recording in blocks of ``block_seconds`` (each read with :data:`CONTEXT_SECONDS` more on
either side), dreams every block as
:func:`~.full_rate.dream_channels` would (to the model's rate, render, back to the file's
rate), and joins neighbours with a raised-cosine crossfade :data:`FADE_SECONDS` either side
of each boundary, far from the blocks' own edges. Peak memory follows the block, not the file.

Loudness is set over the whole file in two passes, as in one pass: the input's integrated
loudness is measured while the blocks are read (:class:`~auditory_deepdream.audio.loudness.LoudnessMeter`),
the dream's model band and the band above it go to a temporary file beside the output, the
band's gain that reaches the target is found on that file (:func:`~.levels.band_gain`),
and the output is written through the true-peak limiter, one block at a time, atomically.
The parts file and the blocks' state lie in a scratch folder beside the output
(:class:`~.progress.StreamProgress`), so a dream killed after block k resumes from block k.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from .. import audio
from ..audio.io import SILENCE
from ..audio.loudness import LoudnessMeter
from ..audio.peaks import true_peak_db
from ..audio.streams import block_spans, read_span, stream_info, stream_writer
from ..errors import AudioInputError
from ..options import DreamOptions, resolve_options
from ..settings import AudioSettings
from .activations import Dreamer, as_dreamer
from .full_rate import FILE_DEFAULTS, dream_channels, mid_result
from .levels import band_gain, finish_loudness
from .objectives import Objective
from .progress import StreamProgress
from .rates import above_model_band, back_to_rate, to_model_rate
from .render import render
from .result import DreamResult

__all__ = ["BLOCK_SECONDS", "CONTEXT_SECONDS", "FADE_SECONDS", "dream_file", "dream_stream", "crossfade_weights"]

BLOCK_SECONDS = 30.0  # each block owns this much of the recording
CONTEXT_SECONDS = 3.0  # and is read with this much more on each side
FADE_SECONDS = 1.0  # neighbours crossfade this far either side of their boundary
_CHUNK_SECONDS = 30.0  # the loudness and writing passes' chunk
_LIMIT_CONTEXT_SECONDS = 1.0  # the limiter sees this much beyond each chunk (its release is 80 ms)


def dream_file(input_path, output_path, *, model, objective: Objective, options: DreamOptions | None = None,
               settings: AudioSettings | None = None, block_seconds: float | None = BLOCK_SECONDS,
               progress: bool | None = None, measure: bool = True, start: float = 0.0,
               duration: float | None = None, **overrides):
    """Dream an audio file and write the result in the file's own format.

    The output has the input's channels, sample rate and length; when ``output_path``
    has the input's container format (same suffix family), its sample format too (e.g.
    16-bit PCM WAV in, 16-bit PCM WAV out). Written atomically. A file longer than two
    blocks is dreamed block by block (:func:`dream_stream`), so memory does not grow
    with its length.

    Parameters
    ----------
    input_path, output_path : path-like
        Any file :func:`auditory_deepdream.audio.read_audio` reads; the output's format
        follows its suffix (:func:`auditory_deepdream.audio.write_audio`).
    model : Dreamer or str / path
    objective : Objective
    options, settings, progress, measure, **overrides
        As :func:`~.full_rate.dream_channels`.
    block_seconds : float or None
        The blocks of a long file (default 30 s); None dreams any file in one pass.
    start, duration : float
        Dream only this excerpt, in seconds (a preview): the output is the excerpt. Default:
        the whole file.

    Returns
    -------
    (path, DreamResult)
        For a streamed file, see :func:`dream_stream`.
    """
    o = resolve_options(options, overrides, default=FILE_DEFAULTS)
    dreamer = as_dreamer(model, settings)
    info = stream_info(input_path)
    span = None if info is None else excerpt_frames(info[1], sample_rate=info[0].sample_rate, start=start,
                                                     duration=duration, name=input_path)
    if block_seconds is not None and span is not None and span[1] - span[0] > 2 * block_seconds * info[0].sample_rate:
        dreamer.check(objective)
        return dream_stream(input_path, output_path, dreamer=dreamer, objective=objective, options=o,
                            block_seconds=block_seconds, progress=progress, measure=measure, span=span)
    if span is not None:
        y, fmt = read_span(input_path, *span), info[0]
    else:  # a format libsndfile cannot seek in: read whole, then cut
        y, fmt = audio.read_audio(input_path)
        first, last = excerpt_frames(y.shape[1], sample_rate=fmt.sample_rate, start=start, duration=duration,
                                     name=input_path)
        y = y[:, first:last]
    audio.check_audio(y.reshape(-1), name=f"{input_path} (from {start:g} s)" if start else str(input_path))
    result = dream_channels(y, sample_rate=fmt.sample_rate, model=dreamer, objective=objective, options=o,
                            progress=progress, measure=measure)
    path = audio.write_audio(output_path, result.audio, sample_rate=fmt.sample_rate, like=fmt)
    return path, result


def excerpt_frames(n_frames: int, *, sample_rate: int, start: float = 0.0, duration: float | None = None,
                   name="audio") -> tuple[int, int]:
    """``(first, last)`` frames of the excerpt ``start`` to ``start + duration`` seconds (None: to the end).

    Raises
    ------
    AudioInputError
        ``start`` is negative or not before the end, or ``duration`` is not above 0.
    """
    if start < 0 or (duration is not None and duration <= 0):
        raise AudioInputError(f"The excerpt of {name} starts at {start:g} s and lasts {duration} s; give a start "
                              "of 0 or more and a duration above 0 (seconds).")
    first = round(start * sample_rate)
    if first >= n_frames:
        raise AudioInputError(f"{name} lasts {n_frames / sample_rate:.2f} s, so an excerpt cannot start at "
                              f"{start:g} s; give an earlier --start.")
    last = n_frames if duration is None else min(n_frames, first + round(duration * sample_rate))
    return first, last


def crossfade_weights(n: int, *, start: int, fade_in: int | None, fade_out: int | None, fade: int) -> np.ndarray:
    """A block's weight over the ``n`` samples it was read for, starting at sample ``start`` of the file.

    Raised-cosine ramps of ``2 * fade`` samples centred on the boundaries ``fade_in`` and
    ``fade_out`` (None at the file's ends); the ramps of two neighbours sum to one.

    Returns
    -------
    weights : np.ndarray [shape=(n,), dtype=float32]
    """
    t = np.arange(start, start + n, dtype=np.float64)
    w = np.ones(n)
    if fade_in is not None:
        w *= 0.5 - 0.5 * np.cos(np.pi * np.clip((t - (fade_in - fade)) / (2 * fade), 0.0, 1.0))
    if fade_out is not None:
        w *= 0.5 + 0.5 * np.cos(np.pi * np.clip((t - (fade_out - fade)) / (2 * fade), 0.0, 1.0))
    return w.astype(np.float32)


def _dream_block(dreamer: Dreamer, y: np.ndarray, objective: Objective, *, sample_rate: int, options: DreamOptions,
                 measure: bool):
    """One block's dream before loudness: ``(band, high, result or None)``, each ``(channels, n)``.

    A silent block (a pause) passes through unchanged.
    """
    s = dreamer.settings
    if np.max(np.abs(y.mean(axis=0))) < SILENCE:
        high = above_model_band(y, settings=s, sample_rate=sample_rate, crossover=options.crossover)
        return y - high, high, None
    y, mid, low = to_model_rate(y, sample_rate=sample_rate, settings=s)
    rendered = render(dreamer, low, objective, options=options, progress=False)
    out, high = back_to_rate(y, rendered, sample_rate=sample_rate, settings=s, options=options)
    if high is None:
        high = above_model_band(y, settings=s, sample_rate=sample_rate, crossover=options.crossover)
    result = (mid_result(dreamer, objective, rendered, mid=mid, out=out, sample_rate=sample_rate, options=options,
                         measure=True) if measure else None)
    return out - high, high, result


def dream_stream(input_path, output_path, *, dreamer: Dreamer, objective: Objective, options: DreamOptions,
                 block_seconds: float = BLOCK_SECONDS, progress: bool | None = None, measure: bool = True,
                 span: tuple[int, int] | None = None):
    """Dream a long file block by block and write it in its own format, in bounded memory.

    Parameters
    ----------
    input_path, output_path : path-like
        A file libsndfile can seek in (wav, flac, ogg, aiff, mp3); the output as
        :func:`dream_file` writes it.
    dreamer : Dreamer
    objective : Objective
        One recording makes one dream: not batched.
    options : DreamOptions
    block_seconds : float
        What each block owns; at least ``2 * (CONTEXT_SECONDS)``.
    progress : bool, optional
        A bar in seconds of audio (default: shown).
    measure : bool
        Measure every block (objective, survival, spectral change).
    span : (int, int), optional
        Dream only frames ``[first, last)`` of the file (:func:`excerpt_frames`); default all.

    Returns
    -------
    (path, DreamResult)
        ``audio`` and ``input_audio`` are None (the file is on disk); the measures hold one
        value per block (their ``summary()`` is the mean over blocks), ``mel_before`` and
        ``mel_after`` are the first block's, and ``lufs_in``, ``lufs_out`` and
        ``true_peak_dbtp`` are the whole file's.
    """
    info = stream_info(input_path)
    if info is None:
        raise AudioInputError(f"{input_path} cannot be read block by block; dream it in one pass "
                                    "(dream_file with block_seconds=None).")
    fmt, n = info
    first, last = (0, n) if span is None else span
    n = last - first
    sr = fmt.sample_rate
    hop, context, fade = (round(x * sr) for x in (block_seconds, CONTEXT_SECONDS, FADE_SECONDS))
    if hop < 2 * context:
        raise AudioInputError(f"block_seconds must be at least {2 * CONTEXT_SECONDS:g} s; got {block_seconds}.")
    spans = block_spans(n, hop=hop, context=context)
    meter_in = LoudnessMeter(sample_rate=sr, channels=fmt.channels)
    bar = tqdm(total=round(n / sr, 1), desc="dreaming", unit="s", disable=progress is False,
               bar_format="{desc}: {n:.0f} of {total:.0f} s of audio |{bar}| {elapsed}<{remaining}")
    # the dream's model band and the band above it, side by side: 2 x channels, float32, kept beside the output
    store = StreamProgress(output_path, sample_rate=sr, channels=2 * fmt.channels, key=_stream_key(
        input_path, dreamer, objective, options, span=(first, last), block_seconds=block_seconds, measure=measure))
    begin, done, pending, measures, history = store.open()  # pending: summed but not final, from `done` on
    first_result = None
    try:
        for k, (start, stop, own_start, own_stop) in enumerate(spans):
            if k < begin:  # dreamed by an earlier run: its input still counts toward the loudness
                meter_in.add(read_span(input_path, first + own_start, first + own_stop))
                bar.update(round((own_stop - own_start) / sr, 1))
                continue
            y = read_span(input_path, first + start, first + stop)
            meter_in.add(y[:, own_start - start:own_stop - start])
            band, high, result = _dream_block(dreamer, y, objective, sample_rate=sr, options=options,
                                              measure=measure)
            if result is not None:  # the measures, and the first block's spectrograms: memory stays flat
                if not measures:
                    first_result, history = result, result.history
                measures.append(_measures(result))
            w = crossfade_weights(stop - start, start=start, fade_in=own_start if k else None,
                                  fade_out=own_stop if k < len(spans) - 1 else None, fade=fade)
            pending = np.pad(pending, ((0, 0), (0, stop - done - pending.shape[1])))
            pending += (np.concatenate([band, high]) * w)[:, done - start:]  # zero weight before `done`
            final = stop if k == len(spans) - 1 else own_stop - fade  # no later block reaches before this
            store.write(pending[:, :final - done])
            pending, done = pending[:, final - done:], final
            store.save(blocks=k + 1, done=done, pending=pending, measures=measures, history=history)
            bar.update(round((own_stop - own_start) / sr, 1))
    finally:
        store.close()
        bar.close()
    lufs_in = meter_in.integrated()
    path, lufs_out, peak = _finish(store.parts, output_path, fmt=fmt, options=options, lufs_in=lufs_in)
    store.discard()
    return path, _streamed_result(measures, first_result, history, objective=objective, options=options,
                                  sample_rate=sr, lufs_in=lufs_in, lufs_out=lufs_out, true_peak=peak)


def _stream_key(input_path, dreamer, objective, options, **blocks) -> dict:
    """What decides a streamed dream: a scratch folder left by another is not resumed."""
    stat = Path(input_path).stat()
    return {"input": str(Path(input_path).resolve()), "bytes": stat.st_size, "modified_ns": stat.st_mtime_ns,
            "model": f"{dreamer.model.name}:{dreamer.model.count_params()}", "objective": repr(objective),
            "options": options.to_dict(), **blocks}


def _chunks(path, n: int, channels: int, *, context: int = 0):
    """``(start, stop, samples with context)`` of the parts file, :data:`_CHUNK_SECONDS` at a time."""
    import soundfile as sf

    with sf.SoundFile(path) as f:
        step = round(_CHUNK_SECONDS * f.samplerate)
        for start in range(0, n, step):
            stop = min(n, start + step)
            lo, hi = max(0, start - context), min(n, stop + context)
            f.seek(lo)
            yield start, stop, lo, f.read(hi - lo, dtype="float32", always_2d=True).T


def _finish(temp: Path, output_path, *, fmt, options: DreamOptions, lufs_in: float):
    """The loudness pass and the writing pass: ``(path, lufs_out, true peak dBTP)``."""
    import soundfile as sf

    sr, c = fmt.sample_rate, fmt.channels
    n = sf.info(str(temp)).frames
    mode = audio.parse_loudness(options.loudness)

    def loudness(log_gain):
        meter = LoudnessMeter(sample_rate=sr, channels=c)
        for _, _, _, y in _chunks(temp, n, c):
            meter.add(y[c:] + np.exp(log_gain) * y[:c])
        return meter.integrated()

    log_gain = 0.0
    if mode != "keep":
        found, _ = band_gain(loudness, lufs_in if mode == "match" else mode)
        log_gain = 0.0 if found is None else found
    gain = np.float32(np.exp(log_gain))
    ceiling, margin = options.ceiling_db, round(_LIMIT_CONTEXT_SECONDS * sr)
    meter, peak = LoudnessMeter(sample_rate=sr, channels=c), -np.inf
    with stream_writer(output_path, sample_rate=sr, channels=c, like=fmt) as out:
        for start, stop, lo, y in _chunks(temp, n, c, context=margin):
            y = finish_loudness(y[c:] + gain * y[:c], None, sample_rate=sr, loudness="keep", ceiling_db=ceiling)
            own = y[:, start - lo:stop - lo]
            meter.add(own)
            peak = max(peak, true_peak_db(own))
            out.write(own)
    return Path(output_path), meter.integrated(), float(peak)


_MEASURES = ("objective_before", "objective_dreamed", "objective_after", "survival", "survival_sonified",
             "spectral_change_db", "noise_lift_db", "loudness_in_db", "loudness_out_db")


def _measures(result: DreamResult) -> dict:
    """A block's measures as plain numbers (its arrays are let go)."""
    return {name: float(np.mean(getattr(result, name))) for name in _MEASURES}


def _streamed_result(measures: list, first, history, *, objective, options, sample_rate: int, lufs_in, lufs_out,
                     true_peak):
    """One :class:`DreamResult` for the blocks: a value per block, the first block's spectrograms (None when
    that block was dreamed by an earlier, killed run)."""
    values = {name: np.array([b[name] for b in measures], dtype=np.float32) if measures
              else np.full(1, np.nan, np.float32) for name in _MEASURES}
    return DreamResult(
        audio=None, input_audio=None, sample_rate=int(sample_rate), objective=objective, domain=options.domain,
        sonify=options.sonification, seed=int(options.seed),
        mel_before=getattr(first, "mel_before", None), mel_dreamed=getattr(first, "mel_dreamed", None),
        mel_after=getattr(first, "mel_after", None),
        history=np.zeros((0, 1), np.float32) if history is None else history,
        lufs_in=lufs_in, lufs_out=lufs_out, true_peak_dbtp=true_peak, options=options, **values)
