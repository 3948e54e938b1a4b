"""Gradient ascent: the shared step, both loops, batches, octaves and jitter, long audio, errors."""

import numpy as np
import pytest
import tensorflow as tf
from dreamer_fixtures import render_piece

from auditory_deepdream import audio, models
from auditory_deepdream.dreamer import (
    Dreamer,
    Jitter,
    Octaves,
    amplify_filter,
    ascend_mel,
    ascend_waveform,
    audition_objective,
    class_objective,
    dream,
    filter_objective,
    layer_objective,
)
from auditory_deepdream.dreamer.ascent import ascent_step
from auditory_deepdream.errors import AudioInputError, DreamError


@pytest.fixture(scope="module")
def mel(short, settings):
    return audio.encode(short, settings=settings)[None]


# ----------------------------------------------------------------- the shared step
def test_step_normalises_each_item_and_zeroes_non_finite_gradients():
    x = tf.constant(np.random.default_rng(0).normal(size=(2, 3, 8)).astype(np.float32))
    scale = tf.constant([[[1.0]], [[100.0]]])

    def values_of(v):
        return tf.reduce_sum(scale * v ** 3, axis=[1, 2])

    values, direction, finite = ascent_step(x, values_of, lambda v, seed: v, tf.constant([0, 0]))
    np.testing.assert_allclose(values.numpy(), values_of(x).numpy(), rtol=1e-6)
    np.testing.assert_allclose(np.std(direction.numpy(), axis=(1, 2)), [1.0, 1.0], rtol=1e-4)
    gradient = 3 * scale.numpy() * x.numpy() ** 2
    np.testing.assert_allclose(direction.numpy(), gradient / gradient.std(axis=(1, 2), keepdims=True), rtol=1e-4)
    assert bool(finite)
    _, flipped, _ = ascent_step(x, values_of, lambda v, seed: v, tf.constant([0, 0]), precondition=lambda g: -g)
    np.testing.assert_allclose(flipped.numpy(), -direction.numpy(), rtol=1e-6)
    _, zero, finite = ascent_step(x, lambda v: tf.reduce_sum(tf.sqrt(v - 10.0), axis=[1, 2]),
                                  lambda v, seed: v, tf.constant([0, 0]))
    assert not bool(finite) and not zero.numpy().any()


def test_step_size_is_the_spread_of_the_change_in_db(dreamer, mel, settings):
    loud = np.maximum(mel, settings.db_floor + 60)  # far from the floor: nothing is clipped
    dreamed, _ = ascend_mel(dreamer, loud, layer_objective("stage2_conv1"), steps=1, step_size=2.0)
    assert np.std(dreamed - loud) == pytest.approx(2.0, rel=1e-3)


# ----------------------------------------------------------------- log-mel loop
def test_batched_objective_raises_each_item_and_matches_single_runs(dreamer, mel):
    batched = audition_objective("stage1_conv1", [0, 3, 7])
    dreamed, _ = ascend_mel(dreamer, mel, batched, steps=3, step_size=1.0)
    assert dreamed.shape == (3,) + mel.shape[1:]
    single, _ = ascend_mel(dreamer, mel, filter_objective("stage1_conv1", 3), steps=3, step_size=1.0)
    np.testing.assert_allclose(dreamed[1], single[0], atol=1e-3)
    assert not np.allclose(dreamed[0], dreamed[1], atol=1e-3)
    values = dreamer.evaluate(dreamed, batched)
    assert np.all(values > dreamer.evaluate(np.repeat(mel, 3, 0), batched))


def test_octaves_and_jitter_rise_and_keep_shape(dreamer, mel):
    objective = layer_objective("stage2_conv1")
    dreamed, history = ascend_mel(dreamer, mel, objective, steps=3, step_size=1.0, octaves=Octaves(3),
                                  transforms=(Jitter(4),), seed=2)
    assert dreamed.shape == mel.shape and history.shape == (9, 1)
    assert dreamer.evaluate(dreamed, objective)[0] > dreamer.evaluate(mel, objective)[0]
    again, _ = ascend_mel(dreamer, mel, objective, steps=3, step_size=1.0, octaves=Octaves(3),
                          transforms=(Jitter(4),), seed=2)
    other, _ = ascend_mel(dreamer, mel, objective, steps=3, step_size=1.0, octaves=Octaves(3),
                          transforms=(Jitter(4),), seed=3)
    np.testing.assert_array_equal(dreamed, again)
    assert not np.array_equal(dreamed, other)


def test_zero_steps_change_nothing(dreamer, mel):
    dreamed, history = ascend_mel(dreamer, mel, layer_objective("stage1_conv1"), steps=0)
    np.testing.assert_array_equal(dreamed, mel)
    assert history.shape == (0, 1)


# ----------------------------------------------------------------- waveform loop
@pytest.mark.parametrize("envelope", [True, False])
def test_waveform_dreaming_raises_objectives_and_is_transparent_at_zero_steps(dreamer, short, envelope):
    for objective in (filter_objective("stage1_conv1", 3), layer_objective("stage2_conv1"),
                      class_objective(1) - filter_objective("stage2_conv1", 0)):
        result = dream(short, model=dreamer, objective=objective, domain="waveform", steps=4, step_size=0.1,
                       envelope=envelope)
        assert result.objective_dreamed[0] > result.objective_before[0], objective
        assert result.history.shape == (4, 1) and result.history[-1, 0] > result.history[0, 0]
    kwargs = dict(model=dreamer, objective=objective, domain="waveform", steps=3, jitter=2, envelope=envelope)
    np.testing.assert_array_equal(dream(short, seed=5, **kwargs).audio, dream(short, seed=5, **kwargs).audio)
    zero = dream(short, model=dreamer, objective=objective, domain="waveform", steps=0)
    np.testing.assert_allclose(zero.audio, short, atol=1e-6)


def test_waveform_keeps_the_level_and_batched_items_match_single_runs(dreamer, short):
    batched = audition_objective("stage1_conv1", [2, 6])
    dreamed, history = ascend_waveform(dreamer, short, batched, steps=3, step_size=0.2)
    rms = np.sqrt(np.mean(np.square(dreamed, dtype=np.float64), axis=-1))
    np.testing.assert_allclose(rms, np.sqrt(np.mean(np.square(short, dtype=np.float64))), rtol=1e-3)
    single, _ = ascend_waveform(dreamer, short, filter_objective("stage1_conv1", 6), steps=3, step_size=0.2)
    np.testing.assert_allclose(dreamed[1], single[0], atol=1e-4)
    assert np.all(np.diff(history, axis=0) >= -1e-6)  # backtracking: never below the best so far


# ----------------------------------------------------------------- long audio
@pytest.fixture(scope="module")
def piece(settings):
    return render_piece(30.0, sample_rate=settings.sample_rate)


@pytest.mark.parametrize("block_frames", [None, 200])
def test_thirty_seconds_in_one_call_has_no_clicks(dreamer, piece, block_frames):
    result = amplify_filter(piece, model=dreamer, layer="stage1_conv1", index=3, steps=3, step_size=2.0,
                            block_frames=block_frames, overlap_frames=32)
    assert result.audio.shape == piece.shape
    assert result.spectral_change_db[0] > 0.1  # the dream did something
    own_jump = np.max(np.abs(np.diff(piece)))
    assert np.max(np.abs(np.diff(result.audio))) <= 2 * own_jump


def test_blocks_agree_with_one_pass_away_from_block_edges(dreamer, piece, settings):
    mel = audio.encode(piece[: 10 * settings.sample_rate], settings=settings)[None]
    objective = filter_objective("stage1_conv1", 3)
    whole, _ = ascend_mel(dreamer, mel, objective, steps=1, step_size=1.0)
    blocks, _ = ascend_mel(dreamer, mel, objective, steps=1, step_size=1.0, block_frames=200, overlap_frames=32)
    delta_whole, delta_blocks = whole - mel, blocks - mel
    corr = np.corrcoef(delta_whole.ravel(), delta_blocks.ravel())[0, 1]
    assert corr > 0.9


# ----------------------------------------------------------------- errors
@pytest.mark.parametrize("domain", ["mel", "waveform"])
def test_non_finite_gradients_raise_dream_error(settings, short, domain):
    model = models.build_model("conv_blocks", {"width": 0.25}, settings=settings, n_classes=3, seed=0)
    conv = model.get_layer("stage1_conv1")
    conv.kernel.assign(np.full(conv.kernel.shape, np.nan, np.float32))
    with pytest.raises(DreamError, match="non-finite") as info:
        dream(short, model=Dreamer(model, settings=settings), objective=layer_objective("stage2_conv1"), steps=2,
              domain=domain)
    assert info.value.__cause__ is None and info.value.__context__ is None


def test_bad_inputs(dreamer, settings):
    with pytest.raises(DreamError, match="batch of 3 spectrograms"):
        ascend_mel(dreamer, np.zeros((2, settings.n_mels, 10), np.float32) - 50,
                   audition_objective("stage1_conv1", [0, 1, 2]))
    with pytest.raises(DreamError, match="batch of 3 clips"):
        ascend_waveform(dreamer, np.ones((2, 5000), np.float32), audition_objective("stage1_conv1", [0, 1, 2]))
    with pytest.raises(AudioInputError, match="shape"):
        ascend_mel(dreamer, np.zeros((1, 64, 10), np.float32), layer_objective("stage1_conv1"))
    with pytest.raises(AudioInputError, match="NaN"):
        ascend_mel(dreamer, np.full((1, settings.n_mels, 10), np.nan, np.float32), layer_objective("stage1_conv1"))
    with pytest.raises(DreamError, match="steps"):
        ascend_mel(dreamer, np.zeros((1, settings.n_mels, 10), np.float32), layer_objective("stage1_conv1"),
                   steps=-1)


def test_a_gradient_on_a_few_cells_climbs_no_higher_than_the_ceiling():
    """vgg-mtt's conv3 filter 4 puts its gradient on a few cells of a cello note: normalised, they climb
    tens of dB a step (without the ceiling, a batch of filters 4 and 5 reached 288 dB in 20 steps)."""
    from auditory_deepdream.dreamer.ascent import MAX_DB

    d = Dreamer.load("vgg-mtt")
    y = audio.load_audio(audio.example_clip("cello_C3"), settings=d.settings)[: 3 * d.settings.sample_rate]
    mel = audio.encode(y, settings=d.settings)[None]
    out, _ = ascend_mel(d, mel, filter_objective("conv3", 4), steps=20, step_size=1.0, progress=False)
    assert np.isfinite(out).all() and out.max() == pytest.approx(MAX_DB)  # reached, never passed
