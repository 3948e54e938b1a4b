#!/usr/bin/env python3
"""Training throughput, and whether the input pipeline or the model is the bottleneck.

Writes ``benchmarks/results/training.json``. Measurements (samples/s, median of repeats):

generator       ``InstrumentSequence`` batches gathered from the feature store, no model
generator_dissertation  the dissertation's generator (section 3.6): a DataFrame of paths, one
                ``.npy`` file per segment, ``np.load`` per sample (same features, page cache warm)
model           ``train_on_batch`` on augmented batches already in memory (the model alone)
model_deterministic  ``train_on_batch`` on float32 batches already in memory, after
                ``tf.config.experimental.enable_op_determinism()`` (as training runs)
fit             ``model.fit`` from the store on ``InstrumentSequence.dataset()``: the tf.data feed
                that training uses (float16 rows gathered in Python, converted to float32 in
                TensorFlow, prefetched), without fit-time augmentation
fit_augmented   the same feed with the fit-time augmentation (``augment=True``), as ``train()``
                runs by default: work that ``train_on_batch`` on ready batches does not do
fit_pydataset   ``model.fit`` on the ``InstrumentSequence`` itself (Keras' PyDataset feed, where the
                conversion and augmentation run in the training thread), augmented

The last four take turns for ``repeats`` rounds after one warm-up call each (100 batches
of 64 per call), so that a slow spell of the shared machine hits them alike; medians are
reported. ``fit_over_train_on_batch`` (the feed) and ``fit_augmented_over_train_on_batch``
compare each fit with ``model_deterministic``.
The model is the bundled model's architecture (builder and hyper-parameters from its card)
unless ``--builder`` is given.

Usage: ``python benchmarks/bench_training.py [--store out/datasets/full] [--quick]``
"""

from __future__ import annotations

import argparse
import json
import statistics
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
    parser.add_argument("--store", default=str(ROOT / "out" / "datasets" / "full"))
    parser.add_argument("--builder", help="default: the bundled model's builder and hyper-parameters")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    store = FeatureStore(args.store)
    bs, n_batches = args.batch_size, (5 if args.quick else 100)
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

    if args.builder:
        builder, hp = args.builder, DEFAULT_HYPERPARAMETERS[args.builder]
    else:
        card = json.loads((ROOT / "auditory_deepdream" / "data" / "models" / "default" / "card.json").read_text())
        builder = card["builder"]
        hp = {k: v for k, v in card["hyperparameters"].items() if k != "n_classes"}
    args.builder = builder
    aug_seq = InstrumentSequence(store, index, batch_size=bs, seed=0, augment=True, sample_weight=True)
    batches = [aug_seq[i] for i in range(n_batches)]

    def fresh_model():
        return build_model(builder, hp, settings=store.settings, n_classes=len(store.classes), seed=0)

    model = fresh_model()

    def run_model():
        for x, y, w in batches:
            model.train_on_batch(x, y, sample_weight=w)

    mod = timed(run_model, repeats=repeats)

    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()
    short_index = index.iloc[aug_seq._order[:n]].reset_index(drop=True)
    plain = InstrumentSequence(store, short_index, batch_size=bs, seed=0, sample_weight=True)
    plain_batches = [plain[i] for i in range(n_batches)]
    # one model and one feed per contender, each built (and its functions traced) once, as
    # train() does; every call below is one more epoch of it. The contenders take turns,
    # round after round, so that a slow spell of the shared machine hits them alike.
    det_model, fit_model, aug_model, py_model = (fresh_model() for _ in range(4))
    feed = InstrumentSequence(store, short_index, batch_size=bs, seed=0, sample_weight=True).dataset()
    aug_feed = InstrumentSequence(store, short_index, batch_size=bs, seed=0, augment=True,
                                  sample_weight=True).dataset()
    py_feed = InstrumentSequence(store, short_index, batch_size=bs, seed=0, augment=True, sample_weight=True)
    contenders = {
        "model_deterministic": lambda: [det_model.train_on_batch(x, y, sample_weight=w) for x, y, w in plain_batches],
        "fit": lambda: fit_model.fit(feed, epochs=1, verbose=0, shuffle=False),
        "fit_augmented": lambda: aug_model.fit(aug_feed, epochs=1, verbose=0, shuffle=False),
        "fit_pydataset": lambda: py_model.fit(py_feed, epochs=1, verbose=0, shuffle=False),
    }
    for run in contenders.values():  # warm-up: traces and first epochs
        run()
    runs = {k: [] for k in contenders}
    for _ in range(repeats):
        for k, run in contenders.items():
            t = time.perf_counter()
            run()
            runs[k].append(time.perf_counter() - t)
    turns = {k: {"median_s": statistics.median(v), "runs_s": v} for k, v in runs.items()}
    det, fit, fit_aug, fit_py = (turns[k] for k in contenders)

    rate = {k: n / v["median_s"] for k, v in
            {"generator": gen, "generator_dissertation": old, "model": mod, "model_deterministic": det,
             "fit": fit, "fit_augmented": fit_aug, "fit_pydataset": fit_py}.items()}
    result = {
        "store": str(store.path), "store_rows": len(store), "builder": args.builder, "hyperparameters": hp,
        "n_parameters": int(model.count_params()), "batch_size": bs, "samples_timed": n,
        "input_shape": list(store.settings.input_shape),
        "samples_per_s": rate,
        "bottleneck": "input pipeline" if rate["generator"] < rate["model"] else "model",
        "generator_over_model": rate["generator"] / rate["model"],
        "generator_vs_dissertation_generator": rate["generator"] / rate["generator_dissertation"],
        "fit_over_model": rate["fit"] / rate["model"],
        "fit_over_train_on_batch": rate["fit"] / rate["model_deterministic"],
        "fit_augmented_over_train_on_batch": rate["fit_augmented"] / rate["model_deterministic"],
        "fit_pydataset_over_train_on_batch": rate["fit_pydataset"] / rate["model_deterministic"],
        "op_determinism_cost": rate["model"] / rate["model_deterministic"],
        "timings": {"generator": gen, "generator_dissertation": old, "model": mod,
                    "model_deterministic": det, "fit": fit, "fit_augmented": fit_aug, "fit_pydataset": fit_py},
        "environment": environment(),
        "note": "2 shared CPU cores; other jobs may have been running, compare ratios rather than rates",
        "measured_at": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    write_result("training", result)


if __name__ == "__main__":
    main()
