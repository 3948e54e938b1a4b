#!/usr/bin/env python3
"""When is `classify` out of its depth? Single notes against drum loops, chords, pieces and noise.

The bundled classifiers learnt from single held notes. This script measures, on clips that
are one pitched note and on clips that are not, every candidate statistic for telling them
apart:

* from the clip's pitch (:func:`auditory_deepdream.single_note.pitch_statistics`):
  ``harmonic_share``, ``pitch_stability``, ``voiced_share``, ``percussive_share``;
* from the classifier (``augmented``, :func:`auditory_deepdream.classify.classify`): the mean
  entropy of the segments' probabilities (over log of the number of classes) and the share of
  voting segments that disagree with the clip's family.

Groups:

``calibration notes``  single notes of the training SoundFonts (FluidR3_GM every 4th pitch,
                       TimGM6mb two pitches per program, velocity 90) and the bundled clips;
                       the thresholds are set on these alone: the 1st percentile of
                       ``harmonic_share`` and of ``pitch_stability``;
``held-out notes``     single notes of MuseScore_General (never trained on), four pitches per
                       program: how many the rule rejects, and the classifier's accuracy with
                       and without the rule;
``drum loops``         funk breaks from the GM drum kits of the three SoundFonts, three tempi;
``chords``             a major third, a minor triad and a dominant seventh of ten programs (one per family) at two
                       registers, from the three SoundFonts;
``two instruments``    two programs at once, each holding one note;
``pieces``             Bach's Prelude in C (piano, guitar, harp, organ; with and without the
                       string section, 8 s and 61 s) and a monophonic scale (flute, violin,
                       trumpet), from the three SoundFonts;
``noise floors``       white, pink and brown noise at -60 dBFS, mains hum under noise.

Writes ``benchmarks/results/classify_depth.json``: per group and statistic the quantiles,
the thresholds, the share of each group the rule calls a single note, the held-out accuracy,
and the time the check takes. Renders the notes into ``out/classify-depth/`` and keeps every
clip's statistics there (``rows.jsonl``): a rerun reuses both.

Usage: ``python benchmarks/classify_depth.py``
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import environment, write_result  # noqa: E402

from auditory_deepdream import audio, models, single_note  # noqa: E402
from auditory_deepdream.classify import classify  # noqa: E402
from auditory_deepdream.dataset import RenderConfig, render_soundfont  # noqa: E402
from auditory_deepdream.dataset.ontology import apply_ontology  # noqa: E402
from auditory_deepdream.dataset.pieces import _render_events, bach_prelude, break_beat  # noqa: E402
from auditory_deepdream.dataset.readers import read_nsynth  # noqa: E402
from auditory_deepdream.dataset.soundfont import pip_soundfont  # noqa: E402

OUT = ROOT / "out" / "classify-depth"
FLUIDR3 = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
MUSESCORE = Path("/usr/share/sounds/sf3/MuseScore_General.sf3")
PERCENTILE = 1.0  # thresholds: the share of calibration notes (in %) each statistic may reject
# one GM program per family the classifier knows: piano, guitar, organ, strings, brass, reed, flute,
# synth lead, choir, bass
CHORD_PROGRAMS = (0, 24, 19, 48, 61, 65, 73, 80, 52, 33)
CHORDS = {"major third": (0, 4), "minor triad": (0, 3, 7), "dominant seventh": (0, 4, 7, 10)}
PAIRS = ((42, 73, 48, 64), (0, 56, 60, 67), (24, 71, 52, 59), (33, 40, 40, 62))  # programs, keys
_DONE = {}  # name -> row, read back from OUT/rows.jsonl
STATS = ("harmonic_share", "pitch_stability", "voiced_share", "percussive_share", "segment_entropy",
         "segment_disagreement", "calibrated_top", "summed_vote_top")


def _notes(soundfont: Path, max_pitches: int, classes, settings) -> list[tuple[str, np.ndarray, str]]:
    """``(name, waveform, family)`` of single notes rendered from one SoundFont, velocity 90."""
    folder = OUT / f"{soundfont.stem}-{max_pitches}"
    if not (folder / "examples.json").is_file():
        render_soundfont(folder, soundfonts=[soundfont], progress=False,
                         config=RenderConfig(velocities=(90,), max_pitches=max_pitches, jobs=1))
    notes = apply_ontology(read_nsynth(folder, source="soundfont"), on_unknown="skip")
    notes = notes[notes.family.isin(classes)]
    return [(f"{soundfont.stem}/{r.note_id}", audio.load_audio(folder / r.source_file, settings=settings),
             r.family) for r in notes.itertuples()]


def _non_notes(soundfonts, sr: int) -> dict[str, list[tuple[str, np.ndarray]]]:
    """The clips that are not one pitched note, by group."""
    groups = {"drum loops": [], "chords": [], "two instruments": [], "pieces": [], "noise floors": []}
    for sf in soundfonts:
        for bpm, seed in ((80, 0), (96, 1), (132, 2)):
            groups["drum loops"].append((f"{sf.stem} break {bpm} bpm",
                                         break_beat(seconds=6.0, bpm=bpm, seed=seed, kit=None, soundfont=sf,
                                                    sample_rate=sr)))
        for program in CHORD_PROGRAMS:
            root = 36 if program == 33 else 55  # the bass an octave or two down
            for register in (root, root + 12):
                for chord, steps in CHORDS.items():
                    events = [e for k in steps for e in ((0.0, "on", register + k, 90, 0),
                                                         (3.0, "off", register + k, 0, 0))]
                    groups["chords"].append((f"{sf.stem} program {program} {chord} on {register}", _render_events(
                        events, seconds=4.0, sample_rate=sr, soundfont=sf, parts={0: (program, False, None)})))
        for a, b, ka, kb in PAIRS:
            events = [(0.0, "on", ka, 90, 0), (3.0, "off", ka, 0, 0), (0.0, "on", kb, 90, 1), (3.0, "off", kb, 0, 1)]
            groups["two instruments"].append((f"{sf.stem} programs {a}+{b}", _render_events(
                events, seconds=4.0, sample_rate=sr, soundfont=sf,
                parts={0: (a, False, None), 1: (b, False, None)})))
        for program in (0, 24, 46, 19):
            for strings in (False, True):
                for seconds in (8.0, 61.0):
                    groups["pieces"].append((f"{sf.stem} prelude program {program}{' + strings' * strings} {seconds:g} s",
                                             bach_prelude(seconds=seconds, soundfont=sf, program=program,
                                                          strings=strings, sample_rate=sr)))
        for program in (73, 40, 56):  # a C major scale, eighth notes at 100 bpm
            events = [e for i, k in enumerate((60, 62, 64, 65, 67, 69, 71, 72))
                      for e in ((0.3 * i, "on", k, 90, 0), (0.3 * i + 0.28, "off", k, 0, 0))]
            groups["pieces"].append((f"{sf.stem} scale program {program}", _render_events(
                events, seconds=3.0, sample_rate=sr, soundfont=sf, parts={0: (program, False, None)})))
    rng = np.random.default_rng(0)
    n = 4 * sr
    white = rng.standard_normal(n)
    pink = np.fft.irfft(np.fft.rfft(rng.standard_normal(n)) / np.sqrt(np.maximum(np.arange(n // 2 + 1), 1)), n)
    brown = np.cumsum(rng.standard_normal(n))
    hum = np.sin(2 * np.pi * 50 * np.arange(n) / sr) + 0.3 * rng.standard_normal(n)
    for name, y in (("white", white), ("pink", pink), ("brown", brown), ("hum 50 Hz under noise", hum)):
        groups["noise floors"].append((f"{name} at -60 dBFS", (1e-3 * y / np.max(np.abs(y))).astype(np.float32)))
    return groups


def _measure(name: str, y: np.ndarray, loaded) -> dict:
    """The statistics of one clip, kept in ``OUT/rows.jsonl`` so that a killed run resumes."""
    if name in _DONE:
        return _DONE[name]
    row = _statistics(name, y, loaded)
    with open(OUT / "rows.jsonl", "a") as f:
        f.write(json.dumps(row) + "\n")
    return row


def _statistics(name: str, y: np.ndarray, loaded) -> dict:
    s = loaded[1]
    c = classify(y, model=loaded, name=name)
    trimmed = audio.trim(y, settings=s)
    row = {"name": name, "seconds": len(trimmed) / s.sample_rate, "family": c.family,
           **single_note.pitch_statistics(trimmed, sample_rate=s.sample_rate)}
    p = np.clip(c.segment_probabilities[c.voting].astype(np.float64), 1e-12, 1)
    row["segment_entropy"] = float(np.mean(-(p * np.log(p)).sum(axis=1)) / np.log(p.shape[1]))
    row["segment_disagreement"] = float(np.mean(np.argmax(p, axis=1) != c.classes.index(c.family)))
    row["calibrated_top"] = float(c.probabilities.max())
    row["summed_vote_top"] = float(c.vote_probabilities.max())
    return row


def _summary(rows: list[dict], thresholds: dict) -> dict:
    out = {"n": len(rows)}
    for stat in STATS:
        v = np.array([r[stat] for r in rows])
        out[stat] = {q: float(np.percentile(v, p)) for q, p in
                     (("min", 0), ("p1", 1), ("p5", 5), ("median", 50), ("p95", 95), ("max", 100))}
    passed = [r["harmonic_share"] >= thresholds["harmonic_share"]
              and r["pitch_stability"] >= thresholds["pitch_stability"] for r in rows]
    out["share_called_single_note"] = float(np.mean(passed))
    out["called_single_note"] = [r["name"] for r, ok in zip(rows, passed) if ok][:20]
    return out


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    if (OUT / "rows.jsonl").is_file():
        _DONE.update({r["name"]: r for r in map(json.loads, (OUT / "rows.jsonl").read_text().splitlines())})
    loaded = models.load_model("augmented")
    sr, classes = loaded[1].sample_rate, tuple(loaded[2]["classes"])
    t0 = time.time()
    calibration = [(f"bundled/{c}", audio.load_audio(audio.example_clip(c), settings=loaded[1]), f)
                   for c, f in (("cello_C3", "string"), ("flute_A4", "flute"), ("piano_E4", "piano"))]
    calibration += _notes(FLUIDR3, 4, classes, loaded[1]) + _notes(pip_soundfont(), 2, classes, loaded[1])
    heldout = _notes(MUSESCORE, 4, classes, loaded[1])
    cal_rows = [{**_measure(n, y, loaded), "true": f} for n, y, f in calibration]
    print(f"calibration: {len(cal_rows)} notes, {time.time() - t0:.0f} s", flush=True)
    thresholds = {stat: float(np.percentile([r[stat] for r in cal_rows], PERCENTILE))
                  for stat in ("harmonic_share", "pitch_stability")}
    held_rows = [{**_measure(n, y, loaded), "true": f} for n, y, f in heldout]
    print(f"held out: {len(held_rows)} notes, {time.time() - t0:.0f} s", flush=True)
    groups = {"calibration notes": cal_rows, "held-out notes": held_rows}
    for group, clips in _non_notes([FLUIDR3, pip_soundfont(), MUSESCORE], sr).items():
        groups[group] = [_measure(n, y, loaded) for n, y in clips]
        print(f"{group}: {len(clips)} clips, {time.time() - t0:.0f} s", flush=True)
    summary = {group: _summary(rows, thresholds) for group, rows in groups.items()}
    # what each candidate alone would do, cut at the same percentile of the calibration notes
    alone = {}
    for stat, low_is_odd in (("harmonic_share", True), ("pitch_stability", True), ("voiced_share", True),
                             ("percussive_share", False), ("segment_entropy", False),
                             ("segment_disagreement", False), ("calibrated_top", True)):
        cal = [r[stat] for r in cal_rows]
        cut = float(np.percentile(cal, PERCENTILE if low_is_odd else 100 - PERCENTILE))
        flagged = {g: float(np.mean([(r[stat] < cut) if low_is_odd else (r[stat] > cut) for r in rows]))
                   for g, rows in groups.items()}
        alone[stat] = {"cut": cut, "rejects": "below" if low_is_odd else "above", "share_flagged": flagged}
    held_ok = [r["family"] == r["true"] for r in held_rows]
    held_single = [r["harmonic_share"] >= thresholds["harmonic_share"]
                   and r["pitch_stability"] >= thresholds["pitch_stability"] for r in held_rows]
    piece = bach_prelude(seconds=61.0, soundfont=FLUIDR3, strings=True, sample_rate=sr)
    note = calibration[0][1]
    timing = {}
    for label, y in (("cello_C3 (2.4 s)", note), ("prelude with strings (61 s)", piece)):
        trimmed = audio.trim(y, settings=loaded[1])
        start = time.perf_counter()
        single_note.check_single_note(trimmed, sample_rate=sr)
        timing[label] = time.perf_counter() - start
    write_result("classify_depth", {
        "question": "Which statistic tells a single pitched note from drum loops, chords, pieces and noise, "
                    "and at what threshold?",
        "method": f"thresholds = the {PERCENTILE:g}th percentile of each statistic over the calibration notes "
                  "(training SoundFonts and bundled clips) alone; the rule: single note iff harmonic_share and "
                  "pitch_stability both reach theirs. Every other group is measured, never tuned on.",
        "model": "augmented",
        "thresholds": thresholds,
        "rule": "single_note = harmonic_share >= thresholds.harmonic_share and "
                "pitch_stability >= thresholds.pitch_stability",
        "heldout_single_notes": {
            "n": len(held_rows),
            "accuracy_without_rule": float(np.mean(held_ok)),
            "share_rejected_by_rule": float(1 - np.mean(held_single)),
            "accuracy_with_rule": float(np.mean([ok and single for ok, single in zip(held_ok, held_single)])),
            "accuracy_of_the_accepted": float(np.mean([ok for ok, single in zip(held_ok, held_single) if single])),
            "accuracy_of_the_rejected": (float(np.mean([ok for ok, single in zip(held_ok, held_single) if not single]))
                                         if not all(held_single) else None),
            "rejected": [r["name"] for r, single in zip(held_rows, held_single) if not single],
        },
        "groups": summary,
        "each_statistic_alone": alone,
        "check_seconds": timing,
        "seconds": time.time() - t0,
        "environment": environment(),
    })


if __name__ == "__main__":
    main()
