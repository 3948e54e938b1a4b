"""The optional dependencies: importing one, or saying which extra installs it.

A plain ``pip install auditory-deepdream`` dreams and classifies. Training's run logs and the
Bayesian search (``[train]``: Aim, bayesian-optimization) and jobs on a Dask cluster
(``[cluster]``: dask.distributed) are extras; the modules that use them import them through
:func:`require`, inside the functions that need them.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from .errors import MissingExtraError

__all__ = ["require"]


def require(module: str, *, extra: str, needed_for: str) -> ModuleType:
    """Import ``module``, or say which extra installs it.

    Parameters
    ----------
    module : str
        The module's import name (``"aim"``, ``"distributed"``, ``"bayes_opt"``).
    extra : str
        The extra of ``auditory-deepdream`` that installs it (``"train"``, ``"cluster"``).
    needed_for : str
        What needs it, to start the message (``"Training's run log"``).

    Returns
    -------
    ModuleType

    Raises
    ------
    MissingExtraError
        The module is not installed.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(
            f"{needed_for} needs the package {module!r}, which a plain install of auditory-deepdream leaves out. "
            f'Install the extra: pip install "auditory-deepdream[{extra}]" (in a checkout: '
            f'pip install -e ".[{extra}]").') from exc
