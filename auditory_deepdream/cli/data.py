"""Sub-commands that make data: ``render-soundfont`` and ``build-dataset``."""

from __future__ import annotations

import argparse
import contextlib
from dataclasses import replace
from pathlib import Path

from ..dataset.plan import DATASET_PRESETS
from ..dataset.soundfont import RENDER_PRESETS, RENDERERS
from ..errors import DatasetError
from ..settings import AudioSettings

__all__ = ["add_build_dataset", "add_render_soundfont"]


def add_render_soundfont(sub):
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
               "  auditory-deepdream render-soundfont --out out/render --renderer fluidsynth\n"
               "  auditory-deepdream render-soundfont --list                        # what is installed")
    p.add_argument("--out", help="output folder (gets examples.json and audio/)")
    p.add_argument("--soundfont", action="append", default=[], metavar="PATH",
                   help="an .sf2/.sf3 file; repeat for several (default: TimGM6mb from pretty_midi)")
    p.add_argument("--preset", choices=sorted(RENDER_PRESETS), default="small",
                   help="small: a smoke test of the pipeline, 10 programs x 4 pitches x 2 velocities (a model trained "
                        "on it classifies nothing); full: every program the "
                        "ontology keeps, every semitone, one velocity per note drawn across 20-127 "
                        "(default: small)")
    p.add_argument("--programs", type=int, nargs="+", metavar="N",
                   help="GM programs (0-127) to render instead of the preset's")
    p.add_argument("--velocities", type=int, nargs="+", metavar="V",
                   help="MIDI velocities (1-127) rendered for every pitch, instead of the preset's")
    p.add_argument("--sample-rate", type=int, default=22050, help="Hz (default: 22050)")
    p.add_argument("--renderer", choices=RENDERERS, default="tinysoundfont",
                   help="the synthesizer: fluidsynth is the reference one and needs `apt-get install "
                        "fluidsynth` and `pip install pyfluidsynth` (default: tinysoundfont)")
    p.add_argument("--jobs", type=int, default=2,
                   help="worker processes of a local Dask cluster; 1 renders in this process (default: 2)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="render on a running Dask cluster instead, e.g. tcp://10.0.0.5:8786 (its workers "
                        "must see --out and the SoundFonts)")
    p.add_argument("--list", action="store_true", help="list the SoundFonts found and exit")
    p.set_defaults(func=_run_render_soundfont)


def _run_render_soundfont(args):
    from ..cluster import dask_client
    from ..dataset import default_render_config, pip_soundfont, render_soundfont, survey_soundfonts

    if args.list:
        for found in survey_soundfonts(args.soundfont):
            role = "held out of the default training set" if found.role == "held out" else found.role
            print(f"{found.path}  ({role}{': ' + found.reason if found.role == 'skipped' else ''})")
        return
    if not args.out:
        raise DatasetError("render-soundfont needs --out FOLDER (or --list).")
    config = replace(default_render_config(args.preset, sample_rate=args.sample_rate, jobs=args.jobs),
                     renderer=args.renderer)
    if args.programs:
        config = replace(config, programs=tuple(args.programs))
    if args.velocities:
        config = replace(config, velocities=tuple(args.velocities), velocity_range=None)
    with dask_client(args.scheduler) if args.scheduler else contextlib.nullcontext() as client:
        examples = render_soundfont(args.out, soundfonts=args.soundfont or [pip_soundfont()], config=config,
                                    client=client)
    print(f"rendered {len(examples)} notes into {args.out}")


def add_build_dataset(sub):
    p = sub.add_parser(
        "build-dataset",
        help="curate, augment and encode NSynth / Philharmonia / SoundFont folders into a feature store",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Read source folders, map their labels to instrument families with the "
                    "ontology table, split by source note, trim, cut 1-second segments (per-family "
                    "hop from K-means, time-stretch for small families), encode log-mel "
                    "spectrograms and write a resumable feature store. Without source folders, "
                    "--preset renders the default SoundFonts first (small: TimGM6mb only, about a "
                    "minute; demo: every kept TimGM6mb program at five pitches; full: every installed GM "
                    "SoundFont except the held-out one, with two recording-augmented copies of every "
                    "training note).",
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
    p.add_argument("--samples", action="append", default=[], metavar="[FAMILY=]DIR",
                   help="a folder of one instrument's notes named by pitch (A0v10.ogg, C#4.wav), and its "
                        "family, e.g. piano=salamander/audio (repeatable); without FAMILY= the folder, or "
                        "each folder in it, is named by its instrument (cello, guitar-nylon: "
                        "data/sample_instruments.csv). It joins the source folders, or the preset's "
                        "SoundFont renders when no source folder is given")
    p.add_argument("--preset", choices=sorted(RENDER_PRESETS), default="small",
                   help="with no source folders: render and build the default dataset (default: small, a smoke test "
                        "that trains no useful model; full for a real one)")
    p.add_argument("--heldout-out", metavar="DIR",
                   help="with --preset: also build the held-out (unseen SoundFont or programs) test store")
    p.add_argument("--soundfont", action="append", default=[], metavar="PATH",
                   help="with --preset full: also train on this SF2/SF3 file (repeatable)")
    p.add_argument("--renderer", choices=RENDERERS, default="tinysoundfont",
                   help="with --preset: the SoundFont synthesizer (fluidsynth needs apt-get install "
                        "fluidsynth and pip install pyfluidsynth; default: tinysoundfont)")
    p.add_argument("--recording-copies", type=int, default=None, metavar="K",
                   help="recording-augmented copies of every training note (pedalboard effects; "
                        "default: the preset's, 2 for full, 0 otherwise)")
    p.add_argument("--recording-strength", type=float, default=1.0, metavar="S",
                   help="scales the ranges of the recording effects (default: 1.0)")
    p.add_argument("--settings", default="default",
                   help="audio settings preset or settings.json path (default: default)")
    p.add_argument("--ontology", metavar="CSV", help="edited copy of the ontology table")
    p.add_argument("--skip-unknown", action="store_true",
                   help="skip labels the ontology does not list instead of stopping")
    p.add_argument("--jobs", type=int, default=2,
                   help="worker processes of a local Dask cluster; 1 encodes in this process (default: 2)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="encode on a running Dask cluster instead, e.g. tcp://10.0.0.5:8786 (its workers "
                        "must see the source folders); the store is still written by this process")
    p.add_argument("--overwrite", action="store_true", help="delete an existing store first")
    p.set_defaults(func=_run_build_dataset)


def _recording(args, preset: str):
    """The preset's recording augmentation, or the one the options ask for."""
    from ..dataset import RecordingAugmentation

    default = DATASET_PRESETS[preset].recording
    if args.recording_copies is None and args.recording_strength == 1.0:
        return default
    copies = args.recording_copies if args.recording_copies is not None else (default.copies if default else 0)
    return RecordingAugmentation(copies=copies, strength=args.recording_strength) if copies else None


def _run_build_dataset(args):
    from ..dataset import build_dataset, build_default_dataset, summarize

    settings = (AudioSettings.load(args.settings) if Path(args.settings).suffix == ".json"
                else AudioSettings.preset(args.settings))
    if args.nsynth or args.philharmonia or args.soundfont_dir:
        config = replace(DATASET_PRESETS[args.preset], jobs=args.jobs,
                         on_unknown="skip" if args.skip_unknown else "error",
                         recording=_recording(args, args.preset))
        store = build_dataset(args.out, nsynth=args.nsynth, philharmonia=args.philharmonia,
                              soundfont=args.soundfont_dir, samples=args.samples, settings=settings, config=config,
                              ontology=args.ontology, overwrite=args.overwrite, scheduler=args.scheduler)
    else:
        result = build_default_dataset(args.out, preset=args.preset, heldout_dir=args.heldout_out,
                                       soundfonts=args.soundfont or None, samples=args.samples,
                                       renderer=args.renderer,
                                       recording=_recording(args, args.preset),
                                       settings=settings, jobs=args.jobs, overwrite=args.overwrite,
                                       scheduler=args.scheduler)
        store = result["store"]
        if result["heldout"] is not None:
            print(f"held-out store: {args.heldout_out} ({len(result['heldout'])} segments)")
    print(summarize(store.index).to_string())
    print(f"store: {args.out} ({len(store)} segments, classes {store.classes})")
