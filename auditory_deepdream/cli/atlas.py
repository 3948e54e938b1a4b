"""The sub-command that builds a model's atlas: ``atlas``."""

from __future__ import annotations

from pathlib import Path


def add_atlas(sub):
    p = sub.add_parser(
        "atlas", help="build a browsable atlas of every filter of a model (a static site that works offline)",
        description="Dream every filter of every convolution layer of --model on each clip, in batched runs, "
                    "and write a static site to --out: a page per layer with a grid of all its filters (click to "
                    "hear), and for each filter its dream on every clip (before and after players, a change "
                    "picture), the classes or tags it raises most and, with --store, the store segments that "
                    "excite it most. Open OUT/index.html from disk; nothing is loaded from the network. A killed "
                    "build resumes when run again with the same command.")
    p.add_argument("--model", default="default", metavar="NAME",
                   help="a bundled model or tagger name, or a model directory (default: default)")
    p.add_argument("--out", required=True, metavar="DIR", help="folder of the atlas (created)")
    p.add_argument("--clips", nargs="+", metavar="FILE",
                   help="audio files (or bundled clip names) the filters are dreamed on (default: the bundled notes)")
    p.add_argument("--store", metavar="DIR",
                   help="a dataset store (build-dataset) whose segments give each filter's natural examples")
    p.add_argument("--layers", nargs="+", metavar="LAYER", help="only these layers (default: every convolution)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="a Dask scheduler to run the units on (one task each)")
    p.add_argument("--steps", type=int, default=10, help="ascent steps of every dream (default: 10)")
    p.add_argument("--top-k", type=int, default=4, help="natural examples per filter (default: 4)")
    p.add_argument("--chunk", type=int, default=32, help="filters dreamed in one batched run (default: 32)")
    p.add_argument("--seed", type=int, default=0, help="seed of the dreams (default: 0)")
    p.set_defaults(func=_run_atlas)


def check_atlas_arguments(args) -> tuple:
    """Everything that can be checked before TensorFlow loads: model, layers, clips, store, folder, settings.

    Returns
    -------
    (clips, config) : list of Path or None, AtlasConfig
    """
    from ..atlas.build import check_output_folder
    from ..atlas.config import AtlasConfig
    from ..atlas.examples import open_store
    from .checks import match_name, model_description, readable_audio

    config = AtlasConfig(steps=args.steps, top_k=args.top_k, chunk=args.chunk, seed=args.seed)
    described = model_description(args.model)
    known = [layer["name"] for layer in described.get("layers") or []]
    if known and args.layers:
        args.layers = [match_name(name, known, what="layer", flag="--layers") for name in args.layers]
    clips = [readable_audio(c) for c in args.clips] if args.clips else None
    if args.store:
        open_store(args.store, settings=None)  # a finished store with segments, as the build will need
    check_output_folder(Path(args.out))
    return clips, config


def _run_atlas(args):
    clips, config = check_atlas_arguments(args)
    from ..atlas.build import build_atlas

    build = build_atlas(args.model, args.out, clips=clips, store=args.store, scheduler=args.scheduler,
                        layers=args.layers, config=config)
    print(build.line())
    if build.meaning:
        o = build.meaning["overall"]
        print(f"Meaning: a filter's dream and its natural examples name the same family in {o['agreement']:.2f} of "
              f"{o['filters']} filters (shuffled: {o['baseline_mean']:.2f}, p = {o['p_value']:.3f}).")
