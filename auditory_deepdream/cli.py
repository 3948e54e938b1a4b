"""The ``auditory-deepdream`` command.

Each sub-command is a thin wrapper over one package function; heavy modules
(TensorFlow) are imported only inside the handler that needs them, so ``--help`` is quick.
"""

from __future__ import annotations

import argparse
import sys

from .errors import AuditoryDeepDreamError

__all__ = ["main", "build_parser"]


# ----------------------------------------------------------------------- quickstart
def _add_quickstart(sub):
    p = sub.add_parser(
        "quickstart",
        help="dream a bundled instrument clip with the bundled model (the README's first command)",
        description="Load a bundled real instrument clip, dream it with the bundled default "
                    "model, and write a WAV and a before/after spectrogram PNG.")
    p.add_argument("--out", default="out/quickstart", help="output folder (default: out/quickstart)")
    p.add_argument("--clip", default="cello_C3", help="bundled clip name (default: cello_C3)")
    p.set_defaults(func=_run_quickstart)


def _run_quickstart(args):
    from .quickstart import run_quickstart

    paths = run_quickstart(out_dir=args.out, clip=args.clip)
    for kind, path in paths.items():
        print(f"{kind}: {path}")


# ------------------------------------------------------------------ dataset (issue 3)
def _add_render_soundfont(sub):
    p = sub.add_parser(
        "render-soundfont",
        help="render single notes from General MIDI SoundFonts into an NSynth-layout folder",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Render notes (held 3 s, then 1 s of release) of the GM programs listed in "
                    "auditory_deepdream/data/gm_programs.csv from one or more SoundFonts. The "
                    "output folder looks like one NSynth split: examples.json and "
                    "audio/<family>_<source>_<instrument>-<pitch>-<velocity>.wav, ready for "
                    "`auditory-deepdream build-dataset --soundfont-dir`.",
        epilog="examples:\n"
               "  auditory-deepdream render-soundfont --out out/render              # pip's TimGM6mb\n"
               "  auditory-deepdream render-soundfont --out out/render --preset full \\\n"
               "      --soundfont /usr/share/sounds/sf2/FluidR3_GM.sf2\n"
               "  auditory-deepdream render-soundfont --list                        # what is installed")
    p.add_argument("--out", help="output folder (gets examples.json and audio/)")
    p.add_argument("--soundfont", action="append", default=[], metavar="PATH",
                   help="an .sf2/.sf3 file; repeat for several (default: TimGM6mb from pretty_midi)")
    p.add_argument("--preset", choices=["small", "full"], default="small",
                   help="small: 10 programs x 4 pitches x 2 velocities; full: every program the "
                        "ontology keeps, every 3rd semitone, 3 velocities (default: small)")
    p.add_argument("--programs", type=int, nargs="+", metavar="N",
                   help="GM programs (0-127) to render instead of the preset's")
    p.add_argument("--velocities", type=int, nargs="+", metavar="V", help="MIDI velocities (1-127)")
    p.add_argument("--sample-rate", type=int, default=22050, help="Hz (default: 22050)")
    p.add_argument("--jobs", type=int, default=2, help="worker processes (default: 2)")
    p.add_argument("--list", action="store_true", help="list the SoundFonts found and exit")
    p.set_defaults(func=_run_render_soundfont)


def _run_render_soundfont(args):
    from dataclasses import replace

    from .dataset import kept_programs
    from .errors import DatasetError
    from .soundfont import RENDER_PRESETS, default_soundfonts, find_soundfonts, pip_soundfont, render_soundfont

    if args.list:
        train, held = default_soundfonts(args.soundfont)
        for path in find_soundfonts(args.soundfont):
            print(f"{path}  ({'held out of the default training set' if path in held else 'training'})")
        return
    if not args.out:
        raise DatasetError("render-soundfont needs --out FOLDER (or --list).")
    config = replace(RENDER_PRESETS[args.preset], sample_rate=args.sample_rate, jobs=args.jobs)
    if config.programs is None:
        config = replace(config, programs=tuple(kept_programs()))
    if args.programs:
        config = replace(config, programs=tuple(args.programs))
    if args.velocities:
        config = replace(config, velocities=tuple(args.velocities))
    examples = render_soundfont(args.out, soundfonts=args.soundfont or [pip_soundfont()], config=config)
    print(f"rendered {len(examples)} notes into {args.out}")


def _add_build_dataset(sub):
    p = sub.add_parser(
        "build-dataset",
        help="curate, augment and encode NSynth / Philharmonia / SoundFont folders into a feature store",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Read source folders, map their labels to instrument families with the "
                    "ontology table, split by source note, trim, cut 1-second segments (per-family "
                    "hop from K-means, time-stretch for small families), encode log-mel "
                    "spectrograms and write a resumable feature store. Without source folders, "
                    "--preset renders the default SoundFonts first (small: TimGM6mb only, about a "
                    "minute; full: every installed GM SoundFont except the held-out one).",
        epilog="examples:\n"
               "  auditory-deepdream build-dataset --out out/datasets/small --preset small\n"
               "  auditory-deepdream build-dataset --out out/datasets/default --preset full \\\n"
               "      --heldout-out out/datasets/heldout\n"
               "  auditory-deepdream build-dataset --out out/ds --nsynth ~/data/nsynth \\\n"
               "      --philharmonia ~/data/philharmonia\n"
               "An interrupted build resumes when run again with the same arguments.")
    p.add_argument("--out", required=True, help="store folder to write")
    p.add_argument("--nsynth", action="append", default=[], metavar="DIR",
                   help="NSynth release folder (holding nsynth-train/ ...) or one split folder")
    p.add_argument("--philharmonia", action="append", default=[], metavar="DIR",
                   help="Philharmonia sample library: one folder per instrument")
    p.add_argument("--soundfont-dir", action="append", default=[], metavar="DIR",
                   help="a folder written by `render-soundfont`")
    p.add_argument("--preset", choices=["small", "full"], default="small",
                   help="with no source folders: render and build the default dataset (default: small)")
    p.add_argument("--heldout-out", metavar="DIR",
                   help="with --preset: also build the held-out (unseen SoundFont or programs) test store")
    p.add_argument("--settings", default="default",
                   help="audio settings preset or settings.json path (default: default)")
    p.add_argument("--ontology", metavar="CSV", help="edited copy of the ontology table")
    p.add_argument("--skip-unknown", action="store_true",
                   help="skip labels the ontology does not list instead of stopping")
    p.add_argument("--jobs", type=int, default=2, help="worker processes (default: 2)")
    p.add_argument("--overwrite", action="store_true", help="delete an existing store first")
    p.set_defaults(func=_run_build_dataset)


def _run_build_dataset(args):
    from dataclasses import replace
    from pathlib import Path

    from .dataset import DATASET_PRESETS, build_dataset, build_default_dataset, summarize
    from .settings import AudioSettings

    settings = (AudioSettings.load(args.settings) if Path(args.settings).suffix == ".json"
                else AudioSettings.preset(args.settings))
    if args.nsynth or args.philharmonia or args.soundfont_dir:
        config = replace(DATASET_PRESETS[args.preset], jobs=args.jobs,
                         on_unknown="skip" if args.skip_unknown else "error")
        store = build_dataset(args.out, nsynth=args.nsynth, philharmonia=args.philharmonia,
                              soundfont=args.soundfont_dir, settings=settings, config=config,
                              ontology=args.ontology, overwrite=args.overwrite)
    else:
        result = build_default_dataset(args.out, preset=args.preset, heldout_dir=args.heldout_out,
                                       settings=settings, jobs=args.jobs, overwrite=args.overwrite)
        store = result["store"]
        if result["heldout"] is not None:
            print(f"held-out store: {args.heldout_out} ({len(result['heldout'])} segments)")
    print(summarize(store.index).to_string())
    print(f"store: {args.out} ({len(store)} segments, classes {store.classes})")


# ----------------------------------------------------------------- training (issue 4)
# (train, search)
def _training_options(p, *, epochs: int):
    p.add_argument("--store", required=True, help="encoded dataset store (from build-dataset)")
    p.add_argument("--builder", default="conv_blocks",
                   help="model builder: conv_blocks, vgg_like, timbre, freq_preserving (default: conv_blocks)")
    p.add_argument("--epochs", type=int, default=epochs, help=f"most epochs per model (default: {epochs})")
    p.add_argument("--batch-size", type=int, default=64, help="batch size (default: 64)")
    p.add_argument("--patience", type=int, default=5, help="early-stopping patience in epochs (default: 5)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.add_argument("--samples-per-instrument", type=int, default=None,
                   help="each epoch draws N training segments per family afresh (balanced epochs)")
    p.add_argument("--workers", type=int, default=1, help="data-loading threads (default: 1)")
    p.add_argument("--min-audio-fraction", type=float, default=0.5,
                   help="use only segments with at least this share of real note, dropping final "
                        "segments that are mostly zero padding (default: 0.5; 0 keeps all)")
    p.add_argument("--time-limit", type=float, default=None, metavar="SECONDS",
                   help="stop each model's training after the epoch in which SECONDS have passed")


def _parse_hp(pairs, builder: str) -> dict:
    from .errors import ModelError
    from .models import DEFAULT_HYPERPARAMETERS

    known = DEFAULT_HYPERPARAMETERS.get(builder)
    if known is None:
        raise ModelError(f"Unknown model builder {builder!r}; choose one of {sorted(DEFAULT_HYPERPARAMETERS)}.")
    hp = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or key not in known:
            raise ModelError(f"Bad hyper-parameter {pair!r}: use KEY=VALUE with KEY one of {sorted(known)}.")
        number = float(value)
        hp[key] = int(number) if number.is_integer() and isinstance(known[key], int) else number
    return hp


def _train_config(args, **extra):
    from .training import TrainConfig

    return TrainConfig(epochs=args.epochs, batch_size=args.batch_size, patience=args.patience, seed=args.seed,
                       samples_per_instrument=args.samples_per_instrument, workers=args.workers,
                       min_audio_fraction=args.min_audio_fraction, max_seconds=args.time_limit, **extra)


def _add_train(sub):
    p = sub.add_parser(
        "train", help="train one model on a dataset store and write a model directory with its card",
        description="Train one model (early stopping on the valid split, best epoch reloaded), evaluate "
                    "it on the test split and write a model directory: model.keras, settings.json, "
                    "card.json, card.md (data, classes, settings, hyper-parameters, seed, the command "
                    "that reproduces it, accuracies) and confusion.png. Load it with "
                    "models.load_model(<dir>) or `auditory-deepdream dream --model <dir>`.")
    _training_options(p, epochs=30)
    p.add_argument("--out", required=True, help="model directory to write")
    p.add_argument("--hp", nargs="*", default=[], metavar="KEY=VALUE",
                   help="hyper-parameter overrides, e.g. --hp width=0.5 dropout=0.2")
    p.add_argument("--heldout", default=None,
                   help="store rendered from a SoundFont left out of training; its accuracy goes in the card")
    p.add_argument("--log-dir", default=None,
                   help="run logs (CSV, checkpoint, Aim); default: out/train-logs/<name>")
    p.add_argument("--name", default=None, help="model name in the card (default: the --out folder name)")
    p.set_defaults(func=_run_train)


def _run_train(args):
    import shlex
    from pathlib import Path

    from .store import FeatureStore
    from .training import export_model, train

    hp = _parse_hp(args.hp, args.builder)
    store = FeatureStore(args.store)
    heldout = FeatureStore(args.heldout) if args.heldout else None
    out = Path(args.out)
    log_dir = Path(args.log_dir) if args.log_dir else Path("out", "train-logs", args.name or out.name)
    config = _train_config(args)
    command = ["auditory-deepdream", "train", "--store", args.store, "--out", args.out,
               "--builder", args.builder, "--epochs", str(args.epochs), "--batch-size", str(args.batch_size),
               "--patience", str(args.patience), "--seed", str(args.seed)]
    if hp:
        command += ["--hp", *[f"{k}={v}" for k, v in hp.items()]]
    if args.samples_per_instrument:
        command += ["--samples-per-instrument", str(args.samples_per_instrument)]
    if args.min_audio_fraction != 0.5:
        command += ["--min-audio-fraction", str(args.min_audio_fraction)]
    if args.time_limit:
        command += ["--time-limit", str(args.time_limit)]
    if args.heldout:
        command += ["--heldout", args.heldout]
    result = train(store, builder=args.builder, hp=hp, config=config, log_dir=log_dir,
                   experiment=f"train-{out.name}")
    card = export_model(result, out, store=store, command=shlex.join(command), name=args.name or out.name,
                        config=config, heldout=heldout)
    print(f"test accuracy: {card['test']['accuracy']:.4f} ({card['test']['n']} segments)")
    if "heldout" in card:
        print(f"held-out SoundFont accuracy: {card['heldout']['accuracy']:.4f} ({card['heldout']['n']} segments)")
    print(f"model: {out}")
    print(f"logs: {log_dir}  (view: aim up --repo {log_dir / 'aim'})")


def _add_search(sub):
    p = sub.add_parser(
        "search", help="Bayesian hyper-parameter search with full per-trial logs (resumable)",
        description="Bayesian optimisation (bayes_opt) over a builder's hyper-parameters. Each trial "
                    "trains with early stopping, reloads its best epoch and is scored on the test split. "
                    "Logs per trial: hyperparameters.csv, evaluation.csv, architecture JSON + summary, "
                    ".keras checkpoint, history CSV and an Aim run (aim up --repo <log-dir>/aim). "
                    "Rerun the same command to resume an interrupted search.")
    _training_options(p, epochs=15)
    p.add_argument("--log-dir", required=True, help="folder for every trial's logs; rerun to resume")
    p.add_argument("--trials", type=int, default=10, help="total trials (default: 10)")
    p.add_argument("--init-points", type=int, default=3, help="random trials before GP suggestions (default: 3)")
    p.add_argument("--acquisition", choices=["ucb", "ei", "poi"], default="ucb",
                   help="acquisition function (default: ucb)")
    p.add_argument("--fixed", nargs="*", default=[], metavar="KEY=VALUE",
                   help="hyper-parameters held constant, e.g. --fixed width=0.5")
    p.set_defaults(func=_run_search)


def _run_search(args):
    from .search import search
    from .store import FeatureStore

    fixed = _parse_hp(args.fixed, args.builder)
    table = search(FeatureStore(args.store), builder=args.builder, log_dir=args.log_dir, n_trials=args.trials,
                   init_points=args.init_points, fixed=fixed, config=_train_config(args, verbose=2),
                   acquisition=args.acquisition)
    print(table.head(10).to_string(index=False))
    print(f"logs: {args.log_dir}  (view: aim up --repo {args.log_dir}/aim)")


# ------------------------------------------------------------------ dreamer (issue 5)
def _add_dream(sub):
    p = sub.add_parser(
        "dream", help="dream an audio file: amplify a filter, a layer or a class of a model",
        description="Encode IN, run gradient ascent on its log-mel spectrogram for the chosen "
                    "objective, sonify (original phase or Griffin-Lim) and write OUT, loudness-matched "
                    "to IN. Any length: long files are processed in one piece. OUT has IN's sample "
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
                   help="sonification: gain on the original STFT, Griffin-Lim, or dream the waveform "
                        "itself (default: original)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.set_defaults(func=_run_dream)


def _run_dream(args):
    from . import models
    from . import dreamer as D

    d = D.Dreamer.load(args.model)
    layer = args.layer or models.conv_layer_names(d.model)[0]
    family = int(args.family) if args.family.lstrip("-").isdigit() else args.family
    if args.objective == "class":
        objective = D.class_objective(family, classes=d.info.classes)
    else:
        objective = D.make_objective(args.objective, layer=layer, index=args.filter)
    path, result = D.dream_file(args.input, args.output, model=d, objective=objective, steps=args.steps,
                                step_size=args.step_size, octaves=args.octaves, jitter=args.jitter,
                                phase=args.phase, seed=args.seed)
    s = result.summary()
    survival = "n/a" if s["survival"] is None else f"{100 * s['survival']:.0f} %"
    print(f"wrote {path}: {objective}, objective {s['objective_before']:.4g} -> {s['objective_dreamed']:.4g} "
          f"(heard {s['objective_after']:.4g}, survival {survival}), spectral change "
          f"{s['spectral_change_db']:.2f} dB, {s['loudness_out_db']:.1f} dBFS RMS, {result.sample_rate} Hz")


def _add_layers(sub):
    p = sub.add_parser("layers", help="list a model's layers you can dream with, and their filter counts",
                       description="List the feature-map layers of a model (name, type, filters, bands).")
    p.add_argument("--model", default="default", help="bundled model name or model directory (default: default)")
    p.set_defaults(func=_run_layers)


def _run_layers(args):
    from . import models

    model, settings, card = models.load_model(args.model)
    table = models.list_layers(model)
    print(table[["name", "type", "filters", "bands"]].to_string(index=False))
    if card.get("classes"):
        print("classes:", ", ".join(card["classes"]))



def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="auditory-deepdream",
        description="Turn trained audio CNNs into sound effects. Run a sub-command with "
                    "--help for its options.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, value in list(globals().items()):
        if name.startswith("_add_") and callable(value):
            value(sub)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except AuditoryDeepDreamError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
