#!/usr/bin/env python3
"""Dreaming a real piece of music with the CLI's defaults, end to end, against real time.

A 60-second stereo 44.1 kHz piece (Bach's Prelude in C with a string section,
``dataset.bach_prelude(strings=True, channels=2)`` rendered from pretty_midi's TimGM6mb
SoundFont) is written as a 16-bit PCM WAV and dreamed through ``dreamer.dream_file``
(read WAV, dream, write WAV) in-process, with the bundled model already loaded and exactly
the arguments ``auditory-deepdream dream IN OUT`` passes with no options, captured from the
CLI itself (preset ``strong``: its layer objective, strength, jitter, band shift, smoothing
and click guard, ``max_steps=40``, consistent gain ascent on the original phase,
``loudness='match'``, ``seed=0``; the JSON records them). Reported:

* ``cold``: the first call in the process (traces the compiled ascent for this shape);
* ``warm``: the median of 3 more calls;
* ``whole_command``: ``auditory-deepdream dream IN OUT`` as a fresh process, wall clock
  (Python start, imports, model load, a cold dream, the printout): what a user waits;
* each in seconds and as a fraction of real time (seconds / audio seconds; target <= 0.2);
* ``stages``: one more warm call with the pipeline's stages wrapped in timers (read, resample,
  ``render_dream`` with its ascent and sonification, gain at 44.1 kHz, loudness, measures,
  write); inclusive seconds, the rest under ``other``.

Side by side, in the same invocation on the same machine, the dissertation's pipeline
(``seed_baseline.py --json ...``, run unmodified as a subprocess) runs its scenarios; its T4
is a 60-second *mono 22.05 kHz* piece, *one filter, one ascent step* per 1-second segment,
Griffin-Lim per segment, on its own dissertation-size random model. That is much less work
than ours (stereo 44.1 kHz, a consistent ascent of up to 40 steps to the preset's change, loudness
matching, measures), so ``baseline_T4 / ours`` is a floor on the real speed-up, not a like
for like ratio.

Writes ``results/dream_music.json`` (``dream_music_quick.json`` with ``--quick``).

Usage::

    python benchmarks/bench_dream_music.py               # 60 s piece, 3 warm runs, baseline T1-T4
    python benchmarks/bench_dream_music.py --quick       # 20 s piece, 1 warm run, baseline --quick
    python benchmarks/bench_dream_music.py --no-baseline --repeats 5

Run it alone on the machine: the timings assume idle cores.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import RESULTS, environment  # noqa: E402

SAMPLE_RATE = 44_100
TARGET_RT = 0.2


def render_piece(seconds: float):
    from auditory_deepdream.dataset.pieces import bach_prelude
    from auditory_deepdream.dataset.soundfont import pip_soundfont

    return bach_prelude(seconds=seconds, sample_rate=SAMPLE_RATE, channels=2, strings=True,
                        soundfont=pip_soundfont())


class _Captured(Exception):
    pass


def cli_arguments(src, dst) -> dict:
    """``dream_file`` keyword arguments of ``auditory-deepdream dream IN OUT`` with no options.

    Not a copy of the CLI's logic: the CLI's own parser and ``cli/dream.py:_run_dream`` run
    with ``dreamer.dream_file`` intercepted, so the arguments are exactly those the command
    passes today (preset ``strong``: its layer objective, strength, jitter, band shift,
    smoothing and click guard, ``max_steps``, ``loudness='match'``, original phase, seed 0).
    ``model`` is dropped (the caller passes its loaded Dreamer).
    """
    import auditory_deepdream.dreamer as dreamer_pkg
    from auditory_deepdream.cli import build_parser

    captured = {}

    def fake_dream_file(input_path, output_path, **kwargs):
        captured.update(kwargs)
        raise _Captured

    args = build_parser().parse_args(["dream", str(src), str(dst)])
    original = dreamer_pkg.dream_file
    dreamer_pkg.dream_file = fake_dream_file
    try:
        args.func(args)
    except _Captured:
        pass
    finally:
        dreamer_pkg.dream_file = original
    if not captured:
        raise SystemExit("the CLI's dream command did not call dreamer.dream_file; update this benchmark")
    captured.pop("model", None)
    return captured


# ---------------------------------------------------------------- stage timers
class StageTimer:
    """Wrap module attributes in inclusive timers for one call; restores them on exit."""

    def __init__(self, targets):
        self.targets = targets  # (label, module, attribute name)
        self.seconds = {}
        self.calls = {}
        self._saved = []

    def __enter__(self):
        for label, module, name in self.targets:
            original = getattr(module, name)
            self._saved.append((module, name, original))

            @functools.wraps(original)
            def wrapper(*a, _f=original, _label=label, **k):
                t = time.perf_counter()
                try:
                    return _f(*a, **k)
                finally:
                    self.seconds[_label] = self.seconds.get(_label, 0.0) + time.perf_counter() - t
                    self.calls[_label] = self.calls.get(_label, 0) + 1

            setattr(module, name, wrapper)
        return self

    def __exit__(self, *exc):
        for module, name, original in reversed(self._saved):
            setattr(module, name, original)
        return False


def whole_command(src, dst) -> float:
    """Wall seconds of ``auditory-deepdream dream SRC DST`` run as a new process (what a user waits)."""
    code = "import sys; from auditory_deepdream.cli import main; sys.exit(main(sys.argv[1:]))"
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, "dream", str(src), str(dst)], check=True, capture_output=True)
    return time.perf_counter() - t


def stage_breakdown(run) -> dict:
    import auditory_deepdream.audio as audio_pkg
    from auditory_deepdream.dreamer import full_rate, recipes

    top = [("read_wav", audio_pkg, "read_audio"), ("resample", full_rate, "resample"),
           ("stft_44k", full_rate, "hann_stft"), ("istft_44k", full_rate, "hann_istft"),
           ("render_dream", full_rate, "render_dream"), ("gain_at_44k", full_rate, "gain_at_rate"),
           ("loudness_in_band", full_rate, "_loudness_in_band"), ("finish_loudness", full_rate, "finish_loudness"),
           ("measures_build_result", full_rate, "build_result"), ("write_wav", audio_pkg, "write_audio")]
    inner = [("render_dream.ascend_gain", recipes, "ascend_gain"),
             ("render_dream.click_guard_within_jump", recipes, "within_jump"),
             ("render_dream.sonify", recipes, "sonify_change")]
    with StageTimer(top + inner) as timer:
        t = time.perf_counter()
        run()
        total = time.perf_counter() - t
    top_sum = sum(timer.seconds.get(label, 0.0) for label, _, _ in top)
    stages = {label: timer.seconds.get(label, 0.0) for label, _, _ in top + inner}
    stages["other (mid signal, gain products, checks)"] = total - top_sum
    return {"total_s": total, "inclusive_s": stages, "calls": timer.calls,
            "note": "one extra warm run with the stages wrapped in timers; render_dream.* are inside render_dream"}


# ------------------------------------------------------------------ baseline
def run_baseline(path: Path, *, quick: bool, tmp: Path) -> dict:
    out = tmp / "baseline.json"
    cmd = [sys.executable, str(path), "--json", str(out)] + (["--quick"] if quick else [])
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"baseline failed ({' '.join(cmd)}):\n{proc.stderr[-4000:]}")
    return json.loads(out.read_text()) | {"command": " ".join(cmd), "subprocess_wall_s": wall}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a 20-second piece, 1 warm run, the baseline's --quick")
    ap.add_argument("--seconds", type=float, default=None, help="piece length (default 60, 20 with --quick)")
    ap.add_argument("--repeats", type=int, default=None, help="warm runs (default 3, 1 with --quick)")
    ap.add_argument("--baseline", default=str(ROOT.parent / "shared" / "bench" / "seed_baseline.py"),
                    help="path of seed_baseline.py (default: ../shared/bench/seed_baseline.py from the repo root)")
    ap.add_argument("--no-baseline", action="store_true", help="time ours only")
    ap.add_argument("--no-stages", action="store_true", help="skip the per-stage breakdown run")
    ap.add_argument("--out", default=None,
                    help="result JSON (default: results/dream_music.json, dream_music_quick.json with --quick)")
    args = ap.parse_args(argv)
    seconds = args.seconds or (20.0 if args.quick else 60.0)
    repeats = args.repeats or (1 if args.quick else 3)
    out_path = Path(args.out) if args.out else RESULTS / ("dream_music_quick.json" if args.quick else "dream_music.json")

    load_at_start = os.getloadavg()
    import soundfile as sf

    from auditory_deepdream import audio
    from auditory_deepdream.dreamer import Dreamer, dream_file

    t = time.perf_counter()
    piece = render_piece(seconds)
    render_s = time.perf_counter() - t
    t = time.perf_counter()
    dreamer = Dreamer.load("default")
    load_s = time.perf_counter() - t

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        src, dst = tmp / "prelude.wav", tmp / "prelude_dream.wav"
        sf.write(src, piece.T, SAMPLE_RATE, subtype="PCM_16")
        kwargs = cli_arguments(src, dst)
        info = sf.info(src)
        audio_s = info.frames / info.samplerate

        def run():
            return dream_file(src, dst, model=dreamer, **kwargs)

        print(f"piece: {audio_s:.1f} s, {info.channels} ch, {info.samplerate} Hz, {info.subtype}; "
              f"objective {kwargs['objective']}; load average {load_at_start}", flush=True)
        t = time.perf_counter()
        _, result = run()
        cold = time.perf_counter() - t
        print(f"cold: {cold:.2f} s ({cold / audio_s:.3f} x real time)", flush=True)
        warm_runs = []
        for i in range(repeats):
            t = time.perf_counter()
            _, result = run()
            warm_runs.append(time.perf_counter() - t)
            print(f"warm {i + 1}: {warm_runs[-1]:.2f} s ({warm_runs[-1] / audio_s:.3f} x real time)", flush=True)
        warm = statistics.median(warm_runs)
        y_out, fmt_out = audio.read_audio(dst)
        t = time.perf_counter()  # what the CLI prints after dream_file (not in the timings above)
        summary = result.summary()
        lufs_in = audio.integrated_loudness(result.input_audio, sample_rate=result.sample_rate)
        lufs_out = audio.integrated_loudness(result.audio, sample_rate=result.sample_rate)
        peak = audio.true_peak_db(result.audio)
        cli_report_s = time.perf_counter() - t
        stages = None if args.no_stages else stage_breakdown(run)
        command = whole_command(src, tmp / "prelude_cli.wav")
        print(f"whole command: {command:.2f} s ({command / audio_s:.3f} x real time)", flush=True)
        if stages:
            print("stages (s): " + ", ".join(f"{k} {v:.2f}" for k, v in stages["inclusive_s"].items()), flush=True)
        load_before_baseline = os.getloadavg()
        baseline = None if args.no_baseline else run_baseline(Path(args.baseline).resolve(), quick=args.quick, tmp=tmp)

    ours = {
        "audio_s": audio_s, "channels": info.channels, "sample_rate": info.samplerate, "subtype": info.subtype,
        "cold_s": cold, "cold_real_time_fraction": cold / audio_s,
        "warm_median_s": warm, "warm_real_time_fraction": warm / audio_s, "warm_runs_s": warm_runs,
        "target_real_time_fraction": TARGET_RT,
        "warm_meets_target": warm / audio_s <= TARGET_RT, "cold_meets_target": cold / audio_s <= TARGET_RT,
        "steps_taken": int(len(result.history)),
        "quality": {k: summary[k] for k in ("objective", "survival", "survival_sonified", "spectral_change_db",
                                            "objective_before", "objective_dreamed", "objective_after")}
        | {"lufs_in": lufs_in, "lufs_out": lufs_out, "true_peak_dbtp": peak},
        "output_format": {"channels": fmt_out.channels, "sample_rate": fmt_out.sample_rate,
                          "subtype": fmt_out.subtype, "frames": int(y_out.shape[-1])},
        "cli_report_s": cli_report_s,
        "whole_command_s": command, "whole_command_real_time_fraction": command / audio_s,
        "whole_command_is": "`auditory-deepdream dream IN OUT` as a fresh process, wall clock: starting Python, "
                            "importing TensorFlow and the package, loading the model, the first (cold) dream, "
                            "the printout",
        "stages": stages,
        "setup": {"render_piece_s": render_s, "model_load_s": load_s},
    }
    report = {
        "piece": {"what": "bach_prelude(seconds, sample_rate=44100, channels=2, strings=True, "
                          "soundfont=pip_soundfont()), written as a PCM_16 WAV", "seconds": seconds},
        "cli_defaults": {k: (str(v) if k == "objective" else v) for k, v in kwargs.items()},
        "cli_defaults_how": "captured from the CLI itself: `auditory-deepdream dream IN OUT` parsed by "
                            "cli.build_parser() and run through cli/dream.py:_run_dream with dreamer.dream_file "
                            "intercepted",
        "timed": "dream_file(IN, OUT, model=<loaded Dreamer>, **cli_defaults): read WAV, dream, write WAV; "
                 "model loading and the CLI's own printout are not included",
        "ours": ours,
    }
    if baseline is not None:
        t4 = baseline["T4_long_piece"]
        report["baseline"] = baseline
        report["baseline_T4"] = {
            "median_s": t4["median_s"], "audio_s": t4["audio_s"], "real_time_fraction": t4["real_time_factor"],
            "does": "mono, 22.05 kHz, 300-mel dissertation model (random weights), one filter, 1 ascent step "
                    "per 1-s segment, Griffin-Lim (32 iterations) per segment, cross-faded; no loudness "
                    "matching, no measures",
        }
        report["ratios"] = {
            "baseline_T4_over_ours_warm": t4["median_s"] / warm,
            "baseline_T4_over_ours_cold": t4["median_s"] / cold,
            "per_audio_second_baseline_T4_over_ours_warm": (t4["median_s"] / t4["audio_s"]) / (warm / audio_s),
            "caveat": "the baseline does much less work: mono instead of stereo, 22.05 kHz instead of 44.1 kHz, "
                      f"1 ascent step instead of a consistent ascent to {kwargs.get('strength')} dB "
                      f"({ours['steps_taken']} steps here), "
                      "no loudness matching or measures; the ratio understates the per-unit-of-work speed-up",
        }
    report["env"] = environment() | {"load_average_at_start": load_at_start,
                                     "load_average_before_baseline": load_before_baseline,
                                     "load_average_at_end": os.getloadavg(), "quick": args.quick,
                                     "repeats": repeats}
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = out_path.with_suffix(".json.tmp")
    tmp_path.write_text(json.dumps(report, indent=2, default=float))
    os.replace(tmp_path, out_path)

    lines = ["| run | seconds | x real time | target <= 0.2 |", "|---|---|---|---|",
             f"| ours, cold (first call, traces) | {cold:.2f} | {cold / audio_s:.3f} | "
             f"{'met' if cold / audio_s <= TARGET_RT else 'missed'} |",
             f"| ours, warm (median of {repeats}) | {warm:.2f} | {warm / audio_s:.3f} | "
             f"{'met' if warm / audio_s <= TARGET_RT else 'missed'} |",
             f"| the whole command, a fresh process | {command:.2f} | {command / audio_s:.3f} | — |"]
    if baseline is not None:
        t4 = report["baseline_T4"]
        lines.append(f"| baseline T4 (mono 22.05 kHz, 1 step) | {t4['median_s']:.2f} | "
                     f"{t4['real_time_fraction']:.3f} | — |")
        lines.append("")
        lines.append(f"baseline T4 / ours: {report['ratios']['baseline_T4_over_ours_warm']:.2f}x (warm), "
                     f"{report['ratios']['baseline_T4_over_ours_cold']:.2f}x (cold). "
                     + report["ratios"]["caveat"] + ".")
    print("\n".join(lines))
    print(f"wrote {out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
