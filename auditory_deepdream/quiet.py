"""Keeping TensorFlow's start-up lines (oneDNN, absl, CPU features) off stderr.

Importing TensorFlow writes half a dozen lines to the process's stderr from C++ (``I0000 ...
oneDNN custom operations are on``, ``WARNING: All log messages before absl::InitializeLog()``, the
CPU-instruction notice), and some runs add ``E0000`` lines. ``TF_CPP_MIN_LOG_LEVEL=3`` silences the
later ones but not those written while TensorFlow loads, before its logging reads the variable;
those are kept off stderr by pointing file descriptor 2 at the null device while ``tensorflow``
is imported. Numerics are untouched: oneDNN stays on.

:func:`quiet_tensorflow` does both, unless the user has set ``TF_CPP_MIN_LOG_LEVEL``
themselves: then nothing changes. ``import auditory_deepdream`` calls it (TensorFlow itself is
imported later, by the modules that need it); ``auditory-deepdream --verbose`` sets the variable
to 0 first, so every line is back.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import os
import sys

__all__ = ["let_tensorflow_speak", "quiet_tensorflow"]

_LEVEL = "TF_CPP_MIN_LOG_LEVEL"


@contextlib.contextmanager
def _stderr_to_null():
    """File descriptor 2 points at the null device inside the block (C++ writes there, not to sys.stderr)."""
    with contextlib.suppress(AttributeError, ValueError, OSError):
        sys.stderr.flush()
    saved = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


class _QuietLoader(importlib.abc.Loader):
    """Executes ``tensorflow``'s ``__init__`` with stderr at the null device, then steps aside."""

    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        # the module's spec keeps the real loader: later imports of its resources ask it, not us
        module.__spec__.loader = module.__loader__ = self.loader
        with _stderr_to_null():
            self.loader.exec_module(module)


class _QuietFinder(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` once, as the other finders would, and wraps its loader."""

    def find_spec(self, name, path, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)  # once: the real finders do the rest
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


def quiet_tensorflow() -> bool:
    """Keep TensorFlow's C++ log lines off stderr, unless the user chose a ``TF_CPP_MIN_LOG_LEVEL``.

    Sets ``TF_CPP_MIN_LOG_LEVEL=3`` and, if TensorFlow is not imported yet, arranges for its
    import to run with stderr at the null device. Calling it again does nothing more.

    Returns
    -------
    bool
        Whether TensorFlow is being quietened (False: the user's own level is kept).
    """
    if os.environ.get(_LEVEL, "3") != "3":
        return False
    os.environ[_LEVEL] = "3"
    if "tensorflow" not in sys.modules and not any(isinstance(f, _QuietFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietFinder())
    return True


def let_tensorflow_speak() -> None:
    """Undo :func:`quiet_tensorflow` (``auditory-deepdream --verbose``): every log line, from the import on.

    Takes effect for a TensorFlow not imported yet.
    """
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _QuietFinder)]
    os.environ[_LEVEL] = "0"
