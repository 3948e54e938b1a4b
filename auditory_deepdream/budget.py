"""Compute budgets for notebooks and benchmarks: full by default, small under CI.

Notebooks commit the outputs of their full-budget run; CI re-runs them with
``AUDITORY_DEEPDREAM_SMOKE=1`` so every cell runs in seconds. Reading the budget from
one place keeps the two runs the same code with different sizes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = ["Budget", "budget", "is_smoke", "SMOKE_VARIABLE"]

SMOKE_VARIABLE = "AUDITORY_DEEPDREAM_SMOKE"


def is_smoke() -> bool:
    """True when ``AUDITORY_DEEPDREAM_SMOKE`` is set to anything but ``""``/``0``."""
    return os.environ.get(SMOKE_VARIABLE, "") not in ("", "0")


@dataclass(frozen=True)
class Budget:
    """How much work a notebook does.

    Attributes
    ----------
    smoke : bool
        True for the small CI budget.
    dataset_preset : str
        SoundFont dataset preset to render and build (``small`` under CI, ``demo`` at full budget).
    epochs : int
        Training epochs.
    search_trials : int
        Bayesian search trials (including random initial points).
    dream_steps : int
        Gradient-ascent steps for the longest dreams.
    long_seconds : float
        Length of the long pieces in notebook 07.
    griffin_lim_iters : int
        Griffin-Lim iterations.
    """

    smoke: bool
    dataset_preset: str
    epochs: int
    search_trials: int
    dream_steps: int
    long_seconds: float
    griffin_lim_iters: int


def budget() -> Budget:
    """The budget for this run, from ``AUDITORY_DEEPDREAM_SMOKE``."""
    if is_smoke():
        return Budget(smoke=True, dataset_preset="small", epochs=1, search_trials=2, dream_steps=3,
                      long_seconds=8.0, griffin_lim_iters=4)
    return Budget(smoke=False, dataset_preset="demo", epochs=5, search_trials=4, dream_steps=50,
                  long_seconds=60.0, griffin_lim_iters=32)
