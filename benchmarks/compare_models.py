"""Four model families on the same data and the same time budget, and what their dreams sound like.

Trains the conv-blocks, VGG-like, full-frequency-kernel ("timbre") and frequency-preserving
builders with the project's own command (``auditory-deepdream train``), each for the same
wall-clock budget on the default SoundFont dataset, then dreams the same real notes (the
three bundled clips) with every model through the three sonification paths and records:

* accuracy: test (segments with at least half real note), note-level vote, every segment,
  and the SoundFont held out of training entirely;
* per model x path: activation gain that survives into the audio (``survival``: the
  objective re-run on the re-encoded output), spectral change, SNR of the output against
  the input at **zero** steps (how transparent the path is), and seconds of compute per
  second of audio.

Writes ``results/model_comparison.json`` and prints the tables as markdown. Models are
written to ``benchmarks/models/<builder>/`` (model card included); a model whose card
records the same training command is reused, so an interrupted run resumes.

Usage::

    python benchmarks/compare_models.py --store out/datasets/default --heldout out/datasets/heldout
    python benchmarks/compare_models.py --skip-training       # re-measure the dreams only

Run it alone on the machine: the time budget and the timings assume idle cores.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import environment, timed, write_result  # noqa: E402

from auditory_deepdream.atomic import write_json_atomic  # noqa: E402

#: Hyper-parameters per builder: each builder's defaults, with conv_blocks at the bundled
#: model's size, so that no model is an order of magnitude larger than the others.
COMPARISON_HP = {
    "conv_blocks": {"width": 0.25, "dense_units": 64, "dropout": 0.1, "learning_rate": 0.002},
    "vgg_like": {"base_filters": 8, "learning_rate": 0.002},
    "timbre": {"learning_rate": 0.002},
    "freq_preserving": {"base_filters": 8, "learning_rate": 0.002},
}
CLIPS = ("cello_C3", "flute_A4", "piano_E4")


def train_command(builder: str, *, store: str, heldout: str | None, out: Path, time_limit: float,
                  epochs: int, seed: int, samples_per_family: int | None = None) -> list[str]:
    cmd = ["auditory-deepdream", "train", "--store", store, "--out", str(out), "--builder", builder,
           "--epochs", str(epochs), "--patience", "4", "--seed", str(seed), "--time-limit", str(time_limit),
           "--log-dir", str(ROOT / "out" / "train-logs" / f"compare-{builder}"),
           "--hp", *[f"{k}={v}" for k, v in COMPARISON_HP[builder].items()]]
    if samples_per_family:
        cmd += ["--samples-per-family", str(samples_per_family)]
    return cmd + (["--heldout", heldout] if heldout else [])


def train_all(args) -> dict:
    """Train (or reuse) one model per builder; returns ``{builder: model directory}``."""
    folders = {}
    for builder in COMPARISON_HP:
        out = Path(args.models_dir) / builder
        cmd = train_command(builder, store=args.store, heldout=args.heldout, out=out,
                            time_limit=args.time_limit, epochs=args.epochs, seed=args.seed,
                            samples_per_family=args.samples_per_family)
        card = out / "card.json"
        if card.is_file() and (args.skip_training or json.loads(card.read_text()).get("train_command") == cmd):
            print(f"{builder}: reusing {out}")
        elif args.skip_training:
            raise SystemExit(f"--skip-training, but {card} does not exist; train first.")
        else:
            print(f"{builder}: {shlex.join(cmd)}", flush=True)
            code = "import sys; from auditory_deepdream.cli import main; sys.exit(main(sys.argv[1:]))"
            subprocess.run([sys.executable, "-c", code, *cmd[1:]], check=True, cwd=ROOT)
            data = json.loads(card.read_text())
            data["train_command"] = cmd  # marks the model as finished for this exact command
            write_json_atomic(card, data)
        folders[builder] = out
    return folders


def accuracy_row(card: dict) -> dict:
    test, held = card["test"], card.get("heldout") or {}
    return {
        "parameters": card["n_parameters"],
        "epochs_run": card["epochs_run"], "best_epoch": card["best_epoch"],
        "train_seconds": card["train_seconds"],
        "test_accuracy": test["accuracy"], "test_note_accuracy": test.get("note_accuracy"),
        "test_accuracy_all_segments": (test.get("all_segments") or {}).get("accuracy"),
        "heldout_accuracy": held.get("accuracy"), "heldout_note_accuracy": held.get("note_accuracy"),
        "per_class_accuracy": test["per_class_accuracy"],
    }


def snr_db(reference: np.ndarray, estimate: np.ndarray) -> float:
    err = np.sum((reference.astype(np.float64) - estimate) ** 2)
    return float(10 * np.log10(np.sum(reference.astype(np.float64) ** 2) / (err + 1e-30)))


def measure_dreams(folder: Path, *, steps: int, repeats: int) -> dict:
    from auditory_deepdream import audio
    from auditory_deepdream.dreamer import SOUND_PATHS, Dreamer, dream, layer_objective
    from auditory_deepdream.models import conv_layer_names

    dreamer = Dreamer.load(folder)
    s = dreamer.settings
    clips = np.stack([audio.load_audio(audio.example_clip(c), settings=s) for c in CLIPS])
    seconds = clips.size / s.sample_rate
    convs = conv_layer_names(dreamer.model)
    layer = convs[len(convs) // 2]
    objective = layer_objective(layer)
    out = {"layer": layer, "objective": str(objective), "steps": steps, "audio_seconds": seconds, "paths": {}}
    for path, how in SOUND_PATHS.items():
        def run(n_steps, measure):
            return dream(clips, model=dreamer, objective=objective, steps=n_steps, step_size=1.0, seed=0,
                         progress=False, measure=measure, **how)

        timing = timed(lambda: run(steps, False), repeats=repeats)  # the warm-up traces the ascent
        result = run(steps, True)
        zero = run(0, False)
        summary = result.summary()
        out["paths"][path] = {
            "survival": summary["survival"],
            "survival_per_clip": [float(v) for v in result.survival],
            "spectral_change_db": summary["spectral_change_db"],
            "objective_before": summary["objective_before"], "objective_dreamed": summary["objective_dreamed"],
            "objective_after": summary["objective_after"],
            "snr_zero_steps_db": float(np.mean([snr_db(c, z) for c, z in zip(clips, zero.audio)])),
            "seconds_per_audio_second": timing["median_s"] / seconds,
        }
    return out


def markdown(result: dict) -> str:
    lines = ["| model | params | epochs | test acc. | note vote | all segments | held-out SoundFont |",
             "|---|---|---|---|---|---|---|"]
    for b, r in result["accuracy"].items():
        lines.append(f"| {b} | {r['parameters']:,} | {r['epochs_run']} | {r['test_accuracy']:.3f} | "
                     f"{r['test_note_accuracy']:.3f} | {r['test_accuracy_all_segments']:.3f} | "
                     f"{r['heldout_accuracy']:.3f} |")
    lines += ["", "| model | path | survival | spectral change (dB) | SNR at 0 steps (dB) | s per s of audio |",
              "|---|---|---|---|---|---|"]
    for b, d in result["dreams"].items():
        for phase, r in d["paths"].items():
            lines.append(f"| {b} ({d['layer']}) | {phase} | {r['survival']:.2f} | {r['spectral_change_db']:.2f} | "
                         f"{min(r['snr_zero_steps_db'], 999):.1f} | {r['seconds_per_audio_second']:.3f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--store", default="out/datasets/default")
    p.add_argument("--heldout", default="out/datasets/heldout")
    p.add_argument("--models-dir", default=str(ROOT / "benchmarks" / "models"))
    p.add_argument("--time-limit", type=float, default=480.0, help="training seconds per model (default 480)")
    p.add_argument("--epochs", type=int, default=60, help="most epochs per model (default 60)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--samples-per-family", type=int, default=None,
                   help="segments per family per epoch (default: every training segment)")
    p.add_argument("--steps", type=int, default=10, help="dream steps (default 10)")
    p.add_argument("--repeats", type=int, default=3, help="timed runs per path (default 3)")
    p.add_argument("--skip-training", action="store_true", help="only measure the existing models")
    p.add_argument("--name", default="model_comparison", help="result file name")
    args = p.parse_args(argv)
    import os

    load = os.getloadavg()[0]
    folders = train_all(args)
    result = {
        "description": "Four builders, same data, same training time budget; dreams of the same three "
                       "real notes through three sonification paths.",
        "store": args.store, "heldout": args.heldout, "time_limit_s": args.time_limit,
        "hyperparameters": COMPARISON_HP, "clips": list(CLIPS),
        "accuracy": {}, "dreams": {}, "load_average_at_start": load, "environment": environment(),
    }
    for builder, folder in folders.items():
        card = json.loads((folder / "card.json").read_text())
        result["accuracy"][builder] = accuracy_row(card) | {"command": card["command"]}
        result["dreams"][builder] = measure_dreams(folder, steps=args.steps, repeats=args.repeats)
    write_result(args.name, result)
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
