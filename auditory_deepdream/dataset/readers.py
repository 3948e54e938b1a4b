"""Readers: source folders as a *notes table*, one row per source recording.

* :func:`read_nsynth` reads the NSynth release layout (``nsynth-{train,valid,test}/
  examples.json`` + ``audio/<note_str>.wav``); SoundFont renders use the same layout;
* :func:`read_philharmonia` reads the Philharmonia sample library (one folder per
  instrument, ``cello_A2_1_forte_arco-normal.mp3``);
* :func:`read_sources` reads a list of ``(kind, folder)`` pairs into one table;
* :func:`read_durations` gives every note's length from its file header.
"""

from __future__ import annotations

import json
import logging
import re
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
    "read_durations",
    "read_nsynth",
    "read_philharmonia",
    "read_sources",
]

log = logging.getLogger(__name__)

NOTE_COLUMNS = ("note_id", "source", "source_root", "source_file", "label", "instrument_source",
                "instrument", "pitch", "velocity")
_NSYNTH_FIELDS = ("note_str", "pitch", "velocity", "instrument_str", "instrument_family_str",
                  "instrument_source_str")
# Philharmonia dynamics as MIDI velocities (the library has no velocities of its own)
_DYNAMIC_VELOCITY = {"pianissimo": 25, "piano": 40, "mezzo-piano": 55, "mezzo-forte": 75,
                     "forte": 100, "fortissimo": 120}
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


def read_sources(sources) -> pd.DataFrame:
    """Read several source folders into one notes table.

    Parameters
    ----------
    sources : sequence of (str, path-like)
        ``(kind, folder)`` pairs, ``kind`` one of ``'nsynth'``, ``'philharmonia'`` or
        ``'soundfont'`` (a folder written by :func:`~auditory_deepdream.dataset.render_soundfont`).

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
        if kind not in readers:
            raise DatasetError(f"Unknown source kind {kind!r}; use one of {sorted(readers)}.")
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
