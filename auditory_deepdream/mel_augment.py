"""Fit-time augmentation of log-mel batches: frequency warp, level, spectral tilt, background noise, masks.

Store-level augmentation (:mod:`~auditory_deepdream.dataset.recording`) changes the
recording before it is encoded; this module changes the encoded batch while a model
trains, so every epoch sees a new variant. :func:`augment_mel` is one TensorFlow
function used by both feeds of :class:`~auditory_deepdream.generator.InstrumentSequence`
(inside the ``tf.data`` pipeline of :meth:`~auditory_deepdream.generator.InstrumentSequence.dataset`,
and eagerly when the sequence is indexed directly). It draws with TensorFlow's stateless
random ops from a ``(seed, epoch, batch)`` key, so a batch is augmented the same way every
time.

Per sample, in this order (all in dB on the ``(n_mels, n_frames)`` plane; ranges scale
with ``strength``, except the warp's):

0. **warp** (off unless ``warp_semitones`` > 0): every frequency is scaled by ``2 ** (u / 12)``,
   ``u`` drawn from ``+-warp_semitones``: band ``i`` (centre ``f_i``) takes the value found
   at ``f_i / 2 ** (u / 12)``, interpolated between bands on the mel scale, and bands read
   from beyond the lowest or highest take the floor. Pitch and formants move together, as
   when a sampler plays one recording over several keys;
1. **level**: add a gain drawn from ``gain_db``;
2. **tilt**: add a ramp across the mel bands, from ``-t/2`` at the lowest band to ``+t/2``
   at the highest, ``t`` drawn from ``+-tilt_db`` (a brighter or darker microphone);
3. **noise**: with probability ``noise_prob``, power-add a noise floor ``snr_db`` below the
   sample's loudest bin, with its own tilt and the bin-to-bin spread of real noise
   (10 log10 of an exponential variable);
4. **masks**: SpecAugment's ``freq_masks`` bands of up to ``freq_mask_fraction * n_mels``
   mel bands and ``time_masks`` runs of up to ``time_mask_fraction * n_frames`` frames
   set to the floor.

Values never go below ``db_floor``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from .errors import ModelError

__all__ = ["MelAugment", "augment_mel"]


@dataclass(frozen=True)
class MelAugment:
    """Ranges of the fit-time augmentation (see the module docstring for the order).

    Parameters
    ----------
    strength : float
        Scales the gain, tilt and mask ranges and the noise level (0 turns everything off
        except the draw itself; 1 = the ranges below).
    gain_db : (float, float)
        Level change range.
    tilt_db : float
        Largest spectral tilt, end to end across the mel bands.
    noise_prob : float
        Share of samples that get background noise.
    snr_db : (float, float)
        Noise floor below the sample's loudest bin (at strength 1; a lower strength moves
        the noise down by the same factor).
    freq_masks, time_masks : int
        Number of masked bands and frame runs per sample.
    freq_mask_fraction, time_mask_fraction : float
        Largest mask width as a share of the mel bands or frames.
    warp_semitones : float
        Largest frequency warp either way, in semitones (0: off). Not scaled by ``strength``;
        :func:`augment_mel` then needs the bands' centre frequencies.
    """

    strength: float = 1.0
    gain_db: tuple[float, float] = (-12.0, 6.0)
    tilt_db: float = 12.0
    noise_prob: float = 0.5
    snr_db: tuple[float, float] = (25.0, 60.0)
    freq_masks: int = 2
    time_masks: int = 1
    freq_mask_fraction: float = 1 / 16
    time_mask_fraction: float = 1 / 6
    warp_semitones: float = 0.0

    def __post_init__(self):
        if not 0.0 <= self.strength <= 3.0:
            raise ModelError("MelAugment.strength must be in [0, 3].")
        if self.gain_db[0] > self.gain_db[1] or self.snr_db[0] > self.snr_db[1] or self.snr_db[0] <= 0:
            raise ModelError("MelAugment.gain_db and snr_db must be (low, high) ranges; snr_db above 0 dB.")
        if not 0.0 <= self.noise_prob <= 1.0 or self.tilt_db < 0:
            raise ModelError("MelAugment.noise_prob must be in [0, 1] and tilt_db at least 0.")
        if min(self.freq_masks, self.time_masks) < 0 or not (0 <= self.freq_mask_fraction <= 1
                                                             and 0 <= self.time_mask_fraction <= 1):
            raise ModelError("MelAugment mask counts must be >= 0 and mask fractions in [0, 1].")
        if not 0.0 <= self.warp_semitones <= 12.0:
            raise ModelError("MelAugment.warp_semitones must be in [0, 12].")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _masks(shape, n_masks: int, max_width, axis_len: int, seed, salt: int):
    """Boolean ``(batch, axis_len)``: True inside any of ``n_masks`` random runs per sample."""
    import tensorflow as tf

    batch = shape[0]
    pos = tf.range(axis_len, dtype=tf.float32)[tf.newaxis, :]
    hit = tf.zeros((batch, axis_len), dtype=tf.bool)
    for k in range(n_masks):
        u = tf.random.stateless_uniform((batch, 2), seed=seed + tf.constant([0, salt + k], tf.int64))
        width = tf.floor(u[:, :1] * (max_width + 1.0))
        start = tf.floor(u[:, 1:] * (axis_len - width + 1.0))
        hit = hit | ((pos >= start) & (pos < start + width))
    return hit


def _slaney_mel(hz):
    """librosa's default (Slaney) mel scale of ``hz``, in TensorFlow: linear below 1 kHz, logarithmic above."""
    import tensorflow as tf

    log_step = float(np.log(6.4) / 27.0)
    return tf.where(hz < 1000.0, hz * (3.0 / 200.0), 15.0 + tf.math.log(tf.maximum(hz, 1e-3) / 1000.0) / log_step)


def _warp(y, shift, band_hz, floor):
    """Read band ``i`` of every sample at ``band_hz[i] / 2 ** (shift / 12)``, linear between bands on the mel scale."""
    import tensorflow as tf

    hz = tf.constant(np.asarray(band_hz, np.float32))
    n_mels = int(hz.shape[0])
    low, high = _slaney_mel(hz[0]), _slaney_mel(hz[-1])
    source = hz[tf.newaxis, :] * tf.pow(2.0, -shift / 12.0)  # (batch, n_mels)
    pos = (_slaney_mel(source) - low) / (high - low) * (n_mels - 1)
    below = tf.floor(pos)
    frac = (pos - below)[:, :, tf.newaxis, tf.newaxis]
    below_i = tf.clip_by_value(tf.cast(below, tf.int32), 0, n_mels - 1)
    above_i = tf.clip_by_value(below_i + 1, 0, n_mels - 1)
    warped = ((1.0 - frac) * tf.gather(y, below_i, axis=1, batch_dims=1)
              + frac * tf.gather(y, above_i, axis=1, batch_dims=1))
    inside = ((pos >= 0.0) & (pos <= n_mels - 1))[:, :, tf.newaxis, tf.newaxis]
    return tf.where(inside, warped, floor)


def augment_mel(x, *, seed, config: MelAugment, db_floor: float, band_hz=None):
    """Augment a batch of log-mel segments.

    Parameters
    ----------
    x : tf.Tensor or np.ndarray [shape=(batch, n_mels, n_frames, 1), dtype=float32]
        Log-mel dB.
    seed : tf.Tensor or array-like [shape=(2,), dtype=int64]
        Stateless random key (e.g. ``(seed, epoch * 2**20 + batch)``).
    config : MelAugment
    db_floor : float
        The features' floor (``AudioSettings.db_floor``).
    band_hz : array-like [shape=(n_mels,)], optional
        Centre frequencies of the mel bands (:func:`auditory_deepdream.audio.mel_centres`);
        needed when ``config.warp_semitones`` > 0.

    Returns
    -------
    tf.Tensor [shape=(batch, n_mels, n_frames, 1), dtype=float32]
    """
    import tensorflow as tf

    x = tf.convert_to_tensor(x, dtype=tf.float32)
    seed = tf.cast(tf.convert_to_tensor(seed), tf.int64)
    s = float(config.strength)
    shape = tf.shape(x)
    batch, n_mels, n_frames = shape[0], x.shape[1], x.shape[2]

    def draw(salt, low=0.0, high=1.0, size=1):
        return tf.random.stateless_uniform((batch, size), seed=seed + tf.constant([0, salt], tf.int64),
                                           minval=low, maxval=high)

    floor = tf.constant(db_floor, tf.float32)
    if config.warp_semitones > 0:
        if band_hz is None or len(band_hz) != n_mels:
            raise ModelError(f"A frequency warp needs the {n_mels} mel bands' centre frequencies (band_hz; "
                             "auditory_deepdream.audio.mel_centres(settings)).")
        x = _warp(x, draw(7, -config.warp_semitones, config.warp_semitones), band_hz, floor)

    ramp = tf.linspace(-0.5, 0.5, n_mels)[tf.newaxis, :, tf.newaxis, tf.newaxis]  # (1, n_mels, 1, 1)
    gain = draw(1, config.gain_db[0] * s, config.gain_db[1] * s + 1e-6)[:, :, tf.newaxis, tf.newaxis]
    tilt = draw(2, -config.tilt_db * s, config.tilt_db * s + 1e-6)[:, :, tf.newaxis, tf.newaxis]
    silent = x <= floor + 1e-3  # padding stays padding: a gain must not lift it above the floor
    y = tf.where(silent, floor, x + gain + tilt * ramp)

    if config.noise_prob > 0 and s > 0:
        on = draw(3)[:, :, tf.newaxis, tf.newaxis] < config.noise_prob
        snr = draw(4, config.snr_db[0], config.snr_db[1])[:, :, tf.newaxis, tf.newaxis] / s
        noise_tilt = draw(5, -config.tilt_db, config.tilt_db)[:, :, tf.newaxis, tf.newaxis]
        peak = tf.reduce_max(y, axis=[1, 2, 3], keepdims=True)
        level = peak - snr + noise_tilt * ramp  # (batch, n_mels, 1, 1) dB
        # power-add, in power units: the noise's power is its level (per sample and band) times
        # an exponential variable -log(u), a spread of 10 log10 Exp(1) dB
        exponential = -tf.math.log(tf.random.stateless_uniform(
            tf.shape(y), seed=seed + tf.constant([0, 6], tf.int64), minval=1e-7, maxval=1.0))
        ln10 = tf.math.log(10.0)
        power = tf.exp(y * (ln10 / 10.0)) + tf.exp(level * (ln10 / 10.0)) * exponential
        y = tf.where(on, (10.0 / ln10) * tf.math.log(power), y)

    band = _masks(shape, config.freq_masks, float(round(config.freq_mask_fraction * n_mels * s)), n_mels, seed, 10)
    run = _masks(shape, config.time_masks, float(round(config.time_mask_fraction * n_frames * s)), n_frames, seed, 20)
    masked = band[:, :, tf.newaxis, tf.newaxis] | run[:, tf.newaxis, :, tf.newaxis]
    y = tf.where(masked, floor, y)
    return tf.maximum(y, floor)
