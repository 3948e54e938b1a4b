"""Dreaming audio at its own sample rate, whatever rate the model runs at; dreaming files.

The clip is resampled to the model's rate and dreamed there; the *change* the dream
made is resampled back and low-passed with a raised-cosine crossover, and added to the
original, so everything above the model's band (e.g. the 11-24 kHz of a 48 kHz file
under a 22.05 kHz model) stays exactly as it was.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .. import audio
from ..audio.resampling import resample
from ..audio.spectral import hann_istft, hann_stft
from ..errors import AudioInputError
from ..settings import AudioSettings
from .activations import as_dreamer
from .objectives import Batched, Objective, match_batch
from .recipes import GAIN_CLAMP_DB, as_clips, dream, render_dream, resolve_sonify
from .result import DreamResult, build_result, rms_db
from .sonification import match_loudness, mel_gain_to_stft_db, soft_limit

__all__ = ["dream_full_rate", "dream_channels", "dream_file", "crossover_weights", "gain_at_rate",
           "finish_loudness"]


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


def _band_weights(settings: AudioSettings, *, sample_rate: int, n_fft: int, crossover: tuple):
    """Crossover weights over the STFT bins at ``sample_rate`` (1 inside the model's band, 0 above).

    None when the model hears the whole band at ``sample_rate`` (no crossover needed).
    """
    edge = min(float(settings.fmax or settings.sample_rate / 2), settings.sample_rate / 2)
    if edge >= sample_rate / 2:
        return None
    return crossover_weights(np.fft.rfftfreq(n_fft, d=1.0 / sample_rate),
                             start_hz=crossover[0] * edge, stop_hz=crossover[1] * edge)


def _in_model_band(change: np.ndarray, *, settings: AudioSettings, sample_rate: int, crossover: tuple,
                   n_fft: int) -> np.ndarray:
    """``change`` low-passed to the model's band with the crossover (unchanged when it covers all)."""
    weights = _band_weights(settings, sample_rate=sample_rate, n_fft=n_fft, crossover=crossover)
    if weights is None:
        return change
    spec = hann_stft(change, n_fft=n_fft, hop_length=n_fft // 4) * weights[:, None]
    return hann_istft(spec, n_fft=n_fft, hop_length=n_fft // 4, length=change.shape[-1])


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
    low, mel, dreamed, sound, history, _ = render_dream(
        dreamer, resample(y, orig_sr=sample_rate, target_sr=s.sample_rate), objective, steps=steps, step_size=step_size,
        domain=domain, sonify=how, seed=seed, octaves=octaves, octave_scale=octave_scale, jitter=jitter,
        n_iter=n_iter, max_gain_db=max_gain_db, block_frames=block_frames, overlap_frames=overlap_frames,
        envelope=envelope, progress=progress)
    y = match_batch(y, objective)
    change = resample(match_loudness(sound, low) - low, orig_sr=s.sample_rate, target_sr=sample_rate, length=n)
    change = _in_model_band(change, settings=s, sample_rate=sample_rate, crossover=crossover, n_fft=n_fft)
    out = soft_limit(y + change)
    heard = resample(out, orig_sr=sample_rate, target_sr=s.sample_rate, length=low.shape[-1])
    return build_result(dreamer, objective, audio_in=y, audio_out=out, sample_rate=sample_rate, mel=mel,
                        dreamed=dreamed, heard=heard, sonified=sound, history=history, domain=domain, sonify=how,
                        seed=seed, single=single and not isinstance(objective, Batched), measure=measure)


def _stft_size(settings: AudioSettings, sample_rate: int) -> tuple[int, int]:
    """``(n_fft, hop)`` at ``sample_rate`` spanning about the model's window (the model's own at its rate)."""
    if sample_rate == settings.sample_rate:
        return settings.n_fft, settings.hop_length
    n_fft = int(2 ** round(np.log2(settings.n_fft * sample_rate / settings.sample_rate)))
    return n_fft, n_fft // 4


def _interp_axis(a: np.ndarray, src: np.ndarray, dst: np.ndarray, axis: int) -> np.ndarray:
    """Linear interpolation of ``a`` along ``axis`` from positions ``src`` to ``dst`` (held at the ends)."""
    pos = np.clip(np.interp(dst, src, np.arange(len(src))), 0, len(src) - 1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, len(src) - 1)
    frac = (pos - lo).astype(np.float32)
    shape = [1] * a.ndim
    shape[axis] = -1
    return np.take(a, lo, axis=axis) * (1 - frac.reshape(shape)) + np.take(a, hi, axis=axis) * frac.reshape(shape)


def gain_at_rate(gain_mel, *, settings: AudioSettings, sample_rate: int, n_frames: int,
                 crossover: tuple = (0.85, 0.95), max_gain_db: float = GAIN_CLAMP_DB,
                 level_db: float = 0.0) -> np.ndarray:
    """A consistent dream's mel-band gain as a dB gain on the STFT of audio at ``sample_rate``.

    The gain per model STFT bin (:func:`~.sonification.mel_gain_to_stft_db`, clamped) is
    interpolated in frequency and time onto the STFT of :func:`_stft_size` at
    ``sample_rate`` and faded out above the model's band (``crossover`` as in
    :func:`dream_full_rate`), so the band the model never heard is left as it was.

    Parameters
    ----------
    gain_mel : np.ndarray [shape=(n_mels, n_model_frames)]
    settings : AudioSettings
        The model's.
    sample_rate : int
    n_frames : int
        Frames of the target STFT.
    crossover : (float, float)
    max_gain_db : float
    level_db : float
        Added inside the model's band (after the clamp): the level correction that
        brought the dream to the clip's RMS while it was climbed.

    Returns
    -------
    gain_db : np.ndarray [shape=(1 + n_fft // 2, n_frames)]
    """
    n_fft, hop = _stft_size(settings, sample_rate)
    per_bin = np.clip(mel_gain_to_stft_db(gain_mel, settings=settings), -max_gain_db, max_gain_db) + level_db
    if sample_rate == settings.sample_rate and per_bin.shape[-1] == n_frames:
        return per_bin.astype(np.float32)
    f_model = np.fft.rfftfreq(settings.n_fft, d=1.0 / settings.sample_rate)
    f_out = np.fft.rfftfreq(n_fft, d=1.0 / sample_rate)
    t_model = np.arange(per_bin.shape[-1]) * settings.hop_length / settings.sample_rate
    t_out = np.arange(n_frames) * hop / sample_rate
    out = _interp_axis(_interp_axis(per_bin, f_model, f_out, 0), t_model, t_out, 1)
    weights = _band_weights(settings, sample_rate=sample_rate, n_fft=n_fft, crossover=crossover)
    if weights is not None:
        out = out * weights[:, None]
    return out.astype(np.float32)


def _loudness_in_band(out, y, *, sample_rate: int, settings: AudioSettings, crossover: tuple,
                      target_lufs: float, high=None, rounds: int = 4) -> tuple:
    """Reach ``target_lufs`` by scaling only the model's band of ``out``; above it stays ``y``'s.

    ``out`` splits into the input's band above the model's (its STFT weighted by one minus
    the crossover, exactly as the dream left it; ``high`` when the caller has it) and the
    rest; the rest is scaled by a factor found by the secant method on integrated loudness.
    Returns ``(out, its integrated loudness)``.
    """
    if high is None:
        high = y - _in_model_band(y, settings=settings, sample_rate=sample_rate, crossover=crossover, n_fft=4096)
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


def dream_channels(audio_in, *, sample_rate: int, model, objective: Objective,
                   settings: AudioSettings | None = None, steps: int = 10, step_size: float = 1.0,
                   domain: str = "mel", sonify: str | None = None, consistent: bool = True,
                   strength: float | None = None, max_steps: int = 40, seed: int = 0, octaves: int = 1,
                   jitter: int = 0, band_shift: int = 0, smooth: int = 0, max_jump: float | None = None,
                   n_iter: int = 32, max_gain_db: float | None = None, envelope: bool = True,
                   loudness="match", ceiling_db: float = -1.0, crossover: tuple = (0.85, 0.95),
                   progress: bool | None = None, measure: bool = True) -> DreamResult:
    """Dream one recording with any number of channels, at its own rate and loudness.

    The mid signal (the mean of the channels) is dreamed at the model's rate. A
    consistent mel dream's gain is then applied to every channel's own STFT at
    ``sample_rate`` (:func:`gain_at_rate`), so each channel keeps its phase and the stereo
    image stays; any other dream's change to the mid signal is added to every channel
    (the side signal is kept as it was). The result is brought to the input's integrated
    loudness (or ``loudness``) under a true-peak ceiling (:func:`finish_loudness`).

    Parameters
    ----------
    audio_in : np.ndarray [shape=(channels, n_samples) or (n_samples,)]
    sample_rate : int
    model, objective, settings, steps, step_size, domain, sonify, consistent, strength, max_steps, seed,
    octaves, jitter, band_shift, smooth, max_jump, n_iter, max_gain_db, envelope, progress, measure
        As :func:`~.recipes.dream` (``consistent`` defaults to True here).
    loudness : 'match', 'keep' or float
        See :func:`finish_loudness`.
    ceiling_db : float
        True-peak ceiling, dBTP.
    crossover : (float, float)
        As :func:`dream_full_rate`.

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
        Invalid options (see :func:`~.recipes.dream`).
    """
    dreamer = as_dreamer(model, settings)
    s = dreamer.settings
    if isinstance(objective, Batched):
        raise AudioInputError("dream_channels dreams one recording; use dream() or audition_layer() for batches.")
    how = resolve_sonify(domain, sonify, octaves=octaves, consistent=consistent)
    dreamer.check(objective)
    mono = np.ndim(audio_in) == 1
    y = audio.check_channels(audio_in, name="Audio", max_channels=8).astype(np.float32, copy=False)
    sample_rate = int(sample_rate)
    if sample_rate <= 0:
        raise AudioInputError(f"sample_rate must be a positive number of Hz, got {sample_rate}.")
    mid = audio.check_audio(y.mean(axis=0), name="the mid (mean of the channels) signal")
    n = y.shape[-1]
    low = resample(mid[None], orig_sr=sample_rate, target_sr=s.sample_rate)
    low, mel, dreamed, sound, history, gain = render_dream(
        dreamer, low, objective, steps=steps, step_size=step_size, domain=domain, sonify=how, seed=seed,
        octaves=octaves, octave_scale=1.3, jitter=jitter, n_iter=n_iter, max_gain_db=max_gain_db, block_frames=None,
        overlap_frames=64, envelope=envelope, progress=progress, consistent=consistent, strength=strength,
        max_steps=max_steps, band_shift=band_shift, smooth=smooth, max_jump=max_jump)
    if gain is not None and how == "original":
        n_fft, hop = _stft_size(s, sample_rate)
        spec = hann_stft(y, n_fft=n_fft, hop_length=hop)
        level_db = float((rms_db(low) - rms_db(sound))[0])  # the level the ascent heard it at
        g = gain_at_rate(gain[0], settings=s, sample_rate=sample_rate, n_frames=spec.shape[-1], crossover=crossover,
                         max_gain_db=GAIN_CLAMP_DB if max_gain_db is None else float(max_gain_db),
                         level_db=level_db)
        out = hann_istft(spec * np.power(10.0, g / 20.0, dtype=np.float32), n_fft=n_fft, hop_length=hop,
                         length=n)
        weights = _band_weights(s, sample_rate=sample_rate, n_fft=n_fft, crossover=crossover)
        high = np.zeros_like(out)
        if weights is not None:  # the band the model never heard, exactly as the dream left it
            high = hann_istft(spec * (1.0 - weights)[:, None], n_fft=n_fft, hop_length=hop, length=n)
    else:
        high = None
        change = resample(match_loudness(sound, low) - low, orig_sr=s.sample_rate, target_sr=sample_rate, length=n)[0]
        change = _in_model_band(change, settings=s, sample_rate=sample_rate, crossover=crossover, n_fft=4096)
        out = y + change[None]
    mode = audio.parse_loudness(loudness)
    lufs_in, lufs_out = audio.integrated_loudness(y, sample_rate=sample_rate), None
    if mode != "keep":
        out, lufs_out = _loudness_in_band(out.astype(np.float32), y, sample_rate=sample_rate, settings=s,
                                          crossover=crossover, target_lufs=lufs_in if mode == "match" else mode,
                                          high=high)
    banded = out.astype(np.float32)
    out = finish_loudness(banded, y, sample_rate=sample_rate, loudness=loudness, ceiling_db=ceiling_db,
                          reference_lufs=lufs_in, out_lufs=lufs_out)
    if out is not banded or lufs_out is None:
        lufs_out = audio.integrated_loudness(out, sample_rate=sample_rate)
    heard = resample(out.mean(axis=0)[None], orig_sr=sample_rate, target_sr=s.sample_rate, length=low.shape[-1])
    result = build_result(dreamer, objective, audio_in=mid[None], audio_out=out.mean(axis=0)[None],
                          sample_rate=sample_rate, mel=mel, dreamed=dreamed, heard=heard, sonified=sound,
                          history=history, domain=domain, sonify=how, seed=seed, single=True, measure=measure)
    return replace(result, audio=out[0] if mono else out, input_audio=y[0] if mono else y, lufs_in=lufs_in,
                   lufs_out=lufs_out,
                   true_peak_dbtp=audio.true_peak_db(out))


def dream_file(input_path, output_path, *, model, objective: Objective, settings: AudioSettings | None = None,
               steps: int = 10, step_size: float = 1.0, domain: str = "mel", sonify: str | None = None,
               consistent: bool = True, strength: float | None = None, max_steps: int = 40, seed: int = 0,
               octaves: int = 1, jitter: int = 0, band_shift: int = 0, smooth: int = 0, max_jump: float | None = None,
               n_iter: int = 32, max_gain_db: float | None = None,
               envelope: bool = True, loudness="match", ceiling_db: float = -1.0, crossover: tuple = (0.85, 0.95),
               progress: bool | None = None, measure: bool = True):
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
    settings, steps, step_size, domain, sonify, consistent, strength, max_steps, seed, octaves, jitter,
    band_shift, smooth, max_jump, n_iter, max_gain_db, envelope, loudness, ceiling_db, crossover, progress, measure
        As :func:`dream_channels`.

    Returns
    -------
    (path, DreamResult)
    """
    dreamer = as_dreamer(model, settings)
    y, fmt = audio.read_audio(input_path)
    result = dream_channels(y, sample_rate=fmt.sample_rate, model=dreamer, objective=objective, steps=steps,
                            step_size=step_size, domain=domain, sonify=sonify, consistent=consistent,
                            strength=strength, max_steps=max_steps, seed=seed, octaves=octaves, jitter=jitter,
                            band_shift=band_shift, smooth=smooth, max_jump=max_jump,
                            n_iter=n_iter, max_gain_db=max_gain_db, envelope=envelope, loudness=loudness,
                            ceiling_db=ceiling_db, crossover=crossover, progress=progress, measure=measure)
    path = audio.write_audio(output_path, result.audio, sample_rate=fmt.sample_rate, like=fmt)
    return path, result
