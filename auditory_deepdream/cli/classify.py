"""The sub-command that names instrument families, or tags music with a tagger: ``classify``."""

from __future__ import annotations

import argparse
import json


def add_classify(sub):
    p = sub.add_parser(
        "classify", help="name the instrument family of audio files with a model, or tag them with a musicnn tagger",
        description="Classify each FILE with a model: its 1-second segments are scored and vote by summed "
                    "log-probability (a file is one note to the vote, however many notes it holds). Prints "
                    "the top 3 families per file with the segments' mean probabilities. The models learnt "
                    "from single pitched notes: a file that is not one (drums, a chord, a piece, noise) is "
                    "said to be so, and its families are only the closest. With a musicnn tagger (--model "
                    "musicnn-mtt, musicnn-msd, vgg-mtt or vgg-msd) it prints the top 5 of its 50 tags instead, "
                    "each tag's probability averaged over the file's 3-s patches as musicnn's top_tags does; "
                    "there is no single-note check then, as the taggers learnt from whole songs. Every file is "
                    "read and checked before any is printed, so a bad file stops the command with one error "
                    "line and no partial output.")
    p.add_argument("files", nargs="+", metavar="FILE", help="audio files (wav, flac, ogg, mp3 ...; any rate, "
                                                           "mono or stereo: read as mono at the model's rate), or "
                                                           "bundled clips' names (cello_C3; see `examples`)")
    p.add_argument("--model", default="augmented",
                   help="bundled model name, model directory or musicnn tagger (default: augmented, the classifier "
                        "trained with recording and fit-time augmentation; default is the dreaming model; "
                        "musicnn-mtt, musicnn-msd, vgg-mtt, vgg-msd tag music)")
    p.add_argument("--top", type=_positive_int, default=None, metavar="N",
                   help="how many families or tags to print per file (default: 3 families, 5 tags)")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object: file -> {single_note, verdict, note_check, top, probabilities, "
                        "segments} for a classifier, {model, top, probabilities (all 50 tags), patches} for a tagger")
    p.set_defaults(func=_run_classify)


def _positive_int(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of 1 or more")
    return n


def _run_classify(args):
    from .checks import model_description, readable_audio

    tagger = model_description(args.model)["kind"] == "tagger"  # a misspelt name is refused before TensorFlow
    top = args.top or (5 if tagger else 3)
    paths = {name: readable_audio(name) for name in args.files}  # and a bad file, or a bundled clip's name

    from .. import models
    from ..audio import load_audio
    from ..classify import classify

    loaded = models.load_model(args.model)  # once for every file
    clips = {name: load_audio(path, settings=loaded[1]) for name, path in paths.items()}  # any bad file stops us here
    results = {path: classify(y, model=loaded, name=path) for path, y in clips.items()}
    if args.json:
        summary = {}
        for path, r in results.items():
            if tagger:
                summary[path] = r.to_dict(top)
                continue
            d = r.to_dict()
            summary[path] = {key: d[key] for key in ("single_note", "verdict", "note_check")}
            summary[path]["top"] = [{"family": f, "probability": p} for f, p in r.top(top)]
            summary[path].update(probabilities=d["probabilities"], segments=len(d["segments"]))
        print(json.dumps(summary, indent=2))
        return
    for path, r in results.items():
        listed = ", ".join(f"{label} {p:.2f}" for label, p in r.top(top))
        if tagger or r.single_note:
            print(f"{path}: {listed}")
        else:
            print(f"{path}: {r.verdict}; closest families: {listed}")
