"""Sub-commands that dream: ``quickstart``, ``dream`` and ``layers``."""

from __future__ import annotations

from pathlib import Path


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


def add_examples(sub):
    p = sub.add_parser("examples", help="list the bundled clips and the models you can name, with their paths",
                       description="The instrument clips that ship with the package (real notes rendered from the "
                                   "FluidR3 GM SoundFont), and every model --model takes by name: the bundled "
                                   "classifiers and musicnn's taggers, with what each names.")
    p.add_argument("--path", metavar="CLIP", help="print only this clip's path (for use in a shell command)")
    p.set_defaults(func=_run_examples)


def _run_examples(args):
    import soundfile as sf

    from ..audio.io import EXAMPLE_CLIPS, example_clip
    from ..models.paths import describe, model_names
    from .checks import match_name

    if args.path is not None:
        print(example_clip(match_name(args.path, EXAMPLE_CLIPS, what="clip", flag="--path")))
        return
    print("clips (dream one by name: auditory-deepdream dream cello_C3 out.wav):")
    for name in EXAMPLE_CLIPS:
        path = example_clip(name)
        info = sf.info(str(path))
        print(f"  {name:<10} {info.duration:4.1f} s, {info.samplerate} Hz, {info.channels} ch  {path}")
    print("models (--model NAME):")
    for name in model_names():
        about = describe(name) or {"kind": "?", "classes": []}
        names = ", ".join(about["classes"][:8]) + (", ..." if len(about["classes"]) > 8 else "")
        what = "tags" if about["kind"] == "tagger" else "classes"
        print(f"  {name:<12} {about['kind']:<10} {len(about['classes'])} {what}: {names}")


def _preset_help() -> str:
    from ..presets import PRESETS

    return "; ".join(f"'{p.name}': {p.description}" for p in PRESETS.values())


def _preset_names() -> list:
    from ..presets import PRESETS

    return list(PRESETS)


def add_dream(sub):
    p = sub.add_parser(
        "dream", help="dream an audio file: amplify a layer, a filter, a class or a tag of a model",
        description="Dream IN with a model and write OUT with IN's channels, sample rate, length and "
                    "sample format, at IN's integrated loudness (LUFS) under a -1 dBTP true-peak ceiling, and "
                    "OUT's options beside it (OUT's name + .dream.json). "
                    "The mid signal is dreamed at the model's rate as a gain on its own spectrogram that the "
                    "ascent climbs through the sonification, so what the network heard is what you hear; the "
                    "gain is applied to every channel and the band above the model's is kept from IN. "
                    "Choose an effect with --preset (presets: " + _preset_help() + "), or set the objective "
                    "and --strength yourself; --steps gives the dissertation's fixed step count instead. "
                    "Arguments, files and names are checked before the model loads.")
    p.add_argument("input", metavar="IN", help="input audio file (wav, flac, ogg, mp3, aiff, m4a), or a bundled clip's "
                                               "name (cello_C3, flute_A4, piano_E4; see `examples`)")
    p.add_argument("output", metavar="OUT", help="output audio file (.wav, .flac, .ogg, .aiff, .aif, .mp3); IN's "
                                                 "sample format is kept when the suffix matches")
    p.add_argument("--model",
                   help="bundled model (default, augmented), musicnn tagger (musicnn-mtt, musicnn-msd, vgg-mtt, "
                        "vgg-msd; vgg-both: vgg-mtt and vgg-msd as one, in MTT's tags), model directory, or "
                        "ensemble folder (default: default; vgg-both with --tag)")
    p.add_argument("--preset", type=str.lower, choices=_preset_names(),
                   help="the effect (default: strong; morph with --class; tag with --tag or a tagger's --class)")
    p.add_argument("--objective", choices=["filter", "layer", "class"],
                   help="what to amplify (default: the preset's; class with --class or --tag)")
    p.add_argument("--layer", help="layer name for --objective layer/filter (default: the preset's; see `layers`)")
    p.add_argument("--filter", type=int,
                   help="filter index: amplify this filter of --layer (implies --objective filter)")
    p.add_argument("--class", dest="family",
                   help="class name or index to dream toward (implies --objective class and, without --preset, "
                        "the morph preset); any case")
    p.add_argument("--tag", action="append", default=[], metavar="TAG[=WEIGHT]",
                   help="a tagger's tag to dream toward (musicnn-mtt: piano, choir, techno ...); repeat for "
                        "several, with weights such as --tag piano --tag strings=0.5")
    p.add_argument("--strength", type=float,
                   help="spectral change to reach, dB, above 0 (mean over audible bins; default: the preset's)")
    p.add_argument("--steps", type=int, help="a fixed number of ascent steps instead of --strength (experts)")
    p.add_argument("--max-steps", type=int,
                   help="most steps a --strength dream takes (default: the preset's, 40; tag: 12)")
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
    p.add_argument("--plot", metavar="PNG", help="also write the before/after log-mel spectrograms to this PNG")
    p.set_defaults(func=_run_dream)


def dream_options(args, preset) -> "DreamOptions":
    """The :class:`~auditory_deepdream.options.DreamOptions` the ``dream`` arguments ask for (no TensorFlow)."""
    from ..errors import DreamError
    from ..options import SOUND_PATHS

    if args.free and args.steps is None:
        raise DreamError("--free runs a fixed number of steps; give --steps (e.g. --steps 10).")
    o = preset.options
    changes = {"consistent": not args.free, "octaves": args.octaves, "seed": args.seed, "loudness": args.loudness,
               **SOUND_PATHS[args.phase]}
    if args.max_steps is not None:
        changes["max_steps"] = args.max_steps
    if args.free or args.phase == "waveform":  # the gain's bound belongs to consistent mel dreams
        changes.update(max_boost_db=None, hold_floor=0.0)
    if args.steps is not None:
        changes.update(steps=args.steps, strength=None)
    elif args.strength is not None:
        changes["strength"] = args.strength
    if args.step_size is not None:
        changes["step_size"] = args.step_size
    if args.jitter is not None:
        changes["jitter"] = args.jitter
    changes["band_shift"] = 0 if args.phase == "waveform" else (o.band_shift if args.band_shift is None
                                                                 else args.band_shift)
    return o.replace(**changes)


def _what_to_dream(args, about: dict):
    """``(objective kind or None, preset, {class or tag: weight} or None)`` from the arguments, checked."""
    from ..errors import DreamError
    from ..presets import get_preset
    from .checks import match_name, parse_tags

    targets = None
    if args.tag:
        if about["kind"] != "tagger":
            raise DreamError(f"--tag dreams toward a tagger's tags; {args.model!r} names classes: use --class "
                             "(one of " + ", ".join(about["classes"]) + "), or --model musicnn-mtt.")
        targets = parse_tags(args.tag, about["classes"])
    if args.family is not None:
        if targets is not None:
            raise DreamError("Give --class or --tag, not both (a tagger's --class is one --tag).")
        if args.family.lstrip("-").isdigit():
            index = int(args.family)
            if about["classes"] and not 0 <= index < len(about["classes"]):
                raise DreamError(f"--class {index}: the model has {len(about['classes'])} classes "
                                 f"(0..{len(about['classes']) - 1}): {about['classes']}.")
            targets = {index: 1.0}
        elif about["classes"]:
            targets = {match_name(args.family, about["classes"], what="class", flag="--class", plural="classes"): 1.0}
        else:  # a card without classes: the model's own check names what is wrong
            targets = {args.family: 1.0}
    kind = args.objective or ("filter" if args.filter is not None else None)
    if targets is not None:
        if kind not in (None, "class"):
            raise DreamError(f"--class and --tag dream toward a class, not a {kind}; leave out --objective "
                             f"{kind}, --layer and --filter, or leave out --class/--tag.")
        kind = "class"
    tagger = about["kind"] == "tagger"
    preset = get_preset(args.preset or (("tag" if tagger else "morph") if kind == "class" else "strong"))
    layers = [row["name"] for row in about["layers"]]
    if args.layer is not None and layers:
        args.layer = match_name(args.layer, layers, what="layer", flag="--layer")
    return kind, preset, targets


def _run_dream(args):
    from ..atomic import write_json_atomic
    from ..options import parse_loudness
    from ..presets import get_preset
    from .checks import model_description, readable_audio, writable_output

    src = readable_audio(args.input)
    out = writable_output(args.output, like_input=src)
    plot = None if args.plot is None else _png_path(args.plot)
    args.loudness = parse_loudness(args.loudness)
    if args.model is None:  # tags are a tagger's: vgg-both, the taggers the judges chose (README)
        args.model = "vgg-both" if args.tag else "default"
    about = model_description(args.model)
    kind, preset, targets = _what_to_dream(args, about)
    options = dream_options(args, preset)

    from .. import models  # TensorFlow loads from here on
    from ..dreamer import Dreamer, class_objective, dream_file, make_objective, preset_objective

    d = Dreamer.load(args.model)
    conv = models.conv_layer_names(d.model)
    if kind is None:
        if args.layer and preset.objective == "layer":
            objective = make_objective("layer", layer=args.layer)
        else:
            objective = preset_objective(preset, conv, classes=d.info.classes)
    elif kind == "class":
        if targets is None:
            objective = preset_objective(get_preset("morph"), conv, classes=d.info.classes)
        else:
            terms = [class_objective(t, classes=d.info.classes) for t in targets]
            terms = [term if w == 1.0 else w * term for term, w in zip(terms, targets.values())]
            objective = sum(terms[1:], terms[0])
    else:
        layer = args.layer or preset.layer(conv)
        objective = make_objective(kind, layer=layer, index=args.filter or 0)
    path, result = dream_file(src, out, model=d, objective=objective, options=options)
    record = write_json_atomic(path.with_name(path.stem + ".dream.json"), {
        "input": str(src), "output": str(path), "model": str(args.model), "objective": str(objective),
        "options": options.to_dict(), "result": result.summary()})
    if plot is not None:
        from ..display import save_before_after

        save_before_after(plot, result.mel_before[0], result.mel_after[0], settings=d.settings,
                          title=f"{Path(src).name}: {objective}")
    _report(path, record, plot, result, objective, options)


def _png_path(value) -> Path:
    from ..errors import AudioInputError

    path = Path(value)
    if path.suffix.lower() != ".png":
        raise AudioInputError(f"--plot {value!r}: the picture is written as PNG; give a name ending in .png.")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise AudioInputError(f"--plot {value!r}: the folder {folder} does not exist; create it first.")
    return path


def _report(path, record, plot, result, objective, options):
    """What the dream did, one quantity a line, each with its unit."""
    import soundfile as sf

    from ..dreamer import ClassLogit, Sum

    s = result.summary()
    unit = "logit" if isinstance(objective, (ClassLogit, Sum)) and "class" in str(objective) else "mean activation"
    channels = sf.info(str(path)).channels  # a long file was streamed: its result holds no audio
    target = f"target {options.strength:g} dB" if options.strength is not None else f"{len(result.history)} steps"
    held_back = options.strength is not None and s["spectral_change_db"] < options.strength - 0.5
    if held_back and options.max_jump is not None:
        target += f"; the click guard took back what would step {options.max_jump:g}x past the input's largest"
    survival = ("n/a (nothing was gained)" if s["survival"] is None
                else f"{100 * s['survival']:.0f} % of the gain the network climbed is in the audio it hears")
    print(f"wrote {path} ({channels} ch, {result.sample_rate} Hz), {record.name}"
          + (f" and {plot}" if plot is not None else ""))
    print(f"  change     spectral change {s['spectral_change_db']:.2f} dB, mean over audible bins ({target})")
    print(f"  objective  {objective} ({unit}): {s['objective_before']:.4g} -> {s['objective_dreamed']:.4g} "
          f"as dreamed, {s['objective_after']:.4g} as heard")
    print(f"  survival   {survival}")
    if s["noise_lift_db"] is not None:
        print(f"  noise      the quietest 20 % of IN's cells below 8 kHz came up {s['noise_lift_db']:+.1f} dB "
              "(gaps, tails, hiss; at IN's loudness)")
    print(f"  loudness   {result.lufs_in:.1f} -> {result.lufs_out:.1f} LUFS, "
          f"true peak {result.true_peak_dbtp:.1f} dBTP")


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
