"""Build an atlas: every filter of every convolution layer dreamed, pictured, heard and exemplified.

:func:`build_atlas` runs the build in units (``chunk`` filters of one layer each,
:mod:`.dreams`), on this process or one Dask task per unit, then the natural examples
(:mod:`.examples`) and the measure of meaning (:mod:`.meaning`), and writes the site
(:mod:`.site`). Every file is written atomically and each unit's record last, so a killed build
rerun with the same command resumes at the first unfinished unit and ends with the same files.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..atomic import remove_stale_temps, write_json_atomic
from ..errors import AudioInputError, OutputError
from .config import CONFIG_FILE, AtlasConfig, AtlasError
from .dreams import dream_unit, mp3, unit_name, write_bytes_atomic
from .pictures import spectrogram_png

__all__ = ["AtlasBuild", "build_atlas", "check_output_folder", "default_clips", "atlas_units"]

UNITS = "units"          # one record per finished unit
EXAMPLES_FILE = "examples.json"


@dataclass
class AtlasBuild:
    """What a build made: where, how many files and bytes, and how long each stage took."""

    path: Path
    files: int
    bytes: int
    units: int
    units_resumed: int
    timings: dict = field(default_factory=dict)
    meaning: dict | None = None

    def line(self) -> str:
        return (f"Atlas at {self.path / 'index.html'}: {self.files} files, {self.bytes / 1e6:.1f} MB "
                f"({self.units} units, {self.units_resumed} kept from an earlier run).")


def check_output_folder(out) -> Path:
    """``out`` as a folder this process can write into (created), else :class:`OutputError`."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out} is a file; give a folder for the atlas.")
    probe = out
    while not probe.exists():
        probe = probe.parent
    if not os.access(probe, os.W_OK | os.X_OK):
        raise OutputError(f"Cannot write into {probe} (no write permission); choose another --out folder.")
    if out.is_dir() and any(out.iterdir()) and not (out / CONFIG_FILE).exists():
        raise OutputError(f"{out} holds other files and no atlas; give an empty or new folder.")
    return out


def default_clips() -> list[Path]:
    """The bundled clips (cello, flute, piano notes)."""
    from ..audio.io import EXAMPLE_CLIPS, example_clip

    return [example_clip(name) for name in EXAMPLE_CLIPS]


def atlas_units(layer_filters: dict, *, chunk: int) -> list[tuple[str, list[int]]]:
    """``(layer, filters)`` of every unit, in layer order."""
    return [(layer, list(range(start, min(start + chunk, n))))
            for layer, n in layer_filters.items() for start in range(0, n, chunk)]


def _load_clips(paths, *, settings, seconds: float) -> dict:
    from ..audio import load_audio

    clips, seen = {}, set()
    for path in paths:
        path = Path(path)
        name = "".join(c if c.isalnum() or c in "-_" else "_" for c in path.stem)
        while name in seen:
            name += "_"
        seen.add(name)
        y = load_audio(path, settings=settings)[: int(seconds * settings.sample_rate)]
        if len(y) < settings.n_fft:
            raise AudioInputError(f"{path} is too short to dream ({len(y) / settings.sample_rate:.2f} s); "
                                  "give clips of at least a second.")
        clips[name] = y
    return clips


@functools.lru_cache(maxsize=2)
def _worker_inputs(model: str, clip_paths: tuple, seconds: float):
    """The model and clips on a worker, loaded by its first unit and kept for the next ones."""
    from ..dreamer import Dreamer

    dreamer = Dreamer.load(model)
    return dreamer, _load_clips(clip_paths, settings=dreamer.settings, seconds=seconds)


def _unit_job(*, model, clip_paths, layer, filters, config: dict, out: str):
    """One unit on a Dask worker: dream it with the worker's model and clips, write, return the record."""
    cfg = AtlasConfig.from_dict(config)
    dreamer, clips = _worker_inputs(str(model), tuple(clip_paths), cfg.clip_seconds)
    record = dream_unit(dreamer, clips, layer=layer, filters=filters, config=cfg, out=Path(out))
    write_json_atomic(Path(out) / UNITS / f"{unit_name(layer, filters[0])}.json", record)
    return record


def _conv_layers(dreamer, layers) -> dict:
    from .. import models

    every = dreamer.info.layer_filters
    convs = [n for n in models.conv_layer_names(dreamer.model) if n in every] or list(every)
    if layers:
        unknown = [name for name in layers if name not in every]
        if unknown:
            raise AtlasError(f"Unknown layer {unknown[0]!r}; this model's convolution layers are "
                             f"{', '.join(convs)}.")
        convs = list(layers)
    return {name: every[name] for name in convs}


def build_atlas(model, out, *, clips=None, store=None, scheduler: str | None = None, layers=None,
                config: AtlasConfig | None = None, progress: bool = True) -> AtlasBuild:
    """Build (or resume) the atlas of ``model`` in the folder ``out``.

    Parameters
    ----------
    model : str or path-like
        A bundled model or tagger name, or a model directory.
    out : path-like
        The atlas folder (created); ``out/index.html`` opens it.
    clips : sequence of path-like, optional
        Audio the filters are dreamed on (default: the bundled cello, flute and piano notes),
        each cut to ``config.clip_seconds``.
    store : path-like, optional
        A dataset store whose segments give each filter's natural examples (encoded with the
        model's settings). None leaves them out.
    scheduler : str, optional
        A Dask scheduler address: units run there, one task each (workers must see ``out``).
    layers : sequence of str, optional
        Layers to include (default: every convolution layer).
    config : AtlasConfig, optional
    progress : bool

    Returns
    -------
    AtlasBuild

    Raises
    ------
    AtlasError, ModelError, AudioInputError, DatasetError, OutputError, ClusterError
        An unknown layer, model, unreadable clip, empty store, unwritable folder, lost scheduler.
        Finished units are kept; rerun to resume.
    """
    config = config or AtlasConfig()
    tf_log = logging.getLogger("tensorflow")
    level = tf_log.level
    tf_log.setLevel(logging.ERROR)  # clips of different lengths retrace the ascent once each: no news to a reader
    try:
        return _build(model, out, clips=clips, store=store, scheduler=scheduler, layers=layers, config=config,
                      progress=progress)
    finally:
        tf_log.setLevel(level)


def _build(model, out, *, clips, store, scheduler, layers, config: AtlasConfig, progress: bool) -> AtlasBuild:
    from tqdm.auto import tqdm

    from ..dreamer import Dreamer
    from .site import write_site

    out = check_output_folder(out)
    clip_paths = [Path(p) for p in (clips or default_clips())]
    t0 = time.perf_counter()
    dreamer = Dreamer.load(model)
    layer_filters = _conv_layers(dreamer, layers)
    clip_audio = _load_clips(clip_paths, settings=dreamer.settings, seconds=config.clip_seconds)
    found_store = None
    if store is not None:
        from .examples import open_store

        found_store = open_store(store, settings=dreamer.settings)
    (out / UNITS).mkdir(parents=True, exist_ok=True)
    remove_stale_temps(out)
    previous = out / CONFIG_FILE
    if previous.exists():
        old = json.loads(previous.read_text())
        if old.get("config") != config.to_dict() or old.get("model") != str(model):
            raise AtlasError(f"{out} holds an atlas built with other settings ({old.get('model')}, "
                             f"{old.get('config')}); give a new folder or delete it.")
    write_json_atomic(previous, {"model": str(model), "config": config.to_dict()})
    sr = dreamer.settings.sample_rate
    for name, y in clip_audio.items():
        from ..audio import encode

        write_bytes_atomic(out / "clips" / f"{name}.mp3", mp3(y, sample_rate=sr, kbps=config.kbps))
        write_bytes_atomic(out / "clips" / f"{name}.png", spectrogram_png(encode(y, settings=dreamer.settings)))
    timings = {"load_s": round(time.perf_counter() - t0, 2)}

    units = atlas_units(layer_filters, chunk=config.chunk)
    todo = [(l, f) for l, f in units if not (out / UNITS / f"{unit_name(l, f[0])}.json").is_file()]
    t1 = time.perf_counter()
    bar = tqdm(total=sum(len(f) for _, f in units), initial=sum(len(f) for _, f in units) - sum(len(f) for _, f in todo),
               desc="atlas filters", unit="filter", disable=not progress)
    if scheduler:
        from ..cluster import dask_client, run_jobs

        jobs = {unit_name(l, f[0]): {"model": str(model), "clip_paths": [str(p) for p in clip_paths], "layer": l,
                                     "filters": f, "config": config.to_dict(), "out": str(out)} for l, f in todo}
        with dask_client(scheduler, announce=None) as client:
            for _, record in run_jobs(client, _unit_job, jobs, name="atlas"):
                bar.update(len(record["filters"]))
    else:
        for layer, filters in todo:
            record = dream_unit(dreamer, clip_audio, layer=layer, filters=filters, config=config, out=out)
            write_json_atomic(out / UNITS / f"{unit_name(layer, filters[0])}.json", record)
            bar.update(len(filters))
    bar.close()
    timings["dreams_s"] = round(time.perf_counter() - t1, 2)
    records = [json.loads((out / UNITS / f"{unit_name(l, f[0])}.json").read_text()) for l, f in units]

    examples, meaning = None, None
    if found_store is not None:
        t2 = time.perf_counter()
        examples = _examples(dreamer, found_store, layer_filters, config=config, out=out, progress=progress)
        timings["examples_s"] = round(time.perf_counter() - t2, 2)
        if dreamer.info.n_classes and dreamer.card.get("kind", "classifier") == "classifier":
            from .meaning import agreement, family_pairs

            meaning = agreement(family_pairs(records, examples), seed=config.seed)
    summary = write_site(out, model=str(model), dreamer=dreamer, clips=list(clip_audio), records=records,
                         examples=examples, meaning=meaning, config=config)
    timings["total_s"] = round(time.perf_counter() - t0, 2)
    files = [p for p in out.rglob("*") if p.is_file()]
    return AtlasBuild(path=out, files=len(files), bytes=sum(p.stat().st_size for p in files), units=len(units),
                      units_resumed=len(units) - len(todo), timings=timings | {"site": summary}, meaning=meaning)


def _examples(dreamer, store, layer_filters: dict, *, config: AtlasConfig, out: Path, progress: bool) -> dict:
    """Each filter's top natural examples (computed once, kept in ``examples.json``)."""
    from .examples import filter_activations, selected_rows, top_segments, write_examples

    done = out / EXAMPLES_FILE
    if done.is_file():
        return json.loads(done.read_text())
    rows = selected_rows(len(store), config.max_segments)
    acts = filter_activations(dreamer, store, layers=list(layer_filters), rows=rows, progress=progress)
    notes = store.index["note_id"].to_numpy()[rows] if "note_id" in store.index else None
    top = {layer: rows[top_segments(a, config.top_k, groups=notes)] for layer, a in acts.items()}
    needed = np.unique(np.concatenate([t.ravel() for t in top.values()]))
    found = write_examples(store, needed, settings=dreamer.settings, config=config, out=out)
    result = {"top": {layer: t.tolist() for layer, t in top.items()}, "rows": {str(k): v for k, v in found.items()},
              "segments_searched": int(len(rows)), "store": str(Path(store.path).resolve().name)}
    write_json_atomic(done, result)
    return result
