"""Dreaming audio at its own sample rate, whatever rate the model runs at; dreaming files.

The clip is resampled to the model's rate and dreamed there; the *change* the dream
made is resampled back and low-passed with a raised-cosine crossover, and added to the
original, so everything above the model's band (e.g. the 11-24 kHz of a 48 kHz file
under a 22.05 kHz model) stays exactly as it was.
"""

from __future__ import annotations

import librosa
import numpy as np
import soundfile as sf

from .. import audio
from ..errors import AudioInputError
from ..settings import AudioSettings
from .activations import as_dreamer
from .objectives import Batched, Objective, match_batch
from .recipes import as_clips, dream, render_dream, resolve_sonify
from .result import DreamResult, build_result
from .sonification import match_loudness, soft_limit

__all__ = ["dream_full_rate", "dream_file", "crossover_weights"]


def crossover_weights(freqs, *, start_hz: float, stop_hz: float) -> np.ndarray:
    """Raised-cosine low-pass weights: 1 below ``start_hz``, 0 above ``stop_hz``.

    Parameters
    ----------
    freqs : np.ndarray [shape=(n_freq,)]
        Frequencies in Hz.
    start_hz, stop_hz : float

    Returns
    -------
    weights : np.ndarray [shape=(n_freq,)], in [0, 1]
    """
    freqs = np.asarray(freqs, dtype=np.float64)
    pos = np.clip((freqs - start_hz) / max(stop_hz - start_hz, 1e-9), 0.0, 1.0)
    return (0.5 + 0.5 * np.cos(np.pi * pos)).astype(np.float32)


def _resample(y: np.ndarray, orig_sr: int, target_sr: int, length: int | None = None) -> np.ndarray:
    if orig_sr == target_sr:
        out = np.asarray(y, dtype=np.float32)
    else:
        out = librosa.resample(np.asarray(y, dtype=np.float32), orig_sr=orig_sr, target_sr=target_sr,
                               res_type="soxr_hq", axis=-1)
    if length is not None:
        out = librosa.util.fix_length(out, size=length, axis=-1)
    return out.astype(np.float32, copy=False)


def dream_full_rate(audio_in, *, sample_rate: int, model, objective: Objective,
                    settings: AudioSettings | None = None, crossover: tuple = (0.85, 0.95), n_fft: int = 4096,
                    steps: int = 10, step_size: float = 1.0, domain: str = "mel", sonify: str | None = None,
                    seed: int = 0, octaves: int = 1, octave_scale: float = 1.3, jitter: int = 0,
                    n_iter: int = 32, max_gain_db: float = 60.0, block_frames: int | None = None,
                    overlap_frames: int = 64, envelope: bool = True, progress: bool | None = None,
                    measure: bool = True) -> DreamResult:
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
    settings : AudioSettings, optional
        The model's settings, checked against it; required with a bare Keras model.
    crossover : (float, float)
        Start and end of the crossover as fractions of the model's band edge (its
        ``fmax``, at most its Nyquist frequency): the dream fully below the start, the
        untouched original above the end.
    n_fft : int
        FFT size of the crossover STFT (at ``sample_rate``).
    steps, step_size, domain, sonify, seed, octaves, octave_scale, jitter, n_iter, max_gain_db,
    block_frames, overlap_frames, envelope, progress, measure
        As :func:`~.recipes.dream`.

    Returns
    -------
    DreamResult
        ``audio`` and ``input_audio`` at ``sample_rate``; ``mel_after``,
        ``objective_after``, ``survival`` and ``spectral_change_db`` are measured on the
        full-rate output resampled to the model's rate.
    """
    dreamer = as_dreamer(model, settings)
    s = dreamer.settings
    sample_rate = int(sample_rate)
    if sample_rate <= 0:
        raise AudioInputError(f"sample_rate must be a positive number of Hz, got {sample_rate}.")
    if sample_rate == s.sample_rate:
        return dream(audio_in, model=dreamer, objective=objective, steps=steps, step_size=step_size,
                     domain=domain, sonify=sonify, seed=seed, octaves=octaves, octave_scale=octave_scale,
                     jitter=jitter, n_iter=n_iter, max_gain_db=max_gain_db, block_frames=block_frames,
                     overlap_frames=overlap_frames, envelope=envelope, progress=progress, measure=measure)
    how = resolve_sonify(domain, sonify, octaves=octaves)
    dreamer.check(objective)
    y, single = as_clips(audio_in)
    n = y.shape[-1]
    low, mel, dreamed, sound, history = render_dream(
        dreamer, _resample(y, sample_rate, s.sample_rate), objective, steps=steps, step_size=step_size,
        domain=domain, sonify=how, seed=seed, octaves=octaves, octave_scale=octave_scale, jitter=jitter,
        n_iter=n_iter, max_gain_db=max_gain_db, block_frames=block_frames, overlap_frames=overlap_frames,
        envelope=envelope, progress=progress)
    y = match_batch(y, objective)
    change = _resample(match_loudness(sound, low) - low, s.sample_rate, sample_rate, length=n)
    edge = min(float(s.fmax or s.sample_rate / 2), s.sample_rate / 2)
    if edge < sample_rate / 2:
        hop = n_fft // 4
        weights = crossover_weights(librosa.fft_frequencies(sr=sample_rate, n_fft=n_fft),
                                    start_hz=crossover[0] * edge, stop_hz=crossover[1] * edge)
        spec = librosa.stft(change, n_fft=n_fft, hop_length=hop) * weights[:, None]
        change = librosa.istft(spec, n_fft=n_fft, hop_length=hop, length=n)
    out = soft_limit(y + change)
    heard = _resample(out, sample_rate, s.sample_rate, length=low.shape[-1])
    return build_result(dreamer, objective, audio_in=y, audio_out=out, sample_rate=sample_rate, mel=mel,
                        dreamed=dreamed, heard=heard, sonified=sound, history=history, domain=domain, sonify=how,
                        seed=seed, single=single and not isinstance(objective, Batched), measure=measure)


def dream_file(input_path, output_path, *, model, objective: Objective, settings: AudioSettings | None = None,
               crossover: tuple = (0.85, 0.95), n_fft: int = 4096, steps: int = 10, step_size: float = 1.0,
               domain: str = "mel", sonify: str | None = None, seed: int = 0, octaves: int = 1,
               octave_scale: float = 1.3, jitter: int = 0, n_iter: int = 32, max_gain_db: float = 60.0,
               block_frames: int | None = None, overlap_frames: int = 64, envelope: bool = True,
               progress: bool | None = None, measure: bool = True):
    """Dream an audio file and write the result at the file's own sample rate.

    Parameters
    ----------
    input_path, output_path : path-like
        Any file :func:`auditory_deepdream.audio.load_audio` reads; the output is a WAV.
    model : Dreamer or str / path
    objective : Objective
    settings, crossover, n_fft, steps, step_size, domain, sonify, seed, octaves, octave_scale, jitter,
    n_iter, max_gain_db, block_frames, overlap_frames, envelope, progress, measure
        As :func:`dream_full_rate`.

    Returns
    -------
    (path, DreamResult)
    """
    dreamer = as_dreamer(model, settings)
    try:
        rate = int(sf.info(str(input_path)).samplerate)
    except Exception:  # not a file libsndfile reads: load_audio decodes it at the model's rate
        rate = dreamer.settings.sample_rate
    y = audio.load_audio(input_path, sample_rate=rate)
    result = dream_full_rate(y, sample_rate=rate, model=dreamer, objective=objective, crossover=crossover,
                             n_fft=n_fft, steps=steps, step_size=step_size, domain=domain, sonify=sonify,
                             seed=seed, octaves=octaves, octave_scale=octave_scale, jitter=jitter, n_iter=n_iter,
                             max_gain_db=max_gain_db, block_frames=block_frames, overlap_frames=overlap_frames,
                             envelope=envelope, progress=progress, measure=measure)
    path = audio.save_audio(output_path, result.audio, sample_rate=result.sample_rate)
    return path, result
