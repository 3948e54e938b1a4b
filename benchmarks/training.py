"""Training throughput, and whether the input pipeline or the model is the bottleneck (training.json).

Samples/s, median of repeats (100 batches of 64 per call; 5 with ``--quick``): ``generator``
(``InstrumentSequence`` batches from the store, no model); ``generator_dissertation`` (its
section 3.6: one ``.npy`` per segment, ``np.load`` per sample); ``model`` (``train_on_batch``
on augmented batches in memory); ``model_deterministic`` (float32 batches, op determinism on,
as training runs); ``fit`` (``model.fit`` on ``InstrumentSequence.dataset()``, the tf.data
feed); ``fit_augmented`` (with the fit-time augmentation, as ``train()``); ``fit_pydataset``
(Keras' PyDataset feed, augmented). The last four take turns, round after round, so that a
slow spell of the shared machine hits them alike. The model is the bundled model's
architecture unless ``--builder``. With ``--quick`` and no ``--store``, a small store is built first.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from ._common import ROOT, environment, render_notes, result_path, timed, write_result


def add_arguments(p) -> None:
    p.add_argument("--store", default=str(ROOT / "out" / "datasets" / "full"))
    p.add_argument("--builder", help="default: the bundled model's builder and hyper-parameters")
    p.add_argument("--batch-size", type=int, default=64)


def run(args) -> None:
    from auditory_deepdream.dataset import DatasetConfig, FeatureStore, build_dataset

    with tempfile.TemporaryDirectory() as tmp:
        if args.quick and not Path(args.store).is_dir():
            render_notes(Path(tmp) / "render", max_pitches=3)
            build_dataset(Path(tmp) / "store", soundfont=[Path(tmp) / "render"], config=DatasetConfig(jobs=1),
                          progress=False)
            args.store = str(Path(tmp) / "store")
        write_result(result_path(args, "training"), measure(FeatureStore(args.store), args, Path(tmp)))


def _rotation(contenders: dict, repeats: int) -> dict:
    """Each contender once to warm up, then ``repeats`` rounds of one call each, in turn."""
    for call in contenders.values():
        call()
    runs = {k: [] for k in contenders}
    for _ in range(repeats):
        for k, call in contenders.items():
            t = time.perf_counter()
            call()
            runs[k].append(time.perf_counter() - t)
    return {k: {"median_s": statistics.median(v), "runs_s": v} for k, v in runs.items()}


def measure(store, args, tmp: Path) -> dict:
    import tensorflow as tf

    from auditory_deepdream.generator import InstrumentSequence, build_index
    from auditory_deepdream.models import DEFAULT_HYPERPARAMETERS, build_model

    bs, n_batches, repeats = args.batch_size, (5 if args.quick else 100), (2 if args.quick else 3)
    n = n_batches * bs
    index = build_index(store, split="train")
    seq = InstrumentSequence(store, index, batch_size=bs, seed=0)
    timings = {"generator": timed(lambda: [seq[i] for i in range(n_batches)], repeats=repeats)}
    paths = []  # the dissertation's layout: one .npy per segment, per-family folders
    for j, row in enumerate(index["row"].to_numpy()[seq._order[:n]]):
        p = tmp / "npy" / index.loc[index["row"] == row, "family"].iloc[0] / f"seg_{j}.npy"
        p.parent.mkdir(parents=True, exist_ok=True)
        np.save(p, store.load([row])[0])
        paths.append(str(p))
    timings["generator_dissertation"] = timed(
        lambda: [np.stack([np.load(p) for p in paths[i * bs:(i + 1) * bs]])[..., None] for i in range(n_batches)],
        repeats=repeats)
    if args.builder:
        builder, hp = args.builder, DEFAULT_HYPERPARAMETERS[args.builder]
    else:
        card = json.loads((ROOT / "auditory_deepdream" / "data" / "models" / "default" / "card.json").read_text())
        builder, hp = card["builder"], {k: v for k, v in card["hyperparameters"].items() if k != "n_classes"}

    def fresh_model():
        return build_model(builder, hp, settings=store.settings, n_classes=len(store.classes), seed=0)

    aug_seq = InstrumentSequence(store, index, batch_size=bs, seed=0, augment=True, sample_weight=True)
    batches = [aug_seq[i] for i in range(n_batches)]
    model = fresh_model()
    timings["model"] = timed(lambda: [model.train_on_batch(x, y, sample_weight=w) for x, y, w in batches],
                             repeats=repeats)
    tf.config.experimental.enable_op_determinism()
    short = index.iloc[aug_seq._order[:n]].reset_index(drop=True)

    def feed(**kw):
        return InstrumentSequence(store, short, batch_size=bs, seed=0, sample_weight=True, **kw)

    plain_batches = [feed()[i] for i in range(n_batches)]
    # one model and one feed per contender, built (and traced) once as train() does: each call is one more epoch
    det_model, fit_model, aug_model, py_model = (fresh_model() for _ in range(4))
    plain_feed, aug_feed, py_feed = feed().dataset(), feed(augment=True).dataset(), feed(augment=True)
    timings |= _rotation({
        "model_deterministic": lambda: [det_model.train_on_batch(x, y, sample_weight=w) for x, y, w in plain_batches],
        "fit": lambda: fit_model.fit(plain_feed, epochs=1, verbose=0, shuffle=False),
        "fit_augmented": lambda: aug_model.fit(aug_feed, epochs=1, verbose=0, shuffle=False),
        "fit_pydataset": lambda: py_model.fit(py_feed, epochs=1, verbose=0, shuffle=False),
    }, repeats)
    rate = {k: n / v["median_s"] for k, v in timings.items()}
    return {
        "store": str(store.path), "store_rows": len(store), "builder": builder, "hyperparameters": hp,
        "n_parameters": int(model.count_params()), "batch_size": bs, "samples_timed": n,
        "input_shape": list(store.settings.input_shape), "samples_per_s": rate,
        "bottleneck": "input pipeline" if rate["generator"] < rate["model"] else "model",
        "generator_over_model": rate["generator"] / rate["model"],
        "generator_vs_dissertation_generator": rate["generator"] / rate["generator_dissertation"],
        "fit_over_model": rate["fit"] / rate["model"],
        "fit_over_train_on_batch": rate["fit"] / rate["model_deterministic"],
        "fit_augmented_over_train_on_batch": rate["fit_augmented"] / rate["model_deterministic"],
        "fit_pydataset_over_train_on_batch": rate["fit_pydataset"] / rate["model_deterministic"],
        "op_determinism_cost": rate["model"] / rate["model_deterministic"],
        "timings": timings, "environment": environment(),
        "note": "2 shared CPU cores; other jobs may have been running, compare ratios rather than rates",
        "measured_at": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
