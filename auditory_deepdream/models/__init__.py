"""Models: builders, model directories, and ensembles of several models answering as one.

``builders``   a hyper-parameter dict in, a compiled Keras model out; the layers a dream can target
``paths``      where models are: bundled names, model directories, cards (no TensorFlow)
``ensembles``  several models averaged into one, and the folder they are kept in
``storage``    saving and loading model directories (plain or ensemble)
``musicnn``    musicnn's pre-trained music taggers in Keras 3 (``musicnn_weights``: their checkpoints)
``tag_names``  MTT and MSD tags that name the same thing (``data/tag_pairs.csv``; no TensorFlow)

The names below load their submodule on first use, so the TensorFlow-free part
(:mod:`.paths`: bundled names, model folders and cards) imports without Keras, and the
CLI can check its arguments before TensorFlow loads.
"""

from ..lazy import lazy_exports

_EXPORTS = {  # name -> the submodule that defines it
    "BN_MOMENTUM": "builders",
    "BUILDERS": "builders",
    "DEFAULT_HYPERPARAMETERS": "builders",
    "build_model": "builders",
    "build_conv_blocks": "builders",
    "build_vgg_like": "builders",
    "build_timbre": "builders",
    "build_freq_preserving": "builders",
    "build_inception_on_mel": "builders",
    "MeanOverTime": "builders",
    "list_layers": "builders",
    "conv_layer_names": "builders",
    "dreamed_model": "builders",
    "bundled_model_dir": "paths",
    "model_dir": "paths",
    "read_card": "paths",
    "save_model_dir": "storage",
    "load_model": "storage",
    "layer_table": "storage",
    "ENSEMBLE_FILE": "ensembles",
    "LOG_FLOOR": "ensembles",
    "MeanLogProbability": "ensembles",
    "average_models": "ensembles",
    "is_ensemble": "ensembles",
    "member_folders": "ensembles",
    "write_ensemble_file": "ensembles",
    "PRETRAINED": "paths",
    "NAMED_ENSEMBLES": "paths",
    "counterparts": "tag_names",
    "tag_map": "tag_names",
    "describe": "paths",
    "model_names": "paths",
    "load_pretrained": "musicnn",
    "taggram": "musicnn",
    "tag": "musicnn",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
