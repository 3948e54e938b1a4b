"""musicnn in Keras 3: the four pre-trained music taggers of Pons & Serra (2019), loadable by name.

``musicnn`` (ISC licence) ships networks trained on real music: on MagnaTagATune (MTT)
and on the Million Song Dataset (MSD), each predicting 50 tags. This module rebuilds them
as Keras 3 models and reads their TF1 checkpoints from the installed wheel
(:mod:`.musicnn_weights`), so a :class:`~auditory_deepdream.dreamer.Dreamer` can dream with
a network that has heard real music:

=============== ============= ===============================================================
name            checkpoint    network
=============== ============= ===============================================================
``musicnn-mtt`` MTT_musicnn   timbral (7x38, 7x67) and temporal (128/64/32x1) front-end
``musicnn-msd`` MSD_musicnn   filters, dense 1-D mid-end with residuals, max+mean back end
``vgg-mtt``     MTT_vgg       five 3x3 conv layers of 128 filters with max pooling
``vgg-msd``     MSD_vgg
=============== ============= ===============================================================

Like every model of the library, each takes log-mel **dB** ``(96 mels, frames, 1)`` named
``mel_db``, encoded with ``AudioSettings.preset("musicnn")`` (16 kHz, ``n_fft`` 512, hop
256, 96 Slaney mels: librosa's ``melspectrogram`` as musicnn's extractor calls it). The
first layer (``input_scaling``) computes musicnn's input ``log10(1 + 10000 * 10**(dB/10))``
in float32; the encoder's -100 dB floor changes it by under ``log10(1 + 1e-6) < 4.4e-7``.
(musicnn's own extractor casts the mel power to float16 first, which overflows to inf for
power above 6.55, i.e. at ordinary levels; the port never does.)

Outputs are the 50 tag probabilities (``tag_probabilities``, a sigmoid) after the logits
(the linear Dense ``tags``), so a dreamer can climb a tag's logit. The layers keep the
library's ``(batch, bands, frames, channels)`` layout: the front-end, mid-end and VGG maps
are 4-D and addressable by name (``timbral_f74``, ``temporal_s1``, ``midend_conv2``,
``conv3`` ...).

musicnn was trained on 3-s patches (187 frames). The musicnn networks pool over the
whole input, so they take any number of frames. The VGG networks flatten their last two
pooled steps into the dense layer; here that dense layer sees the mean over every two
adjacent steps, which is the original at 130..193 frames and a sliding average beyond
(they need at least 130 frames). :func:`taggram` cuts a clip into patches as musicnn's
extractor does and :func:`tag` averages them.
"""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd
from keras import layers, ops

from ..errors import AudioInputError, ModelError
from ..settings import AudioSettings
from .paths import PRETRAINED

__all__ = ["PRETRAINED", "SETTINGS", "MusicnnInput", "MaxMeanOverTime", "AdjacentStepMean", "build_musicnn",
           "build_vgg", "load_pretrained", "patches", "taggram", "tag"]

SETTINGS = AudioSettings.preset("musicnn")
_BN_EPSILON = 1e-3  # tf.compat.v1.layers.batch_normalization's default


_CACHE: dict[str, keras.Model] = {}


@keras.saving.register_keras_serializable(package="auditory_deepdream")
class MusicnnInput(layers.Layer):
    """Log-mel dB to musicnn's input, ``log10(1 + 10000 * 10**(dB/10))``, in float32."""

    def call(self, mel_db):
        power = ops.power(10.0, ops.cast(mel_db, "float32") / 10.0)
        return ops.log1p(10000.0 * power) / np.log(10.0)  # log1p keeps quiet bands exact


@keras.saving.register_keras_serializable(package="auditory_deepdream")
class MaxMeanOverTime(layers.Layer):
    """musicnn's temporal pooling: ``(batch, 1, frames, c)`` to ``(batch, 2c)``, the max and the
    mean over time of each channel side by side (``max_0, mean_0, max_1, ...``), the order of
    musicnn's flattened ``concat([max, mean], axis=2)``."""

    def call(self, x):
        pooled = ops.stack([ops.max(x, axis=(1, 2)), ops.mean(x, axis=(1, 2))], axis=-1)
        return ops.reshape(pooled, (-1, 2 * x.shape[-1]))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 2 * input_shape[-1])


@keras.saving.register_keras_serializable(package="auditory_deepdream")
class AdjacentStepMean(layers.Layer):
    """``(batch, 1, steps, c)`` to ``(batch, 2c)``: the mean over every two adjacent steps of their
    flattened pair. At two steps (musicnn's 3-s patch) it is VGG's ``Flatten``."""

    def call(self, x):
        return ops.concatenate([ops.mean(x[:, :, :-1], axis=(1, 2)), ops.mean(x[:, :, 1:], axis=(1, 2))], axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 2 * input_shape[-1])


def _input(n_mels: int):
    inp = keras.Input(shape=(n_mels, None, 1), name="mel_db")
    x = MusicnnInput(name="input_scaling")(inp)
    return inp, layers.BatchNormalization(epsilon=_BN_EPSILON, name="input_bn")(x)


def _conv_bn(x, filters: int, kernel, name: str, *, padding: str = "valid"):
    """musicnn's conv unit: convolution with ReLU, then batch norm."""
    x = layers.Conv2D(filters, kernel, padding=padding, activation="relu", name=name)(x)
    return layers.BatchNormalization(epsilon=_BN_EPSILON, name=f"{name}_bn")(x)


def _bands_max(x, name: str):
    """Max over all frequency bands: ``(batch, bands, frames, c)`` to ``(batch, 1, frames, c)``."""
    return layers.MaxPooling2D((x.shape[1], 1), name=name)(x)


def build_musicnn(*, n_mels: int = 96, n_filters_midend: int = 64, n_units_backend: int = 200,
                  n_classes: int = 50, name: str = "musicnn") -> keras.Model:
    """musicnn's architecture (``musicnn/models.py``: ``build_musicnn``) with untrained weights.

    Front end on the batch-normalised input: ``timbral_f74``/``timbral_f77`` (204 filters,
    kernels 38 and 67 bands by 7 frames, time zero-padded by 3) and ``temporal_s1..s3`` (51
    filters, 128/64/32 frames by 1 band, ``same``), each ReLU, batch norm, max over bands,
    concatenated (``frontend``, 561 channels). Mid end: ``midend_conv1..3``, 7-frame convs
    over time of ``n_filters_midend`` filters (ReLU, batch norm ``midend_convN_bn``), the
    second and third added to their input (``midend_res2``, ``midend_res3``); ``midend``
    concatenates the front end and the three.
    Back end: max and mean over time (``backend_pool``), batch norm, dropout 0.5, Dense
    ``backend_dense`` (ReLU), batch norm, dropout 0.5, Dense ``tags`` (logits), sigmoid.

    Returns
    -------
    keras.Model
        Input ``(batch, n_mels, frames, 1)`` log-mel dB, any number of frames; output
        ``(batch, n_classes)`` tag probabilities.
    """
    inp, x = _input(n_mels)
    padded = layers.ZeroPadding2D(((0, 0), (3, 3)), name="timbral_pad")(x)
    front = []
    for label, bands in (("f74", int(0.4 * n_mels)), ("f77", int(0.7 * n_mels))):
        maps = _conv_bn(padded, 204, (bands, 7), f"timbral_{label}")
        front.append(_bands_max(maps, f"timbral_{label}_pool"))
    for i, frames in enumerate((128, 64, 32), start=1):
        maps = _conv_bn(x, 51, (1, frames), f"temporal_s{i}", padding="same")
        front.append(_bands_max(maps, f"temporal_s{i}_pool"))
    front = layers.Concatenate(name="frontend")(front)
    mid = [_conv_bn(front, n_filters_midend, (1, 7), "midend_conv1", padding="same")]  # 7 frames: pads 3 and 3
    for i in (2, 3):
        conv = _conv_bn(mid[-1], n_filters_midend, (1, 7), f"midend_conv{i}", padding="same")
        mid.append(layers.Add(name=f"midend_res{i}")([conv, mid[-1]]))
    x = layers.Concatenate(name="midend")([front, *mid])
    x = MaxMeanOverTime(name="backend_pool")(x)
    x = layers.BatchNormalization(epsilon=_BN_EPSILON, name="backend_pool_bn")(x)
    x = layers.Dropout(0.5, name="backend_pool_dropout")(x)
    x = layers.Dense(n_units_backend, activation="relu", name="backend_dense")(x)
    x = layers.BatchNormalization(epsilon=_BN_EPSILON, name="backend_dense_bn")(x)
    x = layers.Dropout(0.5, name="backend_dense_dropout")(x)
    return _with_tags(inp, x, n_classes, name)


def build_vgg(*, n_mels: int = 96, n_filters: int = 128, n_classes: int = 50, name: str = "vgg") -> keras.Model:
    """musicnn's VGG baseline (``musicnn/models.py``: ``vgg``) with untrained weights.

    Batch-normalised input, then ``conv1..conv5`` (3x3, ``same``, ReLU, each followed by
    batch norm ``convN_bn``, max pooling ``poolN`` and dropout 0.25 except the last): pooling
    ``pool1`` 4 frames by 1 band with stride 2x2 (musicnn's ``[4, 1]`` over (time, freq)),
    ``pool2..4`` 2x2, ``pool5`` 4x4; then :class:`AdjacentStepMean` (``pool5_flatten``),
    dropout 0.5 and the Dense ``tags`` (logits), sigmoid.

    Returns
    -------
    keras.Model
        Input ``(batch, n_mels, frames, 1)`` log-mel dB with at least 130 frames; output
        ``(batch, n_classes)`` tag probabilities.
    """
    inp, x = _input(n_mels)
    pools = {1: ((1, 4), (2, 2)), 2: ((2, 2), (2, 2)), 3: ((2, 2), (2, 2)), 4: ((2, 2), (2, 2)), 5: ((4, 4), (4, 4))}
    for i, (size, strides) in pools.items():
        x = _conv_bn(x, n_filters, (3, 3), f"conv{i}", padding="same")
        x = layers.MaxPooling2D(size, strides=strides, name=f"pool{i}")(x)
        if i < 5:
            x = layers.Dropout(0.25, name=f"pool{i}_dropout")(x)
    x = AdjacentStepMean(name="pool5_flatten")(x)
    x = layers.Dropout(0.5, name="pool5_dropout")(x)
    return _with_tags(inp, x, n_classes, name)


def _with_tags(inp, x, n_classes: int, name: str) -> keras.Model:
    """The output: linear Dense ``tags`` (the logits a dreamer climbs), then the sigmoid."""
    logits = layers.Dense(n_classes, name="tags")(x)
    return keras.Model(inp, layers.Activation("sigmoid", name="tag_probabilities")(logits), name=name)


_BUILDERS = {"musicnn": build_musicnn, "vgg": build_vgg}


def _resolve(name: str) -> str:
    """A :data:`PRETRAINED` name from itself or from musicnn's network name (``"MTT_musicnn"``)."""
    if name in PRETRAINED:
        return name
    by_network = {spec["network"]: key for key, spec in PRETRAINED.items()}
    if name in by_network:
        return by_network[name]
    raise ModelError(f"No musicnn network {name!r}; choose one of {sorted(PRETRAINED)} "
                     f"(or musicnn's names {sorted(by_network)}).")


def _labels(network: str) -> list[str]:
    from musicnn import configuration  # plain lists; the checkpoint lookup has checked it is installed

    return list(configuration.MTT_LABELS if network.startswith("MTT") else configuration.MSD_LABELS)


def load_pretrained(name: str, *, settings: AudioSettings | None = None):
    """One of musicnn's pre-trained networks as a Keras model, built once per process.

    Parameters
    ----------
    name : str
        A key of :data:`PRETRAINED` (``"musicnn-mtt"`` ...) or musicnn's own name
        (``"MTT_musicnn"`` ...).
    settings : AudioSettings, optional
        If given, must equal :data:`SETTINGS` (:class:`SettingsMismatchError`).

    Returns
    -------
    model : keras.Model
        Input ``(batch, 96, frames, 1)`` log-mel dB; output ``(batch, 50)`` tag probabilities.
        The same object on every call.
    settings : AudioSettings
        ``AudioSettings.preset("musicnn")``.
    card : dict
        ``name``, ``kind`` (``"tagger"``: independent sigmoid outputs), ``classes`` (the 50
        tags in output order), ``source``, ``licence``, ``dataset``, ``architecture``.

    Raises
    ------
    ModelError
        An unknown name, ``musicnn`` not installed, or a checkpoint that does not fit.
    """
    from .musicnn_weights import assign_weights, checkpoint_prefix, read_checkpoint

    key = _resolve(name)
    spec = PRETRAINED[key]
    if settings is not None:
        SETTINGS.check_compatible(settings, mine=f"{key} model", theirs="audio settings")
    prefix = checkpoint_prefix(spec["network"])
    if key not in _CACHE:
        model = _BUILDERS[spec["architecture"]](name=key.replace("-", "_"))
        assign_weights(model, read_checkpoint(spec["network"]), architecture=spec["architecture"],
                       network=spec["network"])
        _CACHE[key] = model
    card = {
        "name": key, "kind": "tagger", "classes": _labels(spec["network"]),
        "architecture": spec["architecture"], "dataset": spec["dataset"],
        "source": f"musicnn 0.1.0 by Jordi Pons and Xavier Serra, checkpoint {spec['network']} ({prefix})",
        "licence": "ISC", "url": "https://github.com/jordipons/musicnn",
        "citation": "Pons & Serra (2019), musicnn: pre-trained convolutional neural networks for music "
                    "audio tagging, ISMIR late-breaking/demo",
    }
    return _CACHE[key], SETTINGS, card


def patches(mel_db: np.ndarray, *, input_length: float = 3.0, input_overlap: float | None = None) -> np.ndarray:
    """Cut a log-mel spectrogram into patches as musicnn's extractor does.

    Patches are ``librosa.time_to_frames(input_length) + 1`` frames long (187 for 3 s) and
    start every ``time_to_frames(input_overlap)`` frames (musicnn calls the step
    "overlap"; ``None`` means back to back); a tail shorter than a patch is dropped. A clip
    shorter than one patch, for which musicnn's extractor fails, is repeat-padded to one
    patch as musicnn's training did (its ``pad_short: repeat-pad``).

    Parameters
    ----------
    mel_db : np.ndarray [shape=(n_mels, n_frames)]
    input_length, input_overlap : float
        Seconds.

    Returns
    -------
    patches : np.ndarray [shape=(n_patches, n_mels, patch_frames), dtype=float32]
    """
    mel_db = np.asarray(mel_db, dtype=np.float32)
    length = _time_to_frames(input_length) + 1
    step = length if not input_overlap else _time_to_frames(input_overlap)
    if length < 1 or step < 1:
        raise AudioInputError(f"input_length={input_length} s and input_overlap={input_overlap} s give patches "
                              f"of {length} frames every {step}; both must be at least one frame "
                              f"({SETTINGS.hop_length / SETTINGS.sample_rate * 1000:.0f} ms).")
    if mel_db.shape[-1] < length:
        mel_db = np.take(mel_db, np.arange(length) % mel_db.shape[-1], axis=-1)
    starts = range(0, mel_db.shape[-1] - length + 1, step)
    return np.stack([mel_db[:, s:s + length] for s in starts])


def _time_to_frames(seconds: float) -> int:
    """``librosa.time_to_frames`` at musicnn's rate, FFT size and hop."""
    samples = int(seconds * SETTINGS.sample_rate)
    return (samples - SETTINGS.n_fft // 2) // SETTINGS.hop_length


def taggram(y, *, model: str = "musicnn-mtt", input_length: float = 3.0, input_overlap: float | None = None,
            batch_size: int = 32) -> np.ndarray:
    """Tag probabilities of each patch of a clip, as musicnn's ``extractor`` gives them.

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,)] or path-like
        Mono audio at 16 kHz, or an audio file (loaded, mixed to mono and resampled).
    model : str
        A :data:`PRETRAINED` name or musicnn's name (``"MTT_musicnn"``).
    input_length, input_overlap : float
        Patch length and step in seconds (:func:`patches`); the VGG networks need 3 s.
    batch_size : int
        Patches per forward pass.

    Returns
    -------
    taggram : np.ndarray [shape=(n_patches, 50), dtype=float32]
        Columns in the order of the card's ``classes``.
    """
    from ..audio import check_audio, encode, load_audio

    key = _resolve(model)
    if PRETRAINED[key]["architecture"] == "vgg" and input_length != 3:
        raise ModelError(f"{key} was trained on 3-s patches and its dense layer needs them; "
                         f"pass input_length=3, not {input_length}.")
    net, settings, _ = load_pretrained(key)
    if isinstance(y, np.ndarray):
        y = check_audio(y, name="the clip")
    else:
        y = load_audio(y, settings=settings)
    x = patches(encode(y, settings=settings), input_length=input_length, input_overlap=input_overlap)
    out = [net(x[i:i + batch_size, ..., None], training=False) for i in range(0, len(x), batch_size)]
    return np.concatenate([np.asarray(o) for o in out]).astype(np.float32)


def tag(y, *, model: str = "musicnn-mtt", input_length: float = 3.0, input_overlap: float | None = None) -> pd.Series:
    """Each tag's probability averaged over the clip's patches (:func:`taggram`).

    Returns
    -------
    pd.Series
        Indexed by tag, in the card's order; ``.nlargest(5)`` gives the top five.
    """
    probs = taggram(y, model=model, input_length=input_length, input_overlap=input_overlap)
    _, _, card = load_pretrained(model)
    return pd.Series(probs.mean(axis=0), index=card["classes"], name=_resolve(model))
