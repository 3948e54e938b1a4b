#!/usr/bin/env python3
"""Does a render on a pitch grid teach the model the grid? Every third semitone against every semitone.

The ``full`` preset used to render every third semitone of each GM program, counted from the
program's lowest note, at three velocities; the held-out store was rendered on the same grid,
so no score ever met a pitch between. A family whose programs share a grid can then be told
by where its harmonics sit rather than by its timbre. The question is decided on the
leave-one-SoundFont-out fold that chose the bundled recipe (:mod:`model_selection`):

* ``every third semitone``: a member trained on the fold of the old store (every third
  semitone, three velocities per pitch);
* ``every semitone``: the same recipe, seed and budget on the fold of the store the ``full``
  preset now renders (every semitone, one velocity per pitch drawn across 20-127: about as
  many notes).

Both are scored on every plain note of the left-out TimGM6mb rendered at every semitone
(the new store's fold), split into the pitches on the old grid and those between.
MuseScore_General, the held-out SoundFont of the final card, takes no part.

Members are saved under ``out/pitch-grid-fold/`` (the grid arm reuses
``out/ensemble-fold/seed0`` when :mod:`ensemble_selection` trained it: same recipe, seed and
budget), so a killed run resumes. Writes ``benchmarks/results/pitch_grid.json``.

Usage: ``python benchmarks/pitch_grid.py [--grid-store out/datasets/full-salamander]
[--semitone-store out/datasets/semitones]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import environment, write_result  # noqa: E402
from ensemble_selection import recipe, train_member  # noqa: E402

from auditory_deepdream.classify import note_log_probabilities  # noqa: E402
from auditory_deepdream.dataset import FeatureStore, gm_programs  # noqa: E402
from auditory_deepdream.dataset.folds import soundfont_fold  # noqa: E402
from auditory_deepdream.generator import build_index  # noqa: E402
from auditory_deepdream.models import load_model  # noqa: E402
from auditory_deepdream.training import predict_rows  # noqa: E402

GRID_STEP = 3  # the old preset's pitch_step


def note_predictions(model, store: FeatureStore, *, classes: list[str], min_audio_fraction: float = 0.5):
    """Every ``test`` note of ``store``: its family, the vote's family, its pitch, whether it is on the old grid."""
    index = build_index(store, split="test", classes=classes, min_audio_fraction=min_audio_fraction)
    votes = note_log_probabilities(predict_rows(model, store, index), index["note_id"].to_numpy())
    notes = store.index.groupby("note_id")[["family", "pitch", "instrument"]].first().loc[votes.index]
    program = pd.to_numeric(notes["instrument"].str.rsplit("_", n=1).str[-1]) % 128
    low = gm_programs().set_index("program")["low"]
    return pd.DataFrame({"family": notes["family"].to_numpy(),
                         "predicted": np.asarray(classes)[votes.to_numpy().argmax(axis=1)],
                         "pitch": notes["pitch"].to_numpy(),
                         "on_grid": ((notes["pitch"].to_numpy() - low.loc[program].to_numpy()) % GRID_STEP) == 0},
                        index=votes.index)


def scores(notes: pd.DataFrame) -> dict:
    """Note-vote accuracy over all notes, on the old grid, between it, and per family."""
    right = notes["family"] == notes["predicted"]
    return {"note_accuracy": float(right.mean()), "n_notes": int(len(notes)),
            "on_grid": float(right[notes["on_grid"]].mean()), "n_on_grid": int(notes["on_grid"].sum()),
            "off_grid": float(right[~notes["on_grid"]].mean()), "n_off_grid": int((~notes["on_grid"]).sum()),
            "per_family_off_grid": {f: float(g) for f, g in right[~notes["on_grid"]]
                                    .groupby(notes["family"][~notes["on_grid"]]).mean().items()}}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid-store", default=str(ROOT / "out" / "datasets" / "full-salamander"))
    parser.add_argument("--semitone-store", default=str(ROOT / "out" / "datasets" / "semitones"))
    parser.add_argument("--leave-out", type=int, default=1, help="position of the SoundFont to leave out (1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--samples-per-family", type=int, default=1500)
    parser.add_argument("--recipe", default="augmented", help="model whose card gives the recipe (augmented)")
    parser.add_argument("--grid-member", default=str(ROOT / "out" / "ensemble-fold" / "seed0"))
    parser.add_argument("--members-dir", default=str(ROOT / "out" / "pitch-grid-fold"))
    args = parser.parse_args()

    folds = {"every third semitone": soundfont_fold(FeatureStore(args.grid_store), args.leave_out),
             "every semitone": soundfont_fold(FeatureStore(args.semitone_store), args.leave_out)}
    scored_on = folds["every semitone"]
    _, _, card = load_model(args.recipe)
    builder, hp, strength = recipe(card)
    budget = {"epochs": args.epochs, "patience": args.epochs, "samples_per_family": args.samples_per_family}
    folders = {"every third semitone": Path(args.grid_member),
               "every semitone": Path(args.members_dir) / f"semitones-seed{args.seed}"}
    arms = {}
    for arm, fold in folds.items():
        facts = train_member(fold, folders[arm], seed=args.seed, builder=builder, hp=hp, strength=strength,
                             budget=budget)
        model, member_settings, member_card = load_model(folders[arm])
        member_settings.check_compatible(scored_on.settings, mine="member", theirs="scored store")
        notes = note_predictions(model, scored_on, classes=member_card["classes"])
        arms[arm] = {**facts, "store": str(Path(fold.meta["derived_from"])),
                     "training_notes": int(fold.index[fold.index["split"] == "train"]["note_id"].nunique()),
                     "left_out": scores(notes)}
    write_result("pitch_grid", {
        "question": "does rendering every third semitone teach the model the pitch grid?",
        "fold": scored_on.meta["left_out"], "scored_on": str(scored_on.path),
        "recipe": {"builder": builder, "hp": hp, "augment_strength": strength, "seed": args.seed},
        "budget": budget, "arms": arms,
        "environment": environment(), "measured_at": time.strftime("%Y-%m-%d %H:%M:%S")})


if __name__ == "__main__":
    main()
