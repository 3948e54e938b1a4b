"""Auditory DeepDreamer: turn trained audio CNNs into sound effects.

The package is a set of small modules, each named for what it holds:

``settings``  the :class:`AudioSettings` frozen dataclass and its presets
``audio``     load, trim, segment, log-mel encode, Griffin-Lim decode
``layers``    the TensorFlow twin of the mel encoder (a Keras layer)
``dataset``   NSynth / Philharmonia readers, SoundFont rendering, curation, the store
``generator`` the pandas-indexed Keras data generator
``models``    model builders (hyper-parameter dict in, compiled Keras model out)
``search``    training, Bayesian hyper-parameter search, run logs and Aim
``dreamer``   objectives, gradient ascent and sonification
``widgets``   the ipywidgets filter auditioner
``cli``       the ``auditory-deepdream`` command

TensorFlow is imported only by the modules that need it, so ``import
auditory_deepdream`` is quick.
"""

from .errors import (
    AudioInputError,
    AuditoryDeepDreamError,
    DatasetError,
    DreamError,
    ModelError,
    SettingsMismatchError,
)
from .settings import PRESETS, AudioSettings

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
]
