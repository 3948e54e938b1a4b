"""Which installed SoundFonts a default build trains on, which it holds out, which it skips, and why.

A machine collects General MIDI SoundFonts from several packages, and many of them are not new
instruments: Debian's ``MuseScore_General_Lite.sf3`` and ``MuseScore_General_Full.sf2`` are
other cuts of the held-out MuseScore_General, ``FluidR3Mono_GM.sf3`` is FluidR3_GM in mono and
csound's ``sf_GMbank.sf2`` is mostly TimGM6mb. Training on a variant of the held-out SoundFont
would make its score a score on heard notes, and a duplicate counts one sample set twice. So a
SoundFont found in the system folders is compared with the others by sample names
(:func:`~auditory_deepdream.dataset.sample_names`): one that shares at least half of its names
with the held-out SoundFont is skipped as a variant of it, and one that shares at least half with
a SoundFont already kept (pip's TimGM6mb and the user's first, then the larger ones) is skipped as
a copy. One with no General MIDI instrument the ontology keeps in bank 0 (a GS supplement of sound
effects) is skipped, since it has nothing to render. A few are skipped by name, with the measurement that put them out
(``_NOT_FOR_TRAINING``). SoundFonts the user names are always kept.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from ..errors import DatasetError
from .sample_headers import presets, sample_names
from .soundfont import gm_programs, pip_soundfont

__all__ = ["FoundSoundFont", "default_soundfonts", "find_soundfonts", "survey_soundfonts"]

_SYSTEM_DIRS = ("/usr/share/sounds/sf2", "/usr/share/sounds/sf3")
# held out of the default training set, in order of preference; the others are its variants
_HELD_OUT_STEMS = ("MuseScore_General", "MuseScore_General_Full", "MuseScore_General_Lite")
_NOT_FOR_TRAINING = {
    "OPL-3_FM_128M": "an emulation of the OPL3 FM chip: training on it as well lowered the note vote on "
                     "a SoundFont left out of training from 0.581 to 0.535 "
                     "(benchmarks/results/source_opl3_left_out_fluidr3.json); pass it with --soundfont "
                     "to train on it anyway",
}
_SHARED_FRACTION = 0.5  # a SoundFont sharing at least this fraction of its sample names is not new


@dataclass(frozen=True)
class FoundSoundFont:
    """One SoundFont found on this machine or named by the user.

    Attributes
    ----------
    path : Path
        The file, under the name it was found by.
    role : {"training", "held out", "skipped"}
        What a default build does with it.
    reason : str
        Why, in a few words ("" for a training SoundFont).
    """

    path: Path
    role: str
    reason: str = ""


@functools.lru_cache(maxsize=64)
def _names(path: Path, size: int, mtime: float) -> frozenset[str] | None:
    try:
        return frozenset(sample_names(path))
    except DatasetError:
        return None  # unreadable headers: compared with nothing, rendering will say what is wrong


@functools.lru_cache(maxsize=64)
def _gm_programs(path: Path, size: int, mtime: float) -> frozenset[int] | None:
    try:
        offered = {program for bank, program, _ in presets(path) if bank == 0}
    except DatasetError:
        return None
    kept = set(gm_programs().query("family != ''").program)
    return frozenset(offered & kept)


def _renders_nothing(path: Path) -> bool:
    """Whether ``path``'s bank 0 offers none of the GM programs the ontology keeps (unreadable: no)."""
    stat = path.stat()
    return _gm_programs(path.resolve(), stat.st_size, stat.st_mtime) == frozenset()


def _sample_set(path: Path) -> frozenset[str] | None:
    stat = path.stat()
    return _names(path.resolve(), stat.st_size, stat.st_mtime)


def _largest_share(path: Path, others: list[Path]) -> tuple[Path, int, int] | None:
    """The SoundFont of ``others`` sharing the most of ``path``'s sample names, when that is at least
    ``_SHARED_FRACTION`` of them: ``(other, shared, of)``."""
    mine = _sample_set(path)
    if not mine:
        return None
    best = max(((other, len(mine & (_sample_set(other) or frozenset()))) for other in others),
               key=lambda pair: pair[1], default=None)
    if best is None or best[1] < _SHARED_FRACTION * len(mine):
        return None
    return best[0], best[1], len(mine)


def survey_soundfonts(extra=()) -> list[FoundSoundFont]:
    """Every SoundFont found (pip's TimGM6mb, the system folders, ``extra``) with what a default build does with it.

    Parameters
    ----------
    extra : iterable of path-like
        User SoundFonts: always kept for training (or held out, when named like MuseScore_General),
        even if they repeat another's samples.

    Returns
    -------
    list of FoundSoundFont
        The training and held-out SoundFonts sorted by name with TimGM6mb last (the order that
        numbers their instruments), then the skipped ones.

    Raises
    ------
    DatasetError
        When a user SoundFont does not exist.
    """
    pip = pip_soundfont()
    kept: dict[Path, Path] = {pip.resolve(): pip}
    users = []
    for user in map(Path, extra):
        if not user.is_file():
            raise DatasetError(f"SoundFont {user} does not exist; pass the path of an .sf2 or .sf3 file.")
        if kept.setdefault(user.resolve(), user) is user:
            users.append(user)
    skipped: list[FoundSoundFont] = []
    system: dict[Path, Path] = {}
    # a file reached through several names (Debian's default-GM.sf2 links) is taken under its own name
    found = [p for folder in _SYSTEM_DIRS if Path(folder).is_dir() for p in Path(folder).glob("*.sf[23]")]
    seen = set(kept)
    for path in sorted(found, key=lambda p: (p.name.startswith("default-"), p.name)):
        if path.resolve() in seen:
            continue
        seen.add(path.resolve())
        if path.resolve().name == pip.name:
            skipped.append(FoundSoundFont(path, "skipped", f"Debian's packaging of {pip.name}, which pip's "
                                                           "pretty_midi ships"))
        elif path.stem in _NOT_FOR_TRAINING:
            skipped.append(FoundSoundFont(path, "skipped", _NOT_FOR_TRAINING[path.stem]))
        elif _renders_nothing(path):
            skipped.append(FoundSoundFont(path, "skipped", "no General MIDI program the ontology keeps in "
                                                           "bank 0 (a GS supplement?); nothing to render"))
        else:
            system[path.resolve()] = path
    candidates = [*users, *system.values()]
    held = next((p for stem in _HELD_OUT_STEMS for p in candidates if p.stem == stem), None)
    if held is not None:
        for path in list(system.values()):
            share = None if path == held else _largest_share(path, [held])
            if share:
                del system[path.resolve()]
                skipped.append(FoundSoundFont(path, "skipped", f"a variant of the held-out {held.name} "
                                                               f"({share[1]} of its {share[2]} sample names)"))
    by_size = sorted((p for p in system.values() if p != held), key=lambda p: -len(_sample_set(p) or ()))
    for path in by_size:
        share = _largest_share(path, list(kept.values()))
        if share:
            skipped.append(FoundSoundFont(path, "skipped", f"a copy of most of {share[0].name} "
                                                           f"({share[1]} of its {share[2]} sample names)"))
        else:
            kept[path.resolve()] = path
    if held is not None:
        kept[held.resolve()] = held
    listed = sorted(kept.values(), key=lambda p: (p.name == "TimGM6mb.sf2", p.name))
    held_out = _held_out(listed)
    return ([FoundSoundFont(p, "held out" if p in held_out else "training",
                            "kept out of the default training set to measure generalisation" if p in held_out
                            else "") for p in listed]
            + sorted(skipped, key=lambda f: f.path.name))


def _held_out(fonts: list[Path]) -> list[Path]:
    held = [p for p in fonts if p.stem in _HELD_OUT_STEMS]
    if not held:
        others = [p for p in fonts if p.name != "TimGM6mb.sf2"]
        held = others[-1:] if len(others) >= 2 else []
    return held


def find_soundfonts(extra=()) -> list[Path]:
    """Available SoundFonts for a default build: pip's TimGM6mb, system SF2/SF3 files and ``extra`` paths.

    Links to a file already listed (``default-GM.sf2``), Debian's packaging of TimGM6mb, variants
    of the held-out MuseScore_General and copies of a kept SoundFont are left out
    (:func:`survey_soundfonts` says why); the list is sorted by name with TimGM6mb last.

    Parameters
    ----------
    extra : iterable of path-like
        User SoundFonts (listed even if they repeat another's samples).

    Returns
    -------
    list of Path
    """
    return [f.path for f in survey_soundfonts(extra) if f.role != "skipped"]


def default_soundfonts(extra=()) -> tuple[list[Path], list[Path]]:
    """Split the available SoundFonts into (training, held-out).

    MuseScore_General is held out when present; otherwise the last of two or more
    non-TimGM6mb SoundFonts is. With TimGM6mb alone nothing is held out here (the caller
    then holds out GM programs instead, see ``gm_programs().heldout_program``).

    Parameters
    ----------
    extra : iterable of path-like
        User SoundFonts, as for :func:`find_soundfonts`.

    Returns
    -------
    training, held_out : list of Path
    """
    fonts = survey_soundfonts(extra)
    return ([f.path for f in fonts if f.role == "training"], [f.path for f in fonts if f.role == "held out"])
