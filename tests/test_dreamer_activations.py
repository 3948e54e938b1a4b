"""The model wrapper: activations, the per-item audition shortcut, settings checks, caching."""

import numpy as np
import pytest
import tensorflow as tf
from dreamer_fixtures import CLASSES

from auditory_deepdream import audio, models
from auditory_deepdream.dreamer import (
    Batched,
    Dreamer,
    ascend_mel,
    audition_objective,
    class_objective,
    dream,
    filter_objective,
    layer_objective,
)
from auditory_deepdream.dreamer.activations import as_dreamer
from auditory_deepdream.dreamer.objectives import LOGITS
from auditory_deepdream.errors import SettingsMismatchError


@pytest.fixture(scope="module")
def mel(cello, settings):
    return audio.encode(cello[:11025], settings=settings)[None]


def test_info_lists_layers_filters_and_classes(dreamer):
    assert dreamer.info.filters("stage1_conv1") == 8 and dreamer.info.filters("stage2_conv1") == 16
    assert dreamer.info.n_classes == 3 and dreamer.info.classes == tuple(CLASSES)


def test_logits_are_the_models_pre_softmax_output(dreamer, mel):
    acts = dreamer.activations(frozenset([LOGITS, "stage1_conv1"]))(tf.constant(mel[..., None]))
    probabilities = dreamer.model(mel[..., None], training=False).numpy()
    np.testing.assert_allclose(tf.nn.softmax(acts[LOGITS]).numpy(), probabilities, rtol=1e-4, atol=1e-6)
    assert acts["stage1_conv1"].shape[-1] == 8
    np.testing.assert_allclose(dreamer.evaluate(mel, class_objective(2)), acts[LOGITS].numpy()[:, 2], rtol=1e-5)


@pytest.mark.parametrize("layer,crop", [("stage1_conv1", 0), ("stage3_conv1", 2)])
def test_audition_shortcut_matches_the_full_network(dreamer, mel, layer, crop):
    """Auditioning filters of one conv layer computes only each item's filter; values and
    gradients must equal those of the whole layer read item by item."""
    filters = [0, 2, 5, 1]
    batched = audition_objective(layer, filters, crop=crop)
    assert dreamer._per_item_filters(batched) is not None
    general = Batched(batched.items + (layer_objective(layer),))  # not all filters: no shortcut
    assert dreamer._per_item_filters(general) is None
    values = dreamer.evaluate(np.repeat(mel, len(filters), 0), batched)
    expected = [dreamer.evaluate(mel, filter_objective(layer, k, crop=crop))[0] for k in filters]
    np.testing.assert_allclose(values, expected, rtol=1e-5, atol=1e-6)
    dreamed, _ = ascend_mel(dreamer, mel, batched, steps=2, step_size=1.0)
    for i, k in enumerate(filters):
        single, _ = ascend_mel(dreamer, mel, filter_objective(layer, k, crop=crop), steps=2, step_size=1.0)
        np.testing.assert_allclose(dreamed[i], single[0], atol=1e-3)


def test_compiled_functions_are_built_once_per_key(dreamer, mel):
    objective = filter_objective("stage2_conv1", 4)
    dreamer.evaluate(mel, objective)
    fn = dreamer.compiled(("evaluate", objective), lambda: pytest.fail("rebuilt a cached function"))
    dreamer.evaluate(mel, filter_objective("stage2_conv1", 4))  # an equal objective reuses it
    assert dreamer.compiled(("evaluate", objective), lambda: None) is fn


def test_as_dreamer_takes_a_dreamer_a_keras_model_or_a_folder(dreamer, settings, tmp_path):
    assert as_dreamer(dreamer) is dreamer
    assert as_dreamer(dreamer.model, settings).settings == settings
    folder = models.save_model_dir(dreamer.model, tmp_path / "m", settings=settings, card={"classes": CLASSES})
    loaded = as_dreamer(str(folder))
    assert isinstance(loaded, Dreamer) and loaded.info == dreamer.info
    with pytest.raises(SettingsMismatchError, match="settings="):
        as_dreamer(dreamer.model)


def test_settings_mismatch(dreamer, cello, settings):
    other = settings.replace(sample_rate=16_000)
    with pytest.raises(SettingsMismatchError, match="sample_rate"):
        dream(cello[:11025], model=dreamer, settings=other, objective=layer_objective("stage1_conv1"))
    with pytest.raises(SettingsMismatchError, match="mel bands"):
        Dreamer(dreamer.model, settings=settings.replace(n_mels=64))


def test_settings_mismatch_with_saved_model(dreamer, cello, settings, tmp_path):
    folder = models.save_model_dir(dreamer.model, tmp_path / "m", settings=settings, card={"classes": CLASSES})
    with pytest.raises(SettingsMismatchError):
        dream(cello[:11025], model=str(folder), settings=settings.replace(hop_length=256),
              objective=layer_objective("stage1_conv1"))
