"""Shared fixtures: real instrument audio from the package's bundled clips."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest

from auditory_deepdream.audio import example_clip, load_audio
from auditory_deepdream.settings import AudioSettings


@pytest.fixture(scope="session")
def settings():
    return AudioSettings()


@pytest.fixture(scope="session")
def cello(settings):
    """A real cello note (bundled FluidR3 render), mono float32 at 22,050 Hz."""
    return load_audio(example_clip("cello_C3"), settings=settings)


@pytest.fixture(scope="session")
def notes(settings):
    """The three bundled notes (cello, flute, piano) as a list of waveforms."""
    return [load_audio(example_clip(n), settings=settings) for n in ("cello_C3", "flute_A4", "piano_E4")]
