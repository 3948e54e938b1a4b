"""Speed against the dissertation's way: dreams, the audio front end, the dataset (dream/frontend/dataset.json).

``dream``: our dreamer and the dissertation's pipeline (``seed_baseline.py``, unmodified, in a
fresh process) in one invocation, on the same model, audio settings and test signals (its
``test_audio()``), with the ratios baseline / ours, for its scenarios (median seconds after a
warm-up): T1 one filter, 1 step, 1-second clip; T2 every filter of the layer, 1 step each (ours:
one batched run); T3 DeepDream on the last 3 conv layers, 50 steps; T4 a 60-second piece, one
filter, 1 step (ours: one pass). Ours on every sound path. Model: ``--model``, else the bundled
``default``; ``--dissertation-size``: 32..256-filter conv blocks on 300 mels (dream_dissertation_size.json).

``frontend``: log-mel segments/s with librosa (``audio.encode``) and the TensorFlow layer;
Griffin-Lim segments/s batched (``audio.decode``) against one ``mel_to_audio`` per segment.

``dataset``: notes/s rendered from TimGM6mb.sf2; segments/s of ``build_dataset`` and of the
log-mel alone against per-segment ``librosa``; random training batches from the feature store
against the dissertation's one ``.npy`` per segment read through a DataFrame (page cache warm,
process CPU time: the cores are shared).
"""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from ._common import ROOT, environment, render_notes, result_path, run_baseline, baseline_path, timed, write_result

PARTS = ("dream", "frontend", "dataset")
TESTS = ("T1_one_filter_1s", "T2_all_filters_1s", "T3_deepdream_50_steps_1s", "T4_long_piece")


def add_arguments(p) -> None:
    p.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS), help="what to time (default: all)")
    p.add_argument("--model", help="dream: model directory or .keras file (default: the bundled 'default')")
    p.add_argument("--dissertation-size", action="store_true",
                   help="dream: a dissertation-size conv_blocks model on the dissertation's settings")
    p.add_argument("--baseline", help="seed_baseline.py (default: shared/bench/ above the checkout)")


def run(args) -> None:
    for part in args.parts:
        {"dream": dream_speed, "frontend": frontend_speed, "dataset": dataset_speed}[part](args)


# ---------------------------------------------------------------------------------- dream
def _dream_model(args, tmp: Path) -> tuple[Path, str]:
    from auditory_deepdream import models
    from auditory_deepdream.settings import AudioSettings

    if args.dissertation_size:
        settings = AudioSettings.preset("dissertation")
        model = models.build_model("conv_blocks", {"width": 1.0}, settings=settings, n_classes=10, seed=0)
        folder = models.save_model_dir(model, tmp / "dissertation_size", settings=settings,
                                       card={"classes": [f"class{i}" for i in range(10)]})
        return folder, "conv_blocks at dissertation size (32/64/128/256 filters), dissertation settings, seed 0"
    if args.model:
        return Path(args.model), f"given: {args.model}"
    return models.bundled_model_dir("default"), "bundled 'default'"


def _timed_dream(fn, repeats: int) -> dict:
    """Time ``fn(measure=False)`` (encode, ascend, sonify: what the baseline does), then measure one run."""
    out = timed(lambda: fn(measure=False), repeats=repeats)
    summary = fn(measure=True).summary()
    out["quality"] = {k: summary[k] for k in ("survival", "survival_sonified", "spectral_change_db",
                                              "loudness_in_db", "loudness_out_db")}
    return out


def dream_ours(model_path: Path, baseline, *, quick: bool) -> dict:
    from auditory_deepdream import models
    from auditory_deepdream.dreamer import (SOUND_PATHS, DreamOptions, Dreamer, audition_objective, dream,
                                            filter_objective, layers_objective)

    dreamer = Dreamer.load(model_path)
    s = dreamer.settings
    baseline.SR = baseline.SEGMENT = s.sample_rate  # test_audio() synthesises at the module's rate
    note, piece = baseline.test_audio(20 if quick else 60)
    note = note[: s.sample_rate]
    convs = models.conv_layer_names(dreamer.model)
    first, deep = convs[0], convs[-3:]
    repeats = 1 if quick else 3
    out = {"layer": first, "dream_layers": deep, "filters": dreamer.info.filters(first)}
    one = filter_objective(first, 0, crop=2)  # the baseline's act[:, 2:-2, 2:-2, f]
    every = audition_objective(first, range(out["filters"]), crop=2)
    layers = layers_objective(dict.fromkeys(deep, 1.0))
    for path, how in SOUND_PATHS.items():
        def run(y, objective, steps, measure, how=how):
            return dream(y, model=dreamer, objective=objective, progress=False, measure=measure,
                         options=DreamOptions(steps=steps, step_size=1.0, seed=0, **how))

        out[path.replace("-", "_")] = {
            "T1_one_filter_1s": _timed_dream(lambda measure: run(note, one, 1, measure), repeats),
            "T2_all_filters_1s": _timed_dream(lambda measure: run(note, every, 1, measure), 1),
            "T3_deepdream_50_steps_1s": _timed_dream(lambda measure: run(note, layers, 50, measure), 1),
            "T4_long_piece": _timed_dream(lambda measure: run(piece, one, 1, measure), 1)
            | {"audio_s": len(piece) / s.sample_rate},
        }
    return out


def dream_speed(args) -> None:
    import keras
    import tensorflow as tf

    from auditory_deepdream.settings import AudioSettings

    path = baseline_path(args.baseline)
    spec = importlib.util.spec_from_file_location("seed_baseline", path)
    baseline = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(baseline)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model_path, description = _dream_model(args, tmp)
        settings = AudioSettings.load((model_path if model_path.is_dir() else model_path.parent) / "settings.json")
        load_before = os.getloadavg()
        ours = dream_ours(model_path, baseline, quick=args.quick)
        model_file = model_path / "model.keras" if model_path.is_dir() else model_path
        base = run_baseline(path, ["--model", str(model_file), "--sr", str(settings.sample_rate),
                                   "--n-fft", str(settings.n_fft), "--hop", str(settings.hop_length),
                                   "--win", str(settings.win_length), "--n-mels", str(settings.n_mels)]
                            + (["--quick"] if args.quick else []), tmp=tmp)
    ratios = {key: {t: base[t]["median_s"] / ours[key][t]["median_s"] for t in TESTS}
              for key in ("original", "griffin_lim")}
    targets = [("original", "T2_all_filters_1s", 50), ("griffin_lim", "T2_all_filters_1s", 10),
               ("original", "T4_long_piece", 30), ("original", "T3_deepdream_50_steps_1s", 3)]
    met = {f"{t} {phase}": {"target_ratio": target, "ratio": ratios[phase][t], "met": ratios[phase][t] >= target}
           for phase, t, target in targets}
    write_result(result_path(args, "dream_dissertation_size" if args.dissertation_size else "dream"), {
        "baseline": base, "ours": ours, "ratios_baseline_over_ours": ratios, "targets": met,
        "model": {"path": str(model_path), "description": description, "layer": ours["layer"],
                  "dream_layers": ours["dream_layers"]},
        "audio_settings": settings.to_dict(),
        "baseline_model_loading": "seed_baseline.py is run unmodified as a subprocess via `python -c \"import "
                                  "auditory_deepdream; runpy.run_path(...)\"`; the package registers its "
                                  "layers (MeanOverTime) with keras.models.load_model when Keras loads.",
        "same_signals": "ours uses the baseline's test_audio() imported from its file (1-s note, random-note "
                        "piece); T1-T4 defined as in its docstring",
        "env": {"python": platform.python_version(), "tensorflow": tf.__version__, "keras": keras.__version__,
                "cpu_count": os.cpu_count(), "load_average_at_start": load_before, "quick": args.quick},
    })
    print(json.dumps({"ratios_baseline_over_ours": ratios, "targets": met}, indent=2))


# ------------------------------------------------------------------------------- frontend
def frontend_speed(args) -> None:
    import librosa
    import tensorflow as tf

    from auditory_deepdream.audio import EXAMPLE_CLIPS, decode, encode, example_clip, load_audio, segment
    from auditory_deepdream.layers import LogMelSpectrogram
    from auditory_deepdream.settings import AudioSettings

    s = AudioSettings.preset("default")
    n, n_dec, gl_iters = (16, 2, 16) if args.quick else (64, 16, 32)
    segs = np.concatenate([segment(load_audio(example_clip(c), settings=s), settings=s, hop_seconds=0.25)
                           for c in EXAMPLE_CLIPS])
    segs = np.resize(segs, (n, s.segment_samples)).astype(np.float32)
    layer = LogMelSpectrogram(s)
    tf_encode = tf.function(lambda y: layer(y), reduce_retracing=True)
    t_lib = timed(lambda: encode(segs, settings=s))
    t_tf = timed(lambda: tf_encode(tf.constant(segs)).numpy())
    mel = encode(segs, settings=s)[:n_dec]
    t_batched = timed(lambda: decode(mel, settings=s, n_iter=gl_iters, seed=0), repeats=1)

    def per_segment():
        for m in mel:
            librosa.feature.inverse.mel_to_audio(
                librosa.db_to_power(m), sr=s.sample_rate, n_fft=s.n_fft, hop_length=s.hop_length,
                win_length=s.win_length, fmin=s.fmin, fmax=s.mel_fmax, n_iter=gl_iters)

    t_per = timed(per_segment, repeats=1)
    write_result(result_path(args, "frontend"), {
        "audio": "bundled FluidR3 notes (cello C3, flute A4, piano E4), 1 s segments, 0.25 s hop",
        "settings": s.to_dict(),
        "threads": {"tf_intra_op": tf.config.threading.get_intra_op_parallelism_threads()},
        "encode": {"segments": n, "librosa_segments_per_s": n / t_lib["median_s"],
                   "tf_layer_segments_per_s": n / t_tf["median_s"],
                   "tf_over_librosa": t_lib["median_s"] / t_tf["median_s"]},
        "decode": {"segments": n_dec, "griffin_lim_iters": gl_iters,
                   "batched_segments_per_s": n_dec / t_batched["median_s"],
                   "mel_to_audio_per_segment_segments_per_s": n_dec / t_per["median_s"],
                   "batched_over_per_segment": t_per["median_s"] / t_batched["median_s"]},
        "env": environment(),
    })


# -------------------------------------------------------------------------------- dataset
def _encode_speed(render: Path, tmp: Path, settings) -> tuple[dict, object]:
    import librosa

    from auditory_deepdream.audio import encode
    from auditory_deepdream.dataset import DatasetConfig, build_dataset

    t = time.perf_counter()
    store = build_dataset(tmp / "store", soundfont=[render], settings=settings,
                          config=DatasetConfig(notes_per_chunk=32, jobs=2), progress=False)
    dt = time.perf_counter() - t
    build = {"segments": len(store), "notes": store.meta["n_notes"], "seconds": round(dt, 2),
             "segments_per_s": round(len(store) / dt, 1), "workers": 2}
    # the log-mel step alone, one process, batched against the dissertation's per-segment calls
    segs = np.random.default_rng(0).standard_normal((256, settings.segment_samples)).astype(np.float32) * 0.1
    encode(segs[:4], settings=settings)
    t = time.perf_counter()
    encode(segs, settings=settings)
    ours = len(segs) / (time.perf_counter() - t)
    t = time.perf_counter()
    for y in segs[:64]:
        librosa.power_to_db(librosa.feature.melspectrogram(
            y=y, sr=settings.sample_rate, n_fft=settings.n_fft, hop_length=settings.hop_length,
            win_length=settings.win_length, n_mels=settings.n_mels))
    theirs = 64 / (time.perf_counter() - t)
    return {"build": build, "logmel_only": {"ours_segments_per_s": round(ours, 1),
                                            "dissertation_segments_per_s": round(theirs, 1),
                                            "ratio": round(ours / theirs, 2)}}, store


def _load_speed(source, tmp: Path, settings, n: int, batch: int, n_batches: int) -> dict:
    import pandas as pd

    from auditory_deepdream.dataset import StoreWriter

    rng = np.random.default_rng(0)
    picks = rng.integers(0, len(source), n)
    feats, families, classes = source.load(picks), source.index["family"].to_numpy()[picks], source.classes
    writer = StoreWriter(tmp / "load-store", settings=settings, overwrite=True)  # ours: n rows, chunks of 4096
    for c, a in enumerate(range(0, n, 4096)):
        idx = pd.DataFrame({"segment_id": np.arange(a, min(a + 4096, n)), "family": families[a:a + 4096]})
        for k in classes:
            idx[f"onehot_{k}"] = (idx["family"] == k).astype(int)
        writer.write_chunk(c, feats[a:a + 4096], idx)
    store = writer.finalize({"classes": classes})
    onehot = store.index[[f"onehot_{k}" for k in classes]].to_numpy()
    paths = []  # the dissertation's: one float32 .npy per segment in per-family folders
    for i, (f, x) in enumerate(zip(families, feats)):
        p = tmp / "npy" / f / f"{f}_segment_{i}.npy"
        p.parent.mkdir(parents=True, exist_ok=True)
        np.save(p, x.astype(np.float32))
        paths.append(str(p))
    frame, eye = pd.DataFrame({"path": paths, "family": families}), np.eye(len(classes))

    def theirs(rows):  # the dissertation's generator (section 3.6): DataFrame rows, one np.load per sample
        part = frame.iloc[rows]
        return (np.array([np.load(p) for p in part["path"]])[..., None],
                np.array([eye[classes.index(f)] for f in part["family"]]))

    def ours(rows, dtype=np.float32):
        return store.load(rows, dtype=dtype)[..., None], onehot[rows]

    order = [rng.integers(0, n, batch) for _ in range(n_batches)]
    store.load(np.arange(n))  # warm both page caches fully
    theirs(np.arange(n))

    def rate(fn, clock):
        times = []
        for _ in range(3):
            t = clock()
            for rows in order:
                fn(rows)
            times.append(clock() - t)
        return n_batches * batch / statistics.median(times)

    cpu = {"ours": rate(ours, time.process_time), "ours16": rate(lambda r: ours(r, np.float16), time.process_time),
           "theirs": rate(theirs, time.process_time)}
    wall = {"ours": rate(ours, time.perf_counter), "theirs": rate(theirs, time.perf_counter)}
    (x1, y1), (x2, y2) = ours(order[0]), theirs(order[0])
    assert np.allclose(x1, x2.astype(np.float16).astype(np.float32)) and np.array_equal(y1, y2)
    return {"segments": n, "batch_size": batch, "batches": n_batches,
            "clock": "process CPU time (warm page cache, both layouts)",
            "store_samples_per_s": round(cpu["ours"], 1), "one_npy_per_segment_samples_per_s": round(cpu["theirs"], 1),
            "ratio": round(cpu["ours"] / cpu["theirs"], 1), "target_ratio": 50,
            "store_float16_samples_per_s": round(cpu["ours16"], 1),
            "ratio_float16": round(cpu["ours16"] / cpu["theirs"], 1),
            "note": "store rows are float16; float32 output spends most of its time converting "
                    "(numpy float16->float32), the gather itself is the float16 figure",
            "wall": {"store_samples_per_s": round(wall["ours"], 1),
                     "one_npy_per_segment_samples_per_s": round(wall["theirs"], 1),
                     "ratio": round(wall["ours"] / wall["theirs"], 1)},
            "store_bytes": sum(f.stat().st_size for f in (tmp / "load-store" / "shards").glob("*.npy")),
            "npy_bytes": sum(os.path.getsize(p) for p in paths)}


def dataset_speed(args) -> None:
    from auditory_deepdream.settings import AudioSettings

    settings = AudioSettings.preset("default")
    result = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
                          "load_average_at_start": [round(x, 2) for x in os.getloadavg()]},
              "settings": "default", "quick": args.quick}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        notes, seconds, cfg = render_notes(tmp / "render", max_pitches=4 if args.quick else 8)
        result["render"] = {"notes": len(notes), "seconds": round(seconds, 2),
                            "notes_per_s": round(len(notes) / seconds, 1),
                            "note_seconds": cfg.held_seconds + cfg.release_seconds, "workers": cfg.jobs,
                            "soundfont": "TimGM6mb.sf2"}
        result["encode"], store = _encode_speed(tmp / "render", tmp, settings)
        result["load"] = _load_speed(store, tmp, settings, n=5000 if args.quick else 20000, batch=64,
                                     n_batches=50 if args.quick else 200)
    report = ROOT / "out" / "datasets" / "build_report.json"
    if report.is_file():  # written by the full default build
        result["full_default_build"] = json.loads(report.read_text())
    write_result(result_path(args, "dataset"), result)
