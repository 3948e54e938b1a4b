"""Our Keras layers are known to ``keras.models.load_model`` wherever the package is imported.

A model saved by this package names its custom layers by their registered names
(``auditory_deepdream>MeanOverTime``); Keras finds them only once the module defining them
has run. Those modules import TensorFlow, and ``import auditory_deepdream`` (or
``auditory_deepdream.models``) must stay light, so :func:`register_when_keras_loads` waits:
if Keras is already imported it registers now, otherwise it registers right after Keras's
own import finishes. ``import auditory_deepdream; keras.models.load_model(path)`` then works
in any order, as the dissertation's pipeline and other scripts use it.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import warnings

__all__ = ["SERIALIZABLE_MODULES", "register", "register_when_keras_loads"]

#: the modules that define the package's ``register_keras_serializable`` classes
SERIALIZABLE_MODULES = (
    "auditory_deepdream.layers",              # LogMelSpectrogram
    "auditory_deepdream.models.builders",     # MeanOverTime
    "auditory_deepdream.models.ensembles",    # MeanLogProbability
    "auditory_deepdream.models.musicnn",      # musicnn's front-end and pooling layers
)


def register() -> None:
    """Import every module of :data:`SERIALIZABLE_MODULES` (registering its layers with Keras)."""
    for name in SERIALIZABLE_MODULES:
        importlib.import_module(name)


class _RegisterAfter(importlib.abc.Loader):
    """Runs the real loader of ``keras``, then :func:`register`."""

    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        _register_or_retry()

    def __getattr__(self, name):  # resource readers and the like come from the real loader
        return getattr(self._loader, name)


class _KerasWatcher(importlib.abc.MetaPathFinder):
    """Finds ``keras`` with the other finders once, and wraps its loader in :class:`_RegisterAfter`."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "keras":
            return None
        _unwatch()
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return None
        spec.loader = _RegisterAfter(spec.loader)
        return spec


def _initializing() -> bool:
    """Whether a module of this package is part-way through its own import (Keras loaded from inside it)."""
    return any(getattr(getattr(m, "__spec__", None), "_initializing", False)
               for name, m in list(sys.modules.items()) if name.startswith("auditory_deepdream"))


def _register_or_retry() -> None:
    """Register now, or, while one of our modules is still importing (it imported Keras), at the first
    import after it has finished: importing our layer modules now would import it again half-made."""
    if not _initializing():
        try:
            register()
        except Exception as exc:  # Keras itself loaded; only our layers are missing, so say so and go on
            warnings.warn(f"auditory_deepdream could not register its Keras layers ({exc!r}); "
                          "import auditory_deepdream.models.builders before loading a saved model.", stacklevel=3)
        return
    if not any(isinstance(f, _RetryLater) for f in sys.meta_path):
        sys.meta_path.insert(0, _RetryLater())


class _RetryLater(importlib.abc.MetaPathFinder):
    """Registers at the first import that starts once none of our modules is part-way through its own."""

    def find_spec(self, fullname, path=None, target=None):
        if not _initializing():
            sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _RetryLater)]
            _register_or_retry()
        return None


def _unwatch() -> None:
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _KerasWatcher)]


def register_when_keras_loads() -> None:
    """Register our layers now if Keras is loaded, else as soon as it is (idempotent)."""
    keras = sys.modules.get("keras")
    if keras is not None and hasattr(keras, "saving"):
        register()
        return
    if keras is None and not any(isinstance(f, _KerasWatcher) for f in sys.meta_path):
        sys.meta_path.insert(0, _KerasWatcher())
