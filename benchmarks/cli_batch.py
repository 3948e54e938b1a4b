"""Many files in one ``dream`` call against one call per file: 20 short real clips, wall-clock.

Writes ``benchmarks/results/cli_batch.json``. The clips are the three bundled notes and 17
notes rendered from an installed SoundFont (FluidR3_GM, else pip's TimGM6mb): programs of
every family at spread pitches, 1.5 s held and 0.5 s of release, 22,050 Hz mono 16-bit WAV.
Each call runs the CLI in a fresh process (``python -m auditory_deepdream.cli dream``), as a
shell loop would: once per clip (each loads TensorFlow and the model), then once for the
folder (one load). The ratio is the folder call's time over the sum of the separate calls',
on this machine in one run (the folder call is timed before and after the separate calls, and
their mean taken); the outputs of both are compared sample for sample.

Usage: ``python benchmarks/run.py cli_batch [--clips 20] [--preset strong]`` (``--quick``: 3 clips).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from benchmarks._common import PROGRAMS, environment, result_path, write_result

RATE = 22_050
_FONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")


def add_arguments(parser) -> None:
    parser.add_argument("--clips", type=int, default=20, help="how many clips (default 20; 3 are the bundled ones)")
    parser.add_argument("--preset", default="strong", help="the dream's preset (default: strong, the CLI's)")


def write_clips(folder: Path, n: int) -> list[Path]:
    """The bundled clips, then notes rendered from an installed SoundFont, ``n`` in all."""
    import shutil

    from auditory_deepdream.audio import EXAMPLE_CLIPS, example_clip
    from auditory_deepdream.dataset.soundfont import pip_soundfont
    from auditory_deepdream.dataset.synths import cached_soundfont, play_note, select_program

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in EXAMPLE_CLIPS[:n]:
        paths.append(Path(shutil.copy(example_clip(name), folder / f"{name}.wav")))
    font = _FONT if _FONT.is_file() else pip_soundfont()
    synth, sfid = cached_soundfont(str(font), RATE, "tinysoundfont")
    k = 0
    while len(paths) < n:
        program, pitch = PROGRAMS[k % len(PROGRAMS)], 48 + (7 * k) % 25
        k += 1
        if not select_program(synth, sfid, program, "tinysoundfont"):
            continue
        y = play_note(synth, renderer="tinysoundfont", pitch=pitch, velocity=100, held=round(1.5 * RATE),
                      release=round(0.5 * RATE))
        path = folder / f"{font.stem}_{program:03d}_{pitch}.wav"
        sf.write(path, 0.9 * y / max(float(np.max(np.abs(y))), 1e-6), RATE, subtype="PCM_16")
        paths.append(path)
    return paths


def _cli(*argv) -> float:
    """Seconds of one CLI call in a fresh process."""
    start = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "auditory_deepdream.cli", "dream", *map(str, argv)],
                         capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(run.stderr[-2000:])
    return time.perf_counter() - start


def run(args) -> None:
    n = 3 if args.quick else args.clips
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        clips = write_clips(tmp / "in", n)
        options = ["--preset", args.preset]
        (tmp / "one_by_one").mkdir()
        # the folder call before and after the separate ones: a machine busier at one time weighs on both
        batches = [_cli(tmp / "in", tmp / "batch_before", *options)]
        separate = [_cli(clip, tmp / "one_by_one" / clip.name, *options) for clip in clips]
        batches.append(_cli(tmp / "in", tmp / "batch", *options))
        batch = float(np.mean(batches))
        same = all(np.array_equal(sf.read(tmp / "one_by_one" / c.name)[0], sf.read(tmp / "batch" / c.name)[0])
                   for c in clips)
        seconds = [sf.info(str(c)).duration for c in clips]
    result = {
        "what": f"{n} short real clips dreamed with the CLI (preset {args.preset!r}): one call per clip, each in "
                "a fresh process, against one call for their folder",
        "clips": n, "audio_seconds": round(sum(seconds), 2), "preset": args.preset,
        "separate_calls_s": round(sum(separate), 1), "per_call_s": [round(s, 2) for s in separate],
        "one_call_s": round(batch, 1), "one_call_before_and_after_s": [round(b, 1) for b in batches],
        "ratio": round(batch / sum(separate), 3),
        "ratio_to_median_call": round(batch / (n * float(np.median(separate))), 3),
        "bar": "at most 0.25", "outputs_identical": bool(same), "environment": environment(),
    }
    path = write_result(result_path(args, "cli_batch"), result)
    print(f"{n} clips: {sum(separate):.1f} s in separate calls, {batch:.1f} s in one; ratio {result['ratio']:.3f} "
          f"(outputs identical: {same}); wrote {path}")
