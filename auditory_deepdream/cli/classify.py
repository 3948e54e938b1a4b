"""The sub-command that names instrument families: ``classify``."""

from __future__ import annotations

import json


def add_classify(sub):
    p = sub.add_parser(
        "classify", help="name the instrument family of audio files with a model",
        description="Classify each FILE with a model: its 1-second segments are scored and vote by summed "
                    "log-probability (a file is one note to the vote, however many notes it holds). Prints "
                    "the top 3 families per file with the segments' mean probabilities. The models learnt "
                    "from single pitched notes: a file that is not one (drums, a chord, a piece, noise) is "
                    "said to be so, and its families are only the closest. Every file is read and checked "
                    "before any is printed, so a bad file stops the command with one error line and no "
                    "partial output.")
    p.add_argument("files", nargs="+", metavar="FILE", help="audio files (wav, flac, ogg, mp3 ...)")
    p.add_argument("--model", default="augmented",
                   help="bundled model name or model directory (default: augmented, the classifier trained with "
                        "recording and fit-time augmentation; default is the dreaming model)")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object: file -> {single_note, verdict, note_check, top, probabilities, segments}")
    p.set_defaults(func=_run_classify)


def _run_classify(args):
    from .. import models
    from ..audio import load_audio
    from ..classify import classify

    loaded = models.load_model(args.model)  # once for every file
    clips = {path: load_audio(path, settings=loaded[1]) for path in args.files}  # any bad file stops us here
    results = {path: classify(y, model=loaded, name=path) for path, y in clips.items()}
    if args.json:
        summary = {}
        for path, r in results.items():
            d = r.to_dict()
            summary[path] = {key: d[key] for key in ("single_note", "verdict", "note_check", "top", "probabilities")}
            summary[path]["segments"] = len(d["segments"])
        print(json.dumps(summary, indent=2))
        return
    for path, r in results.items():
        top = ", ".join(f"{family} {p:.2f}" for family, p in r.top(3))
        print(f"{path}: {top}" if r.single_note else f"{path}: {r.verdict}; closest families: {top}")
