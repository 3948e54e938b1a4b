"""Transforms: jitter rolls within bounds and is undone in the gradient; octaves go coarse to fine;
band shift and random gain draw per seed within their bounds; all are hashable."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from auditory_deepdream.dreamer import (
    BandShift,
    Jitter,
    Octaves,
    RandomGain,
    ascend_gain,
    compose,
    layer_objective,
)
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


# ----------------------------------------------------------------- band shift, random gain
def _band_shift_of(transform, seed, n_bands=16):
    """The shift ``transform`` draws for ``seed``, read off an input whose value is its band index."""
    index = np.broadcast_to(np.arange(n_bands, dtype=np.float32)[None, :, None], (1, n_bands, 3))
    moved = transform(tf.constant(index), seed).numpy()
    return int(n_bands // 2 - moved[0, n_bands // 2, 0])


def _band_shift_reference(x, shift):
    """NumPy: band ``m`` of the output is band ``m - shift`` of ``x``, edge bands repeated."""
    n = x.shape[-2]
    return np.take(x, np.clip(np.arange(n) - shift, 0, n - 1), axis=-2)


def test_band_shift_moves_bands_within_its_bound_and_repeats_the_edges():
    x = np.random.default_rng(4).normal(size=(2, 16, 7)).astype(np.float32)
    shifts = set()
    for seed in SEEDS:
        shift = _band_shift_of(BandShift(2), seed)
        shifts.add(shift)
        np.testing.assert_array_equal(BandShift(2)(tf.constant(x), seed).numpy(), _band_shift_reference(x, shift))
    assert shifts == {-2, -1, 0, 1, 2}
    up = next(seed for seed in SEEDS if _band_shift_of(BandShift(2), seed) == 2)
    moved = BandShift(2)(tf.constant(x), up).numpy()
    np.testing.assert_array_equal(moved[:, 0], x[:, 0])  # the bottom band is repeated, not wrapped
    np.testing.assert_array_equal(moved[:, 1], x[:, 0])
    np.testing.assert_array_equal(moved[:, 2:], x[:, :-2])
    down = next(seed for seed in SEEDS if _band_shift_of(BandShift(2), seed) == -2)
    moved = BandShift(2)(tf.constant(x), down).numpy()
    np.testing.assert_array_equal(moved[:, -2:], x[:, [-1, -1]])
    np.testing.assert_array_equal(moved[:, :-2], x[:, 2:])


def test_band_shift_is_deterministic_for_a_seed_zero_is_identity_and_negative_raises():
    x = tf.constant(np.random.default_rng(5).normal(size=(1, 16, 9)).astype(np.float32))
    np.testing.assert_array_equal(BandShift(3)(x, SEEDS[5]).numpy(), BandShift(3)(x, SEEDS[5]).numpy())
    assert len({_band_shift_of(BandShift(3), seed) for seed in SEEDS[:10]}) > 1  # seeds draw different shifts
    np.testing.assert_array_equal(BandShift(0)(x, SEEDS[5]).numpy(), x.numpy())
    with pytest.raises(DreamError, match="bands"):
        BandShift(-1)


def test_random_gain_adds_one_constant_per_item_within_its_bound():
    x = tf.constant(np.random.default_rng(6).normal(size=(4, 8, 5)).astype(np.float32))
    offsets = []
    for seed in SEEDS:
        diff = RandomGain(3.0)(x, seed).numpy() - x.numpy()
        per_item = diff[:, :1, :1]
        np.testing.assert_allclose(diff, np.broadcast_to(per_item, diff.shape), atol=1e-5)
        offsets.append(per_item.ravel())
    offsets = np.concatenate(offsets)
    assert np.all(np.abs(offsets) <= 3.0 + 1e-6)
    assert offsets.min() < -1.5 and offsets.max() > 1.5  # both ways, over most of the range
    first = RandomGain(3.0)(x, SEEDS[0]).numpy() - x.numpy()
    assert len(np.unique(np.round(first[:, 0, 0], 5))) == 4  # each item its own offset


def test_random_gain_is_deterministic_for_a_seed_zero_is_identity_and_negative_raises():
    x = tf.constant(np.random.default_rng(7).normal(size=(2, 8, 5)).astype(np.float32))
    np.testing.assert_array_equal(RandomGain(2.0)(x, SEEDS[9]).numpy(), RandomGain(2.0)(x, SEEDS[9]).numpy())
    assert not np.array_equal(RandomGain(2.0)(x, SEEDS[9]).numpy(), RandomGain(2.0)(x, SEEDS[10]).numpy())
    np.testing.assert_array_equal(RandomGain(0.0)(x, SEEDS[9]).numpy(), x.numpy())
    with pytest.raises(DreamError, match="db"):
        RandomGain(-0.5)


def test_transforms_are_frozen_and_hashable_so_compiled_ascents_are_keyed_by_them(dreamer, short):
    for make, value, other in ((BandShift, 2, 3), (RandomGain, 1.5, 2.5), (Jitter, 2, 3)):
        assert make(value) == make(value) and hash(make(value)) == hash(make(value))
        assert make(value) != make(other)
        assert len({make(value): 1, make(value): 2, make(other): 3}) == 2
        with pytest.raises(dataclasses.FrozenInstanceError):
            make(value).__setattr__(dataclasses.fields(make)[0].name, other)
    objective = layer_objective("stage1_conv1")
    transforms = (BandShift(1), RandomGain(1.0))
    key = ("gain", objective, transforms, False, 0, 0.0)  # ..., balance, smooth, contrast
    ascend_gain(dreamer, short, objective, steps=1, transforms=transforms)
    fn = dreamer._compiled[key]
    ascend_gain(dreamer, short, objective, steps=1, transforms=(BandShift(1), RandomGain(1.0)))  # equal, new objects
    assert dreamer._compiled[key] is fn
    assert sum(1 for k in dreamer._compiled if k[0] == "gain" and k[2] == transforms) == 1
