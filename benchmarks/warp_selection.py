#!/usr/bin/env python3
"""A frequency warp at fit time: does it help the bundled recipe on a SoundFont none heard?

A sampler plays one recording over several keys, so the same instrument reaches the ear
with its formants moved by a few semitones from one sample set to the next.
:class:`~auditory_deepdream.mel_augment.MelAugment`'s ``warp_semitones`` imitates that on the
log-mel plane (every frequency scaled by up to that many semitones either way). Each arm
trains the bundled recipe (:func:`ensemble_selection.recipe`) with the warp added to its
fit-time augmentation, on the fair leave-one-SoundFont-out fold of the bundled store
(FluidR3_GM left out of ``out/datasets/merlin``), under the selection's short budget, three
seeds, and is scored on every plain note of the left-out SoundFont beside the recipe without
the warp (the members ``source_selection.py --soundfont out/soundfonts/Merlin.sf2 --leave-out 0``
trained there, ``out/source-fold/FluidR3_GM/Merlin-with-seed*``; trained here when missing).
MuseScore_General takes no part.

Members are saved under ``--members-dir`` so a killed run resumes. Writes
``benchmarks/results/<--result>.json``.

Usage::

    python benchmarks/warp_selection.py --warps 2 4
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
from ensemble_selection import add_fold_options, open_fold, train_member  # noqa: E402
from source_selection import left_out_scores, mean_scores  # noqa: E402

from auditory_deepdream.ensembles import average_models  # noqa: E402
from auditory_deepdream.mel_augment import MelAugment  # noqa: E402
from auditory_deepdream.models import load_model  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_fold_options(parser, result="warp_selection")
    parser.add_argument("--warps", type=float, nargs="+", default=[2.0, 4.0], help="warp_semitones of each arm")
    args = parser.parse_args()

    fold, left, (builder, hp, strength), budget = open_fold(args)
    arms = {0.0: args.baseline_members, **{w: f"warp{w:g}" for w in args.warps if w > 0}}
    results = {}
    for warp, prefix in arms.items():
        augment = MelAugment(strength=strength, warp_semitones=warp) if warp > 0 else None
        members, models = [], []
        for seed in range(args.seeds):
            folder = Path(args.members_dir) / left / f"{prefix}-seed{seed}"
            facts = train_member(fold, folder, seed=seed, builder=builder, hp=hp, strength=strength,
                                 budget=budget, augment=augment)
            model, settings, member_card = load_model(folder)
            models.append(model)
            members.append({**facts, "left_out": left_out_scores(model, fold, settings=settings,
                                                                 classes=member_card["classes"])})
        results[f"{warp:g}"] = {
            "members": members, "mean": mean_scores([m["left_out"] for m in members]),
            "average": left_out_scores(average_models(models), fold, settings=settings,
                                       classes=member_card["classes"])}
    write_result(args.result, {
        "question": "does a fit-time frequency warp help the bundled recipe on a SoundFont left out of training?",
        "store": str(Path(args.store)), "fold": fold.meta["left_out"],
        "recipe": {"builder": builder, "hp": hp, "augment_strength": strength}, "budget": budget,
        "arms": results, "environment": environment(), "measured_at": time.strftime("%Y-%m-%d %H:%M:%S")})


if __name__ == "__main__":
    main()
