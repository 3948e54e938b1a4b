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


def _preset_help() -> str:
    from ..presets import PRESETS

    return "; ".join(f"'{p.name}': {p.description}" for p in PRESETS.values())


def _preset_names() -> list:
    from ..presets import PRESETS

    return list(PRESETS)


def add_dream(sub):
    p = sub.add_parser(
        "dream", help="dream an audio file: amplify a layer, a filter or a class of a model",
        description="Dream IN with a model and write OUT with IN's channels, sample rate, length and "
                    "sample format, at IN's integrated loudness (LUFS) under a -1 dBTP true-peak ceiling. "
                    "The mid signal is dreamed at the model's rate as a gain on its own spectrogram that the "
                    "ascent climbs through the sonification, so what the network heard is what you hear; the "
                    "gain is applied to every channel and the band above the model's is kept from IN. "
                    "Choose an effect with --preset (presets: " + _preset_help() + "), or set the objective "
                    "and --strength yourself; --steps gives the dissertation's fixed step count instead.")
    p.add_argument("input", metavar="IN", help="input audio file (wav, flac, ogg, mp3 ...)")
    p.add_argument("output", metavar="OUT", help="output audio file (.wav, .flac, .ogg); IN's format is kept "
                                                 "when the suffix matches")
    p.add_argument("--model", default="default",
                   help="bundled model name, model directory, or ensemble folder (several models dreamed as one, "
                        "see dreamer.Ensemble; default: default)")
    p.add_argument("--preset", choices=_preset_names(),
                   help="the effect (default: strong; morph with --objective class)")
    p.add_argument("--objective", choices=["filter", "layer", "class"],
                   help="what to amplify (default: the preset's)")
    p.add_argument("--layer", help="layer name for --objective layer/filter (default: the preset's; see `layers`)")
    p.add_argument("--filter", type=int,
                   help="filter index: amplify this filter of --layer (implies --objective filter)")
    p.add_argument("--class", dest="family", help="class name or index to dream toward (--preset morph)")
    p.add_argument("--strength", type=float,
                   help="spectral change to reach, dB (mean over audible bins; default: the preset's)")
    p.add_argument("--steps", type=int, help="a fixed number of ascent steps instead of --strength (experts)")
    p.add_argument("--max-steps", type=int, default=40, help="most steps a --strength dream takes (default 40)")
    p.add_argument("--step-size", type=float, help="dB per step, RMS (default: the preset's, 3.0)")
    p.add_argument("--loudness", default="match",
                   help="'match' IN's integrated loudness (default), 'keep' the dream's own, or a target in "
                        "LUFS such as -14")
    p.add_argument("--jitter", type=int, help="largest random time roll in frames (default: the preset's)")
    p.add_argument("--band-shift", type=int, help="largest random mel-band shift (default: the preset's)")
    p.add_argument("--phase", choices=["original", "griffin-lim", "waveform"], default="original",
                   help="how the dream becomes sound: 'original' and 'griffin-lim' dream a gain on the log-mel "
                        "spectrogram and rebuild sound with IN's own phase or with Griffin-Lim; 'waveform' "
                        "ascends on the samples themselves (default: original)")
    p.add_argument("--free", action="store_true",
                   help="the dissertation's free ascent on log-mel values (needs --steps; much of it is lost "
                        "when it becomes sound)")
    p.add_argument("--octaves", type=int, default=1, help="time scales, coarse to fine, with --free (default 1)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.set_defaults(func=_run_dream)


def _run_dream(args):
    from .. import audio, models
    from ..dreamer import SOUND_PATHS, Dreamer, dream_file, get_preset, make_objective
    from ..errors import DreamError

    loudness = audio.parse_loudness(args.loudness)
    kind = args.objective or ("filter" if args.filter is not None else None)
    preset = get_preset(args.preset or ("morph" if kind == "class" else "strong"))
    d = Dreamer.load(args.model)
    conv = models.conv_layer_names(d.model)
    family = None
    if args.family is not None:
        family = int(args.family) if args.family.lstrip("-").isdigit() else args.family
    if kind is None:
        if args.layer and preset.objective == "layer":
            objective = make_objective("layer", layer=args.layer)
        else:
            objective = preset.build_objective(conv, classes=d.info.classes, target=family)
    elif kind == "class":
        objective = get_preset("morph").build_objective(conv, classes=d.info.classes, target=family)
    else:
        layer = args.layer or preset.layer(conv)
        objective = make_objective(kind, layer=layer, index=args.filter or 0)
    if args.free and args.steps is None:
        raise DreamError("--free runs a fixed number of steps; give --steps (e.g. --steps 10).")
    strength = None if args.steps is not None else (args.strength or preset.strength)
    path, result = dream_file(
        args.input, args.output, model=d, objective=objective, steps=args.steps or 0,
        step_size=preset.step_size if args.step_size is None else args.step_size,
        strength=strength, max_steps=args.max_steps, consistent=not args.free, octaves=args.octaves,
        jitter=preset.jitter if args.jitter is None else args.jitter,
        band_shift=0 if args.phase == "waveform" else (preset.band_shift if args.band_shift is None
                                                       else args.band_shift),
        smooth=preset.smooth, max_jump=preset.max_jump, loudness=loudness, seed=args.seed,
        **SOUND_PATHS[args.phase])
    s = result.summary()
    survival = "n/a" if s["survival"] is None else f"{100 * s['survival']:.0f} %"
    channels = 1 if result.audio.ndim == 1 else result.audio.shape[0]
    print(f"wrote {path}: {objective}, objective {s['objective_before']:.4g} -> {s['objective_dreamed']:.4g} "
          f"(heard {s['objective_after']:.4g}, survival {survival}), spectral change "
          f"{s['spectral_change_db']:.2f} dB, {result.lufs_in:.1f} -> {result.lufs_out:.1f} LUFS, "
          f"{result.true_peak_dbtp:.1f} dBTP, {channels} ch, {result.sample_rate} Hz")


def add_layers(sub):
    p = sub.add_parser("layers", help="list a model's layers you can dream with, and their filter counts",
                       description="List the feature-map layers of a model (name, type, filters, bands). Of an "
                                   "ensemble folder, the lead member's: layer and filter dreams read its layers.")
    p.add_argument("--model", default="default",
                   help="bundled model name, model directory or ensemble folder (default: default)")
    p.set_defaults(func=_run_layers)


def _run_layers(args):
    from .. import models

    model, _, card = models.load_model(args.model)
    if models.is_ensemble(args.model):
        members = models.member_folders(args.model)
        print(f"{args.model} is an ensemble of {len(members)} models; layer and filter dreams read its lead "
              f"member, {members[0].name}, whose layers these are:")
    table = models.list_layers(model)
    print(table[["name", "type", "filters", "bands"]].to_string(index=False))
    if card.get("classes"):
        print("classes:", ", ".join(card["classes"]))
