"""Sub-commands that dream: ``quickstart``, ``dream`` and ``layers``."""

from __future__ import annotations


def add_quickstart(sub):
    p = sub.add_parser(
        "quickstart",
        help="dream a bundled instrument clip with the bundled model (the README's first command)",
        description="Load a bundled real instrument clip, dream it with the bundled default "
                    "model, and write a WAV and a before/after spectrogram PNG.")
    p.add_argument("--out", default="out/quickstart", help="output folder (default: out/quickstart)")
    p.add_argument("--clip", default="cello_C3", help="bundled clip name (default: cello_C3)")
    p.set_defaults(func=_run_quickstart)


def _run_quickstart(args):
    from ..quickstart import run_quickstart

    paths = run_quickstart(out_dir=args.out, clip=args.clip)
    for kind, path in paths.items():
        print(f"{kind}: {path}")


def add_dream(sub):
    p = sub.add_parser(
        "dream", help="dream an audio file: amplify a filter, a layer or a class of a model",
        description="Encode IN, run gradient ascent for the chosen objective (on its log-mel "
                    "spectrogram, or on the waveform itself), turn the dream into sound and write OUT, "
                    "loudness-matched to IN. Any length: long files are processed in one piece. OUT has IN's sample "
                    "rate: a 44.1/48 kHz file is dreamed at the model's rate and the band above the "
                    "model's is kept untouched from IN.")
    p.add_argument("input", metavar="IN", help="input audio file (wav, flac, ogg, mp3 ...)")
    p.add_argument("output", metavar="OUT", help="output audio file (.wav)")
    p.add_argument("--model", default="default", help="bundled model name or model directory (default: default)")
    p.add_argument("--layer", help="layer name (default: the first convolution; see `layers`)")
    p.add_argument("--filter", type=int, default=0, help="filter index for --objective filter (default 0)")
    p.add_argument("--objective", choices=["filter", "layer", "class"], default="filter",
                   help="what to amplify (default: filter)")
    p.add_argument("--class", dest="family", default="0",
                   help="class name or index for --objective class (default 0)")
    p.add_argument("--steps", type=int, default=10, help="gradient ascent steps (default 10)")
    p.add_argument("--step-size", type=float, default=1.0, help="dB per step, RMS (default 1.0)")
    p.add_argument("--octaves", type=int, default=1, help="time scales, coarse to fine (default 1)")
    p.add_argument("--jitter", type=int, default=0, help="largest random time roll in frames (default 0)")
    p.add_argument("--phase", choices=["original", "griffin-lim", "waveform"], default="original",
                   help="how the dream becomes sound: 'original' and 'griffin-lim' ascend on the log-mel "
                        "spectrogram (domain='mel') and rebuild sound as a gain on IN's own STFT (its "
                        "original phase) or with Griffin-Lim (sonify=...); 'waveform' ascends on the samples "
                        "themselves (domain='waveform'), no phase to rebuild (default: original)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.set_defaults(func=_run_dream)


def _run_dream(args):
    from .. import models
    from ..dreamer import SOUND_PATHS, Dreamer, class_objective, dream_file, make_objective

    d = Dreamer.load(args.model)
    layer = args.layer or models.conv_layer_names(d.model)[0]
    family = int(args.family) if args.family.lstrip("-").isdigit() else args.family
    if args.objective == "class":
        objective = class_objective(family, classes=d.info.classes)
    else:
        objective = make_objective(args.objective, layer=layer, index=args.filter)
    path, result = dream_file(args.input, args.output, model=d, objective=objective, steps=args.steps,
                              step_size=args.step_size, octaves=args.octaves, jitter=args.jitter, seed=args.seed,
                              **SOUND_PATHS[args.phase])
    s = result.summary()
    survival = "n/a" if s["survival"] is None else f"{100 * s['survival']:.0f} %"
    print(f"wrote {path}: {objective}, objective {s['objective_before']:.4g} -> {s['objective_dreamed']:.4g} "
          f"(heard {s['objective_after']:.4g}, survival {survival}), spectral change "
          f"{s['spectral_change_db']:.2f} dB, {s['loudness_out_db']:.1f} dBFS RMS, {result.sample_rate} Hz")


def add_layers(sub):
    p = sub.add_parser("layers", help="list a model's layers you can dream with, and their filter counts",
                       description="List the feature-map layers of a model (name, type, filters, bands).")
    p.add_argument("--model", default="default", help="bundled model name or model directory (default: default)")
    p.set_defaults(func=_run_layers)


def _run_layers(args):
    from .. import models

    model, _, card = models.load_model(args.model)
    table = models.list_layers(model)
    print(table[["name", "type", "filters", "bands"]].to_string(index=False))
    if card.get("classes"):
        print("classes:", ", ".join(card["classes"]))
