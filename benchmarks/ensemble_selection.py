#!/usr/bin/env python3
"""One model or several? Seeds of the bundled recipe, alone and averaged, on a left-out SoundFont.

The question is decided on the leave-one-SoundFont-out fold that chose the bundled
model's recipe (:mod:`model_selection`): every member trains on the fold's training
sources only (FluidR3_GM, the Salamander piano and their augmented copies) with the
bundled model's builder, size, learning rate and augmentation strength, under the
ablation's reduced budget, changing only the seed. Each member, and the averages of the
first 2 and 3 (:func:`auditory_deepdream.ensembles.average_models`: the softmax of their
mean log-probability), is scored on every plain note of the left-out TimGM6mb. The
held-out SoundFont of the final card (MuseScore_General) takes no part.

Members are saved under ``out/ensemble-fold/`` so a killed run resumes where it stopped.
Writes ``benchmarks/results/ensemble_selection.json``.

Usage: ``python benchmarks/ensemble_selection.py [--store out/datasets/full-salamander] [--seeds 3]``
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

from _common import environment, write_result  # noqa: E402

from auditory_deepdream.atomic import write_json_atomic  # noqa: E402
from auditory_deepdream.dataset import FeatureStore  # noqa: E402
from auditory_deepdream.dataset.folds import soundfont_fold  # noqa: E402
from auditory_deepdream.models.ensembles import average_models  # noqa: E402
from auditory_deepdream.models import load_model, save_model_dir  # noqa: E402
from auditory_deepdream.training import TrainConfig, evaluate, train  # noqa: E402

SCORES = ("accuracy", "note_accuracy", "n", "n_notes", "per_class_accuracy", "per_class_note_accuracy")


def recipe(card: dict) -> tuple[str, dict, float]:
    """The bundled model's builder, hyper-parameters and augmentation strength, from its card."""
    hp = {k: v for k, v in card["hyperparameters"].items() if k != "n_classes"}
    return card["builder"], hp, float(card["train_config"]["augment_strength"])


def add_fold_options(parser: argparse.ArgumentParser, *, result: str) -> None:
    """Options of a comparison on the fair fold: the bundled store without FluidR3_GM, the short budget,
    and the recipe's members that ``source_selection.py --soundfont out/soundfonts/Merlin.sf2 --leave-out 0``
    trained there (the arm without the change)."""
    parser.add_argument("--store", default=str(ROOT / "out" / "datasets" / "merlin"))
    parser.add_argument("--leave-out", type=int, default=0, help="position of the SoundFont to leave out (0)")
    parser.add_argument("--seeds", type=int, default=3, help="members per arm, seeds 0 .. N-1 (3)")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--samples-per-family", type=int, default=1500)
    parser.add_argument("--recipe", default="augmented", help="model whose card gives the recipe (augmented)")
    parser.add_argument("--baseline-members", default="Merlin-with",
                        help="folder prefix of the recipe's own fold members under --members-dir/<left-out>")
    parser.add_argument("--members-dir", default=str(ROOT / "out" / "source-fold"))
    parser.add_argument("--result", default=result)


def open_fold(args) -> tuple[FeatureStore, str, tuple[str, dict, float], dict]:
    """The fold of :func:`add_fold_options`' arguments, its left-out SoundFont's stem, the recipe and the budget."""
    fold = soundfont_fold(FeatureStore(args.store), args.leave_out)
    _, _, card = load_model(args.recipe)
    budget = {"epochs": args.epochs, "patience": args.epochs, "samples_per_family": args.samples_per_family}
    return fold, Path(fold.meta["left_out"]).stem, recipe(card), budget


def train_member(fold: FeatureStore, folder: Path, *, seed: int, builder: str, hp: dict, strength: float,
                 budget: dict, options: dict | None = None) -> dict:
    """Train (or reload) the member of ``seed``; return its training facts.

    ``options`` are more :class:`TrainConfig` fields (e.g. ``{"warp_semitones": 2.0}``)."""
    facts_file = folder / "facts.json"
    if facts_file.is_file():
        return json.loads(facts_file.read_text())
    started = time.perf_counter()
    config = TrainConfig(**budget, **(options or {}), seed=seed, augment=True, augment_strength=strength, verbose=0)
    result = train(fold, builder=builder, hp=hp, config=config)
    save_model_dir(result.model, folder, settings=result.settings,
                   card={"classes": result.classes, "builder": builder, "hyperparameters": result.hp, "seed": seed})
    facts = {"seed": seed, "valid_accuracy": result.val_accuracy, "best_epoch": result.best_epoch,
             "epochs_run": len(result.history), "seconds": round(time.perf_counter() - started, 1)}
    write_json_atomic(facts_file, facts)  # last: its presence means the member is complete
    return facts


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default=str(ROOT / "out" / "datasets" / "full-salamander"))
    parser.add_argument("--leave-out", type=int, default=1, help="position of the SoundFont to leave out (1)")
    parser.add_argument("--seeds", type=int, default=3, help="members to train, seeds 0 .. N-1 (3)")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--samples-per-family", type=int, default=1500)
    parser.add_argument("--recipe", default="augmented", help="model whose card gives the recipe (augmented)")
    parser.add_argument("--members-dir", default=str(ROOT / "out" / "ensemble-fold"))
    args = parser.parse_args()

    fold = soundfont_fold(FeatureStore(args.store), args.leave_out)
    left = fold.meta["left_out"]
    _, _, card = load_model(args.recipe)
    builder, hp, strength = recipe(card)
    budget = {"epochs": args.epochs, "patience": args.epochs, "samples_per_family": args.samples_per_family}

    members, facts = [], {}
    for seed in range(args.seeds):
        folder = Path(args.members_dir) / f"seed{seed}"
        facts[seed] = train_member(fold, folder, seed=seed, builder=builder, hp=hp, strength=strength, budget=budget)
        members.append(load_model(folder))
    settings, classes = members[0][1], members[0][2]["classes"]

    def score(model):
        result = evaluate(model, fold, settings=settings, classes=classes, split="test", min_audio_fraction=0.5)
        return {k: result[k] for k in SCORES}

    singles = {f"seed{s}": {**facts[s], "left_out": score(m)} for s, (m, _, _) in enumerate(members)}
    ensembles = {}
    for k in range(2, args.seeds + 1):
        ensembles[f"seeds 0-{k - 1}"] = {"members": k,
                                         "left_out": score(average_models([m for m, _, _ in members[:k]]))}
    mean_single = sum(v["left_out"]["note_accuracy"] for v in singles.values()) / len(singles)
    write_result("ensemble_selection", {
        "question": "does averaging seeds of the bundled recipe beat one model on a SoundFont none heard?",
        "fold": left, "store": str(Path(args.store)), "recipe": {"builder": builder, "hp": hp,
                                                                  "augment_strength": strength},
        "budget": budget, "singles": singles, "ensembles": ensembles,
        "mean_single_note_accuracy": mean_single,
        "environment": environment(), "measured_at": time.strftime("%Y-%m-%d %H:%M:%S")})


if __name__ == "__main__":
    main()
