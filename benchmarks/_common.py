"""What the scenarios share: timing, the machine, result files, the dissertation's baseline, rendered notes."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
BASELINE = Path("shared") / "bench" / "seed_baseline.py"
#: GM programs of every family the ontology keeps, rendered by the dataset scenarios
PROGRAMS = (0, 19, 24, 33, 40, 56, 65, 73, 80, 52, 42, 71)


def timed(fn, *, repeats: int = 3, warmup: int = 1) -> dict:
    """Median wall-clock seconds of ``fn()`` over ``repeats`` runs after ``warmup`` runs."""
    for _ in range(warmup):
        fn()
    runs = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t)
    return {"median_s": statistics.median(runs), "runs_s": runs}


def environment() -> dict:
    import keras
    import librosa
    import numpy
    import tensorflow as tf

    return {"python": platform.python_version(), "tensorflow": tf.__version__, "keras": keras.__version__,
            "librosa": librosa.__version__, "numpy": numpy.__version__, "cpu_count": os.cpu_count(),
            "machine": platform.machine()}


def result_path(args, name: str) -> Path:
    """``--out``/``name``.json; ``name``_quick.json under ``--quick``, so a smoke run never replaces a result."""
    return Path(args.out) / f"{name}{'_quick' if args.quick else ''}.json"


def write_result(path: Path, result: dict) -> Path:
    """Write ``result`` as JSON, atomically (numpy scalars as floats)."""
    from auditory_deepdream.atomic import write_text_atomic

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps(result, indent=2, default=float))
    print(f"wrote {path}", flush=True)
    return Path(path)


def baseline_path(given: str | None) -> Path:
    """``seed_baseline.py``: ``given``, else ``shared/bench/`` in the first folder above the checkout that has it."""
    if given:
        return Path(given).resolve()
    for folder in ROOT.parents:
        if (folder / BASELINE).is_file():
            return folder / BASELINE
    raise SystemExit(f"No {BASELINE} in any folder above {ROOT}; pass --baseline PATH, or --no-baseline.")


def run_baseline(path: Path, args: list[str], *, tmp: Path) -> dict:
    """Run the dissertation's pipeline unmodified in a fresh process and return its JSON.

    ``auditory_deepdream`` is imported first, as a user's script would: the package registers
    its Keras layers (``MeanOverTime``) when Keras loads (:mod:`auditory_deepdream.keras_objects`),
    so ``keras.models.load_model`` in the baseline can load our model.
    """
    out = tmp / "baseline.json"
    argv = [str(path), "--json", str(out), *args]
    code = (f"import sys, runpy; import auditory_deepdream; sys.argv = {argv!r}; "
            f"runpy.run_path({str(path)!r}, run_name='__main__')")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"the baseline failed ({' '.join(argv)}):\n{proc.stderr[-4000:]}")
    return json.loads(out.read_text()) | {"command": "python " + " ".join(argv), "subprocess_wall_s": wall}


def render_notes(folder: Path, *, max_pitches: int, **config) -> tuple[list, float, object]:
    """Notes of :data:`PROGRAMS` rendered from pip's TimGM6mb.sf2: (examples, seconds, RenderConfig)."""
    from auditory_deepdream.dataset import RenderConfig, pip_soundfont, render_soundfont

    cfg = RenderConfig(**{"velocities": (64, 127), "max_pitches": max_pitches, "jobs": 2, "programs": PROGRAMS,
                          **config})
    t = time.perf_counter()
    examples = render_soundfont(folder, soundfonts=[pip_soundfont()], config=cfg, progress=False)
    return examples, time.perf_counter() - t, cfg
