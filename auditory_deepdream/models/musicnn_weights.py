"""musicnn's TF1 checkpoints: where the installed wheel keeps them, and which variable is which port weight.

The ``musicnn`` wheel (ISC licence, Pons & Serra) ships one TensorFlow 1 checkpoint per
network in a folder of its package (``MTT_musicnn/``, ``MTT_vgg/``, ``MSD_musicnn/``,
``MSD_vgg/``) whose files have an empty stem (``.index``, ``.data-00000-of-00001``): the
checkpoint prefix is the folder path plus ``/``. The variables are read with a
``CheckpointReader``; no TF1 graph is built and tf_keras is not needed.

Every network variable must land in exactly one port weight and every port weight must
come from the checkpoint; the optimiser's slots (``*/Adam``, ``*/Adam_1``,
``beta1_power``, ``beta2_power``) are training state and are skipped.
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

import numpy as np

from ..errors import ModelError

__all__ = ["INSTALL", "checkpoint_prefix", "read_checkpoint", "assign_weights", "WEIGHT_MAP"]

INSTALL = "pip install --no-deps musicnn"  # its 2019 pins (numpy<1.17, tensorflow 1) would break the environment


def _conv(kernel: np.ndarray) -> np.ndarray:
    """TF1 conv kernel ``(time, freq, in, out)`` to the port's ``(freq, time, in, out)``."""
    return np.transpose(kernel, (1, 0, 2, 3))


def _conv1d(kernel: np.ndarray) -> np.ndarray:
    """musicnn's mid-end kernel ``(time, channels, 1, out)`` (a 1-channel 2-D conv spanning all
    channels) to the port's ``(1, time, channels, out)`` conv over time."""
    return kernel[:, :, 0, :][None]


def _same(value: np.ndarray) -> np.ndarray:
    return value


# Keras weight order of each layer kind, and the checkpoint variable (under the layer's TF1
# scope) each one reads, with the kernel transform for the port's (mels, frames) layout
_CONV = (("kernel", _conv), ("bias", _same))
_CONV1D = (("kernel", _conv1d), ("bias", _same))
_BN = (("gamma", _same), ("beta", _same), ("moving_mean", _same), ("moving_variance", _same))
_DENSE = (("kernel", _same), ("bias", _same))

_MUSICNN = {
    "input_bn": ("batch_normalization", _BN),
    "timbral_f74": ("conv2d", _CONV), "timbral_f74_bn": ("batch_normalization_1", _BN),
    "timbral_f77": ("conv2d_1", _CONV), "timbral_f77_bn": ("batch_normalization_2", _BN),
    "temporal_s1": ("conv2d_2", _CONV), "temporal_s1_bn": ("batch_normalization_3", _BN),
    "temporal_s2": ("conv2d_3", _CONV), "temporal_s2_bn": ("batch_normalization_4", _BN),
    "temporal_s3": ("conv2d_4", _CONV), "temporal_s3_bn": ("batch_normalization_5", _BN),
    "midend_conv1": ("conv2d_5", _CONV1D), "midend_conv1_bn": ("batch_normalization_6", _BN),
    "midend_conv2": ("conv2d_6", _CONV1D), "midend_conv2_bn": ("batch_normalization_7", _BN),
    "midend_conv3": ("conv2d_7", _CONV1D), "midend_conv3_bn": ("batch_normalization_8", _BN),
    "backend_pool_bn": ("batch_normalization_9", _BN),
    "backend_dense": ("dense", _DENSE), "backend_dense_bn": ("batch_normalization_10", _BN),
    "tags": ("dense_1", _DENSE),
}
_VGG = {"input_bn": ("batch_normalization", _BN), "tags": ("dense", _DENSE)}
for _i in range(1, 6):
    _VGG[f"conv{_i}"] = (f"{_i}CNN", _CONV)
    _VGG[f"conv{_i}_bn"] = (f"batch_normalization_{_i}", _BN)

WEIGHT_MAP = {"musicnn": _MUSICNN, "vgg": _VGG}
"""Per architecture: port layer name -> (TF1 variable scope, ((variable, transform), ...))."""


def checkpoint_prefix(network: str) -> str:
    """The checkpoint prefix of one of musicnn's networks in the installed wheel.

    Parameters
    ----------
    network : str
        ``"MTT_musicnn"``, ``"MTT_vgg"``, ``"MSD_musicnn"`` or ``"MSD_vgg"``.

    Returns
    -------
    prefix : str
        ``<site-packages>/musicnn/<network>/`` (the checkpoint files have an empty stem).

    Raises
    ------
    ModelError
        ``musicnn`` is not installed, or its wheel lacks this network's checkpoint.
    """
    spec = find_spec("musicnn")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"The musicnn weights come from the musicnn package, which is not installed. "
                         f"Install it with `{INSTALL}` (without --no-deps its 2019 pins break TensorFlow).")
    folder = Path(list(spec.submodule_search_locations)[0]) / network
    if not (folder / ".index").is_file():
        raise ModelError(f"The installed musicnn package has no {network} checkpoint ({folder}/.index is "
                         f"missing). Reinstall it with `{INSTALL}`.")
    return f"{folder}/"


def read_checkpoint(network: str) -> dict[str, np.ndarray]:
    """The network variables of a musicnn checkpoint, optimiser slots left out.

    Returns
    -------
    variables : dict of str to np.ndarray
        TF1 variable name (``"conv2d/kernel"``) to its value.
    """
    import tensorflow as tf  # only building a musicnn model needs the reader

    reader = tf.compat.v1.train.NewCheckpointReader(checkpoint_prefix(network))
    names = [n for n in reader.get_variable_to_shape_map()
             if not n.endswith(("/Adam", "/Adam_1")) and n not in ("beta1_power", "beta2_power")]
    return {n: reader.get_tensor(n) for n in names}


def assign_weights(model, variables: dict[str, np.ndarray], *, architecture: str, network: str) -> None:
    """Set every weight of a port model from the checkpoint's variables.

    Parameters
    ----------
    model : keras.Model
        A model from :func:`auditory_deepdream.models.musicnn.build_musicnn` or ``build_vgg``.
    variables : dict of str to np.ndarray
        :func:`read_checkpoint`'s output.
    architecture : str
        ``"musicnn"`` or ``"vgg"`` (a key of :data:`WEIGHT_MAP`).
    network : str
        The checkpoint's name, for messages.

    Raises
    ------
    ModelError
        A port layer with weights that the map does not cover, a variable missing or of the
        wrong shape, or a checkpoint variable that no port weight used.
    """
    mapping = WEIGHT_MAP[architecture]
    weighted = {layer.name for layer in model.layers if layer.weights}
    if weighted != set(mapping):
        raise ModelError(f"The {architecture} port and its weight map disagree: layers without a checkpoint "
                         f"variable {sorted(weighted - set(mapping))}, mapped layers missing from the model "
                         f"{sorted(set(mapping) - weighted)}. The port is broken; report it.")
    used = set()
    for layer_name, (scope, parts) in mapping.items():
        layer = model.get_layer(layer_name)
        if len(parts) != len(layer.weights):
            raise ModelError(f"{layer_name} has {len(layer.weights)} weights but the map gives {len(parts)}; "
                             "the port is broken.")
        values = []
        for (var, transform), weight in zip(parts, layer.weights):
            key = f"{scope}/{var}"
            if key not in variables:
                raise ModelError(f"{network}'s checkpoint has no variable {key} for {layer_name}; reinstall "
                                 f"musicnn with `{INSTALL}`.")
            value = transform(variables[key])
            if tuple(value.shape) != tuple(weight.shape):
                raise ModelError(f"{network}'s {key} has shape {variables[key].shape}, which does not fit "
                                 f"{layer_name}'s {weight.name} {tuple(weight.shape)}; the port is broken.")
            values.append(value.astype(np.float32))
            used.add(key)
        layer.set_weights(values)
    unused = sorted(set(variables) - used)
    if unused:
        raise ModelError(f"{network}'s checkpoint variables {unused} went into no port weight; the port "
                         "does not match the checkpoint's architecture.")
