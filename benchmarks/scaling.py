"""Scaling the dataset build out: one worker, two local workers, a two-process cluster on loopback (scaling.json).

Notes rendered once from TimGM6mb (16 kHz like NSynth, so the builds resample as an NSynth
build would) are built three ways: ``serial`` (``jobs=1``), ``local-2`` (a 2-process Dask
``LocalCluster``, what ``--jobs 2`` does) and ``loopback-2`` (``dask scheduler`` and 2 ``dask
worker`` processes reached by address, what ``--scheduler`` does: pickling and the round trip
included). Start-up and each process's first encode (numba) are timed apart; the stores are
checked identical. From the per-note cost and the two-worker efficiency it projects the full
NSynth build with 1, 8 and 64 workers, its assumptions recorded beside the numbers.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from ._common import ROOT, environment, render_notes, result_path, write_result

NSYNTH_NOTES = 305_979  # train + valid + test of the NSynth release


def add_arguments(p) -> None:
    p.add_argument("--name", default="scaling", help="result file name in --out (default: scaling)")


def start_loopback_cluster(folder: Path, n_workers: int):
    """``dask scheduler`` and ``n_workers`` ``dask worker`` processes on 127.0.0.1; returns (address, procs)."""
    dask = str(Path(sys.executable).parent / "dask")
    scheduler_file = folder / "scheduler.json"
    # the workers unpickle warm_up by reference, so they must import this package from the checkout
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env}
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--dashboard-address",
                               "127.0.0.1:0", "--scheduler-file", str(scheduler_file)], **quiet)]
    while not scheduler_file.exists():
        time.sleep(0.1)
    address = json.loads(scheduler_file.read_text())["address"]
    procs += [subprocess.Popen([dask, "worker", address, "--nthreads", "1", "--host", "127.0.0.1", "--no-dashboard"],
                               **quiet) for _ in range(n_workers)]
    return address, procs


def warm_up() -> None:
    """Compile librosa's numba kernels in this process: what every worker's first note costs."""
    from auditory_deepdream.audio import encode, example_clip, load_audio
    from auditory_deepdream.dataset import process_note
    from auditory_deepdream.settings import AudioSettings

    settings = AudioSettings.preset("default")
    parts, _ = process_note(load_audio(example_clip("cello_C3"), settings=settings), settings=settings,
                            hop_seconds=0.5, stretch_rate=0.8)
    for segments in parts.values():
        encode(segments, settings=settings)


def timed_build(render: Path, out: Path, *, config, client=None) -> dict:
    from auditory_deepdream.dataset import build_dataset

    shutil.rmtree(out, ignore_errors=True)
    t = time.perf_counter()
    store = build_dataset(out, soundfont=[render], config=config, progress=False, scheduler=client)
    seconds = time.perf_counter() - t
    notes = store.meta["n_notes"]
    return {"seconds": round(seconds, 2), "notes": notes, "segments": len(store),
            "notes_per_s": round(notes / seconds, 2), "store": store}


def builds(tmp: Path, *, quick: bool) -> tuple[dict, dict]:
    from auditory_deepdream.cluster import dask_client
    from auditory_deepdream.dataset import DatasetConfig

    render_notes(tmp / "render", max_pitches=3 if quick else 10, sample_rate=16_000)
    base, startup = DatasetConfig(notes_per_chunk=8), {}
    t = time.perf_counter()
    warm_up()
    startup["serial"] = round(time.perf_counter() - t, 2)
    runs = {"serial": timed_build(tmp / "render", tmp / "s", config=replace(base, jobs=1))}
    t = time.perf_counter()
    with dask_client(n_workers=2, announce=None) as client:
        client.run(warm_up)
        startup["local-2"] = round(time.perf_counter() - t, 2)
        runs["local-2"] = timed_build(tmp / "render", tmp / "l", config=base, client=client)
    t = time.perf_counter()
    address, procs = start_loopback_cluster(tmp, 2)
    try:
        with dask_client(address, timeout=60, announce=None) as client:
            client.wait_for_workers(2, timeout=60)
            client.run(warm_up)
            startup["loopback-2"] = round(time.perf_counter() - t, 2)
            runs["loopback-2"] = timed_build(tmp / "render", tmp / "c", config=base, client=client)
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=30)
    reference = runs["serial"].pop("store")
    for name in ("local-2", "loopback-2"):
        store = runs[name].pop("store")
        assert store.index.equals(reference.index), f"{name} store index differs from the serial build"
        rows = np.arange(len(store))
        assert np.array_equal(store.load(rows), reference.load(rows)), f"{name} features differ"
        runs[name]["identical_to_serial"] = True
    return runs, startup


def run(args) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        runs, startup = builds(Path(tmp), quick=args.quick)
    per_note = runs["serial"]["seconds"] / runs["serial"]["notes"]
    speedup = {name: round(runs["serial"]["seconds"] / r["seconds"], 2) for name, r in runs.items()}
    efficiency = min(1.0, speedup["loopback-2"] / 2)  # per worker, network hop and client writes included
    projection = {str(n): round(NSYNTH_NOTES * per_note / (1 if n == 1 else n * efficiency) / 3600, 2)
                  for n in (1, 8, 64)}
    write_result(result_path(args, args.name), {
        "what": "build_dataset (encode, from rendered wavs) of the same notes: serial, a 2-worker LocalCluster, "
                "and a 2-worker cluster of separate processes on loopback reached by address",
        "cores": os.cpu_count(), "runs": runs, "startup_s": startup, "speedup_vs_serial": speedup,
        "two_worker_efficiency": round(efficiency, 2), "seconds_per_note_serial": round(per_note, 4),
        "nsynth_projection_hours": projection,
        "projection_assumptions": [
            f"{NSYNTH_NOTES} notes (the NSynth release: 289,205 train + 12,678 valid + 4,096 test)",
            "per-note cost as measured here for serial encoding on one core of this machine; NSynth notes are "
            "4 s at 16 kHz like the rendered ones (3 s held + 1 s release), so their resampling to 22,050 Hz is "
            "in the measured cost",
            "one worker per core, each as efficient as in the two-worker loopback run here (its network hop, the "
            "scheduler and the client's store writes included); the client writes about 1 MB of float16 per "
            "8-note chunk, so at 64 workers it must write ~70 MB/s, which a local disk sustains",
            "the start-up of the cluster and each worker's first-note compilation (startup_s) are added once, "
            "not per note, and are left out of the projection",
            "the source folders sit on a file system every worker reads at full speed; the time to copy NSynth "
            "(about 25 GB) is not included",
        ],
        "environment": environment(),
    })
