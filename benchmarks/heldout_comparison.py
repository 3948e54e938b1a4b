#!/usr/bin/env python3
"""The two bundled models on every note of the held-out SoundFont: ``default`` and ``augmented``.

Both are scored with :func:`auditory_deepdream.training.evaluate` on the same held-out
store (MuseScore_General, which neither trained on; every program the ontology keeps):
segments with at least half real note, note-level vote and per family. ``default`` (the
dreaming model) was trained without recording augmentation and with three fixed
velocities; ``augmented`` with both kinds of augmentation (see its card).

Writes ``benchmarks/results/heldout_comparison.json``.

Usage: ``python benchmarks/heldout_comparison.py [--heldout out/datasets/heldout] [--models default LABEL=DIR ...]``
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

from auditory_deepdream.dataset import FeatureStore  # noqa: E402
from auditory_deepdream.models import load_model  # noqa: E402
from auditory_deepdream.training import evaluate  # noqa: E402

MODELS = ("default", "augmented")


def score(entry: str, store: FeatureStore, *, split: str | None = None) -> tuple[str, dict]:
    """``(row label, scores)`` of one model (a bundled name or directory, optionally ``LABEL=DIR``) on
    ``store``'s ``split`` (``None``: every row), from :func:`auditory_deepdream.training.evaluate` on
    segments at least half real note. A label holds no ``=``; a path may."""
    label, _, name = ("", "", entry) if Path(entry).exists() else entry.partition("=")
    if not name:
        label, name = "", label  # a bundled name or path given without a label
    model, settings, card = load_model(name)
    result = evaluate(model, store, settings=settings, classes=card["classes"], split=split,
                      min_audio_fraction=0.5)
    return label or card.get("name") or str(name), {
        "source": str(name), "builder": card.get("builder"), "n_parameters": card.get("n_parameters"),
        "training_soundfonts": (card.get("training_data") or {}).get("soundfonts"),
        **{k: result[k] for k in ("accuracy", "note_accuracy", "n", "n_notes", "per_class_accuracy",
                                  "per_class_note_accuracy", "all_segments")}}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--heldout", default=str(ROOT / "out" / "datasets" / "heldout"))
    parser.add_argument("--models", nargs="+", default=list(MODELS),
                        help="bundled model names or model directories, each optionally LABEL=DIR to name its "
                             "row (default: default augmented; rows are otherwise named by the card)")
    args = parser.parse_args()
    heldout = FeatureStore(args.heldout)
    scores = dict(score(entry, heldout) for entry in args.models)
    write_result("heldout_comparison", {
        "heldout": str(Path(args.heldout)), "heldout_soundfonts": heldout.meta.get("heldout"),
        "scores": scores, "environment": environment(), "measured_at": time.strftime("%Y-%m-%d %H:%M:%S")})


if __name__ == "__main__":
    main()
