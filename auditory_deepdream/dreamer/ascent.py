"""Gradient ascent on the model's input: on log-mel spectrograms, or on the samples themselves.

Both loops are compiled with :func:`~auditory_deepdream.graph_loop.compile_graph`
(``tf.function`` without AutoGraph; one trace per objective and set of
transforms) and share one step, :func:`ascent_step`: transform the input inside the
tape, take the gradient of the summed objective (items are independent, so one
backward pass serves the whole batch), check it is finite and normalise it per item.
They differ only in what they do with that direction: :func:`ascend_mel` adds it to the
dB values; :func:`ascend_waveform` keeps it inside the clip's own spectrum, backtracks
on steps that lowered the objective and holds the clip's level.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from tqdm.auto import tqdm

from .. import audio
from ..audio.tf_spectral import tf_spectral
from ..errors import AudioInputError, DreamError
from ..graph_loop import compile_graph, repeat
from .activations import Dreamer, run_compiled
from .objectives import Objective, match_batch
from .transforms import Octaves, compose

__all__ = ["ascent_step", "ascend_mel", "ascend_waveform"]

EPS = 1e-8
# A log-mel cell never climbs above this many dB. Normalised per item, a gradient that sits on a few cells
# lifts them by tens of dB a step (vgg-mtt's conv3 drives a guitar note past 300 dB in 8 steps), and past
# about 385 dB the power 10^(dB/10) is infinite in float32: the ascent diverged. 160 dB is 140 dB above
# the loudest cell of a 0-dBFS clip, so no dream that stays audible meets it.
MAX_DB = 160.0


def ascent_step(x, values_of, transform, seed, *, precondition=None):
    """One normalised gradient of an objective at ``x``, seen through a random transform.

    Parameters
    ----------
    x : tf.Tensor [shape=(batch, ...)]
        Spectrograms or waveforms.
    values_of : callable
        ``x -> (batch,)`` objective values (traceable).
    transform : callable
        ``(x, seed) -> x`` applied inside the tape (see :func:`transforms.compose`).
    seed : tf.Tensor [shape=(2,), dtype=int32]
        This step's seed.
    precondition : callable, optional
        Applied to the raw gradient before it is checked and normalised.

    Returns
    -------
    values : tf.Tensor [shape=(batch,)]
        The objective at the transformed ``x``.
    direction : tf.Tensor, same shape as ``x``
        The gradient divided by its standard deviation per item; zero if not finite.
    finite : tf.Tensor [dtype=bool]
        Whether the gradient and the values were finite.
    """
    with tf.GradientTape() as tape:
        tape.watch(x)
        values = values_of(transform(x, seed))
        total = tf.reduce_sum(values)  # items are independent: one backward pass for all
    g = tape.gradient(total, x)
    if precondition is not None:
        g = precondition(g)
    finite = tf.reduce_all(tf.math.is_finite(g)) & tf.reduce_all(tf.math.is_finite(values))
    g = tf.where(finite, g, tf.zeros_like(g))
    g = g / (tf.math.reduce_std(g, axis=list(range(1, x.shape.rank)), keepdims=True) + EPS)
    return values, g, finite


def _check_finite(finite) -> None:
    if not bool(finite):
        raise DreamError("Gradient ascent produced non-finite gradients (NaN or inf). The model's "
                         "weights or the input may be broken; check the model on a clean clip, or "
                         "lower step_size.")


# ============================================================================ log-mel
def _compile_mel(dreamer: Dreamer, objective: Objective, transforms: tuple):
    values = dreamer.values(objective)
    floor = float(dreamer.settings.db_floor)
    transform = compose(transforms)
    spec = tf.TensorSpec([None, dreamer.settings.n_mels, None], tf.float32)

    @compile_graph(input_signature=[spec, tf.TensorSpec([], tf.int32), tf.TensorSpec([], tf.int32),
                                    tf.TensorSpec([], tf.float32), tf.TensorSpec([2], tf.int32)])
    def ascent(x, steps, start, step_size, seed):
        def step(i, x, history, finite):
            v, g, ok = ascent_step(x, lambda m: values(m[..., None]), transform, seed + tf.stack([0, start + i]))
            return tf.clip_by_value(x + step_size * g, floor, MAX_DB), history.write(i, v), finite & ok

        history = tf.TensorArray(tf.float32, size=steps, element_shape=tf.TensorShape([None]))
        x, history, finite = repeat(steps, step, (x, history, tf.constant(True)))
        return x, history.stack(), finite

    return ascent


def ascend_mel(dreamer: Dreamer, mel_db, objective: Objective, *, steps: int = 10, step_size: float = 1.0,
               transforms=(), octaves: Octaves | None = None, seed: int = 0, block_frames: int | None = None,
               overlap_frames: int = 64, progress: bool | None = None):
    """Normalised gradient ascent on log-mel spectrograms.

    Each step adds ``step_size`` times the gradient divided by its standard deviation
    (per batch item), so ``step_size`` is the RMS change in dB per step. Values stay at
    or above ``settings.db_floor`` and at or below :data:`MAX_DB`.

    Parameters
    ----------
    dreamer : Dreamer
    mel_db : np.ndarray [shape=(batch, n_mels, n_frames)]
        Log-mel dB; a single item is copied to every item of a :class:`Batched` objective.
    objective : Objective
    steps : int
        Steps per octave.
    step_size : float
        dB (RMS over the spectrogram) per step.
    transforms : tuple of transforms
        Applied at every step (e.g. ``(Jitter(4),)``); see :mod:`.transforms`.
    octaves : Octaves, optional
        Time scales to ascend at, coarse to fine (default: the input's own scale only).
    seed : int
        Seed of the transforms; results are deterministic for a seed.
    block_frames : int, optional
        Frames per block for long inputs (default: about 16384 / batch); blocks
        overlap by ``overlap_frames`` and their changes are cross-faded, so memory
        stays bounded without seams.
    progress : bool, optional
        Show a tqdm bar (default: only for long jobs).

    Returns
    -------
    dreamed : np.ndarray [shape=(batch, n_mels, n_frames)]
    history : np.ndarray [shape=(steps * octaves.n, batch)]
        Objective value before each step.

    Raises
    ------
    ModelError
        The objective does not fit the model.
    DreamError
        Non-finite gradients, or a batch that does not match a batched objective.
    """
    dreamer.check(objective)
    x = np.asarray(mel_db, dtype=np.float32)
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3 or x.shape[1] != dreamer.settings.n_mels:
        raise AudioInputError(f"Expected log-mel input of shape (batch, {dreamer.settings.n_mels}, frames); "
                              f"got {x.shape}.")
    if not np.all(np.isfinite(x)):
        raise AudioInputError("The spectrogram contains NaN or infinite values; encode finite audio.")
    x = match_batch(x, objective, what="spectrograms")
    steps = int(steps)
    if steps < 0:
        raise DreamError(f"steps must be >= 0, got {steps}.")
    transforms = tuple(transforms)
    octaves = octaves or Octaves()
    batch, _, frames = x.shape
    block = int(block_frames or max(256, 16384 // batch))
    starts = _block_starts(frames, block, overlap_frames)
    chunk = max(1, min(steps, 25))
    n_calls = len(starts) * octaves.n * -(-steps // chunk) if steps else 0
    work = batch * frames * steps * octaves.n
    bar = tqdm(total=n_calls, desc="dreaming", unit="call", leave=False,
               disable=not (progress if progress is not None else work > 2_000_000))
    ascent = dreamer.compiled(("mel", objective, transforms), lambda: _compile_mel(dreamer, objective, transforms))
    out = np.zeros_like(x)
    weight = np.zeros(frames, dtype=np.float32)
    histories = []
    for b, start in enumerate(starts):
        stop = min(frames, start + block)
        part = x[:, :, start:stop]
        dreamed, history = _ascend_block(ascent, part, steps=steps, chunk=chunk, step_size=step_size,
                                         octaves=octaves, seed=seed + 7919 * b, bar=bar)
        fade = _fade(stop - start, overlap_frames if b > 0 else 0, overlap_frames if stop < frames else 0)
        out[:, :, start:stop] += (dreamed - part) * fade
        weight[start:stop] += fade
        histories.append(history)
    bar.close()
    dreamed = np.clip(x + out / np.maximum(weight, EPS), dreamer.settings.db_floor, MAX_DB)
    # block histories are summed, weighting each block by its share of the frames
    sizes = np.array([min(frames, s + block) - s for s in starts], dtype=np.float64)
    history = sum(h * (n / sizes.sum()) for h, n in zip(histories, sizes)).astype(np.float32)
    return dreamed.astype(np.float32), history


def _ascend_block(ascent, part, *, steps, chunk, step_size, octaves, seed, bar):
    """Ascend one block at every octave, ``chunk`` steps per compiled call; (dreamed, history)."""
    history = []

    def ascend_at(x, octave):
        x = tf.convert_to_tensor(x)
        done = 0
        while done < steps:
            n = min(chunk, steps - done)
            x, values, finite = run_compiled(ascent, x, tf.constant(n), tf.constant(done + octave * steps),
                                             tf.constant(float(step_size)),
                                             tf.constant([int(seed) % 2**31, octave], tf.int32))
            _check_finite(finite)
            history.append(values.numpy())
            done += n
            bar.update(1)
        return x.numpy()

    dreamed = octaves.run(part, ascend_at)
    return dreamed, (np.concatenate(history, axis=0) if history else np.zeros((0, part.shape[0]), np.float32))


def _block_starts(frames: int, block: int, overlap: int) -> list[int]:
    if frames <= block:
        return [0]
    hop = max(1, block - overlap)
    starts = list(range(0, frames - block, hop))
    return starts + [frames - block]


def _fade(n: int, fade_in: int, fade_out: int) -> np.ndarray:
    """Raised-cosine weights for cross-fading overlapping blocks."""
    w = np.ones(n, dtype=np.float32)
    if fade_in:
        w[:fade_in] = 0.5 - 0.5 * np.cos(np.pi * (np.arange(fade_in) + 0.5) / fade_in)
    if fade_out:
        w[n - fade_out:] *= 0.5 + 0.5 * np.cos(np.pi * (np.arange(fade_out) + 0.5) / fade_out)
    return w


# =========================================================================== waveform
def _compile_waveform(dreamer: Dreamer, objective: Objective, transforms: tuple):
    values = dreamer.values(objective)
    s = dreamer.settings
    ops = tf_spectral(s)
    transform = compose(transforms, frame_step=s.hop_length)

    def values_of(y):  # the gradient flows through the TF twin of the encoder
        return values(ops.log_mel(y)[..., None])

    @compile_graph(input_signature=[tf.TensorSpec([None, None], tf.float32),
                                    tf.TensorSpec([None, None, 1 + s.n_fft // 2], tf.float32),
                                    tf.TensorSpec([None, 1], tf.float32), tf.TensorSpec([None, 1], tf.float32),
                                    tf.TensorSpec([], tf.int32), tf.TensorSpec([], tf.bool),
                                    tf.TensorSpec([2], tf.int32)])
    def ascent(x, mask, scale, level, steps, use_mask, seed):
        n_samples, n_frames = tf.shape(x)[1], tf.shape(mask)[1]
        inverse_envelope = ops.inverse_envelope(n_frames)  # the same for every step

        def inside_the_spectrum(g):  # keep only the part of the update the input already sounds
            spec = ops.stft(g, n_frames) * tf.cast(mask, tf.complex64)
            return ops.istft(spec, n_samples, inverse_envelope)

        def precondition(g):
            return tf.cond(use_mask, lambda: inside_the_spectrum(g), lambda: g)

        # backtracking: a step that lowered the objective is retried from the best point at half
        # the size, and the best point is returned, so the objective never falls
        def step(i, x, scale, best_x, best_g, best_v, history, finite):
            v, g, ok = ascent_step(x, values_of, transform, seed + tf.stack([0, i]), precondition=precondition)
            better = (v > best_v)[:, None]
            best_x, best_g = tf.where(better, x, best_x), tf.where(better, g, best_g)
            best_v = tf.maximum(v, best_v)
            scale = tf.where(better, scale, 0.5 * scale)
            x = best_x + scale * best_g
            # stay at the input's level: the output is loudness-matched anyway, so gain
            # bought with loudness alone would not survive into what the listener hears
            x = x * (level / (tf.sqrt(tf.reduce_mean(tf.square(x), axis=1, keepdims=True)) + EPS))
            return x, scale, best_x, best_g, best_v, history.write(i, v), finite & ok

        history = tf.TensorArray(tf.float32, size=steps, element_shape=tf.TensorShape([None]))
        state = (x, scale, x, tf.zeros_like(x), tf.fill(tf.shape(x)[:1], -np.inf), history, tf.constant(True))
        x, _, best_x, _, best_v, history, finite = repeat(steps, step, state)
        better = values_of(x) > best_v
        return tf.where(better[:, None], x, best_x), history.stack(), finite

    return ascent


def ascend_waveform(dreamer: Dreamer, y, objective: Objective, *, steps: int = 10, step_size: float = 1.0,
                    transforms=(), seed: int = 0, envelope: bool = True, strength: float | None = None,
                    max_steps: int = 40):
    """Gradient ascent on the samples themselves (no phase reconstruction needed).

    The gradient flows through :meth:`~auditory_deepdream.audio.tf_spectral.TFSpectral.log_mel`,
    the TensorFlow twin of :func:`~auditory_deepdream.audio.encode`. Every step is
    rescaled to the clip's own RMS level (loudness matching then leaves the dream as
    it is, so its whole activation gain reaches the listener), and a step that lowered
    the objective is retried from the best point at half the size.

    Parameters
    ----------
    dreamer : Dreamer
    y : np.ndarray [shape=(batch, n_samples) or (n_samples,)]
        A single clip is copied to every item of a :class:`Batched` objective.
    objective : Objective
    steps : int
    step_size : float
        Each step adds an update whose RMS is ``step_size / 10`` times the clip's RMS
        (halved for an item each time a step lowered its objective).
    transforms : tuple of transforms
        Applied at every step; a :class:`Jitter` of ``k`` frames rolls by multiples of
        ``hop_length`` samples.
    seed : int
    envelope : bool
        Filter every update through the input's own STFT magnitude (normalised to
        its peak per clip), so the dream only reshapes what is already sounding
        instead of adding broadband hiss.
    strength : float, optional
        Target spectral change in dB (:func:`~.result.spectral_change`): ascend in rounds of
        four steps until every item reaches it (at most ``max_steps``), then move each
        item back along its change, at its level, to land on it.
    max_steps : int

    Returns
    -------
    y_dreamed : np.ndarray [shape=(batch, n_samples)]
        The best iterate per item, at the input's RMS level.
    history : np.ndarray [shape=(steps, batch)]
        Objective of the point each step started from.

    Raises
    ------
    ModelError
        The objective does not fit the model.
    DreamError
        Non-finite gradients, or a batch that does not match a batched objective.
    """
    dreamer.check(objective)
    y = match_batch(np.atleast_2d(np.asarray(y, dtype=np.float32)), objective)
    if strength is None and int(steps) <= 0:  # with a strength the steps are counted by max_steps
        return y.copy(), np.zeros((0, y.shape[0]), np.float32)
    transforms = tuple(transforms)
    mag = np.abs(audio.stft(y, settings=dreamer.settings))
    mask = np.swapaxes(mag / np.maximum(mag.max(axis=(-2, -1), keepdims=True), EPS), -1, -2)
    level = np.sqrt(np.mean(np.square(y, dtype=np.float64), axis=-1, keepdims=True)).astype(np.float32)
    scale = 0.1 * float(step_size) * level
    ascent = dreamer.compiled(("waveform", objective, transforms),
                              lambda: _compile_waveform(dreamer, objective, transforms))

    def run(x, n, start):
        x, history, finite = run_compiled(ascent, tf.constant(x), tf.constant(mask.astype(np.float32)),
                                          tf.constant(scale), tf.constant(level), tf.constant(int(n)),
                                          tf.constant(bool(envelope)),
                                          tf.constant([int(seed) % 2**31, start], tf.int32))
        _check_finite(finite)
        return x.numpy(), history.numpy()

    if strength is None:
        return run(y, steps, 0)
    from .result import spectral_change

    s = dreamer.settings
    mel = audio.encode(y, settings=s)
    x, histories, done = y, [], 0
    while done < int(max_steps):
        x, history = run(x, min(4, int(max_steps) - done), done)
        histories.append(history)
        done += len(history)
        if np.all(spectral_change(mel, audio.encode(x, settings=s)) >= strength):
            break

    def at(t):
        z = y + t[:, None] * (x - y)
        return z * (level / (np.sqrt(np.mean(np.square(z, dtype=np.float64), axis=-1, keepdims=True)) + EPS))

    lo, hi = np.zeros(len(y)), np.ones(len(y))
    reached = spectral_change(mel, audio.encode(x, settings=s)) >= strength
    for _ in range(10):
        mid = 0.5 * (lo + hi)
        above = spectral_change(mel, audio.encode(at(mid).astype(np.float32), settings=s)) >= strength
        hi, lo = np.where(above, mid, hi), np.where(above, lo, mid)
    return at(np.where(reached, hi, 1.0)).astype(np.float32), np.concatenate(histories, axis=0)
