"""Every model builder builds, trains a step on real audio, and runs on any length in time."""

import keras
import numpy as np
import pytest

from auditory_deepdream import audio
from auditory_deepdream.errors import ModelError
from auditory_deepdream.models import (
    BN_MOMENTUM,
    BUILDERS,
    build_inception_on_mel,
    build_model,
    conv_layer_names,
    list_layers,
)
from auditory_deepdream.settings import AudioSettings

SETTINGS = AudioSettings.preset("default")


@pytest.fixture(scope="module")
def clip_features():
    """Log-mel segments of the three bundled recordings, ``(n, n_mels, frames, 1)``, labels 0/1/2."""
    xs, ys = [], []
    for label, name in enumerate(["cello_C3", "flute_A4", "piano_E4"]):
        y = audio.load_audio(audio.example_clip(name), settings=SETTINGS)
        segs = audio.segment(y, settings=SETTINGS)
        xs.append(audio.encode(segs, settings=SETTINGS))
        ys += [label] * len(segs)
    long_db = audio.encode(audio.load_audio(audio.example_clip("cello_C3"), settings=SETTINGS),
                           settings=SETTINGS)
    return (np.concatenate(xs)[..., None].astype(np.float32),
            keras.utils.to_categorical(ys, 3), long_db[None, ..., None].astype(np.float32))


@pytest.mark.parametrize("builder", sorted(BUILDERS))
def test_builder_builds_trains_one_step_and_takes_any_length(builder, clip_features):
    x, y, long_db = clip_features
    model = build_model(builder, settings=SETTINGS, n_classes=3, seed=0)
    assert model.input_shape == (None, SETTINGS.n_mels, None, 1)
    assert model.output_shape == (None, 3)
    assert model.layers[1].name == "input_scaling"
    before = [w.copy() for w in model.get_weights()]
    loss = model.train_on_batch(x, y)
    loss = loss[0] if isinstance(loss, (list, tuple)) else loss
    assert np.isfinite(loss)
    assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))

    # the conv part (everything before the time average) takes clips of any length
    conv_part = keras.Model(model.input, model.get_layer("time_mean").input)
    short = conv_part.predict(x[:1], verbose=0)
    long = conv_part.predict(long_db, verbose=0)
    assert long_db.shape[2] > x.shape[2]
    assert long.shape[2] > short.shape[2]
    assert long.shape[1] == short.shape[1] and long.shape[3] == short.shape[3]
    probs = model.predict(long_db, verbose=0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)

    names = conv_layer_names(model)
    table = list_layers(model).set_index("name")
    assert len(names) >= 2 and set(names) <= set(table.index)
    for name in names:  # the table's filter counts and bands are those of each layer's real output
        out = keras.Model(model.input, model.get_layer(name).output).predict(x[:1], verbose=0)
        assert table.loc[name, "filters"] == model.get_layer(name).filters == out.shape[-1]
        assert table.loc[name, "bands"] == out.shape[1]


def test_builders_follow_their_design():
    timbre = build_model("timbre", settings=SETTINGS, n_classes=3)
    kernel = timbre.get_layer("timbre_conv").kernel.shape
    assert kernel[0] == SETTINGS.n_mels  # first kernels span the whole frequency axis
    freq = build_model("freq_preserving", settings=SETTINGS, n_classes=3)
    bands = list_layers(freq)["bands"]
    assert set(bands) == {SETTINGS.n_mels}  # frequency is never pooled
    deeper = build_model("conv_blocks", {"blocks_stage1": 3}, settings=SETTINGS, n_classes=3)
    assert {"stage1_conv1", "stage1_conv2", "stage1_conv3"} <= set(conv_layer_names(deeper))


@pytest.mark.parametrize("builder", ["conv_blocks", "vgg_like", "timbre", "freq_preserving"])
def test_batch_norm_statistics_settle_within_a_short_run(builder):
    # evaluation uses the moving statistics: with Keras' default momentum (0.99) a 50-step
    # search trial still evaluates with ~60 % of the initial (0, 1) statistics and predicts
    # one class for everything
    model = build_model(builder, settings=SETTINGS, n_classes=3)
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert norms and all(layer.momentum == BN_MOMENTUM for layer in norms)
    assert BN_MOMENTUM ** 50 < 0.01


def test_same_seed_same_weights_and_unknown_builder_refused():
    a = build_model("vgg_like", settings=SETTINGS, n_classes=3, seed=7).get_weights()
    b = build_model("vgg_like", settings=SETTINGS, n_classes=3, seed=7).get_weights()
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    with pytest.raises(ModelError, match="Unknown model builder"):
        build_model("resnet", settings=SETTINGS, n_classes=3)


def test_inception_on_mel_is_seeded_dreamable_and_refuses_bad_requests(tmp_path):
    a = build_inception_on_mel(SETTINGS, seed=3)
    b = build_inception_on_mel(SETTINGS, seed=3)
    c = build_inception_on_mel(SETTINGS, seed=4)
    wa, wb, wc = (m.get_weights() for m in (a, b, c))  # layer names are numbered per build; order is not
    assert all(np.array_equal(x, y) for x, y in zip(wa, wb))  # notebook 00 runs the same every time
    assert not np.array_equal(wa[0], wc[0])
    assert "mixed3" in {layer.name for layer in a.layers}
    with pytest.raises(ModelError, match="at least 75 mel bands"):
        build_inception_on_mel(AudioSettings(n_mels=64))
    with pytest.raises(ModelError, match="No ImageNet weight file"):
        build_inception_on_mel(SETTINGS, weights=tmp_path / "missing.h5")
