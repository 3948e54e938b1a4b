#!/usr/bin/env python3
"""Choose the bundled model on a SoundFont it never trains on: augmentation ablation, then search.

Every choice here is scored on a *leave-one-SoundFont-out* fold of the full store
(:func:`auditory_deepdream.dataset.leave_out`): the models train on one SoundFont's notes
(and their augmented copies) and are scored on every plain note of the other, so they are
judged on a sample set they never heard. The held-out SoundFont of the final card
(MuseScore_General) takes no part.

1. **Ablation** (``results/augmentation_ablation.json``): the previous bundled model's
   architecture trained under the same reduced budget (``--epochs`` balanced epochs of
   ``--samples-per-family`` segments per family) with each augmentation on or off.
2. **Search** (``results/model_search.json``): the project's Bayesian search
   (:func:`auditory_deepdream.training.search`) per builder over size, learning rate and
   the fit-time augmentation strength, each trial with the same budget.

Both steps resume: finished arms are kept in their JSON, finished trials in their log folder.

Usage: ``python benchmarks/model_selection.py [--store out/datasets/full] [--leave-out 1]``

A training source is compared the same way: build a second store with it (e.g.
``--samples piano=...``), then run one arm on each store under its own result name::

    python benchmarks/model_selection.py --steps ablation --arms recording_and_fit_time \
        --ablation-result source_without_salamander
    python benchmarks/model_selection.py --store out/datasets/full-salamander --steps ablation \
        --arms recording_and_fit_time --ablation-result source_with_salamander
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import RESULTS, environment, write_result  # noqa: E402

from auditory_deepdream.dataset import FeatureStore  # noqa: E402
from auditory_deepdream.dataset.folds import soundfont_fold  # noqa: E402
from auditory_deepdream.training import TrainConfig, train  # noqa: E402
from auditory_deepdream.training.search import search  # noqa: E402

# the bundled model's architecture before this selection (the ablation's fixed model)
ABLATION_MODEL = ("conv_blocks", {"width": 0.25, "dense_units": 64, "dropout": 0.1, "learning_rate": 0.002})

# (store augmentations trained on, fit-time augmentation, its strength)
ARMS = {
    "none": (("none", "stretch"), False, 1.0),
    "fit_time": (("none", "stretch"), True, 1.0),
    "recording": (None, False, 1.0),
    "recording_and_fit_time": (None, True, 1.0),
}

SEARCHES = {
    "conv_blocks": {"bounds": {"width": (0.25, 0.75), "dropout": (0.0, 0.3), "log10_learning_rate": (-3.3, -2.3),
                               "augment_strength": (0.3, 1.5)},
                    "fixed": {"dense_units": 64}},
    "timbre": {"bounds": {"timbre_filters": (32, 128, int), "n_time_convs": (1, 3, int),
                          "log10_learning_rate": (-3.3, -2.3), "augment_strength": (0.3, 1.5)},
               "fixed": {"dense_units": 64, "dropout": 0.1}},
}


def _summary(test: dict) -> dict:
    return {k: test[k] for k in ("accuracy", "note_accuracy", "n", "n_notes", "per_class_accuracy",
                                 "per_class_note_accuracy")}


def run_ablation(fold: FeatureStore, *, budget: dict, out: Path, arms=tuple(ARMS)) -> dict:
    done = json.loads(out.read_text())["arms"] if out.is_file() else {}
    for name, (store_augs, fit_aug, strength) in ARMS.items():
        if name in done or name not in arms:
            continue
        config = TrainConfig(**budget, store_augmentations=store_augs, augment=fit_aug,
                             augment_strength=strength, verbose=0)
        started = time.perf_counter()
        result = train(fold, builder=ABLATION_MODEL[0], hp=ABLATION_MODEL[1], config=config)
        done[name] = {"store_augmentations": store_augs or "all", "fit_time_augmentation": fit_aug,
                      "left_out": _summary(result.test_eval), "valid_accuracy": result.val_accuracy,
                      "best_epoch": result.best_epoch, "epochs_run": len(result.history),
                      "seconds": round(time.perf_counter() - started, 1)}
        write_result(out.stem, {"arms": done, "model": list(ABLATION_MODEL), "budget": budget,
                                "fold": fold.meta.get("left_out"), "store": str(fold.meta.get("derived_from", "")),
                                "environment": environment(),
                                "measured_at": time.strftime("%Y-%m-%d %H:%M:%S")})
    return done


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default=str(ROOT / "out" / "datasets" / "full"))
    parser.add_argument("--leave-out", type=int, default=1,
                        help="position of the SoundFont to leave out in the store's render (default: 1)")
    parser.add_argument("--epochs", type=int, default=4,
                        help="epochs per ablation arm and search trial (default: 4); a count, not a time "
                             "limit, so every arm gets the same training whatever else the machine runs")
    parser.add_argument("--samples-per-family", type=int, default=1500)
    parser.add_argument("--trials", type=int, default=5, help="trials per builder")
    parser.add_argument("--steps", nargs="+", default=["ablation", "search"], choices=["ablation", "search"])
    parser.add_argument("--arms", nargs="+", default=list(ARMS), choices=list(ARMS), help="ablation arms to run")
    parser.add_argument("--ablation-result", default="augmentation_ablation",
                        help="name of the ablation's JSON in results/ (default: augmentation_ablation); "
                             "another name compares the same arms on another store")
    args = parser.parse_args()
    fold = soundfont_fold(FeatureStore(args.store), args.leave_out)
    left, fold_dir = fold.meta["left_out"], fold.path
    budget = {"epochs": args.epochs, "patience": args.epochs, "samples_per_family": args.samples_per_family,
              "seed": 0}
    if "ablation" in args.steps:
        run_ablation(fold, budget=budget, out=RESULTS / f"{args.ablation_result}.json", arms=args.arms)
    if "search" in args.steps:
        results = {}
        for builder, space in SEARCHES.items():
            log_dir = ROOT / "out" / "search" / f"{fold_dir.name}-{builder}"
            table = search(fold, builder=builder, log_dir=log_dir, n_trials=args.trials, init_points=3,
                           bounds=space["bounds"], fixed=space["fixed"],
                           config=TrainConfig(**budget, verbose=0))
            results[builder] = {"bounds": {k: list(v[:2]) for k, v in space["bounds"].items()},
                                "fixed": space["fixed"], "log_dir": str(log_dir.relative_to(ROOT)),
                                "trials": json.loads(table.to_json(orient="records"))}
        best = max(((b, t) for b, r in results.items() for t in r["trials"]), key=lambda bt: bt[1]["accuracy"])
        write_result("model_search", {"fold": left, "budget": budget,
                                      "searches": results,
                                      "best": {"builder": best[0], **best[1]},
                                      "environment": environment(),
                                      "measured_at": time.strftime("%Y-%m-%d %H:%M:%S")})


if __name__ == "__main__":
    main()
