"""Mel dreams a real signal can have: gradient ascent on a gain, through the sonification.

A free ascent on log-mel values (:func:`~.ascent.ascend_mel`) builds spectrograms no
signal has: once they are turned back into sound and heard again, most of the activation
gain is gone (2 % for the bundled model's layer dreams). :func:`ascend_gain` dreams the
same thing, a change of the log-mel spectrogram, but as what sonification can realise: a
gain in dB per mel band and frame, spread over the STFT bins the bands cover and applied
to the input's own STFT (its phase kept). Every step sonifies, holds the clip's RMS level
and re-encodes inside the gradient tape, so the spectrogram the ascent climbs is always
one a real signal has: the sound the listener gets.

``contrast`` climbs the dream's objective minus ``contrast`` times that of its expected
phase control (:func:`~.judges.control_for`: the input plus the dream's change with a
random phase). Per STFT bin the dream's power is ``|X|^2 A^2`` (``A`` the linear gain at the
clip's level) and the control's expected power ``|X|^2 (1 + (A - 1)^2)``; big boosts make
the two alike, so a dream made of them scores as well as noise of its spectrum would.
The control's log-mel is formed from that power directly (no inverse STFT).

``strength`` asks for an amount of change rather than a number of steps: the ascent runs
until the heard spectrogram differs from the input's by ``strength`` dB on average (over
bins where either is above the floor), then scales the gain back to land on it.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from tqdm.auto import tqdm

from ..audio.tf_spectral import tf_spectral
from ..graph_loop import compile_graph, repeat
from ..options import DreamOptions, resolve_options
from .activations import Dreamer, run_compiled
from .ascent import EPS, _check_finite, ascent_step
from .objectives import Objective, match_batch
from .result import CHANGE_FLOOR_DB
from .sonification import _bin_weights
from .transforms import compose

__all__ = ["ascend_gain"]

def _tf_change(mel0, mel, floor_db):
    floor = tf.reduce_max(mel0, axis=[1, 2], keepdims=True) - floor_db
    heard = tf.cast((mel0 > floor) | (mel > floor), tf.float32)
    diff = tf.abs(tf.maximum(mel, floor) - tf.maximum(mel0, floor))
    return tf.reduce_sum(diff * heard, axis=[1, 2]) / tf.maximum(tf.reduce_sum(heard, axis=[1, 2]), 1.0)


def _quiet_cells(mel0, hold):
    """The input's mel power ``(batch, n_mels, frames)`` and its quietest ``hold`` share of cells, per item."""
    flat = tf.sort(tf.reshape(mel0, [tf.shape(mel0)[0], -1]), axis=1)
    n = tf.shape(flat)[1]
    k = tf.clip_by_value(tf.cast(tf.math.ceil(hold * tf.cast(n, tf.float32)), tf.int32) - 1, 0, n - 1)
    threshold = tf.where(hold > 0, flat[:, k], -np.inf)[:, None, None]
    return tf.pow(10.0, mel0 / 10.0), mel0 <= threshold


def _compile_gain(dreamer: Dreamer, objective: Objective, transforms: tuple, balance: bool, smooth: int,
                  contrast: float):
    values = dreamer.values(objective)
    s = dreamer.settings
    ops = tf_spectral(s)
    with tf.init_scope():
        weights = tf.constant(_bin_weights(s))  # (n_freq, n_mels)
    transform = compose(transforms)
    n_mels = s.n_mels
    with tf.init_scope():
        centred = tf.constant(np.arange(n_mels, dtype=np.float32) - (n_mels - 1) / 2)[None]
        half = int(smooth) // 2
        window = np.hanning(2 * half + 3)[1:-1].astype(np.float32)
        kernel = tf.constant((window / window.sum())[:, None, None]) if half > 0 else None

    def heard(gain_db, spec, level, n_samples, inverse_envelope, max_gain, with_control=False):
        """Sonify a mel-band gain on the input's STFT, at the input's RMS level; its log-mel (and its control's)."""
        g = tf.clip_by_value(tf.einsum("bmt,fm->btf", gain_db, weights), -max_gain, max_gain)
        amplitude = tf.pow(10.0, g / 20.0)
        y = ops.istft(spec * tf.complex(amplitude, tf.zeros_like(amplitude)), n_samples, inverse_envelope)
        scale = level / (tf.sqrt(tf.reduce_mean(tf.square(y), axis=1, keepdims=True)) + EPS)  # (batch, 1)
        mel = ops.log_mel(y * scale)
        if not with_control:
            return mel
        a = amplitude * scale[:, :, None]  # the gain each bin gets once the level is held
        power = tf.math.square(tf.math.real(spec)) + tf.math.square(tf.math.imag(spec))
        return mel, ops.mel_db(power * (1.0 + tf.math.square(a - 1.0)))

    gain_spec = tf.TensorSpec([None, n_mels, None], tf.float32)
    stft_spec = tf.TensorSpec([None, None, 1 + s.n_fft // 2], tf.complex64)
    count, number = tf.TensorSpec([], tf.int32), tf.TensorSpec([], tf.float32)
    level_spec = tf.TensorSpec([None, 1], tf.float32)

    @compile_graph(input_signature=[tf.TensorSpec([None, None], tf.float32)])
    def prepare(y):  # what every step and measure needs of the input, computed once
        return ops.stft(y), ops.log_mel(y)

    @compile_graph(input_signature=[gain_spec, stft_spec, count, level_spec, count, count, number, number,
                                    number, tf.TensorSpec([2], tf.int32), gain_spec, number])
    def ascent(gain_db, spec, n_samples, level, steps, start, step_size, max_gain, max_boost, seed, mel0, hold):
        inverse_envelope = ops.inverse_envelope(tf.shape(spec)[1])
        power, quiet = _quiet_cells(mel0, hold)

        def step(i, gain_db, history, finite):
            step_seed = seed + tf.stack([0, start + i])

            def values_of(d):  # the transforms act on what is heard, not on the gain
                if not contrast:
                    mel = heard(d, spec, level, n_samples, inverse_envelope, max_gain)
                    return values(transform(mel, step_seed)[..., None])
                mel, control = heard(d, spec, level, n_samples, inverse_envelope, max_gain, with_control=True)
                # one seed, so the control is jittered and shifted as the dream is
                return (values(transform(mel, step_seed)[..., None])
                        - contrast * values(transform(control, step_seed)[..., None]))

            v, g, ok = ascent_step(gain_db, values_of, lambda d, _: d, step_seed)
            gain_db = gain_db + step_size * g
            if balance:  # take out the gain's overall tilt across the bands: no brightening or dulling
                mean = tf.reduce_mean(gain_db, axis=2)  # (batch, n_mels)
                slope = tf.reduce_sum(mean * centred, axis=1, keepdims=True) / tf.reduce_sum(centred * centred)
                gain_db = gain_db - (slope * centred)[:, :, None]
            if kernel is not None:  # a gain that changes smoothly over time: no frame-sized bursts
                flat = tf.reshape(gain_db, [-1, tf.shape(gain_db)[2], 1])
                padded = tf.pad(flat, [[0, 0], [half, half], [0, 0]], mode="SYMMETRIC")
                gain_db = tf.reshape(tf.nn.conv1d(padded, kernel, 1, "VALID"), tf.shape(gain_db))
            gain_db = tf.clip_by_value(gain_db, -max_gain, max_boost)
            # the level hold lifts every cell by the dB the gain took from the clip's power: the quiet ones
            # are cut by as much, so that they stay where they were
            kept = tf.reduce_sum(power * tf.pow(10.0, gain_db / 10.0), axis=[1, 2], keepdims=True)
            makeup = 10.0 * (tf.math.log(tf.reduce_sum(power, axis=[1, 2], keepdims=True) / kept) / np.log(10.0))
            gain_db = tf.where(quiet, tf.minimum(gain_db, -makeup), gain_db)
            return gain_db, history.write(i, v), finite & ok

        history = tf.TensorArray(tf.float32, size=steps, element_shape=tf.TensorShape([None]))
        gain_db, history, finite = repeat(steps, step, (gain_db, history, tf.constant(True)))
        return gain_db, history.stack(), finite

    @compile_graph(input_signature=[gain_spec, stft_spec, gain_spec, count, level_spec, number])
    def measure(gain_db, spec, mel0, n_samples, level, max_gain):
        mel = heard(gain_db, spec, level, n_samples, ops.inverse_envelope(tf.shape(spec)[1]), max_gain)
        return mel, _tf_change(mel0, mel, CHANGE_FLOOR_DB)

    return prepare, ascent, measure


def ascend_gain(dreamer: Dreamer, y, objective: Objective, *, options: DreamOptions | None = None, transforms=(),
                max_gain_db: float = 24.0, balance: bool = False, progress: bool | None = None, **overrides):
    """Gradient ascent on a mel-band gain applied to the clip's own STFT, through sonification.

    Parameters
    ----------
    dreamer : Dreamer
    y : np.ndarray [shape=(batch, n_samples) or (n_samples,)]
        Audio at the model's rate; one clip is copied to every item of a batched objective.
    objective : Objective
    options : DreamOptions, optional
        Read here: ``steps`` (when ``strength`` is None), ``step_size`` (dB, RMS over the
        gain, per step), ``strength`` (target spectral change in dB of the heard dream: the
        ascent runs until every item reaches it, at most ``max_steps``, then each item's
        gain is scaled back to land on it), ``seed`` and ``smooth`` (after every step, smooth
        the gain over this many frames with a Hann window, 0 or 1: none; a smoothness prior
        that takes out frame-sized bursts of gain, heard as clicks at onsets), ``contrast``
        (climb the objective minus this times that of the expected phase control),
        ``max_boost_db`` and ``hold_floor`` (after every step, the quietest share of the
        input's cells is cut by what holding the clip's level adds back, so the gaps
        between notes do not come up). Default
        ``DreamOptions(consistent=True)``.
    transforms : tuple of transforms
        Applied to the heard log-mel at every step (:class:`~.transforms.Jitter`,
        :class:`~.transforms.BandShift`, :class:`~.transforms.RandomGain`).
    max_gain_db : float
        Largest boost or cut of any STFT bin.
    balance : bool
        After every step, take out the gain's overall tilt across the mel bands (the
        slope of its time average), so a dream cannot score by brightening or dulling
        the whole clip and must reshape what is there.
    progress : bool, optional
        Show a bar (default: for long jobs).
    **overrides
        Fields of :class:`DreamOptions` that replace those of ``options``.

    Returns
    -------
    gain_db : np.ndarray [shape=(batch, n_mels, n_frames)]
        Per mel band and frame; :func:`~.sonification.sonify` with ``max_gain_db`` turns it into sound.
    heard : np.ndarray [shape=(batch, n_mels, n_frames)]
        The log-mel of that sound at the clip's RMS level: the spectrogram the ascent reached.
    history : np.ndarray [shape=(n_steps, batch)]
        Objective before each step (less ``contrast`` times the control's, when set).

    Raises
    ------
    DreamError
        Non-finite gradients, a negative step count or strength, or a batch that does
        not match a batched objective.
    """
    o = resolve_options(options, overrides, default=DreamOptions(consistent=True))
    steps, step_size, strength, max_steps = o.steps, o.step_size, o.strength, o.max_steps
    seed, smooth, contrast = o.seed, o.smooth, float(o.contrast)
    max_boost = float(max_gain_db if o.max_boost_db is None else min(o.max_boost_db, max_gain_db))
    dreamer.check(objective)
    y = match_batch(np.atleast_2d(np.asarray(y, dtype=np.float32)), objective)
    transforms = tuple(transforms)
    key = ("gain", objective, transforms, bool(balance), int(smooth), contrast)
    prepare, ascent, measure = dreamer.compiled(key, lambda: _compile_gain(dreamer, objective, *key[2:]))
    level = np.sqrt(np.mean(np.square(y, dtype=np.float64), axis=-1, keepdims=True)).astype(np.float32)
    frames = 1 + y.shape[-1] // dreamer.settings.hop_length
    gain = np.zeros((len(y), dreamer.settings.n_mels, frames), np.float32)
    spec, mel0 = run_compiled(prepare, tf.constant(y))
    n_samples, level = tf.constant(y.shape[-1], tf.int32), tf.constant(level)
    args = (spec, mel0, n_samples, level)  # what measure takes after the gain
    seed_pair = tf.constant([int(seed) % 2**31, 0], tf.int32)
    chunk = 4 if strength is not None else max(1, min(int(steps), 25))
    total = int(max_steps) if strength is not None else int(steps)
    show = progress if progress is not None else y.size * total > 40_000_000
    if strength is not None:  # the bar fills with the change heard, toward the target, not with steps
        bar = tqdm(total=float(strength), desc="dreaming", leave=False, disable=not show,
                   bar_format="{desc}: {n:.1f} of {total:.1f} dB of change |{bar}| {elapsed}")
    else:
        bar = tqdm(total=total, desc="dreaming", unit="step", leave=False, disable=not show)
    histories, done = [], 0
    while done < total:
        n = min(chunk, total - done)
        out, history, finite = run_compiled(ascent, tf.constant(gain), spec, n_samples, level, tf.constant(n),
                                            tf.constant(done), tf.constant(float(step_size)),
                                            tf.constant(float(max_gain_db)), tf.constant(max_boost), seed_pair,
                                            mel0, tf.constant(float(o.hold_floor)))
        _check_finite(finite)
        gain = out.numpy()
        histories.append(history.numpy())
        done += n
        if strength is None:
            bar.update(n)
            continue
        _, change = run_compiled(measure, tf.constant(gain), *args, tf.constant(float(max_gain_db)))
        bar.n = float(min(np.min(change.numpy()), strength))  # the item furthest from the target
        bar.refresh()
        if np.all(change.numpy() >= strength):
            break
    bar.close()
    if strength is not None:
        gain = _land_on(measure, gain, args, float(strength), float(max_gain_db))
    heard, _ = run_compiled(measure, tf.constant(gain), *args, tf.constant(float(max_gain_db)))
    history = np.concatenate(histories, axis=0) if histories else np.zeros((0, len(y)), np.float32)
    return gain, heard.numpy(), history


def _land_on(measure, gain, args, strength: float, max_gain: float, *, rounds: int = 6, tol: float = 0.02):
    """Each item's gain scaled by the factor in [0, 1] whose change is ``strength``.

    Change grows about in proportion to the scale, so each round rescales by
    ``strength / change`` (a few forward passes, not a bisection's ten). Items that never
    reached it keep their whole gain.
    """
    def change_at(t):
        d = (t[:, None, None] * gain).astype(np.float32)
        return run_compiled(measure, tf.constant(d), *args, tf.constant(max_gain))[1].numpy()

    change = change_at(np.ones(len(gain), np.float32))
    reached = change >= strength
    t = np.ones(len(gain), np.float32)
    for _ in range(rounds):
        if np.all(np.abs(change - strength)[reached] <= tol):
            break
        t = np.where(reached, np.clip(t * strength / np.maximum(change, 1e-6), 0.0, 1.0), 1.0).astype(np.float32)
        change = change_at(t)
    return (t[:, None, None] * gain).astype(np.float32)
