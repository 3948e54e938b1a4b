"""Readers: source folders as a *notes table*, one row per source recording.

* :func:`read_nsynth` reads the NSynth release layout (``nsynth-{train,valid,test}/
  examples.json`` + ``audio/<note_str>.wav``); SoundFont renders use the same layout;
* :func:`read_philharmonia` reads the Philharmonia sample library (one folder per
  instrument, ``cello_A2_1_forte_arco-normal.mp3``);
* :func:`read_samples` reads a folder of one instrument's notes named by pitch
  (``A0v10.ogg``, ``C#4.wav``, ``Ds4.mp3``: Salamander Grand Piano, tonejs-instruments and
  many free sample sets), whose family the user names;
* :func:`read_sources` reads a list of ``(kind, folder)`` pairs into one table;
* :func:`read_durations` gives every note's length from its file header.
"""

from __future__ import annotations

import json
import logging
import re
from importlib import resources
from pathlib import Path

import librosa
import numpy as np
import pandas as pd
import soundfile as sf

from ..audio import AUDIO_SUFFIXES
from ..errors import DatasetError

__all__ = [
    "NOTE_COLUMNS",
    "parse_philharmonia_name",
    "parse_sample_name",
    "read_durations",
    "read_nsynth",
    "read_philharmonia",
    "read_samples",
    "read_sources",
    "sample_family",
    "sample_instrument",
]

log = logging.getLogger(__name__)

NOTE_COLUMNS = ("note_id", "source", "source_root", "source_file", "label", "instrument_source",
                "instrument", "pitch", "velocity")
_NSYNTH_FIELDS = ("note_str", "pitch", "velocity", "instrument_str", "instrument_family_str",
                  "instrument_source_str")
# Philharmonia dynamics as MIDI velocities (the library has no velocities of its own)
_DYNAMIC_VELOCITY = {"pianissimo": 25, "piano": 40, "mezzo-piano": 55, "mezzo-forte": 75,
                     "forte": 100, "fortissimo": 120}
_SAMPLE_NAME = re.compile(r"^(?P<letter>[A-Ga-g])(?P<accidental>#|s|b)?(?P<octave>-?\d)(?:v(?P<layer>\d+))?$")
_PHIL_NAME = re.compile(r"^(?P<instrument>[a-z][a-z-]*)_(?P<note>[A-G]s?\d)_(?P<duration>[^_]+)_"
                        r"(?P<dynamic>[^_]+)_(?P<articulation>[^_]+)$")


def _examples_files(root: Path) -> list[Path]:
    if (root / "examples.json").is_file():
        return [root / "examples.json"]
    return sorted(root.glob("nsynth-*/examples.json"))


def read_nsynth(root, *, source: str = "nsynth") -> pd.DataFrame:
    """Read an NSynth release (or one split folder, or a SoundFont render) as a notes table.

    Parameters
    ----------
    root : path-like
        A folder holding ``nsynth-train/``, ``nsynth-valid/``, ``nsynth-test/`` (each with
        ``examples.json`` and ``audio/``), or one such split folder.
    source : str
        Value of the ``source`` column (``'soundfont'`` for renders).

    Returns
    -------
    notes : pd.DataFrame
        Columns :data:`NOTE_COLUMNS` plus ``nsynth_split`` (the release's own split folder).
        Notes whose wav file is missing are skipped with a warning.

    Raises
    ------
    DatasetError
        No ``examples.json`` found, unreadable JSON, or entries missing NSynth fields.
    """
    root = Path(root)
    files = _examples_files(root)
    if not files:
        raise DatasetError(
            f"No examples.json under {root}. Point at the folder holding nsynth-train/, "
            "nsynth-valid/ and nsynth-test/ (or at one of them), as unpacked from the release.")
    rows = []
    for file in files:
        try:
            examples = json.loads(file.read_text())
        except (OSError, ValueError) as exc:
            raise DatasetError(f"Could not read {file} as JSON ({exc}); re-extract the archive.") from None
        if not isinstance(examples, dict):
            raise DatasetError(f"{file} should map note_str to a dict of fields, as in NSynth.")
        split = file.parent.name.removeprefix("nsynth-") if file.parent != root else ""
        missing_audio = 0
        for key, ex in examples.items():
            absent = [f for f in _NSYNTH_FIELDS if f not in ex]
            if absent:
                raise DatasetError(f"{file}: entry {key!r} lacks NSynth fields {absent}.")
            rel = (file.parent / "audio" / f"{ex['note_str']}.wav").relative_to(root)
            if not (root / rel).is_file():
                missing_audio += 1
                continue
            rows.append({
                "note_id": f"{source}/{ex['note_str']}",
                "source": source,
                "source_root": str(root),
                "source_file": str(rel),
                "label": ex["instrument_family_str"],
                "instrument_source": ex["instrument_source_str"],
                "instrument": ex["instrument_str"],
                "pitch": int(ex["pitch"]),
                "velocity": int(ex["velocity"]),
                "nsynth_split": split,
            })
        if missing_audio:
            log.warning("%s: %d notes have no wav in audio/; skipped", file, missing_audio)
    if not rows:
        raise DatasetError(f"{root}: examples.json lists no notes with audio files.")
    return pd.DataFrame(rows)


def parse_philharmonia_name(name: str) -> dict:
    """Parse a Philharmonia file name such as ``cello_A2_1_forte_arco-normal.mp3``.

    Returns
    -------
    fields : dict
        ``instrument`` (``'cello'``), ``note`` (``'A2'``), ``pitch`` (MIDI 45),
        ``duration`` (``'1'``), ``dynamic`` (``'forte'``), ``articulation``
        (``'arco-normal'``), ``velocity`` (from the dynamic).

    Raises
    ------
    DatasetError
        The name does not follow the library's pattern.
    """
    match = _PHIL_NAME.match(Path(name).stem)
    if not match:
        raise DatasetError(
            f"{name!r} is not a Philharmonia sample name (instrument_note_duration_dynamic_"
            "articulation, e.g. cello_A2_1_forte_arco-normal.mp3).")
    fields = match.groupdict()
    fields["pitch"] = int(librosa.note_to_midi(fields["note"].replace("s", "#")))
    fields["velocity"] = _DYNAMIC_VELOCITY.get(fields["dynamic"], 75)
    return fields


def read_philharmonia(root) -> pd.DataFrame:
    """Read a Philharmonia sample-library tree (one folder per instrument) as a notes table.

    Files whose names do not parse and empty instrument folders are skipped with a warning.

    Returns
    -------
    notes : pd.DataFrame
        Columns :data:`NOTE_COLUMNS` plus ``duration``, ``dynamic``, ``articulation``.

    Raises
    ------
    DatasetError
        ``root`` is missing or holds no audio files at all.
    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"Philharmonia folder {root} does not exist.")
    rows = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES)
        if not files:
            log.warning("Philharmonia folder %s holds no audio; skipped", folder)
            continue
        for path in files:
            try:
                f = parse_philharmonia_name(path.name)
            except DatasetError as exc:
                log.warning("%s; skipped", exc)
                continue
            rows.append({
                "note_id": f"philharmonia/{path.stem}",
                "source": "philharmonia",
                "source_root": str(root),
                "source_file": str(path.relative_to(root)),
                "label": f["instrument"],
                "instrument_source": "acoustic",
                "instrument": f["instrument"],
                "pitch": f["pitch"],
                "velocity": f["velocity"],
                "duration": f["duration"],
                "dynamic": f["dynamic"],
                "articulation": f["articulation"],
            })
    if not rows:
        raise DatasetError(
            f"No Philharmonia samples under {root}. Expected one folder per instrument holding "
            "files like cello/cello_A2_1_forte_arco-normal.mp3.")
    return pd.DataFrame(rows)


def parse_sample_name(name: str) -> dict:
    """Parse a sample named by its pitch: ``A0v10.ogg``, ``C#4.wav``, ``Ds4.mp3``, ``Bb3.flac``.

    ``#`` or ``s`` is a sharp, ``b`` a flat; an optional ``v<k>`` is the sample set's own
    velocity layer (Salamander Grand Piano numbers its 16 layers 1-16).

    Returns
    -------
    fields : dict
        ``note`` (``'A0'``), ``pitch`` (MIDI 21) and ``layer`` (int, or None).

    Raises
    ------
    DatasetError
        The name is not a pitch name.
    """
    match = _SAMPLE_NAME.match(Path(name).stem)
    if not match:
        raise DatasetError(f"{name!r} is not named by its pitch (e.g. A0v10.ogg, C#4.wav, Ds4.mp3).")
    accidental = {"s": "#", None: ""}.get(match["accidental"], match["accidental"])
    note = f"{match['letter'].upper()}{accidental}{match['octave']}"
    return {"note": note, "pitch": int(librosa.note_to_midi(note)),
            "layer": None if match["layer"] is None else int(match["layer"])}


def read_samples(root, *, label: str, instrument: str | None = None, velocity: int = 100,
                 instrument_source: str = "acoustic") -> pd.DataFrame:
    """Read a folder of one instrument's notes, each file named by its pitch, as a notes table.

    Many free sample sets come this way (Salamander Grand Piano: ``audio/A0v10.ogg``;
    tonejs-instruments: ``cello/Ds4.mp3``). The folder does not say which family the
    instrument is, so the caller does: ``label`` is looked up in the ontology under the
    source ``samples``, where every family name is a label. Files whose names are not
    pitches (release or pedal noises) are skipped with a warning.

    Parameters
    ----------
    root : path-like
        The folder (searched recursively).
    label : str
        The ontology label, a family name such as ``'piano'``.
    instrument : str, optional
        Instrument id for every note (default: ``samples_<folder name>``); it also makes
        the note ids, so two folders need two ids.
    velocity : int
        MIDI velocity recorded for every note (the files do not carry one).
    instrument_source : str
        ``'acoustic'`` (recordings), ``'electronic'`` or ``'synthetic'``.

    Returns
    -------
    notes : pd.DataFrame
        Columns :data:`NOTE_COLUMNS` plus ``layer``.

    Raises
    ------
    DatasetError
        ``root`` is missing, or holds no file named by a pitch.
    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"Sample folder {root} does not exist.")
    instrument = instrument or sample_instrument(root)
    rows = []
    for path in sorted(p for p in root.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES):
        try:
            f = parse_sample_name(path.name)
        except DatasetError as exc:
            log.warning("%s; skipped", exc)
            continue
        rel = path.relative_to(root)
        rows.append({
            "note_id": f"samples/{instrument}/{rel.with_suffix('').as_posix()}",
            "source": "samples",
            "source_root": str(root),
            "source_file": str(rel),
            "label": label,
            "instrument_source": instrument_source,
            "instrument": instrument,
            "pitch": f["pitch"],
            "velocity": int(velocity),
            "layer": f["layer"],
        })
    if not rows:
        raise DatasetError(f"No samples named by pitch under {root}. Expected files such as A0v10.ogg, "
                           "C#4.wav or Ds4.mp3.")
    return pd.DataFrame(rows)


def sample_instrument(root) -> str:
    """The instrument id :func:`read_samples` gives a folder's notes by default: ``samples_<folder name>``."""
    return f"samples_{Path(root).name}"


def sample_instruments() -> pd.DataFrame:
    """The table of instrument folder names and their families: ``instrument, family, note``.

    :func:`sample_folders` reads it to name the family of a folder called ``cello`` or
    ``guitar-nylon`` (tonejs-instruments' folder names, among others). An empty family
    means the instrument is left out, like the ontology's mallets. Bundled as
    ``auditory_deepdream/data/sample_instruments.csv``.
    """
    path = resources.files("auditory_deepdream") / "data" / "sample_instruments.csv"
    with resources.as_file(path) as csv:
        return pd.read_csv(csv, dtype=str, keep_default_na=False)


def _instrument_key(name: str) -> str:
    return re.sub(r"[\s_]+", "-", name.strip().lower())


def sample_folders(root) -> list[tuple[str, Path]]:
    """``(family, folder)`` pairs for a sample folder named by its instrument, or a folder of them.

    ``root`` named like an instrument of :func:`sample_instruments` (``cello``) is one pair;
    otherwise each of its sub-folders must be (``tonejs/cello``, ``tonejs/flute``, ...), in
    name order. Sub-folders of instruments the table leaves out (``xylophone``) are skipped
    with a warning.

    Raises
    ------
    DatasetError
        ``root`` is missing, is named by a left-out instrument, holds only left-out
        instruments, or it or a sub-folder is named by no instrument of the table (give
        ``FAMILY=DIR`` instead).
    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"Sample folder {root} does not exist.")
    table = sample_instruments().set_index("instrument")["family"]
    own = _instrument_key(root.name)
    if own in table.index:
        if not table[own]:
            raise DatasetError(f"Sample folder {root}: {root.name} is left out of every family "
                               "(sample_instruments.csv); give FAMILY=DIR to use it anyway.")
        return [(table[own], root)]
    subfolders = sorted(p for p in root.iterdir() if p.is_dir())
    unknown = [p.name for p in subfolders if _instrument_key(p.name) not in table.index]
    if not subfolders or unknown:
        names = f" (unknown: {', '.join(unknown)})" if unknown else ""
        raise DatasetError(f"Sample folder {root} needs its family: FAMILY=DIR, e.g. piano=salamander/audio, "
                           f"or folders named by instrument as in sample_instruments.csv{names}.")
    pairs = []
    for folder in subfolders:
        family = table[_instrument_key(folder.name)]
        if family:
            pairs.append((family, folder))
        else:
            log.warning("Sample folder %s: %s is left out of every family; skipped", folder, folder.name)
    if not pairs:
        raise DatasetError(f"Sample folder {root} holds only instruments left out of every family "
                           "(sample_instruments.csv); give FAMILY=DIR to use one anyway.")
    return pairs


def sample_family(kind: str) -> str | None:
    """The family of a ``'samples:<family>'`` source kind (:func:`read_sources`); None for other kinds."""
    prefix, sep, family = str(kind).partition(":")
    return family if sep and prefix == "samples" else None


def read_sources(sources) -> pd.DataFrame:
    """Read several source folders into one notes table.

    Parameters
    ----------
    sources : sequence of (str, path-like)
        ``(kind, folder)`` pairs, ``kind`` one of ``'nsynth'``, ``'philharmonia'``,
        ``'soundfont'`` (a folder written by :func:`~auditory_deepdream.dataset.render_soundfont`)
        or ``'samples:<label>'`` (:func:`read_samples` with that label, e.g. ``'samples:piano'``).

    Returns
    -------
    notes : pd.DataFrame
        The readers' tables, concatenated in the order given.

    Raises
    ------
    DatasetError
        No sources, an unknown kind, or a note id found in two folders.
    """
    readers = {"nsynth": read_nsynth, "philharmonia": read_philharmonia,
               "soundfont": lambda path: read_nsynth(path, source="soundfont")}
    frames = []
    for kind, path in sources:
        family = sample_family(kind)
        if family is not None:
            frames.append(read_samples(path, label=family))
            continue
        if kind not in readers:
            raise DatasetError(f"Unknown source kind {kind!r}; use one of {sorted(readers)} or "
                               "'samples:<family>'.")
        frames.append(readers[kind](path))
    if not frames:
        raise DatasetError("No sources given: pass nsynth=, philharmonia= or soundfont= folders.")
    notes = pd.concat(frames, ignore_index=True)
    dup = notes["note_id"].duplicated()
    if dup.any():
        raise DatasetError(f"Note ids occur in two sources: {notes.loc[dup, 'note_id'].head(5).tolist()}. "
                           "Give each folder once; render different SoundFonts into one folder.")
    return notes


def read_durations(notes: pd.DataFrame, *, sample_rate: int) -> np.ndarray:
    """Note lengths from the file headers, without decoding any audio.

    Parameters
    ----------
    notes : pd.DataFrame
        A notes table (columns ``source_root``, ``source_file``).
    sample_rate : int
        Lengths are counted in samples at this rate (what loading would resample to).

    Returns
    -------
    durations : np.ndarray [shape=(len(notes),), dtype=int64]
        -1 for files whose header cannot be read (the build skips them later).
    """
    out = np.empty(len(notes), dtype=np.int64)
    for i, (root, rel) in enumerate(zip(notes["source_root"], notes["source_file"])):
        try:
            info = sf.info(str(Path(root) / rel))
            out[i] = int(info.frames * sample_rate / info.samplerate)
        except Exception:  # libsndfile raises several types on corrupt headers; a skip later
            out[i] = -1
    return out
