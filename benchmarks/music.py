"""A real piece dreamed with the CLI's defaults, end to end, against real time (dream_music.json).

A 60-second stereo 44.1 kHz piece (``bach_prelude(strings=True, channels=2)`` from TimGM6mb,
a 16-bit WAV; 20 s with ``--quick``) goes through ``dreamer.dream_file`` with the bundled model
loaded and the objective and options ``auditory-deepdream dream IN OUT`` passes (captured from
the CLI). Seconds and fractions of real time (target <= 0.2): ``cold`` (the first call traces
the ascent), ``warm`` (median of 3; 1 with ``--quick``), ``whole_command`` (the command as a
fresh process) and ``stages`` (one more warm call, its stages timed). The dissertation's
pipeline runs its T1-T4 beside it; its T4 (mono 22.05 kHz, one step per 1-second segment) does
far less, so ``baseline_T4 / ours`` is a floor on the speed-up. Run it alone on the machine.
"""

from __future__ import annotations

import functools
import importlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ._common import baseline_path, environment, result_path, run_baseline, write_result

SAMPLE_RATE = 44_100
TARGET_RT = 0.2


def add_arguments(p) -> None:
    p.add_argument("--seconds", type=float, help="piece length (default 60, 20 with --quick)")
    p.add_argument("--repeats", type=int, help="warm runs (default 3, 1 with --quick)")
    p.add_argument("--baseline", help="seed_baseline.py (default: shared/bench/ above the checkout)")
    p.add_argument("--no-baseline", action="store_true", help="time ours only")
    p.add_argument("--no-stages", action="store_true", help="skip the per-stage breakdown run")


class _Captured(Exception):
    pass


def cli_arguments(src, dst) -> dict:
    """``dream_file``'s arguments in ``auditory-deepdream dream SRC DST``: the CLI runs, ``dream_file`` intercepted."""
    import auditory_deepdream.dreamer as dreamer_pkg
    from auditory_deepdream.cli import build_parser

    captured = {}

    def fake_dream_file(input_path, output_path, **kwargs):
        captured.update(kwargs)
        raise _Captured

    args = build_parser().parse_args(["dream", str(src), str(dst)])
    original, dreamer_pkg.dream_file = dreamer_pkg.dream_file, fake_dream_file
    try:
        args.func(args)
    except _Captured:
        pass
    finally:
        dreamer_pkg.dream_file = original
    if not captured:
        raise SystemExit("the CLI's dream command did not call dreamer.dream_file; update benchmarks/music.py")
    captured.pop("model", None)
    return captured


class StageTimer:
    """Inclusive timers around module attributes ``(label, module, name)`` for one call; restored on exit."""

    def __init__(self, targets):
        self.targets, self.seconds, self.calls, self._saved = targets, {}, {}, []

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


def stage_breakdown(run) -> dict:
    """Seconds in each stage of ``dream_file`` (full_rate.py, top to bottom), and inside three of them."""
    import auditory_deepdream.audio as audio_pkg

    full_rate, rates, render, levels = (importlib.import_module(f"auditory_deepdream.dreamer.{m}")
                                        for m in ("full_rate", "rates", "render", "levels"))
    top = [("read_wav", audio_pkg, "read_audio"), ("to_model_rate", full_rate, "to_model_rate"),
           ("render", full_rate, "render"), ("back_to_rate", full_rate, "back_to_rate"),
           ("set_loudness", full_rate, "set_loudness"), ("heard_resample", full_rate, "resample"),
           ("measures_build_result", full_rate, "build_result"), ("write_wav", audio_pkg, "write_audio")]
    inner = [("render.ascend_gain", render, "ascend_gain"), ("render.click_guard_within_jump", render, "within_jump"),
             ("render.sonify", render, "sonify"), ("back_to_rate.stft_44k", rates, "hann_stft"),
             ("back_to_rate.gain_at_44k", rates, "gain_at_rate"), ("back_to_rate.istft_44k", rates, "hann_istft"),
             ("set_loudness.loudness_in_band", levels, "loudness_in_band"),
             ("set_loudness.finish_loudness", levels, "finish_loudness")]
    with StageTimer(top + inner) as timer:
        t = time.perf_counter()
        run()
        total = time.perf_counter() - t
    stages = {label: timer.seconds.get(label, 0.0) for label, _, _ in top + inner}
    stages["other (options, checks, mid signal)"] = total - sum(stages[label] for label, _, _ in top)
    return {"total_s": total, "inclusive_s": stages, "calls": timer.calls,
            "note": "one extra warm run with the stages wrapped in timers; 'a.b' is inside stage a"}


def whole_command(src, dst) -> float:
    """Wall seconds of ``auditory-deepdream dream SRC DST`` as a new process."""
    code = "import sys; from auditory_deepdream.cli import main; sys.exit(main(sys.argv[1:]))"
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, "dream", str(src), str(dst)], check=True, capture_output=True)
    return time.perf_counter() - t


def run(args) -> None:
    import soundfile as sf

    from auditory_deepdream import audio
    from auditory_deepdream.dataset.pieces import bach_prelude
    from auditory_deepdream.dataset.soundfont import pip_soundfont
    from auditory_deepdream.dreamer import Dreamer, dream_file

    seconds, repeats = args.seconds or (20.0 if args.quick else 60.0), args.repeats or (1 if args.quick else 3)
    load_at_start = os.getloadavg()
    t = time.perf_counter()
    piece = bach_prelude(seconds=seconds, sample_rate=SAMPLE_RATE, channels=2, strings=True, soundfont=pip_soundfont())
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

        def dream_once():
            t = time.perf_counter()
            _, result = dream_file(src, dst, model=dreamer, **kwargs)
            return time.perf_counter() - t, result

        print(f"piece: {audio_s:.1f} s, {info.channels} ch, {info.samplerate} Hz; {kwargs['objective']}", flush=True)
        cold, result = dream_once()
        warm_runs = []
        for _ in range(repeats):
            elapsed, result = dream_once()
            warm_runs.append(elapsed)
        warm = statistics.median(warm_runs)
        print(f"cold {cold:.2f} s ({cold / audio_s:.3f} x real time), warm {warm:.2f} s ({warm / audio_s:.3f})")
        y_out, fmt_out = audio.read_audio(dst)
        t = time.perf_counter()  # what the CLI prints after dream_file
        summary = result.summary()
        cli_report_s = time.perf_counter() - t
        stages = None if args.no_stages else stage_breakdown(dream_once)
        command = whole_command(src, tmp / "prelude_cli.wav")
        print(f"whole command: {command:.2f} s ({command / audio_s:.3f} x real time)", flush=True)
        load_before_baseline = os.getloadavg()
        baseline = None if args.no_baseline else run_baseline(
            baseline_path(args.baseline), ["--quick"] if args.quick else [], tmp=tmp)
    options = kwargs["options"]
    ours = {
        "audio_s": audio_s, "channels": info.channels, "sample_rate": info.samplerate, "subtype": info.subtype,
        "cold_s": cold, "cold_real_time_fraction": cold / audio_s,
        "warm_median_s": warm, "warm_real_time_fraction": warm / audio_s, "warm_runs_s": warm_runs,
        "target_real_time_fraction": TARGET_RT,
        "warm_meets_target": warm / audio_s <= TARGET_RT, "cold_meets_target": cold / audio_s <= TARGET_RT,
        "steps_taken": int(len(result.history)),
        "quality": {k: summary[k] for k in ("objective", "survival", "survival_sonified", "spectral_change_db",
                                            "objective_before", "objective_dreamed", "objective_after")}
        | {"lufs_in": result.lufs_in, "lufs_out": result.lufs_out, "true_peak_dbtp": result.true_peak_dbtp},
        "output_format": {"channels": fmt_out.channels, "sample_rate": fmt_out.sample_rate,
                          "subtype": fmt_out.subtype, "frames": int(y_out.shape[-1])},
        "cli_report_s": cli_report_s,
        "whole_command_s": command, "whole_command_real_time_fraction": command / audio_s,
        "whole_command_is": "`auditory-deepdream dream IN OUT` as a fresh process, wall clock: starting Python, "
                            "importing TensorFlow and the package, loading the model, the first (cold) dream, "
                            "the printout",
        "stages": stages, "setup": {"render_piece_s": render_s, "model_load_s": load_s},
    }
    report = {
        "piece": {"what": "bach_prelude(seconds, sample_rate=44100, channels=2, strings=True, "
                          "soundfont=pip_soundfont()), written as a PCM_16 WAV", "seconds": seconds},
        "cli_defaults": {"objective": str(kwargs["objective"])} | options.to_dict(),
        "cli_defaults_how": "captured from the CLI itself: `auditory-deepdream dream IN OUT` parsed by "
                            "cli.build_parser() and run with dreamer.dream_file intercepted",
        "timed": "dream_file(IN, OUT, model=<loaded Dreamer>, objective=..., options=...): read WAV, dream, "
                 "write WAV; model loading and the CLI's own printout are not included",
        "ours": ours,
    }
    if baseline is not None:
        t4 = baseline["T4_long_piece"]
        report["baseline"] = baseline
        report["baseline_T4"] = {
            "median_s": t4["median_s"], "audio_s": t4["audio_s"], "real_time_fraction": t4["real_time_factor"],
            "does": "mono, 22.05 kHz, 300-mel dissertation model (random weights), one filter, 1 ascent step per "
                    "1-s segment, Griffin-Lim (32 iterations) per segment, cross-faded; no loudness matching, "
                    "no measures"}
        report["ratios"] = {
            "baseline_T4_over_ours_warm": t4["median_s"] / warm, "baseline_T4_over_ours_cold": t4["median_s"] / cold,
            "per_audio_second_baseline_T4_over_ours_warm": (t4["median_s"] / t4["audio_s"]) / (warm / audio_s),
            "caveat": "the baseline does much less work: mono instead of stereo, 22.05 kHz instead of 44.1 kHz, "
                      f"1 ascent step instead of a consistent ascent to {options.strength} dB "
                      f"({ours['steps_taken']} steps here), no loudness matching or measures; the ratio "
                      "understates the per-unit-of-work speed-up"}
        print(f"baseline T4 / ours: {report['ratios']['baseline_T4_over_ours_warm']:.2f}x (warm)")
    report["env"] = environment() | {"load_average_at_start": load_at_start,
                                     "load_average_before_baseline": load_before_baseline,
                                     "load_average_at_end": os.getloadavg(), "quick": args.quick, "repeats": repeats}
    write_result(result_path(args, "dream_music"), report)
