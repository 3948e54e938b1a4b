#!/usr/bin/env python3
"""How long should the bundled recipe train? A left-out SoundFont scored after every epoch.

The bundled members train 8 epochs of 4,000 segments per family and stop with their
validation loss (on the training SoundFonts) still falling. Whether more epochs help on
instruments no model heard is decided on the fair leave-one-SoundFont-out fold of the
bundled store (FluidR3_GM left out of ``out/datasets/merlin``: Merlin.sf2 and TimGM6mb
share few sample names with it), never on MuseScore_General. Each seed trains the bundled
recipe (:func:`ensemble_selection.recipe`: builder, size, learning rate, augmentation
strength, samples per family, patience and learning-rate schedule from the card) for up to
``--epochs`` epochs, and :class:`LeftOutCurve` scores every plain note of the left-out
SoundFont after each epoch.

One long run stands for every shorter one: the feed's order and augmentation are drawn from
``(seed, epoch)`` and the callbacks see only past epochs, so a run of ``E`` epochs follows
the first ``E`` epochs of this one and returns its best epoch by validation loss among them
(``train`` reloads it). The table reads that epoch's left-out score for every ``E``.

Each seed's curve is written atomically after every epoch to
``out/budget-fold/<left-out>/seed<N>.json``; a finished seed is not retrained, an unfinished
one starts again. Writes ``benchmarks/results/<--result>.json``.

Usage::

    python benchmarks/budget_selection.py --store out/datasets/merlin --leave-out 0 --epochs 12 --seeds 2
    python benchmarks/budget_selection.py ... --only-seed 1   # one seed per process, e.g. two at once
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import keras
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import environment, write_result  # noqa: E402
from ensemble_selection import recipe  # noqa: E402
from source_selection import left_out_scores, mean_scores  # noqa: E402

from auditory_deepdream.atomic import write_json_atomic  # noqa: E402
from auditory_deepdream.dataset import FeatureStore  # noqa: E402
from auditory_deepdream.dataset.folds import soundfont_fold  # noqa: E402
from auditory_deepdream.models import load_model  # noqa: E402
from auditory_deepdream.training import TrainConfig, train  # noqa: E402


class LeftOutCurve(keras.callbacks.Callback):
    """After every epoch, score the model on the fold's ``test`` split (the left-out SoundFont).

    Parameters
    ----------
    fold : FeatureStore
        A :func:`~auditory_deepdream.dataset.folds.soundfont_fold` store.
    path : Path
        JSON rewritten atomically after every epoch: ``{"epochs": [...], "complete": false}``.
    """

    def __init__(self, fold: FeatureStore, path: Path, *, seed: int):
        super().__init__()
        self.fold, self.path, self.seed = fold, Path(path), seed
        self.rows: list[dict] = []
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.rows.append({
            "epoch": epoch + 1, "val_loss": float(logs["val_loss"]), "val_accuracy": float(logs["val_accuracy"]),
            "learning_rate": float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)),
            "left_out": left_out_scores(self.model, self.fold, settings=self.fold.settings, classes=self.fold.classes),
            "seconds": round(time.perf_counter() - self.started, 1)})
        write_json_atomic(self.path, {"seed": self.seed, "epochs": self.rows, "complete": False})


def run_seed(fold: FeatureStore, path: Path, *, seed: int, builder: str, hp: dict, strength: float,
             budget: dict) -> list[dict]:
    """Train one seed (or reload its finished curve); return its per-epoch rows."""
    if path.is_file():
        done = json.loads(path.read_text())
        if done.get("complete"):
            return done["epochs"]
    curve = LeftOutCurve(fold, path, seed=seed)
    config = TrainConfig(**budget, seed=seed, augment=True, augment_strength=strength, verbose=0)
    train(fold, builder=builder, hp=hp, config=config, callbacks=[curve])
    write_json_atomic(path, {"seed": seed, "epochs": curve.rows, "complete": True})
    return curve.rows


def delivered(rows: list[dict], epochs: int) -> dict:
    """The row a run of ``epochs`` epochs returns: its lowest validation loss among the first ``epochs``."""
    first = rows[:epochs]
    return first[int(np.argmin([r["val_loss"] for r in first]))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default=str(ROOT / "out" / "datasets" / "merlin"))
    parser.add_argument("--leave-out", type=int, default=0, help="position of the SoundFont to leave out (0)")
    parser.add_argument("--seeds", type=int, default=2, help="seeds 0 .. N-1 (2)")
    parser.add_argument("--only-seed", type=int, help="train this seed only and write no result")
    parser.add_argument("--epochs", type=int, default=12, help="longest run (12)")
    parser.add_argument("--recipe", default="augmented", help="model whose card gives the recipe (augmented)")
    parser.add_argument("--members-dir", default=str(ROOT / "out" / "budget-fold"))
    parser.add_argument("--result", default="budget_selection")
    args = parser.parse_args()

    fold = soundfont_fold(FeatureStore(args.store), args.leave_out)
    left = Path(fold.meta["left_out"]).stem
    _, _, card = load_model(args.recipe)
    builder, hp, strength = recipe(card)
    tc = card["train_config"]
    budget = {"epochs": args.epochs, "patience": tc["patience"], "reduce_lr_patience": tc["reduce_lr_patience"],
              "samples_per_family": tc["samples_per_family"], "batch_size": tc["batch_size"]}
    seeds = [args.only_seed] if args.only_seed is not None else list(range(args.seeds))
    curves = {s: run_seed(fold, Path(args.members_dir) / left / f"seed{s}.json", seed=s, builder=builder, hp=hp,
                          strength=strength, budget=budget) for s in seeds}
    if args.only_seed is not None:
        return
    longest = min(len(c) for c in curves.values())
    table = []
    for e in range(1, longest + 1):
        got = {s: delivered(c, e) for s, c in curves.items()}
        table.append({"epochs": e, "best_epochs": {str(s): r["epoch"] for s, r in got.items()},
                      **mean_scores([r["left_out"] for r in got.values()])})
    write_result(args.result, {
        "question": "how many epochs should the bundled recipe train, judged on a SoundFont left out of training?",
        "store": str(Path(args.store)), "fold": fold.meta["left_out"],
        "recipe": {"builder": builder, "hp": hp, "augment_strength": strength}, "budget": budget,
        "bundled_epochs": tc["epochs"], "seeds": seeds, "curves": {str(s): c for s, c in curves.items()},
        "by_epochs": table, "environment": environment(), "measured_at": time.strftime("%Y-%m-%d %H:%M:%S")})


if __name__ == "__main__":
    main()
