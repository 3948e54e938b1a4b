"""The encoding job: notes in, log-mel segments and their index rows out.

:func:`encode_chunk` is a pure function of a picklable :class:`ChunkJob` (a chunk of
planned notes, the audio settings and the class order): it loads, trims, segments,
time-stretches and encodes every note of the chunk and returns an
:class:`EncodedChunk`. It writes nothing, so any scheduler (a process pool today) can
run it; the build writes the results into the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import librosa
import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from ..audio import encode, load_audio, segment, trim
from ..errors import AudioInputError
from ..settings import AudioSettings
from .recording import RecordingAugmentation, augment_recording

__all__ = [
    "NOTE_FIELDS",
    "PITCH_CLASSES",
    "ChunkJob",
    "EncodedChunk",
    "chunk_jobs",
    "encode_chunk",
    "process_note",
]

PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
# what a job needs of each planned note
NOTE_FIELDS = ("note_id", "source", "source_root", "source_file", "family", "label",
               "instrument_source", "instrument", "pitch", "velocity", "split", "hop_seconds",
               "stretch_rate", "recording_copies")


@dataclass(frozen=True)
class ChunkJob:
    """One store chunk to encode (picklable, so it can go to any worker).

    Parameters
    ----------
    chunk_id : int
        Position of the chunk in the build order.
    notes : tuple of dict
        The chunk's notes, each with the keys :data:`NOTE_FIELDS` (``stretch_rate`` a
        float or None).
    settings : AudioSettings
    classes : tuple of str
        Family order of ``family_index`` and the ``onehot_<family>`` columns.
    recording : RecordingAugmentation, optional
        Effects of the ``recording_copies`` augmented copies notes ask for.
    """

    chunk_id: int
    notes: tuple[dict, ...]
    settings: AudioSettings
    classes: tuple[str, ...]
    recording: RecordingAugmentation | None = None


@dataclass(frozen=True)
class EncodedChunk:
    """What :func:`encode_chunk` returns.

    Attributes
    ----------
    chunk_id : int
    features : np.ndarray [shape=(n_segments, n_mels, n_frames), dtype=float32]
    index : pd.DataFrame
        ``n_segments`` rows, in the order of ``features``.
    skipped : tuple of dict
        ``{'note_id', 'reason'}`` for every note whose audio could not be used.
    """

    chunk_id: int
    features: np.ndarray
    index: pd.DataFrame
    skipped: tuple[dict, ...]


def chunk_jobs(notes: pd.DataFrame, *, settings: AudioSettings, classes, notes_per_chunk: int,
               done=frozenset(), recording: RecordingAugmentation | None = None) -> list[ChunkJob]:
    """Cut planned notes into chunk jobs of ``notes_per_chunk`` notes, in table order.

    Parameters
    ----------
    notes : pd.DataFrame
        Planned notes (columns :data:`NOTE_FIELDS`), in build order.
    settings : AudioSettings
    classes : sequence of str
    notes_per_chunk : int
    done : collection of int
        Chunk ids already in the store; they get no job.
    recording : RecordingAugmentation, optional
        Passed to every job (see :class:`ChunkJob`).

    Returns
    -------
    jobs : list of ChunkJob
        In chunk order.
    """
    if "recording_copies" not in notes:
        notes = notes.assign(recording_copies=0)
    records = notes[list(NOTE_FIELDS)].to_dict(orient="records")
    for r in records:  # pandas may hold a missing stretch as NaN
        r["stretch_rate"] = None if r["stretch_rate"] is None or pd.isna(r["stretch_rate"]) \
            else float(r["stretch_rate"])
        r["recording_copies"] = int(r["recording_copies"]) if recording is not None else 0
    n = notes_per_chunk
    return [ChunkJob(chunk_id=c, notes=tuple(records[c * n:(c + 1) * n]), settings=settings,
                     classes=tuple(classes), recording=recording)
            for c in range((len(records) + n - 1) // n) if c not in done]


def process_note(y: np.ndarray, *, settings: AudioSettings, hop_seconds: float,
                 stretch_rate: float | None = None) -> tuple[dict[str, np.ndarray], int]:
    """Trim a note and cut it into segments, optionally also a time-stretched copy.

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,)]
    settings : AudioSettings
    hop_seconds : float
        Hop between segment starts.
    stretch_rate : float, optional
        Also return ``'stretch'`` segments of ``librosa.effects.time_stretch(y, rate)``.

    Returns
    -------
    segments : dict of str to np.ndarray [shape=(n_seg, segment_samples)]
        ``'none'`` (and ``'stretch'``); the last segment of each is zero-padded.
    trimmed_samples : int
        Length of the trimmed note (before stretching).

    Raises
    ------
    AudioInputError
        The note is silent.
    """
    y = trim(y, settings=settings)
    out = {"none": segment(y, settings=settings, hop_seconds=hop_seconds)}
    if stretch_rate is not None:
        ys = librosa.effects.time_stretch(y, rate=stretch_rate, n_fft=settings.n_fft,
                                          hop_length=settings.hop_length)
        out["stretch"] = segment(ys.astype(np.float32), settings=settings, hop_seconds=hop_seconds)
    return out, len(y)


def _segment_rows(note: dict, *, augmentation: str, n: int, trimmed_samples: int,
                  classes: tuple[str, ...], effects: str = "") -> list[dict]:
    """The index rows of a note's ``n`` segments of one augmentation."""
    return [{
        "segment_id": f"{note['note_id']}#{augmentation}#{i}",
        "source": note["source"], "source_file": note["source_file"],
        "note_id": note["note_id"], "family": note["family"],
        "family_index": classes.index(note["family"]),
        "label": note["label"], "instrument_source": note["instrument_source"],
        "instrument": note["instrument"], "pitch": note["pitch"],
        "pitch_class": PITCH_CLASSES[int(note["pitch"]) % 12],
        "velocity": note["velocity"], "split": note["split"], "augmentation": augmentation,
        "segment_index": i, "hop_seconds": note["hop_seconds"],
        "trimmed_samples": trimmed_samples, "effects": effects,
        **{f"onehot_{c}": int(c == note["family"]) for c in classes},
    } for i in range(n)]


def encode_chunk(job: ChunkJob) -> EncodedChunk:
    """Load, trim, segment, stretch and log-mel encode the notes of one chunk.

    Notes whose audio cannot be read, or is silent, are reported in ``skipped``
    rather than raised, so one bad file never stops a build.

    Parameters
    ----------
    job : ChunkJob

    Returns
    -------
    chunk : EncodedChunk
        ``features`` of shape ``(n_segments, n_mels, n_frames)``, notes in job order,
        each note's plain segments before its stretched ones, then its recording copies.
    """
    # one BLAS thread: the mel product's rounding then does not depend on the cores of the
    # machine (or Dask worker) that encodes, so every build of the same request is identical
    with threadpool_limits(limits=1, user_api="blas"):
        return _encode_notes(job)


def _encode_notes(job: ChunkJob) -> EncodedChunk:
    settings = job.settings
    feats, rows, skipped = [], [], []
    for note in job.notes:
        try:
            y = load_audio(Path(note["source_root"]) / note["source_file"], settings=settings)
            parts, n_trim = process_note(y, settings=settings, hop_seconds=note["hop_seconds"],
                                         stretch_rate=note["stretch_rate"])
        except AudioInputError as exc:
            skipped.append({"note_id": note["note_id"], "reason": str(exc)})
            continue
        for augmentation, segs in parts.items():
            feats.append(encode(segs, settings=settings))
            rows.extend(_segment_rows(note, augmentation=augmentation, n=len(segs),
                                      trimmed_samples=n_trim, classes=job.classes))
        for copy in range(1, int(note.get("recording_copies") or 0) + 1):
            y_aug, effects = augment_recording(y, sample_rate=settings.sample_rate, config=job.recording,
                                               note_id=note["note_id"], copy=copy)
            try:
                aug_parts, aug_trim = process_note(y_aug, settings=settings, hop_seconds=note["hop_seconds"])
            except AudioInputError:  # the effects can silence a very quiet note: keep the original only
                continue
            feats.append(encode(aug_parts["none"], settings=settings))
            rows.extend(_segment_rows(note, augmentation=f"recording{copy}", n=len(aug_parts["none"]),
                                      trimmed_samples=aug_trim, classes=job.classes, effects=effects))
    features = (np.concatenate(feats) if feats
                else np.zeros((0, settings.n_mels, settings.n_frames), np.float32))
    return EncodedChunk(chunk_id=job.chunk_id, features=features, index=pd.DataFrame(rows),
                        skipped=tuple(skipped))
