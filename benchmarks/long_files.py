"""Long files: peak memory and speed of ``auditory-deepdream dream`` with its defaults on 1-, 10- and 60-minute
stereo 44.1 kHz pieces, and a streamed against a one-pass dream of a 2-minute piece.

Writes ``benchmarks/results/long_files.json``. The pieces are real music rendered from
pip's TimGM6mb (a strings prelude, a piano prelude and a drum break, a minute each, joined
in turn with different levels until the length is reached), written as 16-bit WAV. Each
dream runs the CLI in a fresh process (``python -m auditory_deepdream.cli dream IN OUT``),
whose peak resident memory is read from ``/usr/bin/time -v``; the time is wall-clock on
this machine, as a ratio of the audio's duration. The 2-minute comparison dreams the same
piece in one pass and in 30-s blocks (``dream_file(block_seconds=None | 30)``) and reports
the two loudnesses and, at every block boundary, the largest sample step of each dream
against the input's and the log-spectral distance between the two dreams.

Usage: ``python benchmarks/run.py long_files [--minutes 1 10 60]`` (``--quick``: a quarter of a minute,
and the comparison on 30 s in 10-s blocks).
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from benchmarks._common import environment, result_path, write_result

RATE = 44_100


def write_piece(path: Path, minutes: float) -> Path:
    """A stereo 16-bit WAV of ``minutes`` of real music, written a minute at a time."""
    from auditory_deepdream.dataset.pieces import bach_prelude, break_beat
    from auditory_deepdream.dataset.soundfont import pip_soundfont
    font = pip_soundfont()
    minute = [bach_prelude(seconds=60.0, sample_rate=RATE, channels=2, strings=True, soundfont=font),
              bach_prelude(seconds=60.0, sample_rate=RATE, channels=2, soundfont=font),
              break_beat(seconds=60.0, sample_rate=RATE, channels=2)]
    total = round(minutes * 60 * RATE)
    with sf.SoundFile(path, "w", RATE, 2, subtype="PCM_16") as f:
        k = 0
        while k * 60 * RATE < total:
            y = minute[k % 3][:, : total - k * 60 * RATE] * (0.6 + 0.1 * (k % 4))
            f.write(np.clip(y, -1, 1).T)
            k += 1
    return path


def cli_dream(src: Path, out: Path) -> dict:
    """Peak RSS (MB) and seconds of the CLI's default dream of ``src``, in a fresh process."""
    start = time.perf_counter()
    run = subprocess.run(["/usr/bin/time", "-v", sys.executable, "-m", "auditory_deepdream.cli", "dream",
                          str(src), str(out)], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if run.returncode != 0:
        raise RuntimeError(run.stderr[-2000:])
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", run.stderr).group(1))
    return {"seconds": round(seconds, 1), "peak_rss_mb": round(rss_kb / 1024), "stdout": run.stdout.strip()}


def compare_two_minutes(folder: Path, *, minutes: float = 2.0, block: float = 30.0) -> dict:
    """One-pass against streamed dreams of a 2-minute piece (``minutes``) in 30-s blocks (``block``):
    loudness and every seam."""
    from auditory_deepdream import audio, models
    from auditory_deepdream.dreamer import Dreamer, dream_file, log_spectral_distance, preset_objective
    from auditory_deepdream.presets import PRESETS

    src = write_piece(folder / "two.wav", minutes)
    d, preset = Dreamer.load("default"), PRESETS["strong"]
    objective = preset_objective(preset, models.conv_layer_names(d.model))
    dreams = {}
    for name, seconds in (("one_pass", None), ("streamed", block)):
        path, result = dream_file(src, folder / f"{name}.wav", model=d, objective=objective, options=preset.options,
                                  block_seconds=seconds, progress=False)
        dreams[name] = (sf.read(path, dtype="float32", always_2d=True)[0], result)
    x = sf.read(src, dtype="float32", always_2d=True)[0]
    top = float(np.max(np.abs(np.diff(x, axis=0))))
    seams = []
    for k in range(1, round(minutes * 60 / block)):
        at = round(block * k)
        w = slice((at - 1) * RATE, (at + 1) * RATE)
        a, b = dreams["one_pass"][0][w], dreams["streamed"][0][w]
        seams.append({"at_s": at,
                      "largest_step_over_input_largest": {"input": float(np.max(np.abs(np.diff(x[w], axis=0)))) / top,
                                                          "one_pass": float(np.max(np.abs(np.diff(a, axis=0)))) / top,
                                                          "streamed": float(np.max(np.abs(np.diff(b, axis=0)))) / top},
                      "log_spectral_distance_db": {
                          "streamed_vs_one_pass": log_spectral_distance(a.mean(1), b.mean(1), sample_rate=RATE),
                          "one_pass_vs_input": log_spectral_distance(x[w].mean(1), a.mean(1), sample_rate=RATE)}})
    lufs = {name: audio.integrated_loudness(y.T, sample_rate=RATE) for name, (y, _) in dreams.items()}
    return {"lufs_in": dreams["one_pass"][1].lufs_in, "lufs_out": lufs,
            "lufs_difference": abs(lufs["one_pass"] - lufs["streamed"]), "seams": seams}


def add_arguments(parser) -> None:
    parser.add_argument("--minutes", type=float, nargs="+", default=[1.0, 10.0, 60.0],
                        help="lengths of the pieces dreamed with the CLI (default 1 10 60)")


def run(args) -> None:
    minutes_list = [0.25] if args.quick else args.minutes
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        comparison = compare_two_minutes(folder, **({"minutes": 0.5, "block": 10.0} if args.quick else {}))
        for minutes in minutes_list:
            src = write_piece(folder / f"piece_{minutes:g}.wav", minutes)
            row = cli_dream(src, folder / f"dream_{minutes:g}.wav")
            row["real_time_ratio"] = round(row["seconds"] / (minutes * 60), 3)
            rows[f"{minutes:g}_min"] = row
            src.unlink()
    write_result(result_path(args, "long_files"), {
        "what": "auditory-deepdream dream IN OUT (defaults: preset strong, model default) on stereo 44.1 kHz 16-bit "
                "pieces; peak RSS of the whole process; wall seconds including start-up",
        "cli_defaults": rows, "two_minutes_streamed_vs_one_pass": comparison, "environment": environment(),
        "command": "python benchmarks/run.py long_files " + " ".join(sys.argv[2:])})
