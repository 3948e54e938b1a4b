#!/usr/bin/env python3
"""Does a training source help on a SoundFont the model never heard? One store, with and without it.

A source (sample folders such as the tonejs-instruments recordings, or one more training
SoundFont given to ``build-dataset --soundfont``) is judged on the leave-one-SoundFont-out
fold that chose the bundled recipe (:mod:`model_selection`): the store built with the source
is folded (TimGM6mb left out), and a second fold drops every row of the source from every
split (:func:`auditory_deepdream.dataset.folds.without_rows`). Both arms train the bundled
recipe (:func:`ensemble_selection.recipe`) with the same seeds and budget and are scored on
the *same* rows, every plain note of the left-out SoundFont, cut with the same per-family
hops. ``--against STORE`` compares two builds of the same notes instead (the same test rows
are checked), e.g. stronger recording effects against the bundled store's. One seed's draw moves the score by a few points, so each arm trains several seeds and
reports their mean. MuseScore_General, the held-out SoundFont of the final card, takes no part.

Members are saved under ``out/source-fold/<left-out SoundFont>/`` so a killed run resumes. Writes
``benchmarks/results/<--result>.json``.

Usage::

    python benchmarks/source_selection.py --store out/datasets/tonejs \\
        --source out/samples/tonejs --label tonejs-instruments
    python benchmarks/source_selection.py --store out/datasets/merlin \\
        --soundfont out/soundfonts/Merlin.sf2 --label Merlin.sf2 --leave-out 2
    python benchmarks/source_selection.py --store out/datasets/recording-x2 \\
        --against out/datasets/semitones --label "recording effects at strength 2"
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import environment, write_result  # noqa: E402
from ensemble_selection import recipe, train_member  # noqa: E402

from auditory_deepdream.dataset import (  # noqa: E402
    FeatureStore, default_soundfonts, sample_names, shared_sample_names)
from auditory_deepdream.dataset.timidity import is_patch_set  # noqa: E402
from auditory_deepdream.dataset.folds import (  # noqa: E402
    derive_once, sample_folder_rows, soundfont_fold, soundfont_position, without_rows)
from auditory_deepdream.models import load_model  # noqa: E402
from auditory_deepdream.training import evaluate  # noqa: E402


def from_source(index, source: Path) -> np.ndarray:
    """Rows of the sample folders in ``source`` (one ``--samples`` folder per sub-folder, or ``source`` itself)."""
    return sample_folder_rows(index, [p for p in source.iterdir() if p.is_dir()] or [source])


def from_soundfont(index, store: FeatureStore, name: str) -> np.ndarray:
    """Rows rendered from the training SoundFont ``name`` (a file name or stem in ``meta['training_soundfonts']``)."""
    fonts = store.meta.get("training_soundfonts") or []
    stems = [Path(f).stem for f in fonts]
    if Path(name).stem not in stems:
        raise SystemExit(f"{store.path} was not rendered from {name}; its SoundFonts are {fonts}.")
    return (soundfont_position(index) == stems.index(Path(name).stem)).to_numpy()


def shared_with(soundfont: Path, left_out: str) -> dict | None:
    """How many sample names ``soundfont`` shares with the left-out SoundFont and each held-out one found
    on this machine (:func:`auditory_deepdream.dataset.shared_sample_names`): a source that holds the
    left-out SoundFont's samples makes its fold score partly heard notes."""
    if is_patch_set(soundfont):
        return None  # a TiMidity++ patch set has no SoundFont sample headers to compare
    training, held = default_soundfonts([soundfont])
    others = [p for p in training if p.name == left_out] + held
    return {"of_source": len(set(sample_names(soundfont))),
            **{p.name: {"shared": len(shared_sample_names(soundfont, p)), "of": len(set(sample_names(p)))}
               for p in others}}


def left_out_scores(model, store: FeatureStore, *, settings, classes: list[str]) -> dict:
    """Segment accuracy, note vote and per-family note vote on the ``test`` split (the left-out SoundFont),
    from :func:`auditory_deepdream.training.evaluate` on segments at least half real note."""
    result = evaluate(model, store, settings=settings, classes=classes, split="test", min_audio_fraction=0.5)
    return {"segments": result["accuracy"], "n_segments": result["n"],
            "note_vote": result["note_accuracy"], "n_notes": result["n_notes"],
            "per_family_notes": {f: round(v, 4) for f, v in result["per_class_note_accuracy"].items()}}


def scored_member(store: FeatureStore, folder: Path, *, score_on: FeatureStore, **train) -> tuple:
    """Train (or reload) one member on ``store`` (:func:`ensemble_selection.train_member` with ``train``)
    and score it on ``score_on``'s left-out SoundFont; return ``(model, its facts with "left_out")``."""
    facts = train_member(store, folder, **train)
    model, settings, card = load_model(folder)
    return model, {**facts, "left_out": left_out_scores(model, score_on, settings=settings, classes=card["classes"])}


def mean_scores(scores: list[dict]) -> dict:
    """The mean of several members' :func:`left_out_scores` (segments, note vote, per family)."""
    return {"segments": float(np.mean([x["segments"] for x in scores])),
            "note_vote": float(np.mean([x["note_vote"] for x in scores])),
            "per_family_notes": {f: round(float(np.mean([x["per_family_notes"][f] for x in scores])), 4)
                                 for f in scores[0]["per_family_notes"]}}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True, help="a store built with the source")
    source_or_store = parser.add_mutually_exclusive_group(required=True)
    source_or_store.add_argument("--source",
                                 help="the source's sample folder, or a folder of them (each given to --samples)")
    source_or_store.add_argument("--soundfont", metavar="PATH",
                                 help="the source is this training SoundFont of the store (given to "
                                      "build-dataset --soundfont PATH), e.g. out/soundfonts/Merlin.sf2")
    source_or_store.add_argument("--against", metavar="STORE",
                                 help="instead of a source: a store of the same notes built another way (e.g. "
                                      "without --recording-strength), the 'without' arm")
    parser.add_argument("--label", required=True, help="the source's (or the build change's) name in the result")
    parser.add_argument("--leave-out", type=int, default=1, help="position of the SoundFont to leave out (1)")
    parser.add_argument("--seeds", type=int, default=3, help="members per arm, seeds 0 .. N-1 (3)")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--samples-per-family", type=int, default=1500)
    parser.add_argument("--recipe", default="augmented", help="model whose card gives the recipe (augmented)")
    parser.add_argument("--arms", nargs="+", default=["without", "with"], choices=["without", "with"])
    parser.add_argument("--members-dir", default=str(ROOT / "out" / "source-fold"))
    parser.add_argument("--result", default="source_selection")
    args = parser.parse_args()

    store = FeatureStore(args.store)
    fold = soundfont_fold(store, args.leave_out)
    if args.against:
        smaller, source = soundfont_fold(FeatureStore(args.against), args.leave_out), store.path
        if list(smaller.index.loc[smaller.index["split"] == "test", "segment_id"]) != list(
                fold.index.loc[fold.index["split"] == "test", "segment_id"]):
            raise SystemExit(f"{args.against} and {args.store} leave out different test rows; "
                             "build both from the same notes and settings.")
    else:
        source = Path(args.source or Path(args.soundfont).stem)
        if args.soundfont and Path(fold.meta["left_out"]).stem == source.name:
            raise SystemExit(f"--leave-out {args.leave_out} leaves out {args.soundfont} itself; pick another.")
        drop = ((lambda index: from_soundfont(index, store, args.soundfont)) if args.soundfont
                else (lambda index: from_source(index, source)))
        smaller_dir = fold.path.with_name(f"{fold.path.name}-without-{source.name}")
        smaller = derive_once(smaller_dir, lambda: without_rows(
            fold, smaller_dir, drop=drop, description=args.label))
    folds = {"without": smaller, "with": fold}
    _, _, card = load_model(args.recipe)
    builder, hp, strength = recipe(card)
    budget = {"epochs": args.epochs, "patience": args.epochs, "samples_per_family": args.samples_per_family}
    arms = {}
    for arm in args.arms:
        train = folds[arm].index[folds[arm].index["split"] == "train"]
        members = []
        for seed in range(args.seeds):
            folder = Path(args.members_dir) / Path(fold.meta["left_out"]).stem / f"{source.name}-{arm}-seed{seed}"
            members.append(scored_member(folds[arm], folder, score_on=fold, seed=seed, builder=builder, hp=hp,
                                         strength=strength, budget=budget)[1])
        left = [m["left_out"] for m in members]
        arms[arm] = {"training_notes": int(train["note_id"].nunique()), "training_segments": int(len(train)),
                     "members": members,
                     "mean": mean_scores(left)}
    write_result(args.result, {
        "question": (f"does {args.label} help on a SoundFont left out of training?" if args.against else
                     f"does adding {args.label} to training help on a SoundFont left out of it?"),
        "source": args.label, "source_folder": str(source) if args.source else None,
        "source_soundfont": args.soundfont,
        "shared_sample_names": shared_with(Path(args.soundfont), fold.meta["left_out"]) if args.soundfont else None,
        "against": args.against, "store": str(store.path),
        "fold": fold.meta["left_out"], "recipe": {"builder": builder, "hp": hp, "augment_strength": strength,
                                                  "seeds": list(range(args.seeds))},
        "budget": budget, "arms": arms,
        "environment": environment(), "measured_at": time.strftime("%Y-%m-%d %H:%M:%S")})


if __name__ == "__main__":
    main()
