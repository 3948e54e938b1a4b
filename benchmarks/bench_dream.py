#!/usr/bin/env python3
"""Dreamer speed, side by side with the dissertation's pipeline (``seed_baseline.py``).

Both sides run in one invocation on this machine, on the same model, the same audio
settings and the same test signals (the baseline's own ``test_audio()``, imported from
its file), and the results go to ``benchmarks/results/dream.json`` with the ratios
baseline / ours.

Scenarios (as in the baseline's docstring; seconds, median after one warm-up):
    T1 one filter, 1 step, 1-second clip, whole pipeline
    T2 every filter of the layer, 1 step each, 1-second clip (ours: one batched run)
    T3 DeepDream on the last 3 conv layers, 50 steps, 1-second clip
    T4 a 60-second piece, one filter, 1 step (ours: one pass, no segments)
Each of ours is timed on every sound path of ``dreamer.SOUND_PATHS``: original phase,
Griffin-Lim (32 iterations) and waveform.

The baseline loads ``--model`` with ``keras.models.load_model``; our models use a
registered custom layer (``MeanOverTime``), so it is run unmodified through
``python -c "import auditory_deepdream.models; runpy.run_path(baseline)"``, which
registers the layer before the baseline's own code starts.

Usage::

    python benchmarks/bench_dream.py                 # bundled model if present, else a fresh conv_blocks
    python benchmarks/bench_dream.py --model path/to/model_dir --quick
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _timed(fn, repeats: int) -> dict:
    """Time ``fn(measure=False)`` (the pipeline the baseline runs: encode, ascend, sonify), then
    record what the listener gets from one measured run (survival, spectral change)."""
    fn(measure=False)  # warm-up: traces the compiled ascent, as the baseline's warm-up builds its graph
    runs = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn(measure=False)
        runs.append(time.perf_counter() - t)
    out = {"median_s": statistics.median(runs), "runs_s": runs}
    result = fn(measure=True)
    if hasattr(result, "summary"):
        summary = result.summary()
        out["quality"] = {k: summary[k] for k in ("survival", "survival_sonified", "spectral_change_db",
                                                   "loudness_in_db", "loudness_out_db")}
    return out


def _load_baseline(path: Path):
    spec = importlib.util.spec_from_file_location("seed_baseline", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _model(arg: str | None, tmp: Path, *, dissertation_size: bool = False):
    """(model dir or .keras file, description); a fresh conv_blocks model until the bundled one exists."""
    from auditory_deepdream import models
    from auditory_deepdream.settings import AudioSettings

    if dissertation_size:
        # the reference timings: 4 conv blocks of 32..256 filters on the dissertation's 300-mel settings
        settings = AudioSettings.preset("dissertation")
        model = models.build_model("conv_blocks", {"width": 1.0}, settings=settings, n_classes=10, seed=0)
        folder = models.save_model_dir(model, tmp / "dissertation_size", settings=settings,
                                       card={"classes": [f"class{i}" for i in range(10)]})
        return folder, "conv_blocks at dissertation size (32/64/128/256 filters), dissertation settings, seed 0"
    if arg:
        return Path(arg), f"given: {arg}"
    if (models.bundled_model_dir("default") / "model.keras").is_file():
        return models.bundled_model_dir("default"), "bundled 'default'"
    settings = AudioSettings()
    model = models.build_model("conv_blocks", settings=settings, n_classes=10, seed=0)
    folder = models.save_model_dir(model, tmp / "conv_blocks", settings=settings,
                                   card={"classes": [f"class{i}" for i in range(10)]})
    return folder, "conv_blocks, default hyper-parameters, untrained (seed 0): no bundled model yet"


def run_ours(model_path: Path, baseline, *, quick: bool) -> dict:
    from auditory_deepdream import models
    from auditory_deepdream.dreamer import (SOUND_PATHS, Dreamer, audition_objective, dream, filter_objective,
                                            layers_objective)

    dreamer = Dreamer.load(model_path)
    s = dreamer.settings
    baseline.SR = baseline.SEGMENT = s.sample_rate  # test_audio() synthesises at the module's rate
    note, piece = baseline.test_audio(20 if quick else 60)
    note = note[: s.sample_rate]
    convs = models.conv_layer_names(dreamer.model)
    first, deep = convs[0], convs[-3:]
    repeats = 1 if quick else 3
    filt = filter_objective(first, 0, crop=2)  # the baseline's act[:, 2:-2, 2:-2, f]
    out = {"layer": first, "dream_layers": deep, "filters": dreamer.info.filters(first)}
    for path, how in SOUND_PATHS.items():
        def run(y, objective, steps, measure):
            return dream(y, model=dreamer, objective=objective, steps=steps, step_size=1.0, seed=0,
                         progress=False, measure=measure, **how)

        key = path.replace("-", "_")
        everyone = audition_objective(first, range(out["filters"]), crop=2)
        layers = layers_objective(dict.fromkeys(deep, 1.0))
        out[key] = {
            "T1_one_filter_1s": _timed(lambda measure: run(note, filt, 1, measure), repeats),
            "T2_all_filters_1s": _timed(lambda measure: run(note, everyone, 1, measure), 1),
            "T3_deepdream_50_steps_1s": _timed(lambda measure: run(note, layers, 50, measure), 1),
            "T4_long_piece": _timed(lambda measure: run(piece, filt, 1, measure), 1) | {"audio_s": len(piece) / s.sample_rate},
        }
    return out


def run_baseline(baseline_path: Path, model_path: Path, settings, *, quick: bool, tmp: Path) -> dict:
    model_file = model_path / "model.keras" if model_path.is_dir() else model_path
    result = tmp / "baseline.json"
    args = ["--model", str(model_file), "--json", str(result), "--sr", str(settings.sample_rate),
            "--n-fft", str(settings.n_fft), "--hop", str(settings.hop_length), "--win", str(settings.win_length),
            "--n-mels", str(settings.n_mels)] + (["--quick"] if quick else [])
    code = ("import sys, runpy; import auditory_deepdream.models; "
            f"sys.argv = [{str(baseline_path)!r}] + {args!r}; "
            f"runpy.run_path({str(baseline_path)!r}, run_name='__main__')")
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"baseline failed:\n{proc.stderr[-4000:]}")
    return json.loads(result.read_text())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", help="model directory or .keras file (default: bundled, else a fresh conv_blocks)")
    ap.add_argument("--baseline", default=str(ROOT.parent / "shared" / "bench" / "seed_baseline.py"),
                    help="path of seed_baseline.py (default: ../shared/bench/seed_baseline.py from the repo root)")
    ap.add_argument("--out", default=None,
                    help="result JSON (default: results/dream.json, or results/dream_dissertation_size.json "
                         "with --dissertation-size)")
    ap.add_argument("--quick", action="store_true", help="fewer repeats and a 20-second long piece (both sides)")
    ap.add_argument("--dissertation-size", action="store_true",
                    help="benchmark a dissertation-size conv_blocks model on the dissertation's audio settings "
                         "(the reference of the issue's timings) instead of the bundled model")
    args = ap.parse_args(argv)
    if args.out is None:
        name = "dream_dissertation_size.json" if args.dissertation_size else "dream.json"
        args.out = str(ROOT / "benchmarks" / "results" / name)

    import keras
    import tensorflow as tf

    from auditory_deepdream.atomic import write_json_atomic
    from auditory_deepdream.settings import AudioSettings

    baseline_path = Path(args.baseline).resolve()
    baseline = _load_baseline(baseline_path)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model_path, model_desc = _model(args.model, tmp, dissertation_size=args.dissertation_size)
        folder = model_path if model_path.is_dir() else model_path.parent
        settings = AudioSettings.load(folder / "settings.json")
        load_before = os.getloadavg()
        ours = run_ours(model_path, baseline, quick=args.quick)
        base = run_baseline(baseline_path, model_path, settings, quick=args.quick, tmp=tmp)
    ratios = {}
    for key in ("original", "griffin_lim"):
        ratios[key] = {t: base[t]["median_s"] / ours[key][t]["median_s"]
                       for t in ("T1_one_filter_1s", "T2_all_filters_1s", "T3_deepdream_50_steps_1s",
                                 "T4_long_piece")}
    targets = [("original", "T2_all_filters_1s", 50), ("griffin_lim", "T2_all_filters_1s", 10),
               ("original", "T4_long_piece", 30), ("original", "T3_deepdream_50_steps_1s", 3)]
    met = {f"{t} {phase}": {"target_ratio": target, "ratio": ratios[phase][t], "met": ratios[phase][t] >= target}
           for phase, t, target in targets}
    report = {
        "baseline": base,
        "ours": ours,
        "ratios_baseline_over_ours": ratios,
        "targets": met,
        "model": {"path": str(model_path), "description": model_desc, "layer": ours["layer"],
                  "dream_layers": ours["dream_layers"]},
        "audio_settings": settings.to_dict(),
        "baseline_model_loading": "seed_baseline.py is run unmodified as a subprocess via `python -c "
                                  "\"import auditory_deepdream.models; runpy.run_path(...)\"` so that the "
                                  "registered MeanOverTime layer is known to keras.models.load_model.",
        "same_signals": "ours uses the baseline's test_audio() imported from its file (1-s note, "
                        "random-note piece); T1-T4 defined as in its docstring",
        "env": {"python": platform.python_version(), "tensorflow": tf.__version__, "keras": keras.__version__,
                "cpu_count": os.cpu_count(), "load_average_at_start": load_before, "quick": args.quick},
    }
    write_json_atomic(args.out, report)
    print(json.dumps({"ratios_baseline_over_ours": ratios, "targets": met}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
