"""Dream quality per sound path and technique, by measures no path passes by construction (dream_quality.json).

The bundled clips (one batch) are dreamed by the bundled model on every sound path with each
technique of :data:`TECHNIQUES`. A **layer dream** (the ``strong`` preset's layer) is measured
by survival, spectral change, log-spectral distance, loudness error, largest sample step,
transient collapses and pitch kept. **Class dreams** toward every class (or ``--targets``) are
judged by the four ``load_judges()`` models, which took no part, against two controls: *other
classes* (log p(c) of the dream toward c minus its mean over the clip's dreams toward the other
targets) and *phase* (its rise over the rise in ``control_for``, the change with random phase):
win rate (margin >= 2 nats), median margin, per judge, and the judges' top-1 rate.
One *row* is one dream call; the JSON is rewritten after each and a rerun with the same model,
clips and seed resumes (``--fresh``: start over); the tables go to the ``.md`` beside it.
``--quick``: one clip, two targets, the free and preset techniques. The other seeds' files:
``run.py quality --paths original --techniques presets --no-layer --seed 1 --name dream_quality_seed1``.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import time
from pathlib import Path

import numpy as np

from ._common import environment, result_path, write_result

TECHNIQUES = {
    "free": {"mel": {"consistent": False, "steps": 10, "step_size": 1.0},
             "waveform": {"steps": 10, "step_size": 1.0}},
    "consistent": {"mel": {"consistent": True, "strength": 6.0},
                   "waveform": {"strength": 6.0}},
    "consistent+robust": {"mel": {"consistent": True, "strength": 6.0, "jitter": 3, "band_shift": 2},
                          "waveform": {"strength": 6.0, "jitter": 3}},
    # consistent+robust plus the smoothness prior and click guard that the presets carry; consistent mel dreams only
    "consistent+robust+guard": {"mel": {"consistent": True, "strength": 6.0, "jitter": 3, "band_shift": 2,
                                        "smooth": 9, "max_jump": 1.9},
                                "waveform": None},
    # what the CLI does: layer dreams with the 'strong' preset, class dreams with 'morph'
    "presets": {"mel": "from PRESETS", "waveform": "from PRESETS"},
}
NOT_APPLICABLE = {"consistent+robust+guard": "smooth and max_jump act on a consistent mel dream's gain; "
                                             "dream() ignores them for domain='waveform'"}
#: what a technique leaves out on a path, and why (recorded in the JSON)
ADAPTED = {("waveform", "consistent+robust"): "band_shift=2 left out: it moves log-mel bands, mel paths only "
                                              "(DreamOptions raises DreamError for domain='waveform')",
           ("waveform", "consistent"): "a waveform dream always measures what is heard; 'consistent' here "
                                       "means strength=6.0 (the consistent= flag applies to mel dreams only)"}
QUICK = {"clips": ["cello_C3"], "targets": ["brass", "flute"], "techniques": ["free", "presets"]}
MEASURES_VERSION = 2  # 2: every class's log p under each judge is kept per clip (the other-class control)
WIN_MARGIN = 2.0  # nats


def add_arguments(p) -> None:
    from auditory_deepdream.audio import EXAMPLE_CLIPS
    from auditory_deepdream.options import SOUND_PATHS

    p.add_argument("--paths", nargs="+", default=list(SOUND_PATHS), choices=list(SOUND_PATHS))
    p.add_argument("--techniques", nargs="+", choices=list(TECHNIQUES), help="default: all (--quick: free presets)")
    p.add_argument("--targets", nargs="+", help="class-dream targets (default: every class; --quick: brass flute)")
    p.add_argument("--clips", nargs="+", choices=list(EXAMPLE_CLIPS), help="default: all three (--quick: cello_C3)")
    p.add_argument("--no-layer", action="store_true", help="skip the layer dreams")
    p.add_argument("--no-class", action="store_true", help="skip the class dreams")
    p.add_argument("--fresh", action="store_true", help="ignore rows already in the result file")
    p.add_argument("--seed", type=int, default=0, help="seed of every dream and control (default 0)")
    p.add_argument("--name", default="dream_quality", help="result file name in --out (default: dream_quality)")


def _f(x):
    """JSON-safe float (NaN / inf to None)."""
    x = float(x)
    return x if math.isfinite(x) else None


def _finite(values) -> list:
    return [x for x in values if x is not None and math.isfinite(x)]


def _nanmean(values):
    return statistics.fmean(_finite(values)) if _finite(values) else None


def _nanmedian(values):
    return statistics.median(_finite(values)) if _finite(values) else None


def _max(values):
    return max(_finite(values), default=None)


def technique_kwargs(path: str, technique: str, kind: str = "layer") -> dict:
    """The :class:`DreamOptions` fields of a path x technique (the CLI's preset for this kind of dream)."""
    from auditory_deepdream.dreamer import PRESETS, SOUND_PATHS
    from auditory_deepdream.errors import DreamError

    how = SOUND_PATHS[path]
    if technique == "presets":
        o = PRESETS["strong" if kind == "layer" else "morph"].options
        common = {"strength": o.strength, "step_size": o.step_size, "jitter": o.jitter}
        return dict(how) | common | ({} if how["domain"] == "waveform" else {
            "consistent": True, "band_shift": o.band_shift, "smooth": o.smooth, "max_jump": o.max_jump})
    extra = TECHNIQUES[technique]["waveform" if how["domain"] == "waveform" else "mel"]
    if extra is None:
        raise DreamError(f"{technique} on the {path} path: {NOT_APPLICABLE.get(technique, 'not applicable')}")
    return dict(how) | extra


def run_row(dreamer, clips, names, *, path, technique, kind, objective, target=None, judges=None, seed=0) -> dict:
    """One dream call over all clips, and its measures (per clip and aggregated)."""
    from auditory_deepdream.dreamer import (DreamOptions, control_for, dream, judge_log_probabilities, measure_dream,
                                            transfer_margins)

    sr = dreamer.settings.sample_rate
    kwargs = technique_kwargs(path, technique, kind)
    t0 = time.perf_counter()
    result = dream(clips, model=dreamer, objective=objective, options=DreamOptions(seed=seed, **kwargs),
                   progress=False, measure=True)
    row = {"path": path, "technique": technique, "kind": kind, "objective": str(objective), "target": target,
           "dream_kwargs": kwargs, "dream_seconds": time.perf_counter() - t0, "steps_taken": int(len(result.history)),
           "survival_mean": _nanmean([float(v) for v in result.survival]),
           "spectral_change_db_mean": float(np.mean(result.spectral_change_db)), "clips": {}}
    t1 = time.perf_counter()
    out, inp = np.atleast_2d(result.audio), np.atleast_2d(result.input_audio)
    for i, name in enumerate(names):
        x, y = inp[i].astype(np.float64), out[i].astype(np.float64)
        q = measure_dream(x, y, sample_rate=sr, sustained=(kind == "layer")).to_dict()
        clip = {k: _f(getattr(result, k)[i]) for k in ("survival", "spectral_change_db", "objective_before",
                                                       "objective_dreamed", "objective_after")}
        clip |= {k: (bool(v) if isinstance(v, (bool, np.bool_)) else _f(v)) for k, v in q.items()}
        if kind == "class":
            control = control_for(x, y, sample_rate=sr, seed=seed)
            clip["margins"] = transfer_margins(x, y, control, sample_rate=sr, target=target, judges=judges)
            clip["judge_log_p"] = judge_log_probabilities(y, sample_rate=sr, judges=judges)
        row["clips"][name] = clip
    row["measure_seconds"] = time.perf_counter() - t1
    return row


def _layer_summary(layer: dict, names) -> dict:
    clips = [layer["clips"][n] for n in names if n in layer["clips"]]
    cents = [c["pitch_shift_cents"] for c in clips]
    return {
        "survival": layer["survival_mean"], "spectral_change_db": layer["spectral_change_db_mean"],
        "log_spectral_distance": _nanmean([c["log_spectral_distance"] for c in clips]),
        "loudness_error_lu": _nanmean([c["loudness_error_lu"] for c in clips]),
        "loudness_error_lu_max_abs": _max([None if c["loudness_error_lu"] is None else abs(c["loudness_error_lu"])
                                           for c in clips]),
        "max_jump_ratio": _max([c["max_jump_ratio"] for c in clips]),
        "transient_collapses": sum(bool(c["transient_collapse"]) for c in clips),
        "pitch_median_abs_cents": _nanmedian([abs(c) for c in cents if c is not None]),
        "pitch_within_50_cents": sum(c is not None and abs(c) <= 50 for c in cents),
        "pitch_unmeasured": sum(c is None for c in cents),
        "true_peak_dbtp_max": _max([c["true_peak_dbtp"] for c in clips]),
        "n_clips": len(clips), "steps_taken": layer["steps_taken"], "dream_seconds": layer["dream_seconds"],
    }


def _wins(margins: list, per_judge: dict) -> dict:
    return {"triples": len(margins), "win_rate": sum(m >= WIN_MARGIN for m in margins) / len(margins),
            "median_margin": statistics.median(margins),
            "per_judge_win_rate": {j: (sum(m >= WIN_MARGIN for m in v) / len(v) if v else None)
                                   for j, v in per_judge.items()}}


def _class_summary(rows: dict, key: str, *, targets, names, judges) -> dict | None:
    from auditory_deepdream.dreamer import other_class_margins

    done = [t for t in targets if "clips" in rows.get(f"{key}|class:{t}", {})]
    other, other_per_judge, top1 = [], {j: [] for j in judges}, []
    for n in names:
        tables = {t: rows[f"{key}|class:{t}"]["clips"][n]["judge_log_p"] for t in done
                  if n in rows[f"{key}|class:{t}"]["clips"]}
        if len(tables) < 2:
            continue
        for t, by_judge in other_class_margins(tables).items():
            for j, m in by_judge.items():
                other.append(m)
                other_per_judge.setdefault(j, []).append(m)
                top1.append(max(tables[t][j], key=tables[t][j].get) == t)
    margins, per_judge, survivals, lsd, skipped = [], {j: [] for j in judges}, [], [], []
    for target in targets:
        row = rows.get(f"{key}|class:{target}")
        if row and "clips" not in row:
            skipped.append(row.get("skipped"))
        if not row or "clips" not in row:
            continue
        survivals.append(row["survival_mean"])
        for c in (row["clips"][n] for n in names if n in row["clips"]):
            lsd.append(c["log_spectral_distance"])
            for j, m in c["margins"].items():
                margins.append(m)
                per_judge.setdefault(j, []).append(m)
    if not margins:
        return {"skipped": skipped[0]} if skipped else None
    entry = _wins(margins, per_judge) | {
        "mean_margin": statistics.fmean(margins),
        "per_judge_median_margin": {j: (statistics.median(v) if v else None) for j, v in per_judge.items()},
        "survival": _nanmean(survivals), "log_spectral_distance": _nanmean(lsd)}
    if other:
        entry["other_classes"] = _wins(other, other_per_judge) | {"judge_top1_rate": sum(top1) / len(top1)}
    return entry


def summarise(rows: dict, *, paths, techniques, targets, names, judges) -> dict:
    """Per path x technique: layer-dream measures and class-dream transfer (both controls)."""
    summary = {}
    for key in (f"{p}|{t}" for p in paths for t in techniques):
        entry, layer = {}, rows.get(f"{key}|layer")
        if layer:
            entry["layer"] = _layer_summary(layer, names) if "clips" in layer else {"skipped": layer.get("skipped")}
        cls = _class_summary(rows, key, targets=targets, names=names, judges=judges)
        if cls:
            entry["class"] = cls
        if entry:
            summary[key] = entry
    return summary


def _fmt(x, spec=".2f"):
    return "—" if x is None else format(x, spec)


def markdown(summary: dict, *, judges, n_clips: int) -> str:
    lines = [f"**Layer dreams** ({n_clips} clip(s); survival and spectral change from the dreaming model, "
             "the rest from the sound alone)", "",
             "| path | technique | survival | spectral change dB | LSD | loudness err. LU (mean / max abs) | "
             "max jump | collapses | pitch median abs cents | pitch within 50 c |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for key, e in summary.items():
        path, technique = key.split("|")
        lay = e.get("layer")
        if lay and "skipped" in lay:
            lines.append(f"| {path} | {technique} | skipped: {lay['skipped']} |||||||||")
        elif lay:
            lines.append(
                f"| {path} | {technique} | {_fmt(lay['survival'])} | {_fmt(lay['spectral_change_db'])} | "
                f"{_fmt(lay['log_spectral_distance'], '.3f')} | {_fmt(lay['loudness_error_lu'])} / "
                f"{_fmt(lay['loudness_error_lu_max_abs'])} | {_fmt(lay['max_jump_ratio'])} | "
                f"{lay['transient_collapses']}/{lay['n_clips']} | {_fmt(lay['pitch_median_abs_cents'], '.1f')} | "
                f"{lay['pitch_within_50_cents']}/{lay['n_clips']} |")
    short = {j: j.replace("freq_preserving", "freq_pres.") for j in judges}
    lines += ["", f"**Class dreams**: transfer to the judges (win: margin >= {WIN_MARGIN:g} nats over the "
                  "control; *other classes*: the same clip dreamed toward the other targets; *phase*: the "
                  "dream's change with its phase randomised; top-1: the judge's most likely class is the "
                  "target)", "",
              "| path | technique | triples | win rate, other classes | median margin | "
              + " | ".join(f"win {short[j]}" for j in judges)
              + " | top-1 | win rate, phase | median margin, phase | survival | LSD |",
              "|---|---|---|---|---|" + "---|" * len(judges) + "---|---|---|---|---|"]
    for key, e in summary.items():
        path, technique = key.split("|")
        cl = e.get("class")
        if cl and "skipped" in cl:
            lines.append(f"| {path} | {technique} | skipped: {cl['skipped']} |" + "|" * (len(judges) + 7))
        elif cl:
            oc = cl.get("other_classes", {})
            lines.append(f"| {path} | {technique} | {cl['triples']} | {_fmt(oc.get('win_rate'))} | "
                         f"{_fmt(oc.get('median_margin'))} | "
                         + " | ".join(_fmt(oc.get("per_judge_win_rate", {}).get(j)) for j in judges)
                         + f" | {_fmt(oc.get('judge_top1_rate'))} | {_fmt(cl['win_rate'])} | "
                         f"{_fmt(cl['median_margin'])} | {_fmt(cl['survival'])} | "
                         f"{_fmt(cl['log_spectral_distance'], '.3f')} |")
    return "\n".join(lines) + "\n"


def run(args) -> None:
    from tqdm import tqdm

    from auditory_deepdream import audio, models
    from auditory_deepdream.dreamer import JUDGES, PRESETS, Dreamer, class_objective, layers_objective, load_judges
    from auditory_deepdream.errors import DreamError

    names = args.clips or (QUICK["clips"] if args.quick else list(audio.EXAMPLE_CLIPS))
    techniques = args.techniques or (QUICK["techniques"] if args.quick else list(TECHNIQUES))
    out = result_path(args, args.name)
    load_at_start = os.getloadavg()
    dreamer = Dreamer.load("default")
    s = dreamer.settings
    targets = args.targets or (QUICK["targets"] if args.quick else list(dreamer.info.classes))
    conv = models.conv_layer_names(dreamer.model)
    layer_objective = layers_objective({PRESETS["strong"].layer(conv): 1.0})
    clips = np.stack([audio.load_audio(audio.example_clip(n), settings=s) for n in names])
    judges = load_judges()
    fingerprint = {"model": str(models.bundled_model_dir("default")), "clips": names, "seed": args.seed,
                   "sample_rate": s.sample_rate, "layer_objective": str(layer_objective), "techniques": TECHNIQUES,
                   "judges": list(judges), "measures_version": MEASURES_VERSION}
    rows = {}
    if out.is_file() and not args.fresh:
        old = json.loads(out.read_text())
        if old.get("fingerprint") == json.loads(json.dumps(fingerprint)):
            rows = old.get("rows", {})
            print(f"resuming: {len(rows)} row(s) already in {out}")

    def report(final: bool) -> dict:
        data = {
            "fingerprint": fingerprint, "complete": final,
            "model": {"name": "default", "path": fingerprint["model"], "classes": list(dreamer.info.classes),
                      "conv_layers": conv, "layer_objective": str(layer_objective),
                      "layer_from": "layers_objective({PRESETS['strong'].layer(conv layers): 1.0})"},
            "clips": {"names": names, "seconds": clips.shape[-1] / s.sample_rate, "sample_rate": s.sample_rate,
                      "batched": "all clips are dreamed together in one batch per row"},
            "techniques": TECHNIQUES,
            "adapted_combinations": {f"{p}|{t}": why for (p, t), why in ADAPTED.items()
                                     if p in args.paths and t in techniques},
            "skipped_combinations": {k: r["skipped"] for k, r in rows.items() if "skipped" in r},
            "targets": targets, "judges": list(judges), "win_margin_nats": WIN_MARGIN,
            "judge_note": "load_judges() loads benchmarks/models/{" + ",".join(JUDGES) + "}; the bundled "
                          "'default' is a separate training run (different weights) but its conv_blocks judge "
                          "has the same builder, hyper-parameters, data and seed",
            "summary": summarise(rows, paths=args.paths, techniques=techniques, targets=targets, names=names,
                                 judges=list(judges)),
            "rows": rows,
            "env": environment() | {"load_average_at_start": load_at_start, "quick": args.quick},
        }
        write_result(out, data)
        return data

    todo = [(p, t, "layer", None) for p in args.paths for t in techniques if not args.no_layer]
    todo += [(p, t, "class", c) for p in args.paths for t in techniques for c in targets if not args.no_class]
    bar = tqdm(todo, desc="rows", unit="row", dynamic_ncols=True)
    for path, technique, kind, target in bar:
        key = f"{path}|{technique}|" + ("layer" if kind == "layer" else f"class:{target}")
        if key in rows:
            continue
        bar.set_postfix_str(key)
        objective = layer_objective if kind == "layer" else class_objective(target, classes=dreamer.info.classes)
        try:
            rows[key] = run_row(dreamer, clips, names, path=path, technique=technique, kind=kind,
                                objective=objective, target=target, judges=judges, seed=args.seed)
        except DreamError as exc:  # an impossible combination: recorded and skipped
            rows[key] = {"path": path, "technique": technique, "kind": kind, "target": target,
                         "skipped": f"{type(exc).__name__}: {exc}"}
        row = rows[key]
        tqdm.write(f"{key}: skipped ({row['skipped']})" if "skipped" in row else
                   f"{key}: survival {_fmt(row['survival_mean'])}, change {row['spectral_change_db_mean']:.2f} dB, "
                   f"{row['steps_taken']} steps, {row['dream_seconds']:.1f}+{row['measure_seconds']:.1f} s")
        report(final=False)
    table = markdown(report(final=True)["summary"], judges=list(judges), n_clips=len(names))
    Path(out).with_suffix(".md").write_text(table)
    print(table)
