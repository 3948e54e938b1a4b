"""Shared fixtures: real instrument audio from the package's bundled clips."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

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
def short(cello):
    """Half a second of the cello: a tiny input for the dreamer and Griffin-Lim tests."""
    return cello[:11025]


@pytest.fixture(scope="session")
def dreamer(settings):
    """A small untrained conv-blocks dreamer (see ``dreamer_fixtures.tiny_dreamer``)."""
    from dreamer_fixtures import (
        tiny_dreamer,  # TensorFlow loads only for the tests that ask
    )

    return tiny_dreamer(settings)


@pytest.fixture(scope="session")
def notes(settings):
    """The three bundled notes (cello, flute, piano) as a list of waveforms."""
    return [load_audio(example_clip(n), settings=settings) for n in ("cello_C3", "flute_A4", "piano_E4")]


@pytest.fixture(scope="session")
def two_process_cluster(tmp_path_factory):
    """``dask scheduler`` and one ``dask worker`` as separate processes on loopback; yields the address."""
    folder = tmp_path_factory.mktemp("cluster")
    scheduler_file = folder / "scheduler.json"
    bin_dir = Path(sys.executable).parent
    # the worker imports test modules to run their job functions, as a user's workers import the package
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2",
           "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])}
    procs = [subprocess.Popen([str(bin_dir / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0",
                               "--dashboard-address", "127.0.0.1:0", "--scheduler-file", str(scheduler_file)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)]
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(scheduler_file.read_text())["address"]
        procs.append(subprocess.Popen([str(bin_dir / "dask"), "worker", address, "--nthreads", "1",
                                       "--host", "127.0.0.1", "--no-dashboard"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env))
        yield address
    finally:
        for proc in reversed(procs):
            proc.terminate()
            proc.wait(timeout=30)
