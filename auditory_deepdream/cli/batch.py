"""``dream`` on one file or many: plan the outputs, dream each with one loaded model, report.

:func:`plan_jobs` turns the command's paths into ``(input, output)`` pairs and checks every
input before TensorFlow loads; :func:`dream_one` dreams one pair and writes its record
(:mod:`.records`); :func:`run_batch` runs many with a progress bar in files and seconds of
audio, here or on a Dask cluster (:mod:`auditory_deepdream.cluster`), skipping a file whose
output already lies beside a record of the same request (a killed batch resumes) and
reporting a file that fails in one line without stopping the others.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import AudioInputError, AuditoryDeepDreamError, DreamError
from .records import already_dreamed, dream_request, objective_spec, record_path

__all__ = ["plan_jobs", "loaded_dreamer", "dream_one", "run_batch", "report_dream"]

_LOADED: dict = {}  # one Dreamer per process: the CLI's, or each Dask worker's


def _folder_inputs(folder: Path) -> list[Path]:
    from ..audio.io import AUDIO_SUFFIXES

    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)


def _output_name(src: Path) -> str:
    from ..audio.io import WRITE_FORMATS

    return src.name if src.suffix.lower() in WRITE_FORMATS else src.stem + ".wav"


def plan_jobs(paths, *, record: dict | None = None, excerpt: dict | None = None):
    """The ``(input, output)`` pairs the ``dream`` paths name, each input checked (no TensorFlow).

    Parameters
    ----------
    paths : list of str
        ``IN OUT``; several inputs (files, bundled clip names or folders) then an output
        folder; or, with ``record``, ``[IN] [OUT]`` (the record's by default).
    record : dict, optional
        A record read by :func:`.records.read_record` (``--replay``).
    excerpt : dict, optional
        ``{"start", "duration"}`` in seconds: each input must reach ``start``.

    Returns
    -------
    (jobs, batch, refused)
        ``jobs``: ``[(input, output, seconds of audio)]``; ``batch``: whether the paths asked
        for a batch (several inputs or a folder); ``refused``: ``[(input, message)]`` of the
        inputs that cannot be dreamed (a batch goes on without them).

    Raises
    ------
    AuditoryDeepDreamError
        A single input or its output cannot be used, or a batch's output folder cannot.
    """
    from .checks import readable_audio, writable_output

    paths = list(paths)
    if record is not None:
        if len(paths) > 2:
            raise DreamError("--replay repeats one dream: give at most IN and OUT (the record's by default).")
        paths = (paths + [record["input"], record["output"]][len(paths):])[:2]
    elif len(paths) < 2:
        raise DreamError("Give IN and OUT (dream song.wav out.wav), or several inputs or folders and an output "
                         "folder (dream a.wav b.wav dreams/).")
    inputs, out = [Path(p) for p in paths[:-1]], Path(paths[-1])
    if len(inputs) == 1 and not inputs[0].is_dir():
        src = readable_audio(inputs[0])
        return [(src, writable_output(out, like_input=src), _seconds(src, excerpt))], False, []
    _output_folder(out)
    found = []
    for path in inputs:
        found.extend(_folder_inputs(path) if path.is_dir() else [path])
    if not found:
        raise AudioInputError(f"No audio files in {', '.join(map(str, inputs))}; a folder's .wav, .flac, .ogg, "
                              ".mp3, .aiff and .m4a files are dreamed (not those in its subfolders).")
    jobs, refused, names = [], [], {}
    for path in found:
        try:
            src = readable_audio(path)
            target = out / _output_name(src)
            if target.resolve() == src.resolve():
                raise AudioInputError(f"{src} would be written over itself; choose another output folder.")
            if target in names:
                raise AudioInputError(f"{src} and {names[target]} would both be written to {target}; "
                                      "dream them into separate folders.")
            names[target] = src
            jobs.append((src, target, _seconds(src, excerpt)))
        except AuditoryDeepDreamError as exc:
            refused.append((str(path), str(exc)))
    return jobs, True, refused


def _output_folder(out: Path) -> None:
    """A batch's output folder: made when its parent exists."""
    from ..audio.io import WRITE_FORMATS

    if out.exists() and not out.is_dir():
        raise AudioInputError(f"{out} is a file; several inputs are dreamed into an output folder (e.g. dreams/).")
    if not out.exists():
        if out.suffix.lower() in WRITE_FORMATS:
            raise AudioInputError(f"{out} names a file; several inputs are dreamed into an output folder, "
                                  f"e.g. {out.with_suffix('')}/.")
        if not out.parent.is_dir():
            raise AudioInputError(f"The output folder's parent {out.parent} does not exist; create it first.")
        out.mkdir()


def _seconds(src: Path, excerpt: dict | None) -> float:
    """How many seconds of ``src`` a dream reads (checked against the excerpt's start)."""
    import soundfile as sf

    try:
        info = sf.info(str(src))
    except Exception:  # noqa: BLE001  a format only audioread decodes: its length shows when it is read
        return 0.0
    if excerpt is None:
        return float(info.duration)
    if excerpt["start"] >= info.duration:
        raise AudioInputError(f"{src} lasts {info.duration:.2f} s, so an excerpt cannot start at "
                              f"{excerpt['start']:g} s; give an earlier --start.")
    left = info.duration - excerpt["start"]
    return float(left if excerpt["duration"] is None else min(left, excerpt["duration"]))


def loaded_dreamer(model):
    """The :class:`~auditory_deepdream.dreamer.Dreamer` of ``model``, loaded once per process."""
    from ..dreamer import Dreamer

    key = str(model)
    if key not in _LOADED:
        _LOADED.clear()
        _LOADED[key] = Dreamer.load(model)
    return _LOADED[key]


def dream_one(src, out, *, model, objective, options, excerpt: dict | None = None, progress=None):
    """Dream one file with the process's loaded model and write it and its record.

    Returns
    -------
    (record, DreamResult)
    """
    from ..atomic import write_json_atomic
    from ..dreamer import dream_file

    excerpt = excerpt or {"start": 0.0, "duration": None}
    request = dream_request(src=src, model=model, spec=objective_spec(objective), options=options,
                            excerpt=None if excerpt == {"start": 0.0, "duration": None} else excerpt)
    path, result = dream_file(src, out, model=loaded_dreamer(model), objective=objective, options=options,
                              progress=progress, start=excerpt["start"], duration=excerpt["duration"])
    record = {**request, "output": str(Path(path).resolve()), "result": result.summary()}
    write_json_atomic(record_path(path), record)
    return record, result


def _dream_on_worker(src, out, *, model, spec, options, excerpt):
    """:func:`dream_one` on a Dask worker: its record, or ``{"error": message}`` for a user's mistake."""
    from .records import build_objective

    try:
        objective = build_objective(spec, classes=loaded_dreamer(model).info.classes)
        return dream_one(src, out, model=model, objective=objective, options=options, excerpt=excerpt,
                         progress=False)[0]
    except AuditoryDeepDreamError as exc:
        return {"error": str(exc)}


def run_batch(jobs, *, refused, model, objective, options, excerpt=None, scheduler=None) -> None:
    """Dream every job, skipping those already dreamed with the same request; report failures.

    Parameters
    ----------
    jobs : list of (input, output, seconds)
    refused : list of (input, message)
        Inputs refused before the model loaded: reported with the failures.
    model, objective, options, excerpt
        As :func:`dream_one`.
    scheduler : str, optional
        A Dask scheduler's address: the dreams run on its workers (each loads the model once).

    Raises
    ------
    DreamError
        Some inputs failed (each was reported in one line; every other file was written).
    """
    from tqdm.auto import tqdm

    failed, skipped, todo = list(refused), [], []
    for line in (f"cannot dream {name}: {message}" for name, message in refused):
        print(line)
    empty = {"start": 0.0, "duration": None}
    recorded = None if (excerpt or empty) == empty else excerpt
    for src, out, seconds in jobs:
        request = dream_request(src=src, model=model, spec=objective_spec(objective), options=options,
                                excerpt=recorded)
        (skipped if already_dreamed(out, request) else todo).append((src, out, seconds))
    total = sum(s for _, _, s in jobs)
    bar = tqdm(total=round(total, 1), unit="s", desc=f"{len(skipped)} of {len(jobs)} files",
               bar_format="{desc}, {n:.0f} of {total:.0f} s of audio |{bar}| {elapsed}<{remaining}")
    bar.update(round(sum(s for _, _, s in skipped), 1))
    if skipped:
        tqdm.write(f"skipped {len(skipped)} already dreamed with these options (their .dream.json says so)")
    done = len(skipped)

    def finished(src, out, seconds, record):
        nonlocal done
        done += 1
        if "error" in record:
            failed.append((str(src), record["error"]))
            tqdm.write(f"failed {src}: {record['error']}")
        else:
            tqdm.write(f"wrote {out} ({record['result']['spectral_change_db']:.2f} dB of spectral change)")
        bar.set_description_str(f"{done} of {len(jobs)} files")
        bar.update(round(seconds, 1))

    if scheduler:
        from ..cluster import dask_client, run_jobs

        spec = objective_spec(objective)
        work = {k: {"src": str(src), "out": str(out), "model": model, "spec": spec, "options": options,
                    "excerpt": excerpt} for k, (src, out, _) in enumerate(todo)}
        with dask_client(scheduler, announce=tqdm.write) as client:
            for k, record in run_jobs(client, _dream_on_worker, work, name="dream"):
                finished(*todo[k], record)
    else:
        for src, out, seconds in todo:
            try:
                record = dream_one(src, out, model=model, objective=objective, options=options, excerpt=excerpt,
                                   progress=False)[0]
            except AuditoryDeepDreamError as exc:
                record = {"error": str(exc)}
            finished(src, out, seconds, record)
    bar.close()
    print(f"{done - len(failed) + len(refused)} of {len(jobs) + len(refused)} files dreamed "
          f"({len(skipped)} already were)" + (f"; {len(failed)} failed:" if failed else ""))
    for name, message in failed:
        print(f"  {name}: {message}")
    if failed:
        raise DreamError(f"{len(failed)} of {len(jobs) + len(refused)} inputs could not be dreamed (listed above); "
                         "the others were written. Fix those and run the same command again: what is done "
                         "is skipped.")


def report_dream(path, record_file, plot, result, objective, options) -> None:
    """What one dream did, one quantity a line, each with its unit."""
    import soundfile as sf

    from ..dreamer import ClassLogit, Scaled, Sum

    s = result.summary()
    logit = isinstance(objective, (ClassLogit, Scaled, Sum))
    unit = "logit" if logit else "mean activation"
    channels = sf.info(str(path)).channels  # a long file was streamed: its result holds no audio
    target = f"target {options.strength:g} dB" if options.strength is not None else f"{len(result.history)} steps"
    held_back = options.strength is not None and s["spectral_change_db"] < options.strength - 0.5
    if held_back and options.max_jump is not None:
        target += f"; the click guard took back what would step {options.max_jump:g}x past the input's largest"
    survival = ("n/a (nothing was gained)" if s["survival"] is None
                else f"{s['survival']:.2f} (the objective's rise in the audio the network hears, over its rise "
                     "while climbing: 1 keeps all of it, above 1 the sound rose further)")
    print(f"wrote {path} ({channels} ch, {result.sample_rate} Hz), {Path(record_file).name}"
          + (f" and {plot}" if plot is not None else ""))
    print(f"  change     spectral change {s['spectral_change_db']:.2f} dB, mean over audible bins ({target})")
    print(f"  objective  {objective} ({unit}): {s['objective_before']:.4g} -> {s['objective_dreamed']:.4g} "
          f"as dreamed, {s['objective_after']:.4g} as heard")
    print(f"  survival   {survival}")
    if s.get("noise_lift_db") is not None:
        print(f"  noise      the quietest 20 % of IN's cells below 8 kHz came up {s['noise_lift_db']:+.1f} dB "
              "(gaps, tails, hiss; at IN's loudness)")
    print(f"  loudness   {result.lufs_in:.1f} -> {result.lufs_out:.1f} LUFS, "
          f"true peak {result.true_peak_dbtp:.1f} dBTP")
