"""Datasets: read NSynth / Philharmonia / SoundFont renders, curate, augment, encode.

The pipeline of the dissertation's sections 3.1-3.4, as functions on a *notes table*
(one row per source recording):

1. readers: :func:`read_nsynth` (the release layout ``nsynth-{train,valid,test}/
   examples.json`` + ``audio/<note_str>.wav``; SoundFont renders use the same layout) and
   :func:`read_philharmonia` (one folder per instrument, ``cello_A2_1_forte_arco-normal.mp3``);
2. curation: :func:`apply_ontology` maps every (source, label, instrument_source) to a
   merged family, or omits it, using the data table ``data/ontology.csv``;
3. splits by source note (:func:`assign_splits`), so no note is in two splits;
4. augmentation plan (:func:`plan_augmentation`): time-stretch (rate 0.5) for
   under-represented families and a per-family hop chosen by K-means on family counts;
5. encoding (:func:`build_dataset`): trim, segment (zero-padding the last window),
   log-mel encode, written chunk by chunk into a resumable
   :class:`~auditory_deepdream.store.StoreWriter`.

:func:`build_default_dataset` renders the default SoundFonts and builds the store in one call.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, replace
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from .audio import AUDIO_SUFFIXES, load_audio, mel_basis, n_segments, power_to_db, segment, stft, trim
from .errors import AudioInputError, DatasetError
from .atomic import write_json_atomic
from .settings import AudioSettings
from .store import FeatureStore, StoreWriter

__all__ = [
    "DatasetConfig",
    "DATASET_PRESETS",
    "NOTE_COLUMNS",
    "PITCH_CLASSES",
    "read_nsynth",
    "read_philharmonia",
    "parse_philharmonia_name",
    "load_ontology",
    "apply_ontology",
    "kept_programs",
    "assign_splits",
    "plan_augmentation",
    "process_note",
    "encode_segments",
    "summarize",
    "plot_summary",
    "distribution",
    "plot_distribution",
    "build_dataset",
    "build_default_dataset",
]

log = logging.getLogger(__name__)

PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
NOTE_COLUMNS = ("note_id", "source", "source_root", "source_file", "label", "instrument_source",
                "instrument", "pitch", "velocity")
SPLITS = ("train", "valid", "test")
_NSYNTH_FIELDS = ("note_str", "pitch", "velocity", "instrument_str", "instrument_family_str",
                  "instrument_source_str")
# Philharmonia dynamics as MIDI velocities (the library has no velocities of its own)
_DYNAMIC_VELOCITY = {"pianissimo": 25, "piano": 40, "mezzo-piano": 55, "mezzo-forte": 75,
                     "forte": 100, "fortissimo": 120}
_PHIL_NAME = re.compile(r"^(?P<instrument>[a-z][a-z-]*)_(?P<note>[A-G]s?\d)_(?P<duration>[^_]+)_"
                        r"(?P<dynamic>[^_]+)_(?P<articulation>[^_]+)$")


@dataclass(frozen=True)
class DatasetConfig:
    """Options of a dataset build (saved in the store's ``meta.json``).

    Parameters
    ----------
    split_fractions : (float, float, float)
        Fractions of source notes in train, valid and test.
    seed : int
        Seed of the note-to-split assignment and of K-means.
    stretch_rate : float
        Time-stretch rate for under-represented families (0.5 doubles the length).
    stretch_below : float
        A family is under-represented when its estimated train segment count is below
        this fraction of the largest family's.
    hop_clusters : int
        K-means clusters of family counts (the dissertation uses 4).
    hop_seconds : tuple of float
        Hop of each cluster, from the most to the least populated cluster.
    augment_splits : tuple of str
        Splits that get stretching and the per-family hop; the others are cut into
        non-overlapping segments so evaluation sees every note once.
    notes_per_chunk : int
        Notes per store chunk (the unit of resumption and of parallel work).
    jobs : int
        Worker processes for encoding.
    on_unknown : {'error', 'skip'}
        What to do with labels the ontology does not list.
    classes : tuple of str, optional
        Fixed label order (for example a held-out store that must match a training store).
    """

    split_fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)
    seed: int = 0
    stretch_rate: float = 0.5
    stretch_below: float = 0.5
    hop_clusters: int = 4
    hop_seconds: tuple[float, ...] = (1.0, 0.8, 0.6, 0.5)
    augment_splits: tuple[str, ...] = ("train",)
    notes_per_chunk: int = 128
    jobs: int = 2
    on_unknown: str = "error"
    classes: tuple[str, ...] | None = None

    def __post_init__(self):
        if len(self.split_fractions) != 3 or min(self.split_fractions) < 0 or \
                abs(sum(self.split_fractions) - 1) > 1e-6:
            raise DatasetError("split_fractions must be three non-negative numbers summing to 1.")
        if len(self.hop_seconds) < self.hop_clusters or min(self.hop_seconds) <= 0:
            raise DatasetError("hop_seconds needs one positive hop per K-means cluster.")
        if self.on_unknown not in ("error", "skip"):
            raise DatasetError("on_unknown must be 'error' or 'skip'.")
        if not 0 < self.stretch_rate:
            raise DatasetError("stretch_rate must be positive.")
        if self.notes_per_chunk < 1 or self.jobs < 1:
            raise DatasetError("notes_per_chunk and jobs must be at least 1.")


DATASET_PRESETS = {"small": DatasetConfig(notes_per_chunk=32), "full": DatasetConfig()}


def _midi_to_pitch_class(pitch: int) -> str:
    return PITCH_CLASSES[int(pitch) % 12]


# --------------------------------------------------------------------- readers
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
    import librosa

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


# --------------------------------------------------------------------- ontology
def load_ontology(path=None) -> pd.DataFrame:
    """The ontology table: ``source, label, instrument_source, family, note``.

    ``family`` empty means the recordings are omitted. The default is the bundled
    ``auditory_deepdream/data/ontology.csv`` (dissertation section 3.1); copy and edit it
    to change the curation, then pass its path.
    """
    path = path or str(resources.files("auditory_deepdream") / "data" / "ontology.csv")
    try:
        table = pd.read_csv(path, keep_default_na=False, dtype=str)
    except (OSError, ValueError) as exc:
        raise DatasetError(f"Could not read ontology table {path}: {exc}") from None
    need = {"source", "label", "instrument_source", "family"}
    if not need <= set(table.columns):
        raise DatasetError(f"Ontology table {path} needs columns {sorted(need)}.")
    dup = table.duplicated(["source", "label", "instrument_source"])
    if dup.any():
        raise DatasetError(f"Ontology table {path} lists these keys twice: "
                           f"{table[dup][['source', 'label', 'instrument_source']].values.tolist()}")
    return table


def apply_ontology(notes: pd.DataFrame, *, ontology: pd.DataFrame | None = None,
                   on_unknown: str = "error") -> pd.DataFrame:
    """Add the merged ``family`` column and drop omitted notes.

    Parameters
    ----------
    notes : pd.DataFrame
        A notes table (columns ``source``, ``label``, ``instrument_source``).
    ontology : pd.DataFrame, optional
        Default :func:`load_ontology`.
    on_unknown : {'error', 'skip'}
        Labels missing from the table raise :class:`DatasetError` or are dropped with a warning.

    Returns
    -------
    kept : pd.DataFrame
        The notes the ontology keeps, with ``family``.
    """
    ontology = load_ontology() if ontology is None else ontology
    keys = ["source", "label", "instrument_source"]
    merged = notes.merge(ontology[keys + ["family"]], on=keys, how="left")
    unknown = merged["family"].isna()
    if unknown.any():
        combos = sorted({tuple(r) for r in merged.loc[unknown, keys].itertuples(index=False)})
        msg = (f"{int(unknown.sum())} notes have labels the ontology does not list: {combos[:10]}"
               f"{' ...' if len(combos) > 10 else ''}. Add rows (family empty to omit) to a copy of "
               "auditory_deepdream/data/ontology.csv and pass it as ontology=, or use on_unknown='skip'.")
        if on_unknown == "error":
            raise DatasetError(msg)
        log.warning(msg)
    kept = merged[~unknown & (merged["family"] != "")]
    log.info("ontology keeps %d of %d notes", len(kept), len(notes))
    return kept.reset_index(drop=True)


def kept_programs(*, ontology: pd.DataFrame | None = None, source: str = "soundfont") -> list[int]:
    """GM programs whose (family, source) the ontology keeps: the ones worth rendering."""
    from .soundfont import gm_programs

    ontology = load_ontology() if ontology is None else ontology
    keep = ontology[(ontology.source == source) & (ontology.family != "")]
    keys = set(zip(keep.label, keep.instrument_source))
    table = gm_programs()
    return [int(r.program) for r in table.itertuples() if (r.family, r.source) in keys]


# --------------------------------------------------------------------- splits / plan
def assign_splits(notes: pd.DataFrame, *, fractions=(0.8, 0.1, 0.1), seed: int = 0) -> pd.Series:
    """Split by source note: a note's split depends only on its ``note_id`` and ``seed``.

    Every segment (and every augmented copy) of a note inherits the note's split, so no
    note leaks between train and test; adding notes never moves existing ones.

    Returns
    -------
    split : pd.Series of {'train', 'valid', 'test'}, aligned with ``notes``
    """
    u = np.array([int.from_bytes(hashlib.sha1(f"{seed}:{n}".encode()).digest()[:8], "big") / 2 ** 64
                  for n in notes["note_id"]])
    edges = np.cumsum(fractions)[:-1]
    return pd.Series(np.asarray(SPLITS)[np.searchsorted(edges, u, side="right")], index=notes.index)


def _duration_samples(notes: pd.DataFrame, sample_rate: int) -> np.ndarray:
    """File durations in samples at ``sample_rate`` from the headers (-1 when unreadable)."""
    import soundfile as sf

    out = np.empty(len(notes), dtype=np.int64)
    for i, (root, rel) in enumerate(zip(notes["source_root"], notes["source_file"])):
        try:
            info = sf.info(str(Path(root) / rel))
            out[i] = int(info.frames * sample_rate / info.samplerate)
        except Exception:  # libsndfile errors on corrupt headers; handled as a skip later
            out[i] = -1
    return out


def plan_augmentation(notes: pd.DataFrame, *, settings: AudioSettings,
                      config: DatasetConfig = DatasetConfig()) -> pd.DataFrame:
    """Choose, per family, whether to time-stretch and which hop to cut segments with.

    Counts are estimated train segments at a one-segment hop (from file headers, so no
    audio is decoded). Families under ``config.stretch_below`` of the largest count are
    stretched (their estimate doubles at rate 0.5); K-means with ``config.hop_clusters``
    clusters on the resulting counts gives each family a cluster, ranked from most to
    least populated, and the cluster's hop from ``config.hop_seconds``.

    Parameters
    ----------
    notes : pd.DataFrame
        Curated notes with ``family``, ``split`` and ``duration_samples``.

    Returns
    -------
    plan : pd.DataFrame
        Indexed by family: ``notes``, ``est_segments``, ``stretch`` (bool),
        ``est_after_stretch``, ``cluster`` (0 = most populated), ``hop_seconds``.
    """
    from sklearn.cluster import KMeans

    seg = settings.segment_samples
    train = notes[notes["split"].isin(config.augment_splits)]
    est = train.assign(n=[n_segments(max(int(d), 1), segment_samples=seg, hop_samples=seg)
                          for d in train["duration_samples"]])
    families = sorted(notes["family"].unique())
    plan = pd.DataFrame(index=pd.Index(families, name="family"))
    plan["notes"] = train.groupby("family").size().reindex(families, fill_value=0)
    plan["est_segments"] = est.groupby("family")["n"].sum().reindex(families, fill_value=0)
    top = plan["est_segments"].max()
    plan["stretch"] = plan["est_segments"] < config.stretch_below * top
    plan["est_after_stretch"] = np.where(plan["stretch"],
                                         plan["est_segments"] * (1 + 1 / config.stretch_rate),
                                         plan["est_segments"])
    counts = plan["est_after_stretch"].to_numpy(dtype=float).reshape(-1, 1)
    k = min(config.hop_clusters, len(np.unique(counts)))
    if k >= 2:
        km = KMeans(n_clusters=k, n_init=10, random_state=config.seed).fit(counts)
        rank = np.argsort(np.argsort(-km.cluster_centers_.ravel()))  # cluster -> 0 for largest
        plan["cluster"] = rank[km.labels_]
    else:
        plan["cluster"] = 0
    plan["hop_seconds"] = [config.hop_seconds[c] for c in plan["cluster"]]
    return plan


# --------------------------------------------------------------------- processing
def process_note(y: np.ndarray, *, settings: AudioSettings, hop_seconds: float,
                 stretch_rate: float | None = None) -> tuple[dict[str, np.ndarray], int]:
    """Trim a note and cut it into segments, optionally also a time-stretched copy.

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,)]
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
    """
    import librosa

    y = trim(y, settings=settings)
    out = {"none": segment(y, settings=settings, hop_seconds=hop_seconds)}
    if stretch_rate is not None:
        ys = librosa.effects.time_stretch(y, rate=stretch_rate, n_fft=settings.n_fft,
                                          hop_length=settings.hop_length)
        out["stretch"] = segment(ys.astype(np.float32), settings=settings, hop_seconds=hop_seconds)
    return out, len(y)


def encode_segments(segments: np.ndarray, *, settings: AudioSettings) -> np.ndarray:
    """:func:`auditory_deepdream.audio.encode` for a batch of segments, but faster.

    The mel projection is one matrix product over all frames of the batch instead of a
    broadcast product per segment (several times faster for dataset builds).

    Parameters
    ----------
    segments : np.ndarray [shape=(n, segment_samples)]

    Returns
    -------
    mel_db : np.ndarray [shape=(n, n_mels, n_frames), dtype=float32]
    """
    D = stft(segments, settings=settings)
    power = D.real ** 2 + D.imag ** 2
    n, bins, frames = power.shape
    mel = mel_basis(settings) @ power.transpose(1, 0, 2).reshape(bins, n * frames)
    return power_to_db(mel.reshape(-1, n, frames).transpose(1, 0, 2), settings=settings)


def _encode_chunk(job: dict):
    """Worker: load, trim, segment, augment and encode the notes of one chunk."""
    settings: AudioSettings = job["settings"]
    classes = job["classes"]
    feats, rows, skipped = [], [], []
    for note in job["notes"]:
        path = Path(note["source_root"]) / note["source_file"]
        try:
            y = load_audio(path, settings=settings)
            parts, n_trim = process_note(y, settings=settings, hop_seconds=note["hop_seconds"],
                                         stretch_rate=note["stretch_rate"])
        except AudioInputError as exc:
            skipped.append({"note_id": note["note_id"], "reason": str(exc)})
            continue
        for aug, segs in parts.items():
            feats.append(encode_segments(segs, settings=settings))
            for i in range(len(segs)):
                rows.append({
                    "segment_id": f"{note['note_id']}#{aug}#{i}",
                    "source": note["source"], "source_file": note["source_file"],
                    "note_id": note["note_id"], "family": note["family"],
                    "family_index": classes.index(note["family"]),
                    "label": note["label"], "instrument_source": note["instrument_source"],
                    "instrument": note["instrument"], "pitch": note["pitch"],
                    "pitch_class": _midi_to_pitch_class(note["pitch"]),
                    "velocity": note["velocity"], "split": note["split"], "augmentation": aug,
                    "segment_index": i, "hop_seconds": note["hop_seconds"],
                    "trimmed_samples": n_trim,
                    **{f"onehot_{c}": int(c == note["family"]) for c in classes},
                })
    shape = (0, settings.n_mels, settings.n_frames)
    features = np.concatenate(feats) if feats else np.zeros(shape, np.float32)
    return job["chunk_id"], features, pd.DataFrame(rows), skipped


# --------------------------------------------------------------------- summaries
def summarize(frame: pd.DataFrame) -> pd.DataFrame:
    """Counts per family (rows) per source (columns) plus a ``total`` column.

    Parameters
    ----------
    frame : pd.DataFrame
        A notes table or a store index (needs ``family`` and ``source``).
    """
    table = pd.crosstab(frame["family"], frame["source"])
    table["total"] = table.sum(axis=1)
    return table


def plot_summary(summary: pd.DataFrame, *, ax=None, title: str = "Samples per family"):
    """Stacked bar chart of :func:`summarize` output; returns the matplotlib Axes."""
    import matplotlib.pyplot as plt

    ax = ax or plt.subplots(figsize=(8, 4))[1]
    summary.drop(columns="total", errors="ignore").plot.bar(stacked=True, ax=ax)
    ax.set_title(title)
    ax.set_ylabel("count")
    return ax


def distribution(index: pd.DataFrame, *, settings: AudioSettings) -> pd.DataFrame:
    """Segments per family before and after augmentation (from a store index).

    ``before`` counts what non-overlapping cuts of the trimmed, unstretched notes would
    give; ``after`` counts the segments actually stored. Indexed by family.
    """
    seg = settings.segment_samples
    firsts = index[(index["augmentation"] == "none") & (index["segment_index"] == 0)]
    before = firsts.assign(n=[n_segments(int(t), segment_samples=seg, hop_samples=seg)
                              for t in firsts["trimmed_samples"]]).groupby("family")["n"].sum()
    after = index.groupby("family").size()
    return pd.DataFrame({"before": before, "after": after}).fillna(0).astype(int)


def plot_distribution(dist: pd.DataFrame, *, ax=None):
    """Bar chart of :func:`distribution` (before/after augmentation); returns the Axes."""
    import matplotlib.pyplot as plt

    ax = ax or plt.subplots(figsize=(8, 4))[1]
    dist[["before", "after"]].plot.bar(ax=ax)
    ax.set_title("Segments per family before and after augmentation")
    ax.set_ylabel("segments")
    return ax


# --------------------------------------------------------------------- build
def _collect_notes(sources, ontology, config) -> pd.DataFrame:
    readers = {"nsynth": lambda p: read_nsynth(p), "soundfont": lambda p: read_nsynth(p, source="soundfont"),
               "philharmonia": read_philharmonia}
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
    return apply_ontology(notes, ontology=ontology, on_unknown=config.on_unknown)


def build_dataset(out_dir, *, nsynth=(), philharmonia=(), soundfont=(),
                  settings: AudioSettings | None = None, config: DatasetConfig = DatasetConfig(),
                  ontology=None, overwrite: bool = False, extra_meta: dict | None = None,
                  progress: bool = True) -> FeatureStore:
    """Curate, augment and encode source folders into a feature store.

    Parameters
    ----------
    out_dir : path-like
        Store directory. An unfinished store there is resumed (same inputs and options
        required); a finished one is returned as is unless ``overwrite``.
    nsynth, philharmonia, soundfont : sequence of path-like
        Source folders: NSynth releases, Philharmonia trees, SoundFont renders.
    settings : AudioSettings, optional
        Default ``AudioSettings.preset('default')``.
    config : DatasetConfig
    ontology : path-like or pd.DataFrame, optional
        Ontology table (default the bundled one).
    overwrite : bool
        Delete an existing store first.
    extra_meta : dict, optional
        Extra entries for ``meta.json``.

    Returns
    -------
    store : FeatureStore
        Index columns: ``row, segment_id, source, source_file, note_id, family,
        family_index, label, instrument_source, instrument, pitch, pitch_class, velocity,
        split, augmentation, segment_index, hop_seconds, trimmed_samples, onehot_<family>...,
        shard, shard_row``.

    Raises
    ------
    DatasetError
        Bad sources, unknown labels (with ``on_unknown='error'``), or a partial store
        built from other inputs. Unreadable audio files are skipped and listed in
        ``meta.json`` (``skipped``), never abort the build.
    """
    from tqdm.auto import tqdm

    settings = settings or AudioSettings.preset("default")
    out_dir = Path(out_dir)
    if isinstance(ontology, (str, Path)):
        ontology = load_ontology(ontology)
    sources = [("nsynth", Path(p)) for p in _as_list(nsynth)] + \
              [("philharmonia", Path(p)) for p in _as_list(philharmonia)] + \
              [("soundfont", Path(p)) for p in _as_list(soundfont)]
    if (out_dir / "index.csv").is_file() and not overwrite:
        store = FeatureStore(out_dir, settings=settings)
        if store.meta.get("build_key") == _build_key(sources, settings, config):
            return store
        raise DatasetError(f"{out_dir} holds a finished store built from other inputs or options; "
                           "pass overwrite=True (--overwrite) or choose another folder.")
    t0 = time.perf_counter()
    notes = _collect_notes(sources, ontology, config)
    notes["split"] = assign_splits(notes, fractions=config.split_fractions, seed=config.seed)
    notes["duration_samples"] = _duration_samples(notes, settings.sample_rate)
    plan = plan_augmentation(notes, settings=settings, config=config)
    classes = list(config.classes) if config.classes else sorted(notes["family"].unique())
    missing = sorted(set(notes["family"]) - set(classes))
    if missing:
        raise DatasetError(f"config.classes lacks families {missing} present in the sources.")
    augment = notes["split"].isin(config.augment_splits)
    notes["hop_seconds"] = np.where(augment, notes["family"].map(plan["hop_seconds"]),
                                    settings.segment_seconds)
    notes["stretch_rate"] = [config.stretch_rate if a and plan.loc[f, "stretch"] else None
                             for a, f in zip(augment, notes["family"])]
    notes = notes.sort_values("note_id", kind="stable").reset_index(drop=True)

    key = _build_key(sources, settings, config)
    writer = StoreWriter(out_dir, settings=settings, overwrite=overwrite)
    build_file = out_dir / "build.json"
    fingerprint = {"build_key": key, "n_notes": len(notes),
                   "notes_sha1": hashlib.sha1("\n".join(notes["note_id"]).encode()).hexdigest()}
    if build_file.is_file():
        if json.loads(build_file.read_text()) != fingerprint:
            raise DatasetError(f"{out_dir} holds a partial store from other inputs or options; "
                               "pass overwrite=True (--overwrite) to start again.")
    else:
        write_json_atomic(build_file, fingerprint)

    cols = ["note_id", "source", "source_root", "source_file", "family", "label",
            "instrument_source", "instrument", "pitch", "velocity", "split", "hop_seconds",
            "stretch_rate"]
    records = notes[cols].to_dict(orient="records")
    for r in records:  # pandas turns None into NaN in object columns
        r["stretch_rate"] = None if r["stretch_rate"] is None or pd.isna(r["stretch_rate"]) else float(r["stretch_rate"])
    n = config.notes_per_chunk
    done = writer.done_chunks()
    jobs = [{"chunk_id": c, "notes": records[c * n:(c + 1) * n], "settings": settings, "classes": classes}
            for c in range((len(records) + n - 1) // n) if c not in done]
    skipped_now = []
    sizes = {j["chunk_id"]: len(j["notes"]) for j in jobs}
    bar = tqdm(total=len(records), initial=len(records) - sum(len(j["notes"]) for j in jobs),
               desc="encode notes", unit="note", disable=not progress)
    results = _run_jobs(jobs, config.jobs)
    for chunk_id, features, index, skipped in results:
        writer.write_chunk(chunk_id, features, index)
        skipped_now.extend(skipped)
        bar.update(sizes[chunk_id])
    bar.close()
    for s in skipped_now:
        log.warning("skipped %s: %s", s["note_id"], s["reason"])
    # meta from the finished chunks, so a resumed build writes the same meta
    frames = [pd.read_csv(out_dir / "shards" / f"shard-{c:05d}.csv", usecols=["note_id"])
              for c in sorted(writer.done_chunks())]
    stored = set(pd.concat(frames)["note_id"]) if frames else set()
    skipped = sorted(set(notes["note_id"]) - stored)
    meta = {
        "classes": classes,
        "sources": [{"kind": k, "path": str(p)} for k, p in sources],
        "n_notes": len(notes) - len(skipped),
        "skipped": skipped,
        "config": asdict(config),
        "augmentation_plan": plan.reset_index().to_dict(orient="records"),
        "build_key": key,
        **(extra_meta or {}),
    }
    store = writer.finalize(meta)
    log.info("built %s: %d segments from %d notes in %.1f s", out_dir, len(store), meta["n_notes"],
             time.perf_counter() - t0)
    return store


def _as_list(value) -> list:
    if value is None:
        return []
    if isinstance(value, (str, Path)):
        return [value]
    return list(value)


def _build_key(sources, settings: AudioSettings, config: DatasetConfig) -> str:
    text = json.dumps({"sources": [(k, str(Path(p).resolve())) for k, p in sources],
                       "settings": settings.to_dict(), "config": asdict(config)},
                      sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()


def _run_jobs(jobs, n_workers):
    """Yield chunk results in chunk order (parallel when ``n_workers > 1``)."""
    if n_workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            yield _encode_chunk(job)
        return
    from .soundfont import worker_context

    with ProcessPoolExecutor(n_workers, mp_context=worker_context()) as pool:
        yield from pool.map(_encode_chunk, jobs)


# --------------------------------------------------------------------- default
def build_default_dataset(out_dir, *, preset: str = "small", heldout_dir=None, render_dir=None,
                          soundfonts=None, settings: AudioSettings | None = None,
                          jobs: int = 2, overwrite: bool = False, progress: bool = True) -> dict:
    """Render the default SoundFonts and build the training store (and a held-out store).

    Training SoundFonts: every available one except the held-out one (MuseScore_General
    when installed; see :func:`auditory_deepdream.soundfont.default_soundfonts`). With
    only pip's TimGM6mb available, the GM programs flagged ``heldout_program`` in
    ``gm_programs.csv`` (one per family) are held out instead.

    Parameters
    ----------
    out_dir : path-like
        Training store folder.
    preset : {'small', 'full'}
        ``small``: ten programs of TimGM6mb, four pitches, two velocities (tests/CI).
        ``full``: every kept program, every third semitone, three velocities.
    heldout_dir : path-like, optional
        Also build the held-out store here (all segments in split ``test``, same classes).
    render_dir : path-like, optional
        Where rendered wavs go (default ``<out_dir>-audio``).
    soundfonts : sequence of path-like, optional
        Extra user SoundFonts to train on.
    jobs : int
        Worker processes for rendering and encoding.

    Returns
    -------
    result : dict
        ``store`` (FeatureStore), ``heldout`` (FeatureStore or None), ``timings`` (s).
    """
    from .soundfont import RENDER_PRESETS, default_soundfonts, pip_soundfont

    if preset not in RENDER_PRESETS:
        raise DatasetError(f"Unknown preset {preset!r}; use 'small' or 'full'.")
    out_dir = Path(out_dir)
    render_dir = Path(render_dir) if render_dir else out_dir.with_name(out_dir.name + "-audio")
    settings = settings or AudioSettings.preset("default")
    render_cfg = replace(RENDER_PRESETS[preset], sample_rate=settings.sample_rate, jobs=jobs)
    if render_cfg.programs is None:
        render_cfg = replace(render_cfg, programs=tuple(kept_programs()))
    config = replace(DATASET_PRESETS[preset], jobs=jobs)
    if preset == "small":
        train_fonts, held_fonts = [pip_soundfont()], []
    else:
        train_fonts, held_fonts = default_soundfonts(soundfonts or ())
    hold_programs = not held_fonts
    timings = {}
    t = time.perf_counter()
    _render_once(render_dir / "train", train_fonts, render_cfg,
                 "exclude" if hold_programs else "include", overwrite, progress)
    timings["render_train_s"] = round(time.perf_counter() - t, 1)
    heldout_desc = ({"kind": "programs", "soundfonts": [p.name for p in train_fonts],
                     "programs": _heldout_program_names()} if hold_programs else
                    {"kind": "soundfont", "soundfonts": [p.name for p in held_fonts]})
    extra = {"preset": preset, "training_soundfonts": [p.name for p in train_fonts],
             "heldout": heldout_desc, "render": asdict(render_cfg)}
    t = time.perf_counter()
    store = build_dataset(out_dir, soundfont=[render_dir / "train"], settings=settings, config=config,
                          overwrite=overwrite, extra_meta=extra, progress=progress)
    timings["encode_train_s"] = round(time.perf_counter() - t, 1)
    heldout = None
    if heldout_dir is not None:
        t = time.perf_counter()
        if hold_programs:
            _render_once(render_dir / "heldout", train_fonts,
                         replace(render_cfg, programs=tuple(kept_programs())), "only", overwrite, progress)
        else:
            _render_once(render_dir / "heldout", held_fonts, render_cfg, "include", overwrite, progress)
        timings["render_heldout_s"] = round(time.perf_counter() - t, 1)
        t = time.perf_counter()
        held_cfg = replace(config, split_fractions=(0.0, 0.0, 1.0), classes=tuple(store.classes))
        heldout = build_dataset(heldout_dir, soundfont=[render_dir / "heldout"], settings=settings,
                                config=held_cfg, overwrite=overwrite,
                                extra_meta={**extra, "role": "heldout", "train_store": str(out_dir)},
                                progress=progress)
        timings["encode_heldout_s"] = round(time.perf_counter() - t, 1)
    return {"store": store, "heldout": heldout, "timings": timings}


def _heldout_program_names() -> list[str]:
    from .soundfont import gm_programs

    table = gm_programs()
    return table[table.heldout_program == 1]["name"].tolist()


def _render_once(folder: Path, fonts, render_cfg, heldout_programs, overwrite, progress):
    """Render unless the folder already holds the same finished render."""
    from .soundfont import render_soundfont

    stamp = folder / "render.json"
    want = {"soundfonts": [str(p) for p in fonts], "config": json.loads(json.dumps(asdict(render_cfg))),
            "heldout_programs": heldout_programs}
    if not overwrite and stamp.is_file() and (folder / "examples.json").is_file():
        have = json.loads(stamp.read_text())
        if {k: have.get(k) for k in want} == want:
            return
    render_soundfont(folder, soundfonts=fonts, config=render_cfg, heldout_programs=heldout_programs,
                     progress=progress)
