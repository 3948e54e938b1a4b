"""Packages whose public names load their submodule on first use.

``import auditory_deepdream.models.paths`` runs ``models/__init__`` first; if that
imported every submodule, reading a model's card would load Keras and TensorFlow. A
package built with :func:`lazy_exports` imports nothing until a name is used, so its
light parts stay light (the CLI checks its arguments in a second).
"""

from __future__ import annotations

import importlib

__all__ = ["lazy_exports"]


def lazy_exports(package: str, exports: dict):
    """Module ``__getattr__`` and ``__dir__`` for a package whose names load their submodule on first use.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    exports : dict of str to str
        Public name -> the submodule (relative to ``package``) that defines it.

    Returns
    -------
    (__getattr__, __dir__)
        To assign in the package's ``__init__``.
    """
    def __getattr__(name):
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = importlib.import_module(f".{exports[name]}", package)
        value = getattr(module, name)
        setattr(importlib.import_module(package), name, value)  # later lookups skip this function
        return value

    def __dir__():
        return sorted(set(vars(importlib.import_module(package))) | set(exports))

    return __getattr__, __dir__
