"""Sub-commands that dream: ``quickstart``, ``dream`` and ``layers``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import DreamError

if TYPE_CHECKING:
    from ..options import DreamOptions


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
    from ..audio.io import EXAMPLE_CLIPS
    from ..errors import AudioInputError
    from .checks import match_name

    clip = match_name(args.clip, EXAMPLE_CLIPS, what="clip", flag="--clip", owner="the package")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise AudioInputError(f"--out {out} is a file; give a folder (it is created if missing).")

    from ..quickstart import run_quickstart  # TensorFlow loads from here on

    paths = run_quickstart(out_dir=out, clip=clip)
    for kind, path in paths.items():
        print(f"{kind}: {path}")


def add_examples(sub):
    p = sub.add_parser("examples", help="list the bundled clips and the models you can name, with their paths",
                       description="The instrument clips that ship with the package (real notes rendered from the "
                                   "FluidR3 GM SoundFont), and every model --model takes by name: the bundled "
                                   "classifiers and musicnn's taggers, with what each names.")
    p.add_argument("--path", metavar="CLIP", help="print only this clip's path (for use in a shell command)")
    p.add_argument("--tags", action="store_true",
                   help="print only the taggers and every tag each names (what --tag takes)")
    p.set_defaults(func=_run_examples)


def _run_examples(args):
    import textwrap

    import soundfile as sf

    from ..audio.io import EXAMPLE_CLIPS, example_clip
    from ..models.paths import describe, model_names
    from .checks import match_name

    if args.path is not None:
        print(example_clip(match_name(args.path, EXAMPLE_CLIPS, what="clip", flag="--path", owner="the package")))
        return
    if not args.tags:
        print("clips (dream one by name: auditory-deepdream dream cello_C3 out.wav):")
        for name in EXAMPLE_CLIPS:
            path = example_clip(name)
            info = sf.info(str(path))
            print(f"  {name:<10} {info.duration:4.1f} s, {info.samplerate} Hz, {info.channels} ch  {path}")
    print("taggers (--tag NAME; vgg-mtt unless --model names another):" if args.tags else "models (--model NAME):")
    for name in model_names():
        about = describe(name) or {"kind": "?", "classes": []}
        if args.tags and about["kind"] != "tagger":
            continue
        what = "tags" if about["kind"] == "tagger" else "classes"
        head = f"  {name:<12} {about['kind']:<10} {len(about['classes'])} {what}: "
        print(textwrap.fill(", ".join(about["classes"]), width=110, initial_indent=head,
                            subsequent_indent=" " * len(head), break_on_hyphens=False, break_long_words=False))


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
                    "OUT's record beside it (OUT's whole name + .dream.json: the objective, model and options, "
                    "which --replay repeats bit for bit). Several inputs or folders go to an output folder in one "
                    "process. "
                    "The mid signal is dreamed at the model's rate as a gain on its own spectrogram that the "
                    "ascent climbs through the sonification, so what the network heard is what you hear; the "
                    "gain is applied to every channel and the band above the model's is kept from IN. "
                    "Choose an effect with --preset (presets: " + _preset_help() + "), or set the objective "
                    "and --strength yourself; --steps gives the dissertation's fixed step count instead. "
                    "Arguments, files and names are checked before the model loads.")
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="IN OUT: an input audio file (wav, flac, ogg, mp3, aiff, m4a) or a bundled clip's name "
                        "(cello_C3, flute_A4, piano_E4; see `examples`), and the output file (.wav, .flac, .ogg, "
                        ".aiff, .aif, .mp3; IN's sample format is kept when the suffix matches). Or several inputs "
                        "and folders, then an output folder: each file is written there under its own name, with "
                        "the model loaded once; a file already dreamed there with the same options is skipped, so "
                        "a killed batch resumes. With --replay: [IN] [OUT], the record's by default")
    p.add_argument("--replay", metavar="RECORD",
                   help="repeat the dream a record (OUT's name + .dream.json) describes, bit for bit: its model, "
                        "objective, options and excerpt")
    p.add_argument("--start", type=float, metavar="SECONDS",
                   help="dream only an excerpt (a preview) from this time (default 0); the output is the excerpt")
    p.add_argument("--duration", type=float, metavar="SECONDS",
                   help="length of the excerpt to dream (default: to the end)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="dream a batch on the Dask cluster at this scheduler address (pip install -e '.[cluster]'); "
                        "the workers must reach the input and output paths")
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
                   help="a tagger's tag to dream toward (with the default tagger vgg-mtt, or --model musicnn-mtt, "
                        "musicnn-msd, vgg-msd: piano, choir, techno ...; `examples --tags` lists them); repeat for "
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


def dream_options(args, preset) -> DreamOptions:
    """The :class:`~auditory_deepdream.options.DreamOptions` the ``dream`` arguments ask for (no TensorFlow)."""
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
            try:
                targets = {match_name(args.family, about["classes"], what="class", flag="--class",
                                      plural="classes"): 1.0}
            except DreamError as exc:
                raise DreamError(str(exc) + _tag_hint(args.family, about)) from None
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


# what --replay takes from the record: giving one of these beside it is a mistake
_REPLAYED = ("model", "preset", "objective", "layer", "filter", "family", "tag", "strength", "steps", "max_steps",
             "step_size", "jitter", "band_shift", "start", "duration")


def _tag_hint(name: str, about: dict) -> str:
    """For a classifier's --class that a tagger knows as a tag: how to dream toward it instead."""
    from ..models.paths import describe

    if about["kind"] == "tagger":
        return ""
    try:
        tags = (describe("vgg-mtt") or {}).get("classes", [])
    except ImportError:  # musicnn is not installed: no taggers to point to
        return ""
    hit = {t.lower(): t for t in tags}.get(name.lower())
    return (f" {hit!r} is a tag of the taggers, not a family: dream toward it with --tag {hit!r} "
            "(and no --model: tags are the tagger vgg-mtt's).") if hit else ""


def _run_dream(args):
    from ..options import parse_loudness
    from .batch import dream_one, loaded_dreamer, plan_jobs, report_dream, run_batch
    from .checks import model_description
    from .records import build_objective, read_record, record_path

    record = None if args.replay is None else read_record(args.replay)
    if record is not None:
        given = [name for name in _REPLAYED if getattr(args, name) not in (None, [])]
        if given or args.free or args.phase != "original" or args.seed != 0 or args.loudness != "match":
            raise DreamError("--replay takes the model, objective, options and excerpt from the record; leave out "
                             + (", ".join("--" + n.replace("_", "-").replace("family", "class") for n in given)
                                or "the dream's options") + ".")
        excerpt = record.get("excerpt")
    else:
        excerpt = _excerpt(args)
    jobs, batch, refused = plan_jobs(args.paths, record=record, excerpt=excerpt)
    if batch and args.plot is not None:
        raise DreamError("--plot draws one dream; leave it out when dreaming several files.")
    if not batch and args.scheduler:
        raise DreamError("--scheduler runs a batch on a cluster; give several inputs or a folder and an output folder.")
    plot = None if args.plot is None else _png_path(args.plot)
    if record is not None:
        model, options, spec = record["model"], record["options"], record["objective"]
        _check_spec(spec, model_description(model))
    else:
        args.loudness = parse_loudness(args.loudness)
        if args.model is None:  # tags are a tagger's: vgg-both, the taggers the judges chose (README)
            args.model = "vgg-both" if args.tag else "default"
        model = args.model
        about = model_description(model)
        kind, preset, targets = _what_to_dream(args, about)
        options = dream_options(args, preset)
    if not jobs:
        run_batch([], refused=refused, model=model, objective=None, options=options)

    d = loaded_dreamer(model)  # TensorFlow loads from here on
    if record is not None:
        objective = build_objective(spec, classes=d.info.classes)
    else:
        objective = _objective(args, d, kind, preset, targets, tagger=about["kind"] == "tagger")
    if batch:
        run_batch(jobs, refused=refused, model=model, objective=objective, options=options, excerpt=excerpt,
                  scheduler=args.scheduler)
        return
    ((src, out, _),) = jobs
    _, result = dream_one(src, out, model=model, objective=objective, options=options, excerpt=excerpt)
    if plot is not None:
        _plot(plot, src, out, result=result, objective=objective, settings=d.settings, excerpt=excerpt)
    report_dream(out, record_path(out), plot, result, objective, options)


def _plot(png, src, out, *, result, objective, settings, excerpt) -> None:
    """The before/after picture of what was dreamed, the whole of it, its time range in the title.

    A streamed file's result holds its first block's spectrograms only: both files are then
    read again block by block and drawn pooled (:func:`~auditory_deepdream.audio.streams.stream_mel`).
    """
    import soundfile as sf

    from ..audio.streams import stream_mel
    from ..display import save_before_after

    start = (excerpt or {}).get("start", 0.0)
    info = sf.info(str(out))
    stop = start + info.frames / info.samplerate
    if result.audio is not None:  # one pass: the spectrograms the network saw
        before, after = result.mel_before[0], result.mel_after[0]
    else:
        first = round(start * sf.info(str(src)).samplerate)
        before = stream_mel(src, settings=settings, span=(first, first + info.frames))
        after = stream_mel(out, settings=settings)
        after = after[:, :before.shape[1]]
        before = before[:, :after.shape[1]]
    save_before_after(png, before, after, settings=settings, time_range=(start, stop),
                      title=f"{Path(src).name}, {start:.1f} to {stop:.1f} s: {objective}")


def _excerpt(args) -> dict | None:
    """``{"start", "duration"}`` of ``--start``/``--duration`` (checked), or None for the whole file."""
    if args.start is None and args.duration is None:
        return None
    start = 0.0 if args.start is None else args.start
    if start < 0 or (args.duration is not None and args.duration <= 0):
        raise DreamError(f"--start {start:g} --duration {args.duration}: the excerpt starts at 0 s or later "
                         "and lasts more than 0 s.")
    return {"start": start, "duration": args.duration}


def _check_spec(spec: dict, about: dict) -> None:
    """A record's objective names only what its model has (before TensorFlow loads)."""
    from .checks import match_name

    layers = [row["name"] for row in about["layers"]]
    if spec["kind"] in ("layer", "filter") and layers:
        match_name(spec["layer"], layers, what="layer", flag="the record's layer")
    if spec["kind"] in ("class", "tag") and about["classes"]:
        for name in spec["targets"]:
            if not name.isdigit():
                match_name(name, about["classes"], what=spec["kind"], flag=f"the record's {spec['kind']}")


def _objective(args, d, kind, preset, targets, *, tagger: bool):
    """The objective the arguments ask for, on the loaded model."""
    from .. import models
    from ..dreamer import class_objective, make_objective, preset_objective
    from ..presets import get_preset

    conv = models.conv_layer_names(d.model)
    if kind is None:
        if args.layer and preset.objective == "layer":
            return make_objective("layer", layer=args.layer)
        return preset_objective(preset, conv, classes=d.info.classes)
    if kind == "class":
        if targets is None:
            return preset_objective(get_preset("morph"), conv, classes=d.info.classes)
        noun = "tag" if tagger else "class"
        terms = [class_objective(t, classes=d.info.classes, noun=noun) for t in targets]
        terms = [term if w == 1.0 else w * term for term, w in zip(terms, targets.values())]
        return sum(terms[1:], terms[0])
    return make_objective(kind, layer=args.layer or preset.layer(conv), index=args.filter or 0)


def _png_path(value) -> Path:
    from ..errors import AudioInputError

    path = Path(value)
    if path.suffix.lower() != ".png":
        raise AudioInputError(f"--plot {value!r}: the picture is written as PNG; give a name ending in .png.")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise AudioInputError(f"--plot {value!r}: the folder {folder} does not exist; create it first.")
    return path


def add_layers(sub):
    p = sub.add_parser("layers", help="list a model's layers you can dream with, and their filter counts",
                       description="List the feature-map layers of a model (name, type, filters, bands). Of an "
                                   "ensemble folder, the lead member's: layer and filter dreams read its layers.")
    p.add_argument("--model", default="default",
                   help="bundled model name, model directory or ensemble folder (default: default)")
    p.set_defaults(func=_run_layers)


def _run_layers(args):
    from .checks import model_description

    model_description(args.model)  # a misspelt name is refused before TensorFlow, the taggers named too

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
