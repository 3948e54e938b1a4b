"""GUS patch sets, rendered note by note by TiMidity++: another sample set than any SoundFont.

Debian's ``freepats`` is a General MIDI set of GUS patches (``.pat``), recorded instruments that
no SoundFont here holds, played by TiMidity++ through a configuration file
(``/etc/timidity/freepats.cfg``). A render names that ``.cfg`` where it would name a SoundFont
(``build-dataset --soundfont /etc/timidity/freepats.cfg``); :class:`PatchSet` stands in for a
loaded SoundFont and :func:`play_patch_note` renders one held note and its release by writing a
one-note MIDI file and running ``timidity`` on it, dry (no reverb, chorus or delay).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from ..errors import DatasetError

__all__ = ["PatchSet", "is_patch_set", "play_patch_note", "require_timidity"]

_HINT = "apt-get install timidity freepats"
_OPTIONS = ("-Ow", "--output-mono", "--output-24bit", "--preserve-silence",
            "-EFreverb=d", "-EFchorus=d", "-EFdelay=d")


def is_patch_set(path) -> bool:
    """Whether ``path`` is a TiMidity++ configuration (``.cfg``) rather than an SF2/SF3 file."""
    return Path(path).suffix.lower() == ".cfg"


def require_timidity() -> str:
    """The ``timidity`` program's path; :class:`DatasetError` saying what to install when it is missing."""
    program = shutil.which("timidity")
    if program is None:
        raise DatasetError(f"A TiMidity++ patch set (.cfg) renders with the timidity program; install it: {_HINT}.")
    return program


def _bank0_programs(path: Path, seen: set) -> dict[int, str]:
    """``{program: patch}`` of bank 0 in the configuration ``path`` and the files it ``source``\\ s."""
    if path in seen:
        return {}
    seen.add(path)
    programs: dict[int, str] = {}
    section = ("bank", 0)  # TiMidity++ starts in tone bank 0
    for line in path.read_text(errors="replace").splitlines():
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        if words[0] in ("bank", "drumset") and len(words) > 1 and words[1].isdigit():
            section = (words[0], int(words[1]))
        elif words[0] == "source" and len(words) > 1:
            included = Path(words[1]) if Path(words[1]).is_absolute() else path.parent / words[1]
            if included.is_file():
                programs.update(_bank0_programs(included, seen))
        elif words[0].isdigit() and len(words) > 1 and section == ("bank", 0):
            programs[int(words[0])] = words[1]
    return programs


class PatchSet:
    """A TiMidity++ configuration in place of a loaded SoundFont.

    Parameters
    ----------
    path : path-like
        The ``.cfg`` file (e.g. ``/etc/timidity/freepats.cfg``).
    sample_rate : int
        Output sample rate in Hz.

    Attributes
    ----------
    programs : dict of int to str
        The patch file of each General MIDI program in bank 0.
    program : int or None
        The program :meth:`program_select` chose.

    Raises
    ------
    DatasetError
        ``timidity`` is not installed, the file is missing, or it names no bank-0 instrument.
    """

    def __init__(self, path, *, sample_rate: int):
        self.timidity = require_timidity()
        self.path = Path(path)
        if not self.path.is_file():
            raise DatasetError(f"Patch set {self.path} does not exist; pass the path of a TiMidity++ .cfg file.")
        self.sample_rate = int(sample_rate)
        self.programs = _bank0_programs(self.path.resolve(), set())
        if not self.programs:
            raise DatasetError(f"{self.path} names no instrument in bank 0; is it a TiMidity++ configuration "
                               "of a General MIDI patch set?")
        self.program: int | None = None

    def program_select(self, channel: int, sfid: int, bank: int, program: int) -> None:
        """Choose ``program`` of ``bank`` (the SoundFont synths' signature); ValueError when it is missing."""
        if bank != 0 or program not in self.programs:
            raise ValueError(f"{self.path.name} has no program {program} in bank {bank}")
        self.program = program

    def sfpreset_name(self, sfid: int, bank: int, program: int) -> str:
        """The patch's file stem, as a SoundFont's preset name (``073_Flute``)."""
        return Path(self.programs.get(program, "")).stem if bank == 0 else ""


def play_patch_note(patches: PatchSet, *, pitch: int, velocity: int, held: int, release: int) -> np.ndarray:
    """One note of the selected program: held for ``held`` samples, then ``release`` samples of release.

    Returns
    -------
    np.ndarray [shape=(held + release,), dtype=float32]
        TiMidity++'s mono output, cut or zero-padded to the length asked for.

    Raises
    ------
    DatasetError
        No program was selected, or ``timidity`` failed (its message is passed on).
    """
    if patches.program is None:
        raise DatasetError("Select a program before playing a note (program_select).")
    import pretty_midi  # here: importing it loads (and, under CI=true, announces) FluidSynth

    midi = pretty_midi.PrettyMIDI(resolution=960, initial_tempo=120.0)  # a tick is 0.52 ms
    instrument = pretty_midi.Instrument(program=patches.program)
    instrument.notes.append(pretty_midi.Note(velocity=int(velocity), pitch=int(pitch), start=0.0,
                                             end=held / patches.sample_rate))
    midi.instruments.append(instrument)
    with tempfile.TemporaryDirectory(prefix="timidity-") as folder:
        note, wav = Path(folder) / "note.mid", Path(folder) / "note.wav"
        midi.write(str(note))
        done = subprocess.run([patches.timidity, "-c", str(patches.path), "-s", str(patches.sample_rate),
                               *_OPTIONS, "-o", str(wav), str(note)], capture_output=True, text=True)
        if done.returncode != 0 or not wav.is_file():
            raise DatasetError(f"timidity failed on {patches.path.name} program {patches.program} pitch {pitch}: "
                               f"{(done.stderr or done.stdout).strip()[-300:]}")
        y, rate = sf.read(wav, dtype="float32", always_2d=True)
    if rate != patches.sample_rate:
        raise DatasetError(f"timidity wrote {rate} Hz instead of {patches.sample_rate} Hz.")
    y = y.mean(axis=1)[:held + release]
    return np.pad(y, (0, held + release - len(y)))
