"""Models: builders, model directories, and ensembles of several models answering as one.

``builders``   a hyper-parameter dict in, a compiled Keras model out; the layers a dream can target
``paths``      where models are: bundled names, model directories, cards (no TensorFlow)
``ensembles``  several models averaged into one, and the folder they are kept in
``storage``    saving and loading model directories (plain or ensemble)
"""

from .builders import (
    BN_MOMENTUM,
    BUILDERS,
    DEFAULT_HYPERPARAMETERS,
    MeanOverTime,
    build_conv_blocks,
    build_freq_preserving,
    build_inception_on_mel,
    build_model,
    build_timbre,
    build_vgg_like,
    conv_layer_names,
    dreamed_model,
    list_layers,
)
from .ensembles import (
    ENSEMBLE_FILE,
    LOG_FLOOR,
    MeanLogProbability,
    average_models,
    is_ensemble,
    member_folders,
    write_ensemble_file,
)
from .paths import bundled_model_dir, model_dir, read_card
from .storage import load_model, save_model_dir

__all__ = [
    "BN_MOMENTUM",
    "BUILDERS",
    "DEFAULT_HYPERPARAMETERS",
    "build_model",
    "build_conv_blocks",
    "build_vgg_like",
    "build_timbre",
    "build_freq_preserving",
    "build_inception_on_mel",
    "MeanOverTime",
    "list_layers",
    "conv_layer_names",
    "dreamed_model",
    "bundled_model_dir",
    "model_dir",
    "read_card",
    "save_model_dir",
    "load_model",
    "ENSEMBLE_FILE",
    "LOG_FLOOR",
    "MeanLogProbability",
    "average_models",
    "is_ensemble",
    "member_folders",
    "write_ensemble_file",
]
