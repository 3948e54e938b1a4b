#!/usr/bin/env python3
"""Models on recorded instruments none of them trained on: the tonejs-instruments notes.

MuseScore_General, the card's held-out SoundFont, is itself a SoundFont, and one that grew out
of FluidR3 (334 of its sample names are FluidR3_GM's, :func:`auditory_deepdream.dataset.shared_sample_names`),
so a model trained on FluidR3_GM has heard part of it. The tonejs-instruments collection is
recorded notes of eighteen instruments besides a piano, in no SoundFont the project renders:
a second judge of "instruments it never heard", independent of the card's.

The recordings are taken from a store built with them (README: ``--samples out/samples/tonejs``),
so they are cut and encoded as training would; a derived store
(:func:`auditory_deepdream.dataset.leave_out`, beside the store, made once) holds every plain
segment of every recorded folder in ``test``. ``--exclude`` leaves folders out (default
``piano``: the models train on the Salamander piano, and tonejs' piano notes may be the same
instrument). Each model is scored as in :mod:`heldout_comparison` (:func:`auditory_deepdream.training.evaluate`
on segments at least half real note): segment accuracy, note vote, per family.

Writes ``benchmarks/results/<--result>.json``.

Usage::

    python benchmarks/recorded_instruments.py --store out/datasets/tonejs --source out/samples/tonejs \\
        --models "FluidR3 + TimGM6mb=out/models/augmented-two-fonts" augmented
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
from heldout_comparison import score  # noqa: E402

from auditory_deepdream.dataset import FeatureStore  # noqa: E402
from auditory_deepdream.dataset.folds import derive_once, leave_out, sample_folder_rows  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True, help="a store built with the recordings")
    parser.add_argument("--source", required=True, help="the folder of recorded instrument folders")
    parser.add_argument("--exclude", nargs="*", default=["piano"],
                        help="instrument folders to leave out (default: piano)")
    parser.add_argument("--models", nargs="+", required=True,
                        help="bundled model names or model directories, each optionally LABEL=DIR")
    parser.add_argument("--result", default="recorded_instruments")
    args = parser.parse_args()
    source = Path(args.source)
    folders = sorted(p for p in source.iterdir() if p.is_dir() and p.name not in set(args.exclude))
    if not folders:
        raise SystemExit(f"{source} holds no instrument folders besides {args.exclude}.")
    store = FeatureStore(args.store)
    out_dir = store.path.with_name(f"{store.path.name}-recordings-without-{'-'.join(sorted(args.exclude)) or 'none'}")
    recordings = derive_once(out_dir, lambda: leave_out(
        store, out_dir, description=f"recorded instruments of {source.name}",
        held_out=lambda index: sample_folder_rows(index, folders)))
    test = recordings.index[recordings.index["split"] == "test"]
    if test.empty:
        raise SystemExit(f"{args.store} holds no notes of {source}; build it with --samples {source}.")
    scores = dict(score(entry, recordings, split="test") for entry in args.models)
    write_result(args.result, {
        "question": "how much of recorded instruments that no model trained on does each model name?",
        "store": str(store.path), "recordings": str(source), "instruments": [p.name for p in folders],
        "excluded": args.exclude, "notes_per_family": {f: int(n) for f, n in test.groupby("family")["note_id"].nunique().items()},
        "scores": scores, "environment": environment(), "measured_at": time.strftime("%Y-%m-%d %H:%M:%S")})


if __name__ == "__main__":
    main()
