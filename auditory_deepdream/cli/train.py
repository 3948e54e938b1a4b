"""Sub-commands that fit models: ``train``, ``ensemble`` and ``search``."""

from __future__ import annotations


def _training_options(p, *, epochs: int):
    p.add_argument("--store", required=True, help="encoded dataset store (from build-dataset)")
    p.add_argument("--builder", default="conv_blocks",
                   help="model builder: conv_blocks, vgg_like, timbre, freq_preserving (default: conv_blocks)")
    p.add_argument("--epochs", type=int, default=epochs, help=f"most epochs per model (default: {epochs})")
    p.add_argument("--batch-size", type=int, default=64, help="batch size (default: 64)")
    p.add_argument("--patience", type=int, default=5, help="early-stopping patience in epochs (default: 5)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.add_argument("--samples-per-family", type=int, default=None,
                   help="each epoch draws N training segments per family afresh (balanced epochs)")
    p.add_argument("--workers", type=int, default=1, help="data-loading threads (default: 1)")
    p.add_argument("--min-audio-fraction", type=float, default=0.5,
                   help="use only segments with at least this share of real note, dropping final "
                        "segments that are mostly zero padding (default: 0.5; 0 keeps all)")
    p.add_argument("--time-limit", type=float, default=None, metavar="SECONDS",
                   help="stop each model's training after the epoch in which SECONDS have passed")
    p.add_argument("--augment-strength", type=float, default=1.0,
                   help="strength of the fit-time augmentation (level, tilt, noise, masks; default: 1.0)")
    p.add_argument("--warp-semitones", type=float, default=0.0,
                   help="fit-time frequency warp: scale every frequency by up to this many semitones "
                        "either way (default: 0, off)")
    p.add_argument("--label-smoothing", type=float, default=0.0,
                   help="train on one-hot labels smoothed by this much (default: 0, off)")
    p.add_argument("--no-augment", action="store_true", help="train without fit-time augmentation")


def _parse_hp(pairs, builder: str) -> dict:
    from ..errors import ModelError
    from ..models import DEFAULT_HYPERPARAMETERS

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
    from ..training import TrainConfig

    return TrainConfig(epochs=args.epochs, batch_size=args.batch_size, patience=args.patience, seed=args.seed,
                       samples_per_family=args.samples_per_family, workers=args.workers,
                       min_audio_fraction=args.min_audio_fraction, max_seconds=args.time_limit,
                       augment=not args.no_augment, augment_strength=args.augment_strength,
                       warp_semitones=args.warp_semitones, label_smoothing=args.label_smoothing, **extra)


def _results(path, *, made_by: str) -> dict:
    """A benchmark's JSON results for a card; :class:`ModelError` naming the script if it is missing."""
    import json
    from pathlib import Path

    from ..errors import ModelError

    if not Path(path).is_file():
        raise ModelError(f"{path} does not exist; run {made_by} first, or leave it out.")
    return json.loads(Path(path).read_text())


def add_train(sub):
    p = sub.add_parser(
        "train", help="train one model on a dataset store and write a model directory with its card",
        description="Train one model (early stopping on the valid split, best epoch reloaded), evaluate "
                    "it on the test split and write a model directory: model.keras, settings.json, "
                    "card.json, card.md (data, classes, settings, hyper-parameters, seed, the command "
                    "that reproduces it, accuracies) and confusion.png. Load it with "
                    "models.load_model(<dir>) or `auditory-deepdream dream --model <dir>`. To train "
                    "on several machines, run the same command on each with a TF_CONFIG naming the "
                    "cluster and its place in it (MultiWorkerMirroredStrategy; worker 0 writes).")
    _training_options(p, epochs=30)
    p.add_argument("--out", required=True, help="model directory to write")
    p.add_argument("--hp", nargs="*", default=[], metavar="KEY=VALUE",
                   help="hyper-parameter overrides, e.g. --hp width=0.5 dropout=0.2")
    p.add_argument("--heldout", default=None,
                   help="store rendered from a SoundFont left out of training; its accuracy goes in the card")
    p.add_argument("--log-dir", default=None,
                   help="run logs (CSV, checkpoint, Aim); default: out/train-logs/<name>")
    p.add_argument("--name", default=None, help="model name in the card (default: the --out folder name)")
    p.add_argument("--ablation", default=None, metavar="JSON",
                   help="augmentation ablation results (a JSON such as benchmarks/results/augmentation_ablation.json) "
                        "to show in the card")
    p.add_argument("--search-results", default=None, metavar="JSON",
                   help="model search results (a JSON such as benchmarks/results/model_search.json) to show "
                        "in the card")
    p.set_defaults(func=_run_train)


def _run_train(args):
    import shlex
    from pathlib import Path

    from ..training import export_model, is_chief, strategy_from_environment, train

    strategy = strategy_from_environment()  # before any other TensorFlow work, as TF requires
    from ..dataset import FeatureStore

    hp = _parse_hp(args.hp, args.builder)
    store = FeatureStore(args.store)
    heldout = FeatureStore(args.heldout) if args.heldout else None
    selection = {key: _results(path, made_by="the model selection (benchmarks/README.md)")
                 for key, path in (("ablation", args.ablation), ("search", args.search_results)) if path}
    out = Path(args.out)
    log_dir = Path(args.log_dir) if args.log_dir else Path("out", "train-logs", args.name or out.name)
    config = _train_config(args)
    result = train(store, builder=args.builder, hp=hp, config=config, log_dir=log_dir,
                   experiment=f"train-{out.name}", strategy=strategy)
    if not is_chief(strategy):
        print(f"worker done: trained in step with the chief, which writes {out} and {log_dir}")
        return
    card = export_model(result, out, store=store, command=shlex.join(["auditory-deepdream", *args.argv]),
                        name=args.name or out.name, config=config, heldout=heldout, selection=selection)
    print(f"test accuracy: {card['test']['accuracy']:.4f} ({card['test']['n']} segments)")
    if "heldout" in card:
        print(f"held-out SoundFont accuracy: {card['heldout']['accuracy']:.4f} ({card['heldout']['n']} segments)")
    print(f"model: {out}")
    print(f"logs: {log_dir}  (view: aim up --repo {log_dir / 'aim'})")


def add_ensemble(sub):
    p = sub.add_parser(
        "ensemble", help="average trained models into one ensemble folder with its card",
        description="Copy two or more model directories (from `train`, same families and audio settings; "
                    "the first leads: dreams with the folder read its layers) into one ensemble folder, "
                    "score the average (softmax of the members' mean log-probability) on the store's test "
                    "split and on a held-out store, and write ensemble.json, card.json, card.md and "
                    "confusion.png. Every command that takes --model (classify, dream) and "
                    "models.load_model take the folder.")
    p.add_argument("members", nargs="+", metavar="MODEL_DIR", help="trained model directories, lead first")
    p.add_argument("--out", required=True, help="ensemble folder to write")
    p.add_argument("--store", required=True, help="the members' training store (its test split is scored)")
    p.add_argument("--heldout", default=None,
                   help="store rendered from a SoundFont no member trained on; its accuracy goes in the card")
    p.add_argument("--name", default=None, help="name in the card (default: the --out folder name)")
    p.add_argument("--selection", default=None, metavar="JSON",
                   help="the ensemble selection JSON (benchmarks/results/ensemble_selection.json), shown in the "
                        "card as the reason to average")
    p.set_defaults(func=_run_ensemble)


def _run_ensemble(args):
    import shlex

    from ..dataset import FeatureStore
    from ..training import export_ensemble

    selection = (_results(args.selection, made_by="the ensemble selection (benchmarks/README.md)")
                 if args.selection else None)
    store = FeatureStore(args.store)
    heldout = FeatureStore(args.heldout) if args.heldout else None
    card = export_ensemble(args.members, args.out, store=store, heldout=heldout, selection=selection,
                           name=args.name, command=shlex.join(["auditory-deepdream", *args.argv]))
    print(f"test note vote: {card['test']['note_accuracy']:.4f} ({card['test']['n_notes']} notes)")
    if "heldout" in card:
        print(f"held-out SoundFont note vote: {card['heldout']['note_accuracy']:.4f} "
              f"({card['heldout']['n_notes']} notes); segments {card['heldout']['accuracy']:.4f}")
    print(f"ensemble: {args.out}")


def add_search(sub):
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
    p.add_argument("--parallel", type=int, default=1, metavar="K",
                   help="trials at once, on a Dask cluster (default: 1, in this process). The same seed "
                        "and K give the same search")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="Dask scheduler for --parallel trials, e.g. tcp://10.0.0.5:8786 (default: a local "
                        "cluster of K worker processes); --store and --log-dir must be on a file system "
                        "every worker sees")
    p.set_defaults(func=_run_search)


def _run_search(args):
    import contextlib

    from ..cluster import dask_client
    from ..dataset import FeatureStore
    from ..training import search

    fixed = _parse_hp(args.fixed, args.builder)
    store = FeatureStore(args.store)
    with contextlib.ExitStack() as stack:
        client = (stack.enter_context(dask_client(args.scheduler, n_workers=args.parallel))
                  if args.parallel > 1 or args.scheduler else None)
        table = search(store, builder=args.builder, log_dir=args.log_dir, n_trials=args.trials,
                       init_points=args.init_points, fixed=fixed, config=_train_config(args, verbose=2),
                       acquisition=args.acquisition, parallel=args.parallel, client=client)
    print(table.head(10).to_string(index=False))
    print(f"logs: {args.log_dir}  (view: aim up --repo {args.log_dir}/aim)")
