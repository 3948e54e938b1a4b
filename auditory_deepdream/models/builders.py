"""Model builders: a hyper-parameter dict in, a compiled Keras model out.

Every builder

* takes log-mel dB input of shape ``(n_mels, None, 1)`` (named ``mel_db``): any number
  of frames, so the whole network (convolutional part and head) runs over long audio in
  one pass; the head averages over time before its dense layers;
* scales dB to roughly ``[-1, 1]`` in a first layer named ``input_scaling``, so the
  dreamer ascends in dB, the unit people read on a spectrogram;
* gives its layers stable, readable names (``stage2_conv1``, ``timbre_conv`` ...) that
  :func:`list_layers` and the dreamer use.

Builders (see :data:`BUILDERS`):

``conv_blocks``      the dissertation's builder: four stages of 3x3 conv blocks and max pooling
``vgg_like``         VGG-style stages of two convs, filters doubling, dropout after each conv
``timbre``           first kernels span the whole frequency axis (section 5.3's proposal)
``freq_preserving``  3x3 convs with pooling along time only: frequency is never shrunk

Model directories (saving and loading) are :mod:`.storage`'s.
"""

from __future__ import annotations

from pathlib import Path

import keras
import pandas as pd
from keras import layers

from ..errors import ModelError
from ..settings import AudioSettings
from .ensembles import MeanLogProbability

__all__ = [
    "BN_MOMENTUM",
    "BUILDERS",
    "DEFAULT_HYPERPARAMETERS",
    "build_model",
    "build_conv_blocks",
    "build_vgg_like",
    "build_timbre",
    "build_freq_preserving",
    "MeanOverTime",
    "list_layers",
    "conv_layer_names",
    "dreamed_model",
    "build_inception_on_mel",
]

_DB_OFFSET, _DB_SCALE = 50.0, 50.0  # maps [-100, 0] dB to [-1, 1]
# Keras' default batch-norm momentum (0.99) needs ~500 steps before the moving statistics
# used at inference match the batches'; a short run (a search trial on a small store: ~50
# steps an epoch) then predicts one class for everything in evaluation. 0.9 settles in ~50.
BN_MOMENTUM = 0.9


@keras.saving.register_keras_serializable(package="auditory_deepdream")
class MeanOverTime(layers.Layer):
    """Average over the time axis: ``(batch, freq, time, ch)`` to ``(batch, freq, ch)``."""

    def call(self, x):
        return keras.ops.mean(x, axis=2)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[1], input_shape[3])


def _int(hp: dict, key: str, default: int, low: int = 1) -> int:
    return max(low, int(round(float(hp.get(key, default)))))


def _input(settings: AudioSettings):
    inp = keras.Input(shape=(settings.n_mels, None, 1), name="mel_db")
    x = layers.Rescaling(1.0 / _DB_SCALE, offset=_DB_OFFSET / _DB_SCALE, name="input_scaling")(inp)
    return inp, x


def _head(x, hp: dict, n_classes: int):
    x = MeanOverTime(name="time_mean")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(_int(hp, "dense_units", 128), activation="relu", name="dense")(x)
    x = layers.Dropout(float(hp.get("dropout", 0.25)), name="dense_dropout")(x)
    return layers.Dense(n_classes, activation="softmax", name="family")(x)


def _compile(model: keras.Model, hp: dict) -> keras.Model:
    model.compile(optimizer=keras.optimizers.Adam(float(hp.get("learning_rate", 1e-3))),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def _n_classes(hp: dict) -> int:
    if "n_classes" not in hp:
        raise ModelError("Hyper-parameters need 'n_classes' (the number of instrument families).")
    return _int(hp, "n_classes", 10, low=2)


def build_conv_blocks(hp: dict, *, settings: AudioSettings) -> keras.Model:
    """The dissertation's conv-blocks model.

    Hyper-parameters: ``n_classes``; ``blocks_stage1`` .. ``blocks_stage4`` (3x3 conv
    blocks per stage, filters 32/64/128/256 scaled by ``width``); ``dropout``;
    ``learning_rate``; ``dense_units``. Each stage ends in 2x2 max pooling and dropout.
    """
    inp, x = _input(settings)
    width = float(hp.get("width", 1.0))
    for s, filters in enumerate([32, 64, 128, 256], start=1):
        for b in range(1, _int(hp, f"blocks_stage{s}", 1) + 1):
            x = layers.Conv2D(max(4, int(filters * width)), 3, padding="same", activation="relu",
                              name=f"stage{s}_conv{b}")(x)
            x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"stage{s}_bn{b}")(x)
        x = layers.MaxPooling2D(2, padding="same", name=f"stage{s}_pool")(x)
        x = layers.Dropout(float(hp.get("dropout", 0.25)), name=f"stage{s}_dropout")(x)
    return _compile(keras.Model(inp, _head(x, hp, _n_classes(hp)), name="conv_blocks"), hp)


def build_vgg_like(hp: dict, *, settings: AudioSettings) -> keras.Model:
    """VGG-like: ``n_stages`` stages of two 3x3 convs, filters doubling from ``base_filters``,
    dropout after every conv, 2x2 max pooling after every stage."""
    inp, x = _input(settings)
    filters = _int(hp, "base_filters", 16, low=4)
    for s in range(1, _int(hp, "n_stages", 4) + 1):
        for c in (1, 2):
            x = layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"stage{s}_conv{c}")(x)
            x = layers.Dropout(float(hp.get("conv_dropout", 0.1)), name=f"stage{s}_dropout{c}")(x)
        x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"stage{s}_bn")(x)
        x = layers.MaxPooling2D(2, padding="same", name=f"stage{s}_pool")(x)
        filters *= 2
    return _compile(keras.Model(inp, _head(x, hp, _n_classes(hp)), name="vgg_like"), hp)


def build_timbre(hp: dict, *, settings: AudioSettings) -> keras.Model:
    """Timbre model: the first kernels span every mel band (shape ``(n_mels, time_kernel)``),
    so each first-layer filter is a whole spectral envelope; later layers are 1-D over time.

    Hyper-parameters: ``timbre_filters``, ``time_kernel``, ``n_time_convs``, ``dropout``,
    ``learning_rate``, ``dense_units``.
    """
    inp, x = _input(settings)
    x = layers.Conv2D(_int(hp, "timbre_filters", 64, low=4), (settings.n_mels, _int(hp, "time_kernel", 3)),
                      padding="valid", activation="relu", name="timbre_conv")(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM, name="timbre_bn")(x)
    filters = _int(hp, "timbre_filters", 64, low=4)
    for c in range(1, _int(hp, "n_time_convs", 2) + 1):
        x = layers.Conv2D(filters, (1, 3), padding="same", activation="relu", name=f"time_conv{c}")(x)
        x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"time_bn{c}")(x)
        x = layers.MaxPooling2D((1, 2), padding="same", name=f"time_pool{c}")(x)
        x = layers.Dropout(float(hp.get("dropout", 0.25)), name=f"time_dropout{c}")(x)
    return _compile(keras.Model(inp, _head(x, hp, _n_classes(hp)), name="timbre"), hp)


def build_freq_preserving(hp: dict, *, settings: AudioSettings) -> keras.Model:
    """Frequency-preserving model: 3x3 convs, pooling ``(1, 2)`` along time only, so every
    layer keeps all ``n_mels`` bands; a 1x1 conv narrows channels before the head.

    Hyper-parameters: ``n_stages``, ``base_filters``, ``dropout``, ``learning_rate``,
    ``dense_units``.
    """
    inp, x = _input(settings)
    filters = _int(hp, "base_filters", 16, low=4)
    for s in range(1, _int(hp, "n_stages", 3) + 1):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"stage{s}_conv1")(x)
        x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"stage{s}_bn")(x)
        x = layers.MaxPooling2D((1, 2), padding="same", name=f"stage{s}_time_pool")(x)
        x = layers.Dropout(float(hp.get("dropout", 0.25)), name=f"stage{s}_dropout")(x)
        filters = min(filters * 2, 128)
    x = layers.Conv2D(8, 1, activation="relu", name="channel_mix")(x)
    return _compile(keras.Model(inp, _head(x, hp, _n_classes(hp)), name="freq_preserving"), hp)


BUILDERS = {
    "conv_blocks": build_conv_blocks,
    "vgg_like": build_vgg_like,
    "timbre": build_timbre,
    "freq_preserving": build_freq_preserving,
}

DEFAULT_HYPERPARAMETERS = {
    "conv_blocks": {"blocks_stage1": 1, "blocks_stage2": 1, "blocks_stage3": 1, "blocks_stage4": 1,
                    "width": 1.0, "dropout": 0.25, "learning_rate": 1e-3, "dense_units": 128},
    "vgg_like": {"n_stages": 4, "base_filters": 16, "conv_dropout": 0.1, "dropout": 0.25,
                 "learning_rate": 1e-3, "dense_units": 128},
    "timbre": {"timbre_filters": 64, "time_kernel": 3, "n_time_convs": 2, "dropout": 0.25,
               "learning_rate": 1e-3, "dense_units": 128},
    "freq_preserving": {"n_stages": 3, "base_filters": 16, "dropout": 0.25, "learning_rate": 1e-3,
                        "dense_units": 128},
}


def build_model(builder: str, hp: dict | None = None, *, settings: AudioSettings,
                n_classes: int | None = None, seed: int | None = None) -> keras.Model:
    """Build and compile a model by builder name.

    Parameters
    ----------
    builder : str
        One of :data:`BUILDERS`.
    hp : dict, optional
        Hyper-parameters; missing keys take :data:`DEFAULT_HYPERPARAMETERS`.
    settings : AudioSettings
        Fixes ``n_mels`` (the time axis stays free).
    n_classes : int, optional
        Overrides ``hp["n_classes"]``.
    seed : int, optional
        Seeds Keras weight initialisation.

    Returns
    -------
    model : keras.Model
        Input ``(batch, n_mels, n_frames, 1)`` log-mel dB; output ``(batch, n_classes)``.
    """
    if builder not in BUILDERS:
        raise ModelError(f"Unknown model builder {builder!r}; choose one of {sorted(BUILDERS)}.")
    params = {**DEFAULT_HYPERPARAMETERS[builder], **(hp or {})}
    if n_classes is not None:
        params["n_classes"] = n_classes
    if seed is not None:
        keras.utils.set_random_seed(seed)
    return BUILDERS[builder](params, settings=settings)


def dreamed_model(model: keras.Model) -> keras.Model:
    """The model whose layers a dream reads: ``model``, or the lead (first) member of an averaged
    ensemble (:func:`~auditory_deepdream.models.average_models`), whose own layers are its members."""
    if not any(isinstance(layer, MeanLogProbability) for layer in model.layers):
        return model
    return next(layer for layer in model.layers if isinstance(layer, keras.Model))


def list_layers(model: keras.Model) -> pd.DataFrame:
    """Layers a dream can target: every layer with a 4-D output (feature maps).

    Of an averaged ensemble (:func:`~auditory_deepdream.models.load_model` of an ensemble
    folder), the lead member's layers, which the dreamer's layer and filter objectives read.

    Returns
    -------
    pd.DataFrame
        Columns ``name``, ``type``, ``filters`` (channels), ``bands`` (frequency rows of
        its output for the model's ``n_mels``), ``output_shape``.
    """
    rows = []
    for layer in dreamed_model(model).layers:
        shape = getattr(layer, "output", None)
        shape = None if shape is None else tuple(shape.shape)
        if shape is None or len(shape) != 4 or layer.name in ("mel_db", "input_scaling"):
            continue
        rows.append({"name": layer.name, "type": type(layer).__name__, "filters": int(shape[-1]),
                     "bands": shape[1], "output_shape": shape})
    return pd.DataFrame(rows, columns=["name", "type", "filters", "bands", "output_shape"])


def conv_layer_names(model: keras.Model) -> list[str]:
    """Names of the model's Conv2D layers (an averaged ensemble's: its lead member's), input to output."""
    return [l.name for l in dreamed_model(model).layers if isinstance(l, layers.Conv2D)]


def build_inception_on_mel(settings: AudioSettings, *, weights: str | Path | None = None,
                           seed: int = 0) -> keras.Model:
    """The dissertation's proof of concept (section 4.1): InceptionV3 on a mel spectrogram.

    The log-mel input fills the first colour channel (scaled like an image) and the other
    two are zeros, as in the dissertation. ImageNet weights cannot be downloaded by this
    library: pass the path of a local ``inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5``
    to use them; without it the architecture keeps its random initial weights.

    Parameters
    ----------
    settings : AudioSettings
        Fixes ``n_mels`` (must be at least 75, InceptionV3's smallest input).
    weights : path-like, optional
        Local ImageNet weight file (no top).
    seed : int
        Seeds Keras before building, so the random initial weights are the same every run.

    Returns
    -------
    model : keras.Model
        Input ``(batch, n_mels, n_frames, 1)`` log-mel dB (``n_frames >= 75``); outputs the
        last Inception feature map. Layers ``mixed0`` .. ``mixed10`` can be dreamed with.
    """
    if settings.n_mels < 75:
        raise ModelError(f"InceptionV3 needs at least 75 mel bands; these settings have {settings.n_mels}.")
    if weights is not None and not Path(weights).is_file():
        raise ModelError(f"No ImageNet weight file at {weights}. Download "
                         "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5 elsewhere and "
                         "pass its path, or pass weights=None for random weights.")
    keras.utils.set_random_seed(seed)
    inp = keras.Input(shape=(settings.n_mels, None, 1), name="mel_db")
    # ImageNet Inception expects [-1, 1]; dB [-100, 0] maps there, then zeros in two channels
    x = layers.Rescaling(1.0 / _DB_SCALE, offset=_DB_OFFSET / _DB_SCALE, name="input_scaling")(inp)
    x = layers.Concatenate(name="zero_channels")([x, keras.ops.zeros_like(x), keras.ops.zeros_like(x)])
    # with input_tensor, Keras builds InceptionV3 from our own input, so "mixed3" etc. are
    # layers of the returned model that the dreamer can address by name
    model = keras.applications.InceptionV3(include_top=False, weights=None, input_tensor=x)
    if weights is not None:
        inception_layers = [l for l in model.layers if l.weights]
        reference = keras.applications.InceptionV3(include_top=False, weights=None,
                                                   input_shape=(settings.n_mels, None, 3))
        reference.load_weights(str(weights))
        for layer, ref in zip(inception_layers, [l for l in reference.layers if l.weights]):
            layer.set_weights(ref.get_weights())
    return model
