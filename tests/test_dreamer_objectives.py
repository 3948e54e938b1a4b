"""Objectives: what they compute, how they combine, and that each one rises (Lucid's test).

Every objective kind rises over a few steps in both domains, mel and waveform,
batched objectives included.
"""

import numpy as np
import pytest
import tensorflow as tf
from dreamer_fixtures import CLASSES

from auditory_deepdream import audio
from auditory_deepdream.dreamer import (
    Batched,
    ClassLogit,
    FilterObjective,
    LayerObjective,
    Objective,
    ascend_mel,
    ascend_waveform,
    audition_objective,
    class_objective,
    filter_objective,
    layer_objective,
    layers_objective,
    make_objective,
)
from auditory_deepdream.dreamer.objectives import LOGITS, match_batch
from auditory_deepdream.errors import DreamError, ModelError


@pytest.fixture(scope="module")
def acts():
    """Made-up activations: (batch 2, bands 5, frames 6, channels 3) and logits (2, 4)."""
    rng = np.random.default_rng(0)
    return {"conv": tf.constant(rng.normal(size=(2, 5, 6, 3)).astype(np.float32)),
            LOGITS: tf.constant(rng.normal(size=(2, 4)).astype(np.float32))}


# ----------------------------------------------------------------- what they compute
def test_objectives_compute_what_they_say(acts):
    conv, logits = acts["conv"].numpy(), acts[LOGITS].numpy()
    np.testing.assert_allclose(filter_objective("conv", 2)(acts), conv[..., 2].mean(axis=(1, 2)), rtol=1e-6)
    np.testing.assert_allclose(filter_objective("conv", 1, crop=1)(acts), conv[:, 1:-1, 1:-1, 1].mean(axis=(1, 2)),
                               rtol=1e-6)
    np.testing.assert_allclose(layer_objective("conv")(acts), conv.mean(axis=(1, 2)).sum(axis=-1), rtol=1e-6)
    np.testing.assert_allclose(ClassLogit(3)(acts), logits[:, 3])
    combo = 0.5 * filter_objective("conv", 0) - ClassLogit(1)
    np.testing.assert_allclose(combo(acts), 0.5 * conv[..., 0].mean(axis=(1, 2)) - logits[:, 1], rtol=1e-6)
    np.testing.assert_allclose((-layer_objective("conv"))(acts), -conv.mean(axis=(1, 2)).sum(axis=-1), rtol=1e-6)


def test_batched_applies_item_i_to_batch_item_i(acts):
    conv = acts["conv"].numpy()
    batched = Batched((filter_objective("conv", 2), filter_objective("conv", 0)))
    np.testing.assert_allclose(batched(acts), [conv[0, ..., 2].mean(), conv[1, ..., 0].mean()], rtol=1e-6)
    assert len(batched) == 2 and batched.layers() == {"conv"}


def test_objectives_compose_and_are_hashable():
    a, b = filter_objective("l", 1), layer_objective("m")
    combo = 0.5 * a + b - a
    assert combo.layers() == {"l", "m"}
    assert combo == 0.5 * filter_objective("l", 1) + layer_objective("m") - filter_objective("l", 1)
    assert len({combo, combo}) == 1
    assert str(-a) == "-(l[1])" and str(a + b) == "l[1] + m"
    assert layers_objective({"l": 1.0, "m": 0.5}) == 1.0 * LayerObjective("l") + 0.5 * LayerObjective("m")
    with pytest.raises(TypeError):
        a * b


def test_objectives_by_name(dreamer):
    assert class_objective("keyboard", classes=CLASSES) == ClassLogit(1, "keyboard")
    assert class_objective(2, classes=CLASSES).label == "string"
    assert make_objective("filter", layer="l", index=3, crop=1) == FilterObjective("l", 3, 1)
    assert make_objective("class", index=2, classes=CLASSES) == ClassLogit(2, "string")
    assert audition_objective("l", [4, 1]).items == (FilterObjective("l", 4), FilterObjective("l", 1))
    with pytest.raises(ModelError, match="Unknown class"):
        class_objective("banjo", classes=CLASSES)
    with pytest.raises(ModelError, match="objective kind"):
        make_objective("neuron", layer="stage1_conv1")
    with pytest.raises(ModelError, match="at least one"):
        layers_objective({})
    with pytest.raises(ModelError, match="Expected an Objective"):
        dreamer.check("stage1_conv1")


def test_match_batch_copies_one_clip_and_refuses_other_sizes():
    batched = audition_objective("l", [0, 1, 2])
    one = np.arange(4, dtype=np.float32)[None]
    np.testing.assert_array_equal(match_batch(one, batched), np.repeat(one, 3, axis=0))
    two = np.zeros((2, 4), np.float32)
    assert match_batch(two, filter_objective("l", 0)) is two
    with pytest.raises(DreamError, match="batch of 3 clips"):
        match_batch(two, batched)


# ----------------------------------------------------------------- every objective rises
def _objectives():
    return {
        "filter": filter_objective("stage1_conv1", 3),
        "filter_cropped": filter_objective("stage2_conv1", 1, crop=2),
        "layer": layer_objective("stage2_conv1"),
        "layers_weighted": layers_objective({"stage2_conv1": 1.0, "stage3_conv1": 0.5}),
        "class": class_objective("keyboard", classes=CLASSES),
        "negation": -filter_objective("stage1_conv1", 5),
        "combination": layer_objective("stage3_conv1") - 2 * filter_objective("stage1_conv1", 0),
        "batched_audition": audition_objective("stage1_conv1", [0, 3, 7]),
        "batched_mixed": Batched((layer_objective("stage2_conv1"), ClassLogit(0), filter_objective("stage3_conv1", 2))),
    }


@pytest.mark.parametrize("name", list(_objectives()))
def test_every_objective_rises_on_the_mel(dreamer, short, settings, name):
    objective: Objective = _objectives()[name]
    mel = audio.encode(short, settings=settings)[None]
    batch = len(objective) if isinstance(objective, Batched) else 1
    before = dreamer.evaluate(np.repeat(mel, batch, axis=0), objective)
    dreamed, history = ascend_mel(dreamer, mel, objective, steps=5, step_size=1.0)
    after = dreamer.evaluate(dreamed, objective)
    assert history.shape == (5, batch)
    assert np.all(after > before), name
    np.testing.assert_allclose(history[0], before, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", list(_objectives()))
def test_every_objective_rises_on_the_waveform(dreamer, short, settings, name):
    objective = _objectives()[name]
    dreamed, history = ascend_waveform(dreamer, short, objective, steps=4, step_size=0.1)
    batch = len(objective) if isinstance(objective, Batched) else 1
    before = dreamer.evaluate(np.repeat(audio.encode(short, settings=settings)[None], batch, axis=0), objective)
    after = dreamer.evaluate(audio.encode(dreamed, settings=settings), objective)
    assert dreamed.shape == (batch, len(short)) and history.shape == (4, batch)
    assert np.all(after > before), name
    np.testing.assert_allclose(history[0], before, rtol=1e-3, atol=1e-4)
