#!/usr/bin/env python3
"""One more fit-time option for the bundled recipe: does it help on a SoundFont none heard?

Each arm trains the bundled recipe (:func:`ensemble_selection.recipe`) with one
:class:`~auditory_deepdream.training.TrainConfig` option set to one value, on the fair
leave-one-SoundFont-out fold of the bundled store (FluidR3_GM left out of
``out/datasets/merlin``), under the selection's short budget, three seeds, and is scored on
every plain note of the left-out SoundFont beside the recipe without it (the members
``source_selection.py --soundfont out/soundfonts/Merlin.sf2 --leave-out 0`` trained there,
``out/source-fold/FluidR3_GM/Merlin-with-seed*``; trained here when missing). MuseScore_General
takes no part. The options judged so far:

* ``warp_semitones``: a frequency warp (:class:`~auditory_deepdream.mel_augment.MelAugment`).
  A sampler plays one recording over several keys, so the same instrument reaches the ear
  with its formants moved by a few semitones from one sample set to the next; the warp
  scales every frequency of the log-mel plane by up to that many semitones either way.
* ``label_smoothing``: train on smoothed one-hot labels, so no sample set's segments are
  pushed to full confidence.

Members are saved under ``--members-dir`` so a killed run resumes. Writes
``benchmarks/results/<--result>.json`` (``warp_selection``, ``label_smoothing_selection``).

Usage::

    python benchmarks/fit_option_selection.py --option warp_semitones --values 2 4
    python benchmarks/fit_option_selection.py --option label_smoothing --values 0.1
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import environment, write_result  # noqa: E402
from ensemble_selection import add_fold_options, open_fold  # noqa: E402
from source_selection import left_out_scores, mean_scores, scored_member  # noqa: E402

from auditory_deepdream.models.ensembles import average_models  # noqa: E402


# TrainConfig field -> (member folder prefix, default result name, what it is)
OPTIONS = {"warp_semitones": ("warp", "warp_selection", "a fit-time frequency warp"),
           "label_smoothing": ("smooth", "label_smoothing_selection", "label smoothing")}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_fold_options(parser, result="")
    parser.add_argument("--option", required=True, choices=sorted(OPTIONS), help="the TrainConfig field")
    parser.add_argument("--values", type=float, nargs="+", required=True, help="its value in each arm")
    args = parser.parse_args()

    prefix_of, result, question = OPTIONS[args.option]
    fold, left, (builder, hp, strength), budget = open_fold(args)
    arms = {0.0: args.baseline_members, **{v: f"{prefix_of}{v:g}" for v in args.values if v > 0}}
    results = {}
    for value, prefix in arms.items():
        options = {args.option: value} if value > 0 else None
        members, models = [], []
        for seed in range(args.seeds):
            folder = Path(args.members_dir) / left / f"{prefix}-seed{seed}"
            model, member = scored_member(fold, folder, score_on=fold, seed=seed, builder=builder, hp=hp,
                                          strength=strength, budget=budget, options=options)
            models.append(model)
            members.append(member)
        results[f"{value:g}"] = {
            "members": members, "mean": mean_scores([m["left_out"] for m in members]),
            "average": left_out_scores(average_models(models), fold, settings=fold.settings, classes=fold.classes)}
    write_result(args.result or result, {
        "question": f"does {question} help the bundled recipe on a SoundFont left out of training?",
        "option": args.option,
        "store": str(Path(args.store)), "fold": fold.meta["left_out"],
        "recipe": {"builder": builder, "hp": hp, "augment_strength": strength}, "budget": budget,
        "arms": results, "environment": environment(), "measured_at": time.strftime("%Y-%m-%d %H:%M:%S")})


if __name__ == "__main__":
    main()
