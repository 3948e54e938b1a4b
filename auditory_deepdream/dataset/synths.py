"""The synthesizers that render SoundFont notes: tinysoundfont, or FluidSynth (and TiMidity++ for patch sets).

:func:`load_soundfont` loads one SF2/SF3 file into either synthesizer, :func:`select_program`
picks a General MIDI program and :func:`play_note` renders one held note and its release.
:func:`cached_soundfont` keeps one loaded SoundFont per worker process. The renderer is
chosen with :class:`~auditory_deepdream.dataset.RenderConfig`'s ``renderer``;
:mod:`~auditory_deepdream.dataset.soundfont` does the rest of a render (which notes, files,
``examples.json``). A TiMidity++ configuration (``.cfg``, a GUS patch set such as freepats) is
rendered by :mod:`~auditory_deepdream.dataset.timidity` whatever the configured renderer, since
neither SoundFont synthesizer reads it (:func:`renderer_for`).
"""

from __future__ import annotations

import ctypes
import functools

import numpy as np

from ..errors import DatasetError
from .timidity import PatchSet, is_patch_set, play_patch_note, require_timidity

__all__ = ["RENDERERS", "cached_soundfont", "load_soundfont", "play_note", "renderer_for", "require_renderer",
           "select_program"]

RENDERERS = ("tinysoundfont", "fluidsynth")
_FLUIDSYNTH_GAIN = 0.5
_FLUIDSYNTH_BLOCK = 64  # FluidSynth renders, and applies MIDI events, in blocks of this many samples
_FLUIDSYNTH_HINT = ("apt-get install fluidsynth (the libfluidsynth library) and pip install pyfluidsynth "
                    "(or pip install -e '.[fluidsynth]')")


def renderer_for(path, renderer: str) -> str:
    """The renderer that plays ``path``: ``"timidity"`` for a TiMidity++ ``.cfg``, else ``renderer``."""
    return "timidity" if is_patch_set(path) else renderer


def load_soundfont(path, *, sample_rate: int, renderer: str = "tinysoundfont") -> tuple:
    """A synthesizer with one SoundFont loaded.

    Parameters
    ----------
    path : path-like
        An SF2/SF3 file.
    sample_rate : int
        Output sample rate in Hz.
    renderer : {'tinysoundfont', 'fluidsynth', 'timidity'}
        See :class:`RenderConfig`; ``'timidity'`` (a ``.cfg`` patch set) comes from :func:`renderer_for`.

    Returns
    -------
    synth : tinysoundfont.Synth or fluidsynth.Synth or PatchSet
        Renders stereo float32 at ``sample_rate``; FluidSynth's without reverb or chorus.
    sfid : int
        The SoundFont's id in ``synth`` (for ``program_select``).

    Raises
    ------
    DatasetError
        The renderer is not installed (the message says what to install), or the file is
        not a SoundFont it can read.
    """
    if renderer == "timidity":
        if not is_patch_set(path):
            raise DatasetError(f"renderer 'timidity' plays TiMidity++ patch sets (.cfg), and {path} is not one; "
                               f"render SF2/SF3 files with one of {RENDERERS}.")
        return PatchSet(path, sample_rate=sample_rate), 0
    if renderer == "fluidsynth":
        fluidsynth = _import_fluidsynth()
        synth = fluidsynth.Synth(gain=_FLUIDSYNTH_GAIN, samplerate=float(sample_rate), **{
            "synth.reverb.active": 0, "synth.chorus.active": 0,
            "synth.lock-memory": 0})  # no mlock: many workers each holding a large SoundFont would fail it
        sfid = synth.sfload(str(path))
        if sfid == -1:
            synth.delete()
            raise DatasetError(f"Could not load SoundFont {path} with FluidSynth. Is it an SF2/SF3 file?")
        return synth, sfid
    if renderer != "tinysoundfont":
        raise DatasetError(f"renderer must be one of {RENDERERS}, not {renderer!r}.")
    try:  # imported here: it is installed apart (pip --no-deps), so say how when it is missing
        import tinysoundfont
    except ImportError:
        raise DatasetError(
            "SoundFont rendering needs tinysoundfont. Install it without its optional audio "
            "playback dependency: pip install --no-deps tinysoundfont") from None
    synth = tinysoundfont.Synth(samplerate=sample_rate)
    try:
        sfid = synth.sfload(str(path))
    except Exception as exc:  # tinysoundfont raises its own exception types
        raise DatasetError(f"Could not load SoundFont {path}: {exc}. Is it an SF2/SF3 file?") from None
    return synth, sfid


def require_renderer(renderer: str) -> None:
    """Raise :class:`DatasetError`, saying what to install, unless ``renderer`` can run here.

    Checks FluidSynth's library and binding (tinysoundfont is checked when a SoundFont is
    loaded); a render calls this once, before it starts any worker.
    """
    if renderer == "fluidsynth":
        _fluidsynth_write_float()
    elif renderer == "timidity":
        require_timidity()


def _import_fluidsynth():
    try:  # the binding raises ImportError, or OSError from ctypes, when libfluidsynth is missing
        import fluidsynth
    except (ImportError, OSError) as exc:
        raise DatasetError(f"renderer='fluidsynth' needs FluidSynth ({exc}). "
                           f"Install it: {_FLUIDSYNTH_HINT}.") from None
    return fluidsynth


@functools.cache
def _fluidsynth_write_float():
    """``fluid_synth_write_float``, declared with the binding's own helper.

    pyfluidsynth only wraps the 16-bit output, which FluidSynth dithers with a noise
    sequence that runs on across notes: the same note would differ with what came before.
    """
    fluidsynth = _import_fluidsynth()
    write = fluidsynth.cfunc("fluid_synth_write_float", ctypes.c_int,
                             ("synth", ctypes.c_void_p, 1), ("len", ctypes.c_int, 1),
                             ("lout", ctypes.c_void_p, 1), ("loff", ctypes.c_int, 1), ("lincr", ctypes.c_int, 1),
                             ("rout", ctypes.c_void_p, 1), ("roff", ctypes.c_int, 1), ("rincr", ctypes.c_int, 1))
    if write is None:
        raise DatasetError("This libfluidsynth lacks fluid_synth_write_float; "
                           f"install FluidSynth 2: {_FLUIDSYNTH_HINT}.")
    return write


_SYNTHS: dict[tuple, tuple] = {}  # one loaded SoundFont per (worker process, path)


def cached_soundfont(path: str, sample_rate: int, renderer: str = "tinysoundfont") -> tuple:
    key = (path, sample_rate, renderer)
    if key not in _SYNTHS:
        for (_, _, held_renderer), (synth, _) in _SYNTHS.items():
            if held_renderer == "fluidsynth":
                synth.delete()  # FluidSynth's memory is not Python's: free it explicitly
        _SYNTHS.clear()  # hold one SoundFont per worker: they are hundreds of MB decoded
        _SYNTHS[key] = load_soundfont(path, sample_rate=sample_rate, renderer=renderer)
    return _SYNTHS[key]


def select_program(synth, sfid: int, program: int, renderer: str) -> bool:
    """Select GM ``program`` (bank 0) on channel 0; False when the SoundFont lacks it."""
    if renderer == "fluidsynth":
        return synth.program_select(0, sfid, 0, program) == 0
    try:
        synth.program_select(0, sfid, 0, program)
    except Exception:  # tinysoundfont raises when there is no such preset
        return False
    return True


def _play_tinysoundfont(synth, pitch: int, velocity: int, held: int, release: int) -> np.ndarray:
    synth.noteon(0, pitch, velocity)
    on = np.frombuffer(synth.generate(held), dtype=np.float32)
    synth.noteoff(0, pitch)
    off = np.frombuffer(synth.generate(release), dtype=np.float32) if release else on[:0]
    synth.sounds_off(0)  # cut any tail so the next note starts from silence
    synth.generate(2048)  # killed voices fade out fast but not instantly
    return np.concatenate([on, off]).reshape(-1, 2).mean(axis=1)


def _play_fluidsynth_once(synth, pitch: int, velocity: int, held: int, release: int) -> np.ndarray:
    write = _fluidsynth_write_float()
    stereo = np.zeros(2 * (held + release), dtype=np.float32)  # interleaved left, right
    address = stereo.ctypes.data
    synth.noteon(0, pitch, velocity)
    write(synth.synth, held, address, 0, 2, address, 1, 2)
    synth.noteoff(0, pitch)
    if release:
        write(synth.synth, release, address, 2 * held, 2, address, 2 * held + 1, 2)
    synth.all_sounds_off(0)  # cut any tail so the next note starts from silence
    # render on to a block boundary, so that every note starts at the start of a block
    flush = 2048 + (-(held + release)) % _FLUIDSYNTH_BLOCK
    scratch = np.zeros(2 * flush, dtype=np.float32)
    write(synth.synth, flush, scratch.ctypes.data, 0, 2, scratch.ctypes.data, 1, 2)
    return stereo.reshape(-1, 2).mean(axis=1)


def _play_fluidsynth(synth, pitch: int, velocity: int, held: int, release: int) -> np.ndarray:
    # A FluidSynth voice slot keeps state (gain, filter) from the note it last played into
    # the first block of its next note, so a note would differ with what came before it.
    # Playing the note once first leaves every slot it uses as the note itself leaves it.
    _play_fluidsynth_once(synth, pitch, velocity, held, release)
    return _play_fluidsynth_once(synth, pitch, velocity, held, release)


def _play_timidity(patches, pitch: int, velocity: int, held: int, release: int) -> np.ndarray:
    return play_patch_note(patches, pitch=pitch, velocity=velocity, held=held, release=release)


_PLAY = {"tinysoundfont": _play_tinysoundfont, "fluidsynth": _play_fluidsynth, "timidity": _play_timidity}


def play_note(synth, *, renderer: str, pitch: int, velocity: int, held: int, release: int) -> np.ndarray:
    """One note on channel 0: held for ``held`` samples, then ``release`` samples of release.

    Returns
    -------
    np.ndarray [shape=(held + release,), dtype=float32]
        The mono mix (mean of the two channels), not clipped. The synth is left silent, so
        the next note starts from silence.
    """
    return _PLAY[renderer](synth, pitch, velocity, held, release)
