"""The store build: source folders in, a resumable feature store out.

:func:`build_dataset` composes the steps of the dissertation's sections 3.1-3.4:
read the sources, curate them with the ontology, split by note, plan the augmentation,
then encode chunk by chunk (:func:`~auditory_deepdream.dataset.encode.encode_chunk`,
in worker processes) while this process writes each finished chunk into the store.

:func:`build_default_dataset` renders the default SoundFonts first and builds the
training store and, optionally, a held-out store of instruments training never sees.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import time
from dataclasses import asdict, replace
from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm

from ..atomic import write_json_atomic
from ..errors import DatasetError
from ..settings import AudioSettings
from .encode import ChunkJob, chunk_jobs, encode_chunk
from .ontology import apply_ontology, kept_programs, load_ontology
from .plan import (
    DATASET_PRESETS,
    DatasetConfig,
    apply_plan,
    assign_splits,
    plan_augmentation,
)
from .discovery import default_soundfonts
from .locks import folder_lock
from .readers import read_durations, read_sources, sample_folders
from .soundfont import (
    RENDER_PRESETS,
    RenderConfig,
    gm_programs,
    pip_soundfont,
    render_soundfont,
)
from .store import FeatureStore, StoreWriter
from ..cluster import dask_client
from .workers import map_jobs

__all__ = ["build_dataset", "build_default_dataset", "default_render_config"]

log = logging.getLogger(__name__)


# --------------------------------------------------------------------- one store
def build_dataset(out_dir, *, nsynth=(), philharmonia=(), soundfont=(), samples=(),
                  settings: AudioSettings | None = None, config: DatasetConfig = DATASET_PRESETS["full"],
                  ontology=None, overwrite: bool = False, extra_meta: dict | None = None,
                  progress: bool = True, scheduler=None) -> FeatureStore:
    """Curate, augment and encode source folders into a feature store.

    Parameters
    ----------
    out_dir : path-like
        Store directory. An unfinished store there is resumed (same inputs and options
        required), after removing the temporary files a killed build left; a finished one
        is returned as is unless ``overwrite``. The folder is locked while the build writes
        it (:func:`~auditory_deepdream.dataset.locks.folder_lock`): a second build into it is
        refused at once, never interleaved.
    nsynth, philharmonia, soundfont : path-like or sequence of path-like
        Source folders: NSynth releases, Philharmonia trees, SoundFont renders.
    samples : sequence of (str, path-like), ``"FAMILY=DIR"`` or path-like
        Folders of one instrument's notes named by pitch
        (:func:`~auditory_deepdream.dataset.readers.read_samples`): ``(family, folder)``
        pairs, e.g. ``[("piano", "salamander/audio")]``, or folders named by their
        instrument, or holding such folders (``"tonejs"`` with ``tonejs/cello``, ...), whose
        family :func:`~auditory_deepdream.dataset.readers.sample_folders` looks up.
    settings : AudioSettings, optional
        Default ``AudioSettings.preset('default')``.
    config : DatasetConfig
        Build options; default the ``full`` preset (``DatasetConfig()``).
    ontology : path-like or pd.DataFrame, optional
        Ontology table (default the bundled one).
    overwrite : bool
        Delete an existing store first.
    extra_meta : dict, optional
        Extra entries for ``meta.json``.
    progress : bool
        Show a tqdm bar.
    scheduler : str or distributed.Client, optional
        Where to encode: the address of a Dask scheduler (its workers must see the
        source folders) or an open Dask client. Default: ``config.jobs`` local worker
        processes (a local Dask cluster), or this process for one job.

    Returns
    -------
    store : FeatureStore
        Features of shape ``(n_mels, n_frames)`` per segment. Index columns: ``row,
        segment_id, source, source_file, note_id, family, family_index, label,
        instrument_source, instrument, pitch, pitch_class, velocity, split,
        augmentation, segment_index, hop_seconds, trimmed_samples, effects (the recording
        copy's effect chain as JSON, empty otherwise), onehot_<family>...,
        shard, shard_row``.

    Raises
    ------
    DatasetError
        Bad sources, unknown labels (with ``on_unknown='error'``), a partial store
        built from other inputs, or another build or render writing ``out_dir`` now
        (it holds the folder's lock; wait for it or choose another folder). Unreadable
        audio files are skipped and listed in ``meta.json`` (``skipped``), never abort
        the build.
    OutputError
        The system refuses to write ``out_dir`` (read-only or full disk, no permission).
    """
    settings = settings or AudioSettings.preset("default")
    out_dir = Path(out_dir)
    if isinstance(ontology, (str, Path)):
        ontology = load_ontology(ontology)
    sources = ([("nsynth", Path(p)) for p in _as_list(nsynth)]
               + [("philharmonia", Path(p)) for p in _as_list(philharmonia)]
               + [("soundfont", Path(p)) for p in _as_list(soundfont)]
               + [(f"samples:{family}", Path(p)) for family, p in _sample_pairs(samples)])
    key = _build_key(sources, settings=settings, config=config)
    if (out_dir / "index.csv").is_file() and not overwrite:
        return _finished_store(out_dir, settings=settings, build_key=key)
    start = time.perf_counter()
    notes, plan = _planned_notes(sources, settings=settings, config=config, ontology=ontology)
    classes = _classes(notes, config=config)
    # a bad address fails before any write; the lock keeps a second build out until this one is done
    with (_connected(scheduler, progress=progress) as client,
          folder_lock(out_dir, job="build", clean=("shards",))):
        if (out_dir / "index.csv").is_file() and not overwrite:  # a build that held the lock finished it
            return _finished_store(out_dir, settings=settings, build_key=key)
        writer = StoreWriter(out_dir, settings=settings, overwrite=overwrite)
        _stamp_or_check_partial(out_dir, build_key=key, notes=notes)
        jobs = chunk_jobs(notes, settings=settings, classes=classes, notes_per_chunk=config.notes_per_chunk,
                          done=writer.done_chunks(), recording=config.recording)
        _encode_into(writer, jobs, n_notes=len(notes), workers=config.jobs, progress=progress, client=client)
        skipped = sorted(set(notes["note_id"]) - _stored_note_ids(writer))
        store = writer.finalize({
            "classes": classes,
            "sources": [{"kind": k, "path": str(p)} for k, p in sources],
            "n_notes": len(notes) - len(skipped),
            "skipped": skipped,
            "config": asdict(config),
            "augmentation_plan": plan.reset_index().to_dict(orient="records"),
            "build_key": key,
            **(extra_meta or {}),
        })
    log.info("built %s: %d segments from %d notes in %.1f s", out_dir, len(store),
             len(notes) - len(skipped), time.perf_counter() - start)
    return store


@contextlib.contextmanager
def _connected(scheduler, *, progress: bool, n_workers: int = 0):
    """``scheduler`` itself when it is an open client; else a client on the address
    ``scheduler``, or on a local cluster of ``n_workers`` (more than one); else ``None``
    (the jobs then run here)."""
    if not (scheduler is None or isinstance(scheduler, str)):
        yield scheduler
        return
    if not (scheduler or n_workers > 1):
        yield None
        return
    with dask_client(scheduler, n_workers=n_workers, announce=tqdm.write if progress else None) as client:
        yield client


def _as_list(value) -> list:
    if value is None:
        return []
    if isinstance(value, (str, Path)):
        return [value]
    return list(value)


def _sample_pairs(samples) -> list:
    """``(family, folder)`` pairs from pairs, ``"family=folder"`` strings or folders named by
    instrument (:func:`~auditory_deepdream.dataset.readers.sample_folders`); DatasetError otherwise."""
    pairs = []
    for item in samples or ():
        if isinstance(item, (str, Path)):
            family, sep, folder = str(item).partition("=")
            if not sep:
                pairs.extend(sample_folders(item))
                continue
            if not family or not folder:
                raise DatasetError(f"Sample folder {item!r} needs its family: FAMILY=DIR, "
                                   "e.g. piano=salamander/audio.")
            item = (family, folder)
        family, folder = item
        pairs.append((str(family), folder))
    return pairs


def _build_key(sources, *, settings: AudioSettings, config: DatasetConfig) -> str:
    """A digest of everything that decides a store's contents."""
    text = json.dumps({"sources": [(k, str(Path(p).resolve())) for k, p in sources],
                       "settings": settings.to_dict(), "config": asdict(config)},
                      sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()


def _finished_store(out_dir: Path, *, settings: AudioSettings, build_key: str) -> FeatureStore:
    """The finished store in ``out_dir``, if it was built from the same request."""
    store = FeatureStore(out_dir, settings=settings)
    if store.meta.get("build_key") != build_key:
        raise DatasetError(f"{out_dir} holds a finished store built from other inputs or options; "
                           "pass overwrite=True (--overwrite) or choose another folder.")
    return store


def _planned_notes(sources, *, settings: AudioSettings, config: DatasetConfig,
                   ontology) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read, curate, split and plan the notes; returns (notes in build order, plan)."""
    notes = apply_ontology(read_sources(sources), ontology=ontology, on_unknown=config.on_unknown)
    notes["split"] = assign_splits(notes, fractions=config.split_fractions, seed=config.seed)
    notes["duration_samples"] = read_durations(notes, sample_rate=settings.sample_rate)
    plan = plan_augmentation(notes, settings=settings, config=config)
    notes = apply_plan(notes, plan, settings=settings, config=config)
    # chunks, and so resumption, depend on this order only, not on how folders list
    return notes.sort_values("note_id", kind="stable").reset_index(drop=True), plan


def _classes(notes: pd.DataFrame, *, config: DatasetConfig) -> list[str]:
    classes = list(config.classes) if config.classes else sorted(notes["family"].unique())
    missing = sorted(set(notes["family"]) - set(classes))
    if missing:
        raise DatasetError(f"config.classes lacks families {missing} present in the sources.")
    return classes


def _stamp_or_check_partial(out_dir: Path, *, build_key: str, notes: pd.DataFrame) -> None:
    """Stamp a new build with its request, or refuse to resume a partial one made from another."""
    stamp = {"build_key": build_key, "n_notes": len(notes),
             "notes_sha1": hashlib.sha1("\n".join(notes["note_id"]).encode()).hexdigest()}
    build_file = out_dir / "build.json"
    if not build_file.is_file():
        write_json_atomic(build_file, stamp)
    elif json.loads(build_file.read_text()) != stamp:
        raise DatasetError(f"{out_dir} holds a partial store from other inputs or options; "
                           "pass overwrite=True (--overwrite) to start again.")


def _encode_into(writer: StoreWriter, jobs: list[ChunkJob], *, n_notes: int, workers: int,
                 progress: bool, client=None) -> None:
    """Run the chunk jobs (here, or on the cluster) and write each result here as it arrives."""
    pending = sum(len(job.notes) for job in jobs)
    skipped = []
    with tqdm(total=n_notes, initial=n_notes - pending, desc="encode notes", unit="note",
              disable=not progress) as bar:
        for job, chunk in map_jobs(encode_chunk, jobs, jobs=workers, client=client, name="encode",
                                   announce=tqdm.write if progress else None):
            writer.write_chunk(chunk.chunk_id, chunk.features, chunk.index)
            skipped.extend(chunk.skipped)
            bar.update(len(job.notes))
    for s in sorted(skipped, key=lambda s: s["note_id"]):
        log.warning("skipped %s: %s", s["note_id"], s["reason"])


def _stored_note_ids(writer: StoreWriter) -> set[str]:
    """Note ids in the written chunks (so a resumed build's meta equals an uninterrupted one's)."""
    # a chunk whose notes were all skipped has no note_id column
    parts = [writer.chunk_index(c, columns=lambda column: column == "note_id")
             for c in sorted(writer.done_chunks())]
    return {n for part in parts for n in part.get("note_id", ())}


# --------------------------------------------------------------------- default dataset
def default_render_config(preset: str, *, sample_rate: int, jobs: int) -> RenderConfig:
    """The render options of a preset, with every program the ontology keeps if it names none.

    Parameters
    ----------
    preset : {'small', 'demo', 'full'}
    sample_rate : int
        Render at the training rate, so nothing is resampled.
    jobs : int
        Worker processes.

    Raises
    ------
    DatasetError
        Unknown preset.
    """
    if preset not in RENDER_PRESETS:
        raise DatasetError(f"Unknown preset {preset!r}; use one of {sorted(RENDER_PRESETS)}.")
    config = replace(RENDER_PRESETS[preset], sample_rate=sample_rate, jobs=jobs)
    return config if config.programs is not None else replace(config, programs=tuple(kept_programs()))


_PRESET_RECORDING = object()  # "the preset's recording augmentation"


def build_default_dataset(out_dir, *, preset: str = "small", heldout_dir=None,
                          soundfonts=None, samples=(), renderer: str = "tinysoundfont",
                          recording=_PRESET_RECORDING,
                          settings: AudioSettings | None = None,
                          jobs: int = 2, overwrite: bool = False, progress: bool = True,
                          scheduler: str | None = None) -> dict:
    """Render the default SoundFonts and build the training store (and a held-out store).

    Training SoundFonts: every available one except the held-out one (MuseScore_General
    when installed; see :func:`~auditory_deepdream.dataset.default_soundfonts`). With
    only pip's TimGM6mb available, the GM programs flagged ``heldout_program`` in
    ``gm_programs.csv`` (one per family) are held out instead.

    Parameters
    ----------
    out_dir : path-like
        Training store folder.
    preset : {'small', 'demo', 'full'}
        ``small``: ten programs of TimGM6mb, four pitches, two velocities (tests/CI).
        ``demo``: every kept program of TimGM6mb, five pitches, two velocities (notebooks).
        ``full``: every kept program, every semitone, one velocity per note drawn across 20-127.
    heldout_dir : path-like, optional
        Also build the held-out store here (all segments in split ``test``, same classes).
    soundfonts : sequence of path-like, optional
        Extra user SoundFonts to train on (``full`` only).
    samples : sequence of (str, path-like)
        Sample folders to train on as well, ``(family, folder)`` or a folder named by
        instrument (see :func:`build_dataset`).
    renderer : {'tinysoundfont', 'fluidsynth'}
        The synthesizer of both renders (see :class:`~auditory_deepdream.dataset.RenderConfig`).
    recording : RecordingAugmentation or None, optional
        Recording-augmented copies of the training notes; default the preset's
        (``full``: 2 copies; ``small``/``demo``: none). ``None`` turns them off.
    settings : AudioSettings, optional
        Default ``AudioSettings.preset('default')``.
    jobs : int
        Worker processes of the local Dask cluster that renders and encodes (1: this process).
    overwrite : bool
        Render and build again even where finished results exist.
    progress : bool
        Show tqdm bars.
    scheduler : str, optional
        Address of a Dask scheduler to render and encode on instead (its workers must
        see ``out_dir``'s folder).

    Returns
    -------
    result : dict
        ``store`` (FeatureStore), ``heldout`` (FeatureStore or None), ``timings`` (s).
    """
    out_dir = Path(out_dir)
    settings = settings or AudioSettings.preset("default")
    render_cfg = replace(default_render_config(preset, sample_rate=settings.sample_rate, jobs=jobs),
                         renderer=renderer)
    render_dir = out_dir.with_name(out_dir.name + "-audio")  # the rendered notes, kept for a resumed build
    config = replace(DATASET_PRESETS[preset], jobs=jobs)
    if recording is not _PRESET_RECORDING:
        config = replace(config, recording=recording)
    train_fonts, held_fonts = (([pip_soundfont()], []) if preset in ("small", "demo")
                               else default_soundfonts(soundfonts or ()))
    hold_programs = not held_fonts  # no spare SoundFont: hold out GM programs instead
    extra = {"preset": preset, "training_soundfonts": [p.name for p in train_fonts],
             "heldout": _heldout_description(train_fonts=train_fonts, held_fonts=held_fonts),
             "render": asdict(render_cfg)}
    # one cluster (or none, for one job) renders and encodes both stores
    with _connected(scheduler, progress=progress, n_workers=jobs) as client:
        timings = {}
        with _stopwatch(timings, "render_train_s"):
            _render_once(render_dir / "train", soundfonts=train_fonts, config=render_cfg,
                         heldout_programs="exclude" if hold_programs else "include",
                         overwrite=overwrite, progress=progress, client=client)
        with _stopwatch(timings, "encode_train_s"):
            store = build_dataset(out_dir, soundfont=[render_dir / "train"], samples=samples, settings=settings,
                                  config=config,
                                  overwrite=overwrite, extra_meta=extra, progress=progress, scheduler=client)
        heldout = None
        if heldout_dir is not None:
            with _stopwatch(timings, "render_heldout_s"):
                if hold_programs:  # every kept program, not only the preset's, so each family has one
                    _render_once(render_dir / "heldout", soundfonts=train_fonts,
                                 config=replace(render_cfg, programs=tuple(kept_programs())),
                                 heldout_programs="only", overwrite=overwrite, progress=progress, client=client)
                else:
                    _render_once(render_dir / "heldout", soundfonts=held_fonts, config=render_cfg,
                                 heldout_programs="include", overwrite=overwrite, progress=progress, client=client)
            with _stopwatch(timings, "encode_heldout_s"):
                heldout = build_dataset(
                    heldout_dir, soundfont=[render_dir / "heldout"], settings=settings,
                    config=replace(config, split_fractions=(0.0, 0.0, 1.0), classes=tuple(store.classes)),
                    overwrite=overwrite, extra_meta={**extra, "role": "heldout", "train_store": str(out_dir)},
                    progress=progress, scheduler=client)
    return {"store": store, "heldout": heldout, "timings": timings}


@contextlib.contextmanager
def _stopwatch(timings: dict, key: str):
    start = time.perf_counter()
    yield
    timings[key] = round(time.perf_counter() - start, 1)


def _heldout_description(*, train_fonts, held_fonts) -> dict:
    """What the held-out store holds, for ``meta.json``."""
    if held_fonts:
        return {"kind": "soundfont", "soundfonts": [p.name for p in held_fonts]}
    table = gm_programs()
    return {"kind": "programs", "soundfonts": [p.name for p in train_fonts],
            "programs": table[table.heldout_program == 1]["name"].tolist()}


def _render_once(folder: Path, *, soundfonts, config: RenderConfig, heldout_programs: str,
                 overwrite: bool, progress: bool, client=None) -> None:
    """Render unless the folder already holds the same finished render."""
    stamp = folder / "render.json"
    # through JSON, so tuples compare equal to the lists read back
    want = {"soundfonts": [str(p) for p in soundfonts], "config": json.loads(json.dumps(asdict(config))),
            "heldout_programs": heldout_programs}
    if not overwrite and stamp.is_file() and (folder / "examples.json").is_file():
        have = json.loads(stamp.read_text())
        if {k: have.get(k) for k in want} == want:
            return
    render_soundfont(folder, soundfonts=soundfonts, config=config, heldout_programs=heldout_programs,
                     progress=progress, client=client)
