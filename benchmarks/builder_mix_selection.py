#!/usr/bin/env python3
"""Members of two builders averaged: does a second architecture add to the bundled recipe's average?

Seeds of one recipe share their architecture and so part of their mistakes. This trains
members of a second builder (its best trial in ``model_search.json``: hyper-parameters and
augmentation strength) on the fair leave-one-SoundFont-out fold of the bundled store
(FluidR3_GM left out of ``out/datasets/merlin``), under the selection's short budget, and
scores on every plain note of the left-out SoundFont: each member alone, each builder's
average, and the mixed averages. The bundled recipe's members are those
``source_selection.py --soundfont out/soundfonts/Merlin.sf2 --leave-out 0`` trained on the
same fold and budget (``out/source-fold/FluidR3_GM/Merlin-with-seed*``; trained here when
missing). MuseScore_General takes no part.

Members are saved under ``--members-dir`` so a killed run resumes. Writes
``benchmarks/results/<--result>.json``.

Usage::

    python benchmarks/builder_mix_selection.py --store out/datasets/merlin --leave-out 0 --second timbre
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from itertools import combinations
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import environment, write_result  # noqa: E402
from ensemble_selection import add_fold_options, open_fold  # noqa: E402
from source_selection import left_out_scores, scored_member  # noqa: E402

from auditory_deepdream.models.ensembles import average_models  # noqa: E402

SEARCH_KEYS = ("model_id", "loss", "accuracy", "val_accuracy", "best_epoch", "epochs_run", "seconds", "builder",
               "n_classes", "augment_strength")


def searched_recipe(search: dict, builder: str) -> tuple[dict, float, dict]:
    """The hyper-parameters and augmentation strength of ``builder``'s best trial in a model search result."""
    trials = search["searches"].get(builder)
    if not trials:
        raise SystemExit(f"the model search has no {builder!r} trials; it searched {sorted(search['searches'])}.")
    best = max(trials["trials"], key=lambda t: t["accuracy"])
    hp = {k: v for k, v in best.items() if k not in SEARCH_KEYS}
    return hp, float(best["augment_strength"]), best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_fold_options(parser, result="builder_mix_selection")
    parser.add_argument("--second", default="timbre", help="the second builder (timbre)")
    args = parser.parse_args()

    fold, left, (first_builder, first_hp, first_strength), budget = open_fold(args)
    search = json.loads((ROOT / "benchmarks" / "results" / "model_search.json").read_text())
    second_hp, second_strength, second_trial = searched_recipe(search, args.second)
    plans = {first_builder: (f"{args.baseline_members}-seed", first_hp, first_strength),
             args.second: (f"{args.second}-seed", second_hp, second_strength)}

    models, singles = {}, {}
    for builder, (prefix, hp, strength) in plans.items():
        for seed in range(args.seeds):
            folder = Path(args.members_dir) / left / f"{prefix}{seed}"
            key = f"{builder} seed{seed}"
            models[key], singles[key] = scored_member(fold, folder, score_on=fold, seed=seed, builder=builder,
                                                      hp=hp, strength=strength, budget=budget)

    def averaged(keys):
        return {"members": list(keys), "left_out": left_out_scores(average_models([models[k] for k in keys]), fold,
                                                                   settings=fold.settings, classes=fold.classes)}

    firsts = [k for k in models if k.startswith(first_builder)]
    seconds = [k for k in models if k.startswith(args.second)]
    averages = {f"{first_builder} x{len(firsts)}": averaged(firsts),
                f"{args.second} x{len(seconds)}": averaged(seconds),
                f"{first_builder} x{len(firsts)} + {args.second} x{len(seconds)}": averaged(firsts + seconds)}
    # equal-size mixes: every way to swap one first-builder member for a second-builder one
    swaps = [averaged([*kept, extra])["left_out"]["note_vote"]
             for kept in combinations(firsts, len(firsts) - 1) for extra in seconds]
    write_result(args.result, {
        "question": f"does averaging {args.second} members with the bundled recipe's help on a SoundFont none heard?",
        "store": str(Path(args.store)), "fold": fold.meta["left_out"], "budget": budget,
        "recipes": {first_builder: {"hp": first_hp, "augment_strength": first_strength},
                    args.second: {"hp": second_hp, "augment_strength": second_strength,
                                  "search_trial": second_trial}},
        "singles": singles, "averages": averages,
        "one_swapped_note_votes": {"mean": float(np.mean(swaps)), "min": float(min(swaps)),
                                   "max": float(max(swaps)), "n": len(swaps)},
        "environment": environment(), "measured_at": time.strftime("%Y-%m-%d %H:%M:%S")})


if __name__ == "__main__":
    main()
