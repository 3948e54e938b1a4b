"""Transforms: jitter rolls within bounds and is undone in the gradient; octaves go coarse to fine."""

import numpy as np
import pytest
import tensorflow as tf

from auditory_deepdream.dreamer import Jitter, Octaves, compose
from auditory_deepdream.errors import DreamError

SEEDS = [tf.constant([s, 0], tf.int32) for s in range(40)]


def _shift(rolled, x):
    """The smallest roll that turns ``x`` (time last) into ``rolled``."""
    n = x.shape[-1]
    return next(k for k in sorted(range(-n + 1, n), key=abs) if np.array_equal(np.roll(x, k, axis=-1), rolled))


def test_jitter_rolls_whole_frames_within_its_bound():
    x = np.arange(2 * 3 * 40, dtype=np.float32).reshape(2, 3, 40)
    shifts = {_shift(Jitter(3)(tf.constant(x), seed).numpy(), x) for seed in SEEDS}
    assert shifts == {-3, -2, -1, 0, 1, 2, 3}
    wave = np.arange(2 * 400, dtype=np.float32).reshape(2, 400)
    steps = {_shift(Jitter(2)(tf.constant(wave), seed, frame_step=64).numpy(), wave) for seed in SEEDS}
    assert steps <= {-128, -64, 0, 64, 128} and len(steps) > 2


def test_jitter_is_deterministic_for_a_seed_and_zero_is_identity():
    x = tf.constant(np.random.default_rng(0).normal(size=(1, 4, 30)).astype(np.float32))
    np.testing.assert_array_equal(Jitter(5)(x, SEEDS[7]).numpy(), Jitter(5)(x, SEEDS[7]).numpy())
    np.testing.assert_array_equal(Jitter(0)(x, SEEDS[7]).numpy(), x.numpy())
    with pytest.raises(DreamError, match="jitter"):
        Jitter(-1)


def test_the_gradient_through_jitter_is_the_rolled_back_gradient():
    """What the ascent relies on: differentiating through the roll undoes it."""
    x = tf.constant(np.random.default_rng(1).normal(size=(2, 3, 20)).astype(np.float32))
    weights = tf.constant(np.random.default_rng(2).normal(size=(2, 3, 20)).astype(np.float32))
    jitter = Jitter(4)
    with tf.GradientTape() as tape:
        tape.watch(x)
        rolled = jitter(x, SEEDS[3])
        total = tf.reduce_sum(weights * rolled ** 2)
    shift = _shift(rolled.numpy(), x.numpy())
    assert shift != 0
    expected = np.roll(2 * weights.numpy() * rolled.numpy(), -shift, axis=-1)
    np.testing.assert_allclose(tape.gradient(total, x).numpy(), expected, rtol=1e-6)


def test_compose_applies_in_order_and_keeps_the_first_draw():
    x = tf.constant(np.arange(60, dtype=np.float32).reshape(1, 60))
    np.testing.assert_array_equal(compose([Jitter(3)])(x, SEEDS[4]).numpy(), Jitter(3)(x, SEEDS[4]).numpy())
    np.testing.assert_array_equal(compose([])(x, SEEDS[4]).numpy(), x.numpy())
    twice = compose([Jitter(3), Jitter(3)], frame_step=2)
    first = Jitter(3)(x, SEEDS[4], frame_step=2)
    second = Jitter(3)(first, tf.random.experimental.stateless_fold_in(SEEDS[4], 1), frame_step=2)
    np.testing.assert_array_equal(twice(x, SEEDS[4]).numpy(), second.numpy())


def test_octaves_go_coarse_to_fine_and_end_at_the_input_length():
    assert Octaves().lengths(100) == [100]
    assert Octaves(3, 2.0).lengths(100) == [25, 50, 100]
    assert Octaves(4, 2.0).lengths(40) == [8, 10, 20, 40]  # never shorter than 8 frames


def test_octaves_carry_the_change_of_each_scale_to_the_next():
    x = np.random.default_rng(3).normal(size=(2, 5, 60)).astype(np.float32)
    seen = []

    def add_one(at_scale, octave):
        seen.append((octave, at_scale.shape[-1]))
        return at_scale + 1.0

    np.testing.assert_allclose(Octaves(3, 1.5).run(x, add_one), x + 3.0, rtol=1e-6)
    assert seen == [(0, 27), (1, 40), (2, 60)]
    np.testing.assert_array_equal(Octaves(1).run(x, lambda at_scale, octave: at_scale), x)
    with pytest.raises(DreamError, match="octaves"):
        Octaves(0)
