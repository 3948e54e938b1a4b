"""Transforms any ascent loop can use, after Lucid's ``transform.py``.

A *transform* changes the input inside the gradient tape at every step, so the gradient
flows back through it: :class:`Jitter` rolls the input by a random number of frames,
which keeps a dream from fixing on where in time a feature falls, and the gradient of a
roll is the opposite roll, so the step is taken on the unrolled input for free. Time is
the last axis in both domains (frames of a log-mel spectrogram, samples of a waveform);
``frame_step`` is the number of positions one frame spans there (1, or ``hop_length``).

:class:`Octaves` is the multi-scale schedule around a loop: the ascent runs at a few time
scales, coarse to fine, each carrying the change found at the previous one.

Transforms are frozen dataclasses, so they are hashable: a compiled ascent is keyed by
its objective and its transforms and traced once for each. A new transform is a class
with ``__call__(x, seed, *, frame_step)``; no loop changes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from ..errors import DreamError

__all__ = ["Jitter", "BandShift", "RandomGain", "compose", "Octaves"]


@dataclass(frozen=True)
class Jitter:
    """Roll the input in time by a random whole number of frames in ``[-frames, frames]``.

    Parameters
    ----------
    frames : int
        Largest shift, in spectrogram frames.
    """

    frames: int

    def __post_init__(self):
        if self.frames < 0:
            raise DreamError(f"jitter must be >= 0 frames, got {self.frames}.")

    def __call__(self, x, seed, *, frame_step: int = 1):
        """Roll ``x`` (time last) by ``frame_step`` times a shift drawn from ``seed`` (shape ``[2]``)."""
        shift = tf.random.stateless_uniform([], seed, minval=-self.frames, maxval=self.frames + 1,
                                            dtype=tf.int32)
        return tf.roll(x, frame_step * shift, axis=-1)


@dataclass(frozen=True)
class BandShift:
    """Shift a log-mel input along its band axis by a random ``[-bands, bands]`` bands.

    Edge bands are repeated rather than wrapped. A dream that still scores when it sits a
    band or two higher or lower is one that does not hang on exact bin positions, which
    sonification and other models smear anyway. Mel inputs only (bands on axis -2).

    Parameters
    ----------
    bands : int
    """

    bands: int

    def __post_init__(self):
        if self.bands < 0:
            raise DreamError(f"BandShift needs bands >= 0, got {self.bands}.")

    def __call__(self, x, seed, *, frame_step: int = 1):
        shift = tf.random.stateless_uniform([], seed, minval=-self.bands, maxval=self.bands + 1, dtype=tf.int32)
        n = tf.shape(x)[-2]
        return tf.gather(x, tf.clip_by_value(tf.range(n) - shift, 0, n - 1), axis=x.shape.rank - 2)


@dataclass(frozen=True)
class RandomGain:
    """Add a random level offset in ``[-db, db]`` dB per item to a log-mel input.

    Parameters
    ----------
    db : float
    """

    db: float

    def __post_init__(self):
        if self.db < 0:
            raise DreamError(f"RandomGain needs db >= 0, got {self.db}.")

    def __call__(self, x, seed, *, frame_step: int = 1):
        shape = tf.concat([tf.shape(x)[:1], tf.ones([x.shape.rank - 1], tf.int32)], axis=0)
        return x + tf.random.stateless_uniform(shape, seed, minval=-self.db, maxval=self.db)


def compose(transforms, *, frame_step: int = 1):
    """One ``(x, seed) -> x`` function applying ``transforms`` in order.

    The first transform draws from the step's seed; the others from seeds folded from it,
    so adding a transform leaves the draws of those before it unchanged.

    Parameters
    ----------
    transforms : sequence of transforms
    frame_step : int
        Positions per spectrogram frame on the input's last axis.
    """
    transforms = tuple(transforms)

    def apply(x, seed):
        for k, transform in enumerate(transforms):
            x = transform(x, seed if k == 0 else tf.random.experimental.stateless_fold_in(seed, k),
                          frame_step=frame_step)
        return x

    return apply


@dataclass(frozen=True)
class Octaves:
    """Coarse-to-fine time scales: the TF DeepDream tutorial's multi-scale ascent.

    Scale ``o`` of ``n`` is ``scale ** (n - 1 - o)`` times shorter than the input, ending at
    its own length. Only time is rescaled; the mel axis is the model's.

    Parameters
    ----------
    n : int
        Number of scales (1: the input's own scale only).
    scale : float
        Ratio of consecutive lengths.
    """

    n: int = 1
    scale: float = 1.3

    def __post_init__(self):
        if self.n < 1 or self.scale <= 0:
            raise DreamError(f"octaves need n >= 1 and a positive scale, got n={self.n}, scale={self.scale}.")

    def lengths(self, frames: int) -> list[int]:
        """Frames at each scale, coarse to fine (at least 8; the last is ``frames``)."""
        return [max(8, round(frames * self.scale ** (o - self.n + 1))) for o in range(self.n)]

    def run(self, x: np.ndarray, ascend) -> np.ndarray:
        """Ascend ``x`` at every scale; each starts from the input plus the change found so far.

        Parameters
        ----------
        x : np.ndarray [shape=(..., frames)]
        ascend : callable
            ``ascend(x_at_scale, octave) -> dreamed`` of the same shape.

        Returns
        -------
        dreamed : np.ndarray [shape=(..., frames)]
        """
        frames = x.shape[-1]
        detail = np.zeros_like(x)
        for octave, length in enumerate(self.lengths(frames)):
            base = _resize_time(x, length)
            dreamed = ascend(base + _resize_time(detail, length), octave)
            detail = _resize_time(dreamed - base, frames)
        return x + detail


def _resize_time(x: np.ndarray, length: int) -> np.ndarray:
    """Linear resampling of the last (time) axis to ``length`` frames."""
    if x.shape[-1] == length:
        return x
    pos = np.linspace(0, x.shape[-1] - 1, length)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, x.shape[-1] - 1)
    frac = (pos - lo).astype(np.float32)
    return (x[..., lo] * (1 - frac) + x[..., hi] * frac).astype(np.float32)
