#!/usr/bin/env python3
"""Training throughput, and whether the input pipeline or the model is the bottleneck.

Writes ``benchmarks/results/training.json``. Measurements (samples/s, median of repeats):

generator       ``InstrumentSequence`` batches gathered from the feature store, no model
generator_dissertation  the dissertation's generator (section 3.6): a DataFrame of paths, one
                ``.npy`` file per segment, ``np.load`` per sample (same features, page cache warm)
model           ``train_on_batch`` on batches already in memory (the model alone)
model_deterministic  the same after ``tf.config.experimental.enable_op_determinism()``
fit             ``model.fit`` fed by the generator (what training actually runs at)

The bottleneck is the slower of ``generator`` and ``model``; ``fit`` should sit near it.

Usage: ``python benchmarks/bench_training.py [--store out/datasets/default] [--quick]``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import environment, timed, write_result  # noqa: E402

from auditory_deepdream.generator import InstrumentSequence, build_index  # noqa: E402
from auditory_deepdream.models import DEFAULT_HYPERPARAMETERS, build_model  # noqa: E402
from auditory_deepdream.dataset import FeatureStore  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default=str(ROOT / "out" / "datasets" / "default"))
    parser.add_argument("--builder", default="conv_blocks")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    store = FeatureStore(args.store)
    bs, n_batches = args.batch_size, (5 if args.quick else 20)
    repeats = 2 if args.quick else 3
    index = build_index(store, split="train")
    seq = InstrumentSequence(store, index, batch_size=bs, seed=0)
    n = n_batches * bs

    def run_generator():
        for i in range(n_batches):
            seq[i]

    gen = timed(run_generator, repeats=repeats)

    # dissertation layout: one .npy per segment, looked up through a DataFrame of paths
    with tempfile.TemporaryDirectory() as tmp:
        rows = index["row"].to_numpy()[seq._order[: n]]
        paths = []
        for j, row in enumerate(rows):
            p = Path(tmp) / index.loc[index["row"] == row, "family"].iloc[0] / f"seg_{j}.npy"
            p.parent.mkdir(exist_ok=True)
            np.save(p, store.load([row])[0])
            paths.append(str(p))

        def run_dissertation():
            for i in range(n_batches):
                batch = paths[i * bs:(i + 1) * bs]
                np.stack([np.load(p) for p in batch])[..., None]

        old = timed(run_dissertation, repeats=repeats)

    hp = DEFAULT_HYPERPARAMETERS[args.builder]
    model = build_model(args.builder, hp, settings=store.settings, n_classes=len(store.classes), seed=0)
    batches = [seq[i] for i in range(n_batches)]

    def run_model():
        for x, y in batches:
            model.train_on_batch(x, y)

    mod = timed(run_model, repeats=repeats)

    def run_fit():
        short = InstrumentSequence(store, index.iloc[: n], batch_size=bs, seed=0)
        model.fit(short, epochs=1, verbose=0)

    fit = timed(run_fit, repeats=repeats)

    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()
    det_model = build_model(args.builder, hp, settings=store.settings, n_classes=len(store.classes), seed=0)

    def run_det():
        for x, y in batches:
            det_model.train_on_batch(x, y)

    det = timed(run_det, repeats=repeats)

    rate = {k: n / v["median_s"] for k, v in
            {"generator": gen, "generator_dissertation": old, "model": mod, "model_deterministic": det,
             "fit": fit}.items()}
    result = {
        "store": str(store.path), "store_rows": len(store), "builder": args.builder, "hyperparameters": hp,
        "n_parameters": int(model.count_params()), "batch_size": bs, "samples_timed": n,
        "input_shape": list(store.settings.input_shape),
        "samples_per_s": rate,
        "bottleneck": "input pipeline" if rate["generator"] < rate["model"] else "model",
        "generator_over_model": rate["generator"] / rate["model"],
        "generator_vs_dissertation_generator": rate["generator"] / rate["generator_dissertation"],
        "fit_over_model": rate["fit"] / rate["model"],
        "op_determinism_cost": rate["model"] / rate["model_deterministic"],
        "timings": {"generator": gen, "generator_dissertation": old, "model": mod,
                    "model_deterministic": det, "fit": fit},
        "environment": environment(),
        "note": "2 shared CPU cores; other jobs may have been running, compare ratios rather than rates",
        "measured_at": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    write_result("training", result)


if __name__ == "__main__":
    main()
