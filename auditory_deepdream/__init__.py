"""Auditory DeepDreamer: turn trained audio CNNs into sound effects.

The package follows the pipeline; each part is named for what it holds:

``settings``   the :class:`AudioSettings` frozen dataclass and its presets
``audio``      load, trim, segment, log-mel encode (librosa) and its TensorFlow twin, Griffin-Lim
``layers``     the model's log-mel input layer (over ``audio.tf_spectral``)
``dataset``    NSynth / Philharmonia readers, SoundFont rendering, curation, the feature store
``generator``  the pandas-indexed Keras data generator
``models``     model builders (hyper-parameter dict in, compiled Keras model out)
``ensembles``  several trained models averaged into one (ensemble folders)
``training``   one training run, scoring, the model card, run logs, Bayesian search, several machines
``dreamer``    objectives, gradient ascent, transforms and sonification
``graph_loop`` compiled loops without AutoGraph (the ascents' and Griffin-Lim's)
``classify``   naming the instrument family of a clip, or its tags with a musicnn tagger
``display``, ``widgets``  spectrogram pictures and plots, and the slider auditioner
``players``    compressed (MP3) audio players with a spectrogram beside, for notebooks
``gallery``    the static HTML gallery of the executed notebooks
``cli``        the ``auditory-deepdream`` command; ``cluster``: Dask clusters

TensorFlow is imported only by the modules that need it, so ``import
auditory_deepdream`` is quick; its start-up lines on stderr are kept quiet (``quiet``) unless
``TF_CPP_MIN_LOG_LEVEL`` is set.
"""

from .errors import (
    AudioInputError,
    AuditoryDeepDreamError,
    ClusterError,
    DatasetError,
    DreamError,
    GalleryError,
    ModelError,
    OutputError,
    SettingsMismatchError,
)
from .keras_objects import register_when_keras_loads
from .quiet import quiet_tensorflow
from .settings import PRESETS, AudioSettings

register_when_keras_loads()  # saved models load through keras.models.load_model after `import auditory_deepdream`
quiet_tensorflow()  # TensorFlow's start-up lines stay off stderr unless TF_CPP_MIN_LOG_LEVEL says otherwise

__version__ = "0.1.0"

__all__ = [
    "AudioSettings",
    "PRESETS",
    "AuditoryDeepDreamError",
    "AudioInputError",
    "SettingsMismatchError",
    "DatasetError",
    "ModelError",
    "DreamError",
    "ClusterError",
    "GalleryError",
    "OutputError",
]
